/**
 * `inject`: a crafted segment, written either as a packetdrill packet line
 * relative to a connection (`inject #3 < S. 0:0(0) ack 1 win 1000 <mss 536>`)
 * or with absolute fields (`inject tcp 10.0.0.1:4000 > 10.0.0.2:80 flags=S
 * seq=1000`). Defaults are filled in and checksums are right unless
 * `csum=bad` asks otherwise.
 */

import { State } from "../tcp/state.ts";
import type { TcbView } from "../tcp/view.ts";
import type { Endpoint } from "../wire/addr.ts";
import { type IpAddr, parseIpEndpoint } from "../wire/ip-addr.ts";
import { readFlags } from "../wire/notation.ts";
import { buildTcpPacket } from "../wire/packet.ts";
import { buildTcpPacket6 } from "../wire/packet6.ts";
import { seqAdd } from "../wire/seq.ts";
import { IPV4_HEADER_LEN } from "../wire/ipv4.ts";
import { TCP_HEADER_LEN, TCP_MAX_OPTIONS_LEN, tcpOptionsLength } from "../wire/tcp.ts";
import { Flag, type TcpOption, type TcpSegment } from "../wire/tcp-types.ts";
import { parseInteger, tokenize, unescapeBytes } from "./args.ts";
import { type PdTcpOption, parseScript } from "../packetdrill/script/index.ts";

export interface CraftedPacket {
  readonly bytes: Uint8Array;
  /** `<`: into the host as if from the wire; `>`: onto the wire as if sent by the host. */
  readonly dir: "<" | ">";
}

export type Crafted = CraftedPacket | { readonly error: string };

/**
 * What cannot be put in one packet: options over the 40 bytes the data
 * offset allows (RFC 9293 §3.1), or a datagram over 65535 bytes (RFC 791
 * §3.1, Total Length is 16 bits; RFC 8200 §3: IPv6's Payload Length, which
 * leaves out the fixed header, is 16 bits too).
 */
function tooLong(
  options: readonly TcpOption[],
  payloadLen: number,
  family: 4 | 6,
): { error: string } | undefined {
  const n = tcpOptionsLength(options);
  if (n > TCP_MAX_OPTIONS_LEN) {
    return {
      error: `these options take ${n} bytes; a TCP header holds at most ${TCP_MAX_OPTIONS_LEN}`,
    };
  }
  const headers = (family === 4 ? IPV4_HEADER_LEN : 0) + TCP_HEADER_LEN + n;
  if (headers + payloadLen > 0xffff) {
    const what =
      family === 4
        ? `a ${headers + payloadLen}-byte datagram; an IPv4 datagram holds at most 65535 bytes (RFC 791)`
        : `an IPv6 payload of ${headers + payloadLen} bytes; its Payload Length holds at most 65535 (RFC 8200 §3)`;
    return {
      error: `${payloadLen} bytes of data make ${what}, so at most ${0xffff - headers} bytes of data here`,
    };
  }
  return undefined;
}

/** The packet for `seg` between two endpoints of one family (TTL is the Hop Limit over IPv6). */
function tcpPacket(
  src: Endpoint,
  dst: Endpoint,
  seg: TcpSegment,
  checksum: "good" | "bad",
  ttl: number | undefined,
): Uint8Array | { error: string } {
  if (src.family === 6 && dst.family === 6) {
    return buildTcpPacket6(src.addr, dst.addr, seg, {
      checksum,
      ...(ttl !== undefined ? { hopLimit: ttl } : {}),
    });
  }
  if (src.family === 6 || dst.family === 6)
    return { error: "SRC and DST must be of one family: both IPv4 or both IPv6" };
  return buildTcpPacket(src.addr, dst.addr, seg, {
    checksum,
    ...(ttl !== undefined ? { ttl } : {}),
  });
}

/** Generated payload bytes: abc…z repeating. */
function filler(n: number): Uint8Array {
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = 0x61 + (i % 26);
  return data;
}

function convertOptions(opts: readonly PdTcpOption[]): TcpOption[] | { error: string } {
  const out: TcpOption[] = [];
  for (const o of opts) {
    switch (o.kind) {
      case "md5":
      case "fastOpen":
        return { error: `the ${o.kind} option is not supported by inject` };
      default:
        out.push(o);
    }
  }
  return out;
}

/** Pulls `csum=bad|good` off the end of a packet line (packetdrill has no such field). */
function takeChecksum(line: string): { line: string; checksum: "good" | "bad" } {
  const m = /\s+csum=(bad|good)\s*$/i.exec(line);
  if (m === null) return { line, checksum: "good" };
  return {
    line: line.slice(0, m.index),
    checksum: (m[1] as string).toLowerCase() as "good" | "bad",
  };
}

/** Whether the peer's ISN (IRS) is known to this TCB. */
function knowsIrs(tcb: TcbView): boolean {
  return tcb.state !== State.SynSent && !(tcb.state === State.Closed && tcb.rcvNxt === 0);
}

/**
 * The peer ISN that relative numbers of inbound segments count from: IRS once
 * known; before that (SYN-SENT) one picked here and remembered, as packetdrill
 * picks the remote ISN of a script.
 */
export function peerIsn(tcb: TcbView, bases: WeakMap<TcbView, number>): number {
  if (knowsIrs(tcb)) return tcb.irs;
  let base = bases.get(tcb);
  if (base === undefined) {
    base = seqAdd(tcb.iss, 0x4000_0000);
    bases.set(tcb, base);
  }
  return base;
}

/** `inject #ID < LINE` / `inject #ID > LINE`. */
export function craftRelative(
  tcb: TcbView,
  text: string,
  bases: WeakMap<TcbView, number>,
): Crafted {
  const { line, checksum } = takeChecksum(text.trim());
  const parsed = parseScript(`0 ${line}\n`);
  if (!parsed.ok) return { error: `cannot read the segment: ${parsed.error.message}` };
  const st = parsed.script.statements[0];
  if (parsed.script.statements.length !== 1 || st === undefined || st.type !== "packet") {
    return { error: "expected one TCP packet line, like `< S. 0:0(0) ack 1 win 1000`" };
  }
  if (st.options === "any")
    return { error: "<...> (any options) cannot be sent: name the options" };
  const converted = convertOptions(st.options);
  if ("error" in converted) return converted;
  const inbound = st.direction === "<";
  const ours = tcb.iss;
  const theirs = peerIsn(tcb, bases);
  // Inbound: seq counts from the peer's ISN and ack from ours; outbound the other way round.
  const seqBase = inbound ? theirs : ours;
  const ackBase = inbound ? ours : theirs;
  // SACK blocks name bytes of the acknowledged stream: relative like the ACK (as the ladder shows them).
  const options = converted.map((o) =>
    o.kind === "sack"
      ? {
          ...o,
          blocks: o.blocks.map(([l, r]) => [seqAdd(ackBase, l), seqAdd(ackBase, r)] as const),
        }
      : o,
  );
  let seq: number;
  let len: number;
  if (st.seq.kind === "any") {
    seq = inbound ? tcb.rcvNxt : tcb.sndNxt;
    len = st.seq.len;
  } else {
    seq = st.seq.absolute ? st.seq.start >>> 0 : seqAdd(seqBase, st.seq.start);
    len = st.seq.len;
  }
  const src = inbound ? tcb.remote : tcb.local;
  const dst = inbound ? tcb.local : tcb.remote;
  const seg: TcpSegment = {
    srcPort: st.ports?.src ?? src.port,
    dstPort: st.ports?.dst ?? dst.port,
    seq,
    ack: st.ack === undefined ? 0 : seqAdd(ackBase, st.ack),
    flags: st.flagMask,
    window: st.win ?? 65535,
    urgentPointer: st.urg ?? 0,
    options,
    payload: filler(len),
  };
  const unfit = tooLong(options, seg.payload.length, src.family === 6 ? 6 : 4);
  if (unfit !== undefined) return unfit;
  const bytes = tcpPacket(src, dst, seg, checksum, st.ip?.ttl);
  return bytes instanceof Uint8Array ? { bytes, dir: st.direction } : bytes;
}

/** `10.0.0.1:4000`, `[fd00::1]:4000` or `a:4000` (a host name: its IPv4 address). */
function endpoint(text: string, address: (t: string) => IpAddr | undefined): Endpoint | undefined {
  const literal = parseIpEndpoint(text);
  if (literal !== undefined) return literal;
  const i = text.lastIndexOf(":");
  if (i <= 0) return undefined;
  const addr = address(text.slice(0, i));
  const port = parseInteger(text.slice(i + 1));
  if (addr === undefined || port === undefined || port > 65535) return undefined;
  return addr.family === 6 ? { family: 6, addr: addr.addr, port } : { addr: addr.addr, port };
}

export const ABSOLUTE_FIELDS = [
  "flags",
  "seq",
  "ack",
  "win",
  "urg",
  "mss",
  "wscale",
  "len",
  "data",
  "csum",
  "ttl",
] as const;

/** `inject tcp SRC:PORT > DST:PORT [field=value …]` (the words after `tcp`). */
export function craftAbsolute(text: string, address: (t: string) => IpAddr | undefined): Crafted {
  const tokens = tokenize(text);
  const src = tokens[0] ? endpoint(tokens[0].text, address) : undefined;
  if (tokens[1]?.text !== ">" || src === undefined) {
    return {
      error:
        "expected SRC:PORT > DST:PORT, like 10.0.0.1:4000 > 10.0.0.2:80 or [fd00::1]:4000 > [fd00::2]:80",
    };
  }
  const dst = tokens[2] ? endpoint(tokens[2].text, address) : undefined;
  if (dst === undefined)
    return { error: "expected SRC:PORT > DST:PORT, like 10.0.0.1:4000 > 10.0.0.2:80" };
  let flags = 0;
  let seq = 0;
  let ack = 0;
  let win = 65535;
  let urg = 0;
  let ttl: number | undefined;
  let checksum: "good" | "bad" = "good";
  let payload: Uint8Array = new Uint8Array(0);
  const options: TcpOption[] = [];
  for (const t of tokens.slice(3)) {
    const eq = t.text.indexOf("=");
    if (eq <= 0)
      return {
        error: `expected field=value, got "${t.text}" (fields: ${ABSOLUTE_FIELDS.join(", ")})`,
      };
    const key = t.text.slice(0, eq).toLowerCase();
    let value = t.text.slice(eq + 1);
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"'))
      value = value.slice(1, -1);
    const num = (max: number) => {
      const n = parseInteger(value);
      return n !== undefined && n <= max ? n : undefined;
    };
    const bad = () => ({ error: `bad value for ${key}: "${value}"` });
    switch (key) {
      case "flags": {
        const f = readFlags(value);
        if (f === undefined)
          return {
            error: `bad flags "${value}" (letters like S, S., F., R, P. or names like SYN,ACK)`,
          };
        flags = f;
        break;
      }
      case "seq":
      case "ack": {
        const n = num(0xffffffff);
        if (n === undefined) return bad();
        if (key === "seq") seq = n;
        else {
          ack = n;
          flags |= Flag.ACK;
        }
        break;
      }
      case "win":
      case "urg": {
        const n = num(0xffff);
        if (n === undefined) return bad();
        if (key === "win") win = n;
        else urg = n;
        break;
      }
      case "mss": {
        const n = num(0xffff);
        if (n === undefined) return bad();
        options.push({ kind: "mss", value: n });
        break;
      }
      case "wscale": {
        const n = num(14);
        if (n === undefined) return bad();
        options.push({ kind: "wscale", shift: n });
        break;
      }
      case "len": {
        const n = num(65000);
        if (n === undefined) return bad();
        payload = filler(n);
        break;
      }
      case "data": {
        const u = unescapeBytes(value);
        if (!(u instanceof Uint8Array)) return { error: u.error };
        payload = u;
        break;
      }
      case "csum":
        if (value !== "bad" && value !== "good") return bad();
        checksum = value;
        break;
      case "ttl": {
        const n = num(255);
        if (n === undefined) return bad();
        ttl = n;
        break;
      }
      default:
        return { error: `unknown field "${key}" (fields: ${ABSOLUTE_FIELDS.join(", ")})` };
    }
  }
  const seg: TcpSegment = {
    srcPort: src.port,
    dstPort: dst.port,
    seq,
    ack,
    flags,
    window: win,
    urgentPointer: urg,
    options,
    payload,
  };
  const unfit = tooLong(options, seg.payload.length, src.family === 6 ? 6 : 4);
  if (unfit !== undefined) return unfit;
  const bytes = tcpPacket(src, dst, seg, checksum, ttl);
  return bytes instanceof Uint8Array ? { bytes, dir: "<" } : bytes;
}
