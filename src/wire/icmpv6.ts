/** ICMPv6 codec (RFC 4443), for a host on a layer-3 device: no neighbour discovery. */
import { be16, be32, put16, put32 } from "./bytes.ts";
import {
  checksumAccumulate,
  checksumFinish,
  corruptChecksum,
  pseudoHeaderSum6,
} from "./checksum.ts";
import { IPV6_HEADER_LEN, IPV6_MIN_MTU, NextHeader, ParamProblemCode } from "./ipv6.ts";
import type { Ipv6Addr } from "./ipv6-addr.ts";
import { drop, ok, type Parsed } from "./result.ts";

export const ICMPV6_HEADER_LEN = 8;

export const Icmpv6Type = {
  DEST_UNREACHABLE: 1,
  PACKET_TOO_BIG: 2,
  TIME_EXCEEDED: 3,
  PARAMETER_PROBLEM: 4,
  ECHO_REQUEST: 128,
  ECHO_REPLY: 129,
  ROUTER_SOLICITATION: 133,
  ROUTER_ADVERTISEMENT: 134,
  NEIGHBOR_SOLICITATION: 135,
  NEIGHBOR_ADVERTISEMENT: 136,
  REDIRECT: 137,
} as const;

/** RFC 4443 §3.1. */
export const Icmpv6Unreachable = {
  NO_ROUTE: 0,
  ADMIN_PROHIBITED: 1,
  BEYOND_SCOPE: 2,
  ADDRESS: 3,
  PORT: 4,
  SOURCE_POLICY: 5,
  REJECT_ROUTE: 6,
} as const;

/** RFC 4443 §3.3. */
export const Icmpv6TimeExceeded = { HOP_LIMIT: 0, REASSEMBLY: 1 } as const;

/** RFC 4443 §3.4 (and RFC 7112 §5's code 3). */
export const Icmpv6ParamProblem = ParamProblemCode;

/**
 * RFC 4443 §2.4(c): an error quotes as much of the invoking packet as fits
 * without the error passing the minimum IPv6 MTU: 1280 − 40 − 8 bytes.
 */
export const ICMPV6_QUOTE_MAX = IPV6_MIN_MTU - IPV6_HEADER_LEN - ICMPV6_HEADER_LEN;

export type Icmpv6Message =
  | {
      readonly type: "echo-request" | "echo-reply";
      readonly id: number;
      readonly seq: number;
      readonly data: Uint8Array;
    }
  | {
      readonly type: "dest-unreachable" | "time-exceeded";
      readonly code: number;
      /** As much of the invoking packet as the error holds. */
      readonly original: Uint8Array;
    }
  /** RFC 4443 §3.2: the code is 0 from the sender and ignored by the receiver. */
  | { readonly type: "packet-too-big"; readonly mtu: number; readonly original: Uint8Array }
  | {
      readonly type: "parameter-problem";
      readonly code: number;
      /** Offset in the invoking packet of the byte at fault. */
      readonly pointer: number;
      readonly original: Uint8Array;
    }
  /**
   * Any other type; `body` is everything after the checksum. RFC 4443
   * §2.4(a), (b): an unknown error (type below 128) goes to the upper layer
   * of the packet it quotes, an unknown informational message is dropped.
   */
  | {
      readonly type: "other";
      readonly icmpType: number;
      readonly code: number;
      readonly body: Uint8Array;
    };

export interface Icmpv6ParseOptions {
  /** Default true. */
  readonly verifyChecksum?: boolean;
}

/** RFC 4443 §2.1: types 0–127 are errors, 128–255 informational. */
export function isIcmpv6Error(type: number): boolean {
  return type < 128;
}

/** Neighbour discovery's types (RFC 4861 §4): router and neighbour solicitation, advertisement, redirect. */
export function isNeighborDiscovery(type: number): boolean {
  return type >= Icmpv6Type.ROUTER_SOLICITATION && type <= Icmpv6Type.REDIRECT;
}

/**
 * Parses an ICMPv6 message (the whole upper-layer payload) between `src`
 * and `dst`. Neighbour discovery is recognised and dropped: a layer-3 TUN
 * device has no link-layer addresses to resolve (RFC 4861 §3 concerns
 * links with them), so a message of it means nothing to us.
 */
export function parseIcmpv6(
  bytes: Uint8Array,
  src: Ipv6Addr,
  dst: Ipv6Addr,
  opts?: Icmpv6ParseOptions,
): Parsed<Icmpv6Message> {
  if (bytes.length < ICMPV6_HEADER_LEN) {
    return drop("truncated", `${bytes.length} bytes, icmpv6 header needs ${ICMPV6_HEADER_LEN}`);
  }
  const type = bytes[0]!;
  const code = bytes[1]!;
  if (isNeighborDiscovery(type)) return drop("neighbor-discovery", `icmpv6 type ${type}`);
  // RFC 4443 §2.3: the checksum covers the message and RFC 8200 §8.1's pseudo-header.
  if (opts?.verifyChecksum !== false) {
    const sum = checksumAccumulate(
      bytes,
      pseudoHeaderSum6(src, dst, NextHeader.ICMPV6, bytes.length),
    );
    if (checksumFinish(sum) !== 0) return drop("bad-checksum", "icmpv6");
  }
  const original = bytes.subarray(ICMPV6_HEADER_LEN);
  switch (type) {
    case Icmpv6Type.ECHO_REQUEST:
    case Icmpv6Type.ECHO_REPLY:
      return ok({
        type: type === Icmpv6Type.ECHO_REQUEST ? "echo-request" : "echo-reply",
        id: be16(bytes, 4),
        seq: be16(bytes, 6),
        data: original,
      });
    case Icmpv6Type.DEST_UNREACHABLE:
      return ok({ type: "dest-unreachable", code, original });
    case Icmpv6Type.TIME_EXCEEDED:
      return ok({ type: "time-exceeded", code, original });
    case Icmpv6Type.PACKET_TOO_BIG:
      return ok({ type: "packet-too-big", mtu: be32(bytes, 4), original });
    case Icmpv6Type.PARAMETER_PROBLEM:
      return ok({ type: "parameter-problem", code, pointer: be32(bytes, 4), original });
    default:
      return ok({ type: "other", icmpType: type, code, body: bytes.subarray(4) });
  }
}

/** Bytes emitIcmpv6 writes for `msg`. */
export function icmpv6Length(msg: Icmpv6Message): number {
  switch (msg.type) {
    case "echo-request":
    case "echo-reply":
      return ICMPV6_HEADER_LEN + msg.data.length;
    case "other":
      return 4 + msg.body.length;
    default:
      return ICMPV6_HEADER_LEN + msg.original.length;
  }
}

const TYPE_OF: Readonly<Record<Exclude<Icmpv6Message["type"], "other">, number>> = {
  "echo-request": Icmpv6Type.ECHO_REQUEST,
  "echo-reply": Icmpv6Type.ECHO_REPLY,
  "dest-unreachable": Icmpv6Type.DEST_UNREACHABLE,
  "time-exceeded": Icmpv6Type.TIME_EXCEEDED,
  "packet-too-big": Icmpv6Type.PACKET_TOO_BIG,
  "parameter-problem": Icmpv6Type.PARAMETER_PROBLEM,
};

export interface Icmpv6EmitOptions {
  /** Default "good". */
  readonly checksum?: "good" | "bad";
}

/**
 * Writes `msg` at buf[offset] with its checksum over the pseudo-header of
 * `src` → `dst`; returns the bytes written. An error's quote is written as
 * given: icmpv6ErrorQuote cuts it to size.
 */
export function emitIcmpv6(
  msg: Icmpv6Message,
  src: Ipv6Addr,
  dst: Ipv6Addr,
  buf: Uint8Array,
  offset = 0,
  opts?: Icmpv6EmitOptions,
): number {
  const length = icmpv6Length(msg);
  if (offset + length > buf.length) throw new RangeError("buffer too small for icmpv6 message");
  const b = buf;
  const o = offset;
  b[o + 2] = 0;
  b[o + 3] = 0;
  if (msg.type === "other") {
    b[o] = msg.icmpType & 0xff;
    b[o + 1] = msg.code & 0xff;
    b.set(msg.body, o + 4);
  } else if ("id" in msg) {
    b[o] = TYPE_OF[msg.type];
    b[o + 1] = 0;
    put16(b, o + 4, msg.id);
    put16(b, o + 6, msg.seq);
    b.set(msg.data, o + ICMPV6_HEADER_LEN);
  } else {
    b[o] = TYPE_OF[msg.type];
    b[o + 1] = msg.type === "packet-too-big" ? 0 : msg.code & 0xff;
    // RFC 4443 §3.1, §3.3: the word after the checksum is unused, zero from the sender.
    const word =
      msg.type === "packet-too-big" ? msg.mtu : msg.type === "parameter-problem" ? msg.pointer : 0;
    put32(b, o + 4, word);
    b.set(msg.original, o + ICMPV6_HEADER_LEN);
  }
  let sum = checksumFinish(
    checksumAccumulate(b, pseudoHeaderSum6(src, dst, NextHeader.ICMPV6, length), o, o + length),
  );
  if (opts?.checksum === "bad") sum = corruptChecksum(sum);
  put16(b, o + 2, sum);
  return length;
}

/**
 * The part of an invoking packet an ICMPv6 error quotes: as much as fits
 * in a 1280-byte error (RFC 4443 §2.4(c)), never past the packet's end or
 * its payload length. Returns a view.
 */
export function icmpv6ErrorQuote(packet: Uint8Array): Uint8Array {
  const total =
    packet.length >= IPV6_HEADER_LEN ? IPV6_HEADER_LEN + be16(packet, 4) : packet.length;
  return packet.subarray(0, Math.min(packet.length, total, ICMPV6_QUOTE_MAX));
}
