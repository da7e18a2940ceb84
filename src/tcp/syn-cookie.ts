import type { Instant } from "../clock/time.ts";
import { type HalfSipKey, halfSipHashWords, halfSipKey } from "../util/halfsiphash.ts";
import { type Endpoint, familyOf, type IpFamily } from "../wire/addr.ts";
import { seqAdd } from "../wire/seq.ts";
import { Flag, type TcpOption, type TcpSegment } from "../wire/tcp-types.ts";
import { negotiate, synOptions } from "./options.ts";
import { defaultSendMss, settingsForFamily, type TcpSettings } from "./settings.ts";
import { initialTsVal, timestampOf } from "./timestamps.ts";
import { MAX_WINDOW_FIELD } from "./window-scale.ts";

/**
 * SYN cookies (RFC 4987 §3.6): when a listener's half-open queue is full,
 * the SYN-ACK's ISS itself carries what the connection needs, and no state
 * is kept; a returning ACK whose SEG.ACK − 1 is a valid cookie creates the
 * connection as if it had waited in SYN-RECEIVED. The encoding is Linux's:
 *
 *   ISS = H1(4-tuple) + peer's ISN + (t << 24) + ((H2(4-tuple, t) + mssIndex) mod 2^24)
 *
 * with t the minute counter (a cookie is good for COOKIE_MINUTES), H1, H2
 * keyed HalfSipHash with two secret keys, and the MSS as an index into a
 * short table. When the SYN carries timestamps, the low 6 bits of our TSval
 * carry the peer's window-scale shift (15: none) and SACK-permitted, so the
 * peer's TSecr brings them back; without timestamps a cookie connection has
 * neither (as in Linux).
 */

/** MSS values a cookie can name (Linux's msstab): the largest not above the peer's MSS is used. */
export const COOKIE_MSS: readonly number[] = [536, 1300, 1440, 1460];
/** Over IPv6 (Linux's msstab6): MTUs 1280, 1480, 1500 and 9000 less 60 bytes of headers; as long as COOKIE_MSS. */
export const COOKIE_MSS6: readonly number[] = [1220, 1420, 1440, 8940];

function cookieMss(family: IpFamily): readonly number[] {
  return family === 6 ? COOKIE_MSS6 : COOKIE_MSS;
}

/** How long a cookie is good: the minute it was made and the next (Linux's MAX_SYNCOOKIE_AGE). */
export const COOKIE_MINUTES = 2;
/** The low TSval bits that carry options. */
const TS_OPTION_BITS = 6;
const TS_WSCALE_NONE = 0xf;
const TS_SACK = 0x10;

export interface CookieKeys {
  readonly h1: HalfSipKey;
  readonly h2: HalfSipKey;
}

/** Two keys from 16 secret bytes (from the edge: the host's secret, never a clock or /dev/random here). */
export function cookieKeys(secret: Uint8Array): CookieKeys {
  if (secret.length < 16) throw new RangeError("a SYN cookie secret is 16 bytes");
  return { h1: halfSipKey(secret.subarray(0, 8)), h2: halfSipKey(secret.subarray(8, 16)) };
}

/**
 * The 4-tuple as 32-bit words: an IPv4 address is one word, an IPv6 address
 * four (as Linux's cookie_v6_hash), so the families never hash the same
 * number of words.
 */
function tupleWords(local: Endpoint, remote: Endpoint): number[] {
  const ports = ((remote.port << 16) | local.port) >>> 0;
  if (remote.family !== 6 && local.family !== 6) {
    return [remote.addr >>> 0, local.addr >>> 0, ports];
  }
  return [...addrWords(remote), ...addrWords(local), ports];
}

function addrWords(ep: Endpoint): readonly number[] {
  return ep.family === 6 ? ep.addr : [ep.addr >>> 0];
}

const minute = (now: Instant): number => Math.floor(now / 60_000);

/** The ISS of a cookie SYN-ACK for a SYN with sequence number `peerIsn`. */
export function cookieIss(
  keys: CookieKeys,
  local: Endpoint,
  remote: Endpoint,
  peerIsn: number,
  mssIndex: number,
  now: Instant,
): number {
  const words = tupleWords(local, remote);
  const t = minute(now);
  const mac = (halfSipHashWords(keys.h2, [...words, t]) + mssIndex) & 0xffffff;
  return (halfSipHashWords(keys.h1, words) + peerIsn + ((t & 0xff) << 24) + mac) >>> 0;
}

/** The MSS index a valid cookie carries, or undefined for a forged, stale or garbled one. */
export function checkCookie(
  keys: CookieKeys,
  local: Endpoint,
  remote: Endpoint,
  peerIsn: number,
  cookie: number,
  now: Instant,
): number | undefined {
  const words = tupleWords(local, remote);
  const rest = (cookie - halfSipHashWords(keys.h1, words) - peerIsn) >>> 0;
  const t = minute(now);
  const age = (t - (rest >>> 24)) & 0xff;
  if (age >= COOKIE_MINUTES) return undefined;
  const made = t - age;
  const index = (rest - halfSipHashWords(keys.h2, [...words, made])) & 0xffffff;
  return index < COOKIE_MSS.length ? index : undefined;
}

/** The largest cookie MSS of the family's table not above what the peer announced (`defaultSendMss` when it did not). */
export function mssIndexFor(peerMss: number | undefined, family: IpFamily = 4): number {
  const mss = peerMss ?? defaultSendMss(family);
  const table = cookieMss(family);
  let i = table.length - 1;
  while (i > 0 && (table[i] as number) > mss) i--;
  return i;
}

/** Our TSval `now`, its low bits replaced by the peer's options (never above `now`). */
export function encodeTsOptions(tsNow: number, wscale: number | undefined, sack: boolean): number {
  const opts = (wscale ?? TS_WSCALE_NONE) | (sack ? TS_SACK : 0);
  let ts = (((tsNow >>> TS_OPTION_BITS) << TS_OPTION_BITS) | opts) >>> 0;
  if (ts > tsNow >>> 0) ts = (ts - (1 << TS_OPTION_BITS)) >>> 0;
  return ts;
}

export function decodeTsOptions(tsEcr: number): { wscale: number | undefined; sack: boolean } {
  const w = tsEcr & 0xf;
  return { wscale: w === TS_WSCALE_NONE ? undefined : w, sack: (tsEcr & TS_SACK) !== 0 };
}

/**
 * The SYN-ACK answering `syn` with a cookie, as a Tcb in SYN-RECEIVED would
 * send it (settings' option layout, RFC 7323 §2.2 unscaled window), and no
 * Tcb behind it.
 */
export function cookieSynAck(
  listenerSettings: TcpSettings,
  keys: CookieKeys,
  syn: TcpSegment,
  local: Endpoint,
  remote: Endpoint,
  now: Instant,
): TcpSegment {
  // The MSS we offer is the one the Tcb of this family will have (Tcb.fromCookie).
  const family = familyOf(remote);
  const settings = settingsForFamily(listenerSettings, family);
  const n = negotiate(syn.options, settings, false, family);
  const iss = cookieIss(keys, local, remote, syn.seq, mssIndexFor(n.peerMss, family), now);
  const peerTs = timestampOf(syn);
  // Without timestamps the cookie cannot carry window scaling or SACK: offer neither.
  const reply = n.timestamps && peerTs !== undefined ? n : { ...n, wscale: undefined, sack: false };
  const tsVal = reply.timestamps
    ? encodeTsOptions(initialTsVal(settings, iss), n.wscale?.snd, n.sack)
    : undefined;
  return {
    srcPort: local.port,
    dstPort: remote.port,
    seq: iss,
    ack: seqAdd(syn.seq, 1),
    flags: Flag.SYN | Flag.ACK,
    window: Math.min(settings.rcvBuf, MAX_WINDOW_FIELD),
    urgentPointer: 0,
    options: synOptions(settings, {
      ...(tsVal !== undefined ? { tsVal, tsEcr: peerTs?.tsVal ?? 0 } : {}),
      reply,
    }),
    payload: new Uint8Array(0),
  };
}

/**
 * For an ACK reaching a listener: the SYN its cookie stands for (sequence
 * number, MSS, and — from TSecr — window scale, SACK-permitted and
 * timestamps), or undefined when SEG.ACK − 1 is not a valid cookie.
 */
export function synFromCookie(
  keys: CookieKeys,
  ack: TcpSegment,
  local: Endpoint,
  remote: Endpoint,
  now: Instant,
): { syn: TcpSegment; iss: number; tsEcr: number | undefined } | undefined {
  const peerIsn = seqAdd(ack.seq, -1);
  const iss = seqAdd(ack.ack, -1);
  const index = checkCookie(keys, local, remote, peerIsn, iss, now);
  if (index === undefined) return undefined;
  const mss = cookieMss(familyOf(remote))[index] as number;
  const options: TcpOption[] = [{ kind: "mss", value: mss }];
  const ts = timestampOf(ack);
  if (ts !== undefined) {
    const o = decodeTsOptions(ts.tsEcr);
    if (o.wscale !== undefined) options.push({ kind: "wscale", shift: o.wscale });
    if (o.sack) options.push({ kind: "sackPermitted" });
    options.push({ kind: "timestamps", tsVal: ts.tsVal, tsEcr: 0 });
  }
  const syn: TcpSegment = {
    srcPort: ack.srcPort,
    dstPort: ack.dstPort,
    seq: peerIsn,
    ack: 0,
    flags: Flag.SYN,
    window: ack.window,
    urgentPointer: 0,
    options,
    payload: new Uint8Array(0),
  };
  return { syn, iss, tsEcr: ts?.tsEcr };
}
