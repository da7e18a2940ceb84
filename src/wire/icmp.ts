/** ICMP codec (RFC 792; Fragmentation Needed's next-hop MTU from RFC 1191 §4). */
import { be16 } from "./bytes.ts";
import { checksumAccumulate, checksumFinish, corruptChecksum } from "./checksum.ts";
import { IPV4_HEADER_LEN } from "./ipv4.ts";
import { drop, ok, type Parsed } from "./result.ts";

export const ICMP_HEADER_LEN = 8;

export const IcmpType = {
  ECHO_REPLY: 0,
  DEST_UNREACHABLE: 3,
  ECHO_REQUEST: 8,
  TIME_EXCEEDED: 11,
} as const;

export const IcmpUnreachable = { NET: 0, HOST: 1, PROTOCOL: 2, PORT: 3, FRAG_NEEDED: 4 } as const;

export const IcmpTimeExceeded = { TTL: 0, REASSEMBLY: 1 } as const;

export type IcmpMessage =
  | {
      readonly type: "echo-request" | "echo-reply";
      readonly id: number;
      readonly seq: number;
      readonly data: Uint8Array;
    }
  | {
      readonly type: "dest-unreachable";
      readonly code: number;
      /** RFC 1191: present (possibly 0, from old routers) when code is FRAG_NEEDED. */
      readonly nextHopMtu?: number;
      /** The offending datagram's IP header and first bytes of its data. */
      readonly original: Uint8Array;
    }
  | { readonly type: "time-exceeded"; readonly code: number; readonly original: Uint8Array }
  /** Any other type; `body` is everything after the checksum field. */
  | {
      readonly type: "other";
      readonly icmpType: number;
      readonly code: number;
      readonly body: Uint8Array;
    };

export interface IcmpParseOptions {
  /** Default true. */
  readonly verifyChecksum?: boolean;
}

/** Parses an ICMP message (the whole IPv4 payload). */
export function parseIcmp(bytes: Uint8Array, opts?: IcmpParseOptions): Parsed<IcmpMessage> {
  // RFC 792: every message starts with type, code, checksum and 4 more bytes.
  if (bytes.length < ICMP_HEADER_LEN) {
    return drop("truncated", `${bytes.length} bytes, icmp header needs ${ICMP_HEADER_LEN}`);
  }
  // RFC 792: the checksum covers the whole ICMP message.
  if (opts?.verifyChecksum !== false && checksumFinish(checksumAccumulate(bytes)) !== 0) {
    return drop("bad-checksum", "icmp");
  }
  const type = bytes[0]!;
  const code = bytes[1]!;
  switch (type) {
    case IcmpType.ECHO_REQUEST:
    case IcmpType.ECHO_REPLY:
      return ok({
        type: type === IcmpType.ECHO_REQUEST ? "echo-request" : "echo-reply",
        id: be16(bytes, 4),
        seq: be16(bytes, 6),
        data: bytes.subarray(ICMP_HEADER_LEN),
      });
    case IcmpType.DEST_UNREACHABLE: {
      const original = bytes.subarray(ICMP_HEADER_LEN);
      if (code === IcmpUnreachable.FRAG_NEEDED) {
        return ok({ type: "dest-unreachable", code, nextHopMtu: be16(bytes, 6), original });
      }
      return ok({ type: "dest-unreachable", code, original });
    }
    case IcmpType.TIME_EXCEEDED:
      return ok({ type: "time-exceeded", code, original: bytes.subarray(ICMP_HEADER_LEN) });
    default:
      return ok({ type: "other", icmpType: type, code, body: bytes.subarray(4) });
  }
}

/** Bytes emitIcmp writes for `msg`. */
export function icmpLength(msg: IcmpMessage): number {
  switch (msg.type) {
    case "echo-request":
    case "echo-reply":
      return ICMP_HEADER_LEN + msg.data.length;
    case "dest-unreachable":
    case "time-exceeded":
      return ICMP_HEADER_LEN + msg.original.length;
    case "other":
      return 4 + msg.body.length;
  }
}

export interface IcmpEmitOptions {
  /** Default "good". */
  readonly checksum?: "good" | "bad";
}

/** Writes the message at buf[offset] with its checksum; returns the bytes written. */
export function emitIcmp(
  msg: IcmpMessage,
  buf: Uint8Array,
  offset = 0,
  opts?: IcmpEmitOptions,
): number {
  const length = icmpLength(msg);
  if (offset + length > buf.length) throw new RangeError("buffer too small for icmp message");
  const b = buf;
  const o = offset;
  b[o + 2] = 0;
  b[o + 3] = 0;
  switch (msg.type) {
    case "echo-request":
    case "echo-reply":
      b[o] = msg.type === "echo-request" ? IcmpType.ECHO_REQUEST : IcmpType.ECHO_REPLY;
      b[o + 1] = 0;
      b[o + 4] = (msg.id >>> 8) & 0xff;
      b[o + 5] = msg.id & 0xff;
      b[o + 6] = (msg.seq >>> 8) & 0xff;
      b[o + 7] = msg.seq & 0xff;
      b.set(msg.data, o + ICMP_HEADER_LEN);
      break;
    case "dest-unreachable": {
      const mtu = msg.nextHopMtu ?? 0;
      b[o] = IcmpType.DEST_UNREACHABLE;
      b[o + 1] = msg.code & 0xff;
      b[o + 4] = 0;
      b[o + 5] = 0;
      b[o + 6] = (mtu >>> 8) & 0xff;
      b[o + 7] = mtu & 0xff;
      b.set(msg.original, o + ICMP_HEADER_LEN);
      break;
    }
    case "time-exceeded":
      b[o] = IcmpType.TIME_EXCEEDED;
      b[o + 1] = msg.code & 0xff;
      b.fill(0, o + 4, o + 8);
      b.set(msg.original, o + ICMP_HEADER_LEN);
      break;
    case "other":
      b[o] = msg.icmpType & 0xff;
      b[o + 1] = msg.code & 0xff;
      b.set(msg.body, o + 4);
      break;
  }
  let sum = checksumFinish(checksumAccumulate(b.subarray(o, o + length)));
  if (opts?.checksum === "bad") sum = corruptChecksum(sum);
  b[o + 2] = sum >>> 8;
  b[o + 3] = sum & 0xff;
  return length;
}

/**
 * The part of an offending datagram an ICMP error quotes: its IP header plus
 * the first `dataBytes` of its data (RFC 792 asks for 8, enough for the ports
 * and, for TCP, the sequence number). Returns a view; never past the packet's
 * end or its total length.
 */
export function icmpErrorQuote(packet: Uint8Array, dataBytes = 8): Uint8Array {
  if (packet.length < IPV4_HEADER_LEN) return packet.subarray(0);
  const headerLength = (packet[0]! & 0x0f) * 4;
  const totalLength = be16(packet, 2);
  const end = Math.min(
    packet.length,
    Math.max(totalLength, headerLength),
    headerLength + dataBytes,
  );
  return packet.subarray(0, end);
}
