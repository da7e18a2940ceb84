import { EPOCH, type Instant, instant } from "../../src/clock/time.ts";
import { defaultTcpSettings, type TcpSettings } from "../../src/tcp/settings.ts";
import { Tcb, type TcbOptions } from "../../src/tcp/tcb.ts";
import type { Endpoint } from "../../src/wire/addr.ts";
import { ip } from "../../src/wire/addr.ts";
import { formatOption } from "../../src/wire/notation.ts";
import { Flag, type TcpOption, type TcpSegment } from "../../src/wire/tcp-types.ts";

export const LOCAL: Endpoint = { addr: ip("10.0.0.1"), port: 80 };
export const REMOTE: Endpoint = { addr: ip("10.0.0.2"), port: 49152 };

const LETTERS: Array<[string, number]> = [
  ["S", Flag.SYN],
  ["F", Flag.FIN],
  ["R", Flag.RST],
  ["P", Flag.PSH],
  ["A", Flag.ACK],
  ["U", Flag.URG],
];

export function flagsOf(text: string): number {
  let f = 0;
  for (const ch of text) {
    const entry = LETTERS.find(([l]) => l === ch);
    if (!entry) throw new Error(`unknown flag letter ${ch}`);
    f |= entry[1];
  }
  return f;
}

export function flagText(flags: number): string {
  return (
    LETTERS.filter(([, bit]) => flags & bit)
      .map(([l]) => l)
      .join("") || "."
  );
}

/** A segment from the remote peer to LOCAL (smoltcp-style builder). */
export function seg(p: {
  flags: string;
  seq: number;
  ack?: number;
  win?: number;
  payload?: Uint8Array | string;
  options?: TcpOption[];
  urg?: number;
}): TcpSegment {
  const payload =
    typeof p.payload === "string"
      ? new TextEncoder().encode(p.payload)
      : (p.payload ?? new Uint8Array(0));
  return {
    srcPort: REMOTE.port,
    dstPort: LOCAL.port,
    seq: p.seq >>> 0,
    ack: (p.ack ?? 0) >>> 0,
    flags: flagsOf(p.flags),
    window: p.win ?? 65535,
    urgentPointer: p.urg ?? 0,
    options: p.options ?? [],
    payload,
  };
}

/** One option in packetdrill's notation: "mss 1460", "wscale 7", "sackOK", "TS val 1 ecr 0", "sack 10:20 30:40". */
export function fmtOption(o: TcpOption): string {
  return formatOption(o, "packetdrill");
}

/** Compact form: "SA seq=1000 ack=101 win=65535 len=0 <mss 1460>". */
export function fmt(s: TcpSegment): string {
  const opts = s.options.map(fmtOption).join(",");
  return `${flagText(s.flags)} seq=${s.seq} ack=${s.ack} win=${s.window} len=${s.payload.length}${opts ? ` <${opts}>` : ""}`;
}

export function out(tcb: Tcb): string[] {
  return tcb.takeOutput().map(fmt);
}

/** The defaults, with our TSval clock fixed to start at 1 (as the ISS is fixed at 1000). */
export function settings(over: Partial<TcpSettings> = {}): TcpSettings {
  return { ...defaultTcpSettings, tsValStart: 1, ...over };
}

export function opts(over: Partial<TcbOptions> = {}, s: Partial<TcpSettings> = {}): TcbOptions {
  return { local: LOCAL, remote: REMOTE, iss: 1000, settings: settings(s), now: EPOCH, ...over };
}

export function bytes(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** A small seeded PRNG (mulberry32) for reproducible faults. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const time = (n: number): Instant => instant(n);

// ---- getting a Tcb into each state: we are ISS 1000, the peer is ISS 5000 ----

export const MSS: TcpOption[] = [{ kind: "mss", value: 1460 }];

export function synSent(s: Partial<TcpSettings> = {}, now: Instant = EPOCH): Tcb {
  const tcb = Tcb.connect(opts({ now }, s));
  tcb.takeOutput();
  return tcb;
}

export function synReceived(s: Partial<TcpSettings> = {}, now: Instant = EPOCH): Tcb {
  const tcb = Tcb.accept({
    ...opts({ now }, s),
    syn: seg({ flags: "S", seq: 5000, options: MSS }),
  });
  tcb.takeOutput();
  return tcb;
}

export function established(s: Partial<TcpSettings> = {}, win = 65535, now: Instant = EPOCH): Tcb {
  const tcb = synSent(s, now);
  tcb.input(seg({ flags: "SA", seq: 5000, ack: 1001, win, options: MSS }), now);
  tcb.takeOutput();
  return tcb;
}

/** ESTABLISHED → CLOSE: FIN 1001 sent, not yet acknowledged. */
export function finWait1(s: Partial<TcpSettings> = {}): Tcb {
  const tcb = established(s);
  tcb.close(EPOCH);
  tcb.takeOutput();
  return tcb;
}

export function finWait2(s: Partial<TcpSettings> = {}): Tcb {
  const tcb = finWait1(s);
  tcb.input(seg({ flags: "A", seq: 5001, ack: 1002 }), EPOCH);
  tcb.takeOutput();
  return tcb;
}

/** The peer's FIN (5001) received. */
export function closeWait(s: Partial<TcpSettings> = {}): Tcb {
  const tcb = established(s);
  tcb.input(seg({ flags: "FA", seq: 5001, ack: 1001 }), EPOCH);
  tcb.takeOutput();
  return tcb;
}

export function lastAck(s: Partial<TcpSettings> = {}): Tcb {
  const tcb = closeWait(s);
  tcb.close(EPOCH);
  tcb.takeOutput();
  return tcb;
}

export function closing(s: Partial<TcpSettings> = {}): Tcb {
  const tcb = finWait1(s);
  tcb.input(seg({ flags: "FA", seq: 5001, ack: 1001 }), EPOCH);
  tcb.takeOutput();
  return tcb;
}

/** TIME-WAIT entered at t=0 (peer FIN 5001 acknowledged, RCV.NXT = 5002). */
export function timeWait(s: Partial<TcpSettings> = {}): Tcb {
  const tcb = finWait2(s);
  tcb.input(seg({ flags: "FA", seq: 5001, ack: 1002 }), EPOCH);
  tcb.takeOutput();
  return tcb;
}

export function text(data: Uint8Array): string {
  return new TextDecoder().decode(data);
}
