/** TCP header codec (RFC 9293 §3.1, §3.2; options from RFC 7323 and RFC 2018). */
import { be16, be32, put16, put32 } from "./bytes.ts";
import {
  checksumAccumulate,
  checksumFinish,
  corruptChecksum,
  type IpAddrValue,
  ipPseudoHeaderSum,
  type SameFamily,
} from "./checksum.ts";
import { IpProto } from "./ipv4.ts";
import { drop, ok, type Parsed } from "./result.ts";
import { Flag, type TcpOption, type TcpSegment } from "./tcp-types.ts";

export const TCP_HEADER_LEN = 20;
export const TCP_MAX_HEADER_LEN = 60;
/** Room for options: data offset is 4 bits of 32-bit words. */
export const TCP_MAX_OPTIONS_LEN = TCP_MAX_HEADER_LEN - TCP_HEADER_LEN;

/** Option kinds (IANA "TCP Option Kind Numbers"). */
export const TcpOptionKind = {
  EOL: 0,
  NOP: 1,
  MSS: 2,
  WSCALE: 3,
  SACK_PERMITTED: 4,
  SACK: 5,
  TIMESTAMPS: 8,
  /** RFC 2385 TCP MD5 signature (only recognised by scripts; never interpreted). */
  MD5: 19,
  /** RFC 7413 TCP Fast Open cookie, and its experimental form. */
  FAST_OPEN: 34,
  FAST_OPEN_EXP: 254,
} as const;

export interface TcpParseOptions {
  /** Default true. */
  readonly verifyChecksum?: boolean;
  /** An option with a bad length: "drop" the segment (default) or "skip" the option (parseTcpOptions). */
  readonly badOptions?: "drop" | "skip";
  /** Told of each option skipped under badOptions "skip". */
  readonly onSkippedOption?: (detail: string) => void;
  /**
   * "end" (default): an EOL ends the list and is not reported, what follows
   * is padding (RFC 9293 §3.2). "each": every EOL byte is reported and
   * reading goes on after it, as packetdrill's option iterator does, so a
   * list can be compared byte for byte, padding included.
   */
  readonly eol?: "end" | "each";
}

/** Fixed total lengths of the options we interpret (kind and length bytes included). */
function expectedLength(kind: number, length: number): boolean {
  switch (kind) {
    case TcpOptionKind.MSS:
      return length === 4;
    case TcpOptionKind.WSCALE:
      return length === 3;
    case TcpOptionKind.SACK_PERMITTED:
      return length === 2;
    case TcpOptionKind.TIMESTAMPS:
      return length === 10;
    case TcpOptionKind.SACK:
      // RFC 2018 §3: 8 * n + 2 bytes for n blocks; a SACK with no block says nothing.
      return length >= 10 && (length - 2) % 8 === 0;
    default:
      return true;
  }
}

/**
 * Parses the option bytes of a TCP header (RFC 9293 §3.2). EOL ends the list
 * and is not reported (what follows it is padding) unless `eol` is "each";
 * unknown kinds are kept
 * byte for byte. A length byte below 2, running past the header, or wrong for
 * a known kind: with `badOptions` "drop" (the default) the whole segment is
 * suspect and dropped; with "skip" the option is ignored — a known kind of
 * the wrong size is passed over, and a length that cannot be followed ends
 * the list (Linux tcp_parse_options, FreeBSD tcp_dooptions) — and
 * `onSkippedOption` hears about it.
 */
export function parseTcpOptions(
  bytes: Uint8Array,
  opts?: Omit<TcpParseOptions, "verifyChecksum">,
): Parsed<TcpOption[]> {
  const options: TcpOption[] = [];
  const end = bytes.length;
  const bad = (detail: string): Parsed<TcpOption[]> | undefined => {
    if (opts?.badOptions !== "skip") return drop("bad-option-length", detail);
    opts.onSkippedOption?.(detail);
    return undefined;
  };
  const eachEol = opts?.eol === "each";
  let i = 0;
  while (i < end) {
    const kind = bytes[i]!;
    if (kind === TcpOptionKind.EOL && !eachEol) break;
    if (kind === TcpOptionKind.NOP || kind === TcpOptionKind.EOL) {
      options.push({ kind: kind === TcpOptionKind.NOP ? "nop" : "eol" });
      i += 1;
      continue;
    }
    const length = i + 1 < end ? bytes[i + 1]! : 0;
    if (i + 1 >= end || length < 2 || i + length > end) {
      // No length byte, or one that cannot be followed: nothing after it can be read.
      const detail =
        i + 1 >= end
          ? `option ${kind} has no length byte`
          : `option ${kind} length ${length}${i + length > end ? " runs past the header" : ""}`;
      return bad(detail) ?? ok(options);
    }
    if (!expectedLength(kind, length)) {
      const refused = bad(`option ${kind} length ${length}`);
      if (refused !== undefined) return refused;
      i += length;
      continue;
    }
    switch (kind) {
      case TcpOptionKind.MSS:
        options.push({ kind: "mss", value: be16(bytes, i + 2) });
        break;
      case TcpOptionKind.WSCALE:
        // The raw shift; RFC 7323 §2.3's clamp to 14 is the engine's decision.
        options.push({ kind: "wscale", shift: bytes[i + 2]! });
        break;
      case TcpOptionKind.SACK_PERMITTED:
        options.push({ kind: "sackPermitted" });
        break;
      case TcpOptionKind.TIMESTAMPS:
        options.push({ kind: "timestamps", tsVal: be32(bytes, i + 2), tsEcr: be32(bytes, i + 6) });
        break;
      case TcpOptionKind.SACK: {
        const blocks: Array<readonly [number, number]> = [];
        for (let j = i + 2; j < i + length; j += 8) {
          blocks.push([be32(bytes, j), be32(bytes, j + 4)]);
        }
        options.push({ kind: "sack", blocks });
        break;
      }
      default:
        options.push({ kind: "unknown", type: kind, data: bytes.subarray(i + 2, i + length) });
    }
    i += length;
  }
  return ok(options);
}

/**
 * Parses a TCP segment (the IPv4 payload) and, by default, verifies its
 * checksum over the pseudo-header. Checks run cheapest-first, but the
 * checksum comes before the options: a corrupted segment should be counted
 * as corrupted, not as a malformed one.
 */
/** Shared by every segment without data (nobody writes into a parsed payload). */
const NO_BYTES = new Uint8Array(0);

export function parseTcp<A extends IpAddrValue>(
  bytes: Uint8Array,
  src: A,
  dst: SameFamily<A>,
  opts?: TcpParseOptions,
): Parsed<TcpSegment> {
  if (bytes.length < TCP_HEADER_LEN) {
    return drop("truncated", `${bytes.length} bytes, tcp header needs ${TCP_HEADER_LEN}`);
  }
  const dataOffset = (bytes[12]! >> 4) * 4;
  if (dataOffset < TCP_HEADER_LEN || dataOffset > bytes.length) {
    return drop("bad-data-offset", `data offset ${dataOffset / 4} for ${bytes.length} bytes`);
  }
  if (opts?.verifyChecksum !== false) {
    const sum = checksumAccumulate(bytes, ipPseudoHeaderSum(src, dst, IpProto.TCP, bytes.length));
    if (checksumFinish(sum) !== 0) return drop("bad-checksum", "tcp");
  }
  const options = parseTcpOptions(bytes.subarray(TCP_HEADER_LEN, dataOffset), opts);
  if (!options.ok) return options;
  return ok({
    srcPort: be16(bytes, 0),
    dstPort: be16(bytes, 2),
    seq: be32(bytes, 4),
    ack: be32(bytes, 8),
    flags: bytes[13]!,
    window: be16(bytes, 14),
    urgentPointer: be16(bytes, 18),
    options: options.value,
    payload: dataOffset === bytes.length ? NO_BYTES : bytes.subarray(dataOffset),
  });
}

function optionLength(opt: TcpOption): number {
  switch (opt.kind) {
    case "eol":
    case "nop":
      return 1;
    case "mss":
      return 4;
    case "wscale":
      return 3;
    case "sackPermitted":
      return 2;
    case "sack":
      return 2 + 8 * opt.blocks.length;
    case "timestamps":
      return 10;
    case "unknown":
      return 2 + opt.data.length;
  }
}

/** Encoded bytes of `options`, before padding. */
export function tcpOptionsLength(options: readonly TcpOption[]): number {
  let n = 0;
  for (const opt of options) n += optionLength(opt);
  return n;
}

/** 20 + the options padded to a multiple of 4 (RFC 9293 §3.1: padding is zeros). */
export function tcpHeaderLength(options: readonly TcpOption[]): number {
  return TCP_HEADER_LEN + ((tcpOptionsLength(options) + 3) & ~3);
}

/** SEG.LEN: the sequence space a segment occupies (RFC 9293 §3.4). */
export function tcpSegmentLength(seg: Pick<TcpSegment, "flags" | "payload">): number {
  return seg.payload.length + (seg.flags & Flag.SYN ? 1 : 0) + (seg.flags & Flag.FIN ? 1 : 0);
}

/** Writes one option at b[i]; returns the index after it. */
function writeOption(b: Uint8Array, i: number, opt: TcpOption): number {
  switch (opt.kind) {
    case "eol":
      b[i] = TcpOptionKind.EOL;
      return i + 1;
    case "nop":
      b[i] = TcpOptionKind.NOP;
      return i + 1;
    case "mss":
      b[i] = TcpOptionKind.MSS;
      b[i + 1] = 4;
      put16(b, i + 2, opt.value);
      return i + 4;
    case "wscale":
      b[i] = TcpOptionKind.WSCALE;
      b[i + 1] = 3;
      b[i + 2] = opt.shift & 0xff;
      return i + 3;
    case "sackPermitted":
      b[i] = TcpOptionKind.SACK_PERMITTED;
      b[i + 1] = 2;
      return i + 2;
    case "sack": {
      b[i] = TcpOptionKind.SACK;
      b[i + 1] = 2 + 8 * opt.blocks.length;
      let j = i + 2;
      for (const [left, right] of opt.blocks) {
        put32(b, j, left);
        put32(b, j + 4, right);
        j += 8;
      }
      return j;
    }
    case "timestamps":
      b[i] = TcpOptionKind.TIMESTAMPS;
      b[i + 1] = 10;
      put32(b, i + 2, opt.tsVal);
      put32(b, i + 6, opt.tsEcr);
      return i + 10;
    case "unknown":
      b[i] = opt.type & 0xff;
      b[i + 1] = (2 + opt.data.length) & 0xff;
      b.set(opt.data, i + 2);
      return i + 2 + opt.data.length;
  }
}

export interface TcpEmitOptions {
  /**
   * "bad" writes a checksum that will not verify (for fault labs).
   * "partial" writes only the pseudo-header sum, for a device with checksum
   * offload to complete (wire/offload.ts): no pass over the payload here.
   * Default "good".
   */
  readonly checksum?: "good" | "bad" | "partial";
}

/** Bytes emitTcp writes for `seg`: header with padded options, plus payload. */
export function tcpLength(seg: Pick<TcpSegment, "options" | "payload">): number {
  return tcpHeaderLength(seg.options) + seg.payload.length;
}

/**
 * Writes `seg` at buf[offset] with options in the given order, zero padding
 * and the checksum over the pseudo-header; returns the bytes written. Throws
 * RangeError when the options do not fit in 40 bytes or the buffer is short.
 */
export function emitTcp<A extends IpAddrValue>(
  seg: TcpSegment,
  src: A,
  dst: SameFamily<A>,
  buf: Uint8Array,
  offset = 0,
  opts?: TcpEmitOptions,
): number {
  const headerLength = tcpHeaderLength(seg.options);
  if (headerLength > TCP_MAX_HEADER_LEN) {
    throw new RangeError(`tcp options need ${headerLength - TCP_HEADER_LEN} bytes, max 40`);
  }
  const length = headerLength + seg.payload.length;
  if (offset + length > buf.length) throw new RangeError("buffer too small for tcp segment");
  const b = buf;
  const o = offset;
  put16(b, o, seg.srcPort);
  put16(b, o + 2, seg.dstPort);
  put32(b, o + 4, seg.seq);
  put32(b, o + 8, seg.ack);
  b[o + 12] = (headerLength / 4) << 4;
  b[o + 13] = seg.flags & 0xff;
  put16(b, o + 14, seg.window);
  b[o + 16] = 0;
  b[o + 17] = 0;
  put16(b, o + 18, seg.urgentPointer);
  let i = o + TCP_HEADER_LEN;
  for (const opt of seg.options) i = writeOption(b, i, opt);
  b.fill(0, i, o + headerLength);
  // A payload already in place (a super-segment's, copied there by the caller) is not copied onto itself.
  // `.buffer` is read last: on a typed array the engine made without one it allocates one.
  const p = seg.payload;
  if (p.length > 0 && (p.byteOffset !== b.byteOffset + o + headerLength || p.buffer !== b.buffer)) {
    b.set(p, o + headerLength);
  }
  if (opts?.checksum === "partial") {
    // The folded pseudo-header sum, not complemented (wire/offload.ts).
    put16(b, o + 16, ~checksumFinish(ipPseudoHeaderSum(src, dst, IpProto.TCP, length)) & 0xffff);
    return length;
  }
  let sum = checksumFinish(
    checksumAccumulate(b, ipPseudoHeaderSum(src, dst, IpProto.TCP, length), o, o + length),
  );
  if (opts?.checksum === "bad") sum = corruptChecksum(sum);
  put16(b, o + 16, sum);
  return length;
}
