/** IPv4 header codec (RFC 791 §3.1). */
import type { Ipv4Addr } from "./addr.ts";
import { be16, be32 } from "./bytes.ts";
import { checksumAccumulate, checksumFinish } from "./checksum.ts";
import { drop, ok, type Parsed } from "./result.ts";

export const IpProto = { ICMP: 1, TCP: 6, UDP: 17 } as const;

/** Header length without options. */
export const IPV4_HEADER_LEN = 20;
/** The largest header: IHL is 4 bits of 32-bit words. */
export const IPV4_MAX_HEADER_LEN = 60;
export const IPV4_MAX_TOTAL_LEN = 0xffff;

/** Shared by every header without options (the usual case: no subarray per packet). */
const NO_OPTIONS = new Uint8Array(0);

const FLAG_DF = 0x4000;
const FLAG_MF = 0x2000;
const OFFSET_MASK = 0x1fff;

export interface Ipv4Header {
  /** IHL in bytes (20..60). */
  readonly headerLength: number;
  readonly tos: number;
  readonly totalLength: number;
  readonly identification: number;
  readonly dontFragment: boolean;
  readonly moreFragments: boolean;
  /** Fragment offset in bytes (the field counts 8-byte units). */
  readonly fragmentOffset: number;
  readonly ttl: number;
  readonly protocol: number;
  readonly checksum: number;
  readonly src: Ipv4Addr;
  readonly dst: Ipv4Addr;
  /** Raw option bytes (headerLength - 20 of them); not interpreted. */
  readonly options: Uint8Array;
}

export interface Ipv4Packet {
  readonly header: Ipv4Header;
  /** A view of bytes [headerLength, totalLength): link padding past totalLength is ignored. */
  readonly payload: Uint8Array;
}

export interface Ipv4ParseOptions {
  /** Default true. */
  readonly verifyChecksum?: boolean;
}

function readHeader(bytes: Uint8Array, headerLength: number): Ipv4Header {
  const frag = be16(bytes, 6);
  return {
    headerLength,
    tos: bytes[1]!,
    totalLength: be16(bytes, 2),
    identification: be16(bytes, 4),
    dontFragment: (frag & FLAG_DF) !== 0,
    moreFragments: (frag & FLAG_MF) !== 0,
    fragmentOffset: (frag & OFFSET_MASK) * 8,
    ttl: bytes[8]!,
    protocol: bytes[9]!,
    checksum: be16(bytes, 10),
    src: be32(bytes, 12),
    dst: be32(bytes, 16),
    options:
      headerLength === IPV4_HEADER_LEN ? NO_OPTIONS : bytes.subarray(IPV4_HEADER_LEN, headerLength),
  };
}

/** Checks version and IHL; returns the header length in bytes or a drop. */
function checkHeader(bytes: Uint8Array): Parsed<number> {
  if (bytes.length < 1) return drop("truncated", "empty packet");
  const version = bytes[0]! >> 4;
  if (version !== 4) return drop("bad-version", `version ${version}`);
  if (bytes.length < IPV4_HEADER_LEN) {
    return drop("truncated", `${bytes.length} bytes, header needs ${IPV4_HEADER_LEN}`);
  }
  const headerLength = (bytes[0]! & 0x0f) * 4;
  if (headerLength < IPV4_HEADER_LEN) return drop("bad-header-length", `ihl ${headerLength / 4}`);
  if (headerLength > bytes.length) {
    return drop("truncated", `${bytes.length} bytes, header needs ${headerLength}`);
  }
  return ok(headerLength);
}

/**
 * Walks the option list (RFC 791 §3.1): EOL ends it, NOP is one byte, every
 * other option has a length byte of at least 2 that stays within the
 * header. Returns what is wrong, or undefined.
 */
function badOption(options: Uint8Array): string | undefined {
  let i = 0;
  while (i < options.length) {
    const type = options[i]!;
    if (type === 0) return undefined; // End of Option List
    if (type === 1) {
      i++; // No Operation
      continue;
    }
    if (i + 1 >= options.length) return `option ${type} has no length byte`;
    const length = options[i + 1]!;
    if (length < 2 || i + length > options.length) return `option ${type} length ${length}`;
    i += length;
  }
  return undefined;
}

/**
 * Parses and validates an IPv4 packet. Options are kept as bytes and not
 * acted on (RFC 1122 §3.2.1.8 lets a host ignore options it does not
 * implement), but a list whose lengths cannot be followed makes the header
 * malformed: dropped and counted, as Linux's ip_options_compile drops it
 * (RFC 1122 §3.2.2.5 would allow a Parameter Problem; we send none).
 */
export function parseIpv4(bytes: Uint8Array, opts?: Ipv4ParseOptions): Parsed<Ipv4Packet> {
  const checked = checkHeader(bytes);
  if (!checked.ok) return checked;
  const headerLength = checked.value;
  const totalLength = be16(bytes, 2);
  // Like Linux ip_rcv: a total length past the bytes we hold is a truncated
  // packet; one shorter than the header is a header error.
  if (totalLength < headerLength) {
    return drop("bad-total-length", `total length ${totalLength} < header ${headerLength}`);
  }
  if (totalLength > bytes.length) {
    return drop("truncated", `total length ${totalLength} > ${bytes.length} bytes`);
  }
  if (opts?.verifyChecksum !== false) {
    // RFC 791 §3.1: the sum over the header, checksum included, must be all ones.
    if (checksumFinish(checksumAccumulate(bytes, 0, 0, headerLength)) !== 0) {
      return drop("bad-checksum", "ip header");
    }
  }
  if (headerLength > IPV4_HEADER_LEN) {
    const bad = badOption(bytes.subarray(IPV4_HEADER_LEN, headerLength));
    if (bad !== undefined) return drop("bad-ip-option", bad);
  }
  return ok({
    header: readHeader(bytes, headerLength),
    payload: bytes.subarray(headerLength, totalLength),
  });
}

/**
 * Reads the IP header quoted in an ICMP error (RFC 792: "Internet Header +
 * 64 bits of Original Data Datagram"). The quote is usually shorter than its
 * total length says and its checksum is not ours to judge, so only version
 * and IHL are checked. `transport` is whatever follows the header.
 */
export function parseIpv4Quote(
  bytes: Uint8Array,
): Parsed<{ readonly header: Ipv4Header; readonly transport: Uint8Array }> {
  const checked = checkHeader(bytes);
  if (!checked.ok) return checked;
  const headerLength = checked.value;
  const end = Math.max(headerLength, Math.min(bytes.length, be16(bytes, 2)));
  return ok({
    header: readHeader(bytes, headerLength),
    transport: bytes.subarray(headerLength, end),
  });
}

export interface Ipv4Repr {
  readonly src: Ipv4Addr;
  readonly dst: Ipv4Addr;
  readonly protocol: number;
  /** Default 64 (RFC 1700's recommendation, as Linux uses). */
  readonly ttl?: number;
  readonly tos?: number;
  readonly identification?: number;
  readonly dontFragment?: boolean;
  readonly moreFragments?: boolean;
  /** In bytes; must be a multiple of 8 (RFC 791 §3.2). */
  readonly fragmentOffset?: number;
  /** Raw option bytes, a multiple of 4 and at most 40; default none. */
  readonly options?: Uint8Array;
}

export const IPV4_DEFAULT_TTL = 64;

/** The header length emitIpv4 will write for `repr`. */
export function ipv4HeaderLength(repr: Pick<Ipv4Repr, "options">): number {
  return IPV4_HEADER_LEN + (repr.options?.length ?? 0);
}

/**
 * Writes an IPv4 header (checksum included) at buf[offset] for a payload of
 * `payloadLength` bytes that the caller places right after it. Returns the
 * header length (20 without options). Throws RangeError on a repr that cannot
 * be encoded: that is a programming error, not bad input from the wire.
 */
export function emitIpv4(
  repr: Ipv4Repr,
  payloadLength: number,
  buf: Uint8Array,
  offset = 0,
): number {
  const options = repr.options;
  const optLen = options?.length ?? 0;
  if (optLen % 4 !== 0 || optLen > IPV4_MAX_HEADER_LEN - IPV4_HEADER_LEN) {
    throw new RangeError(`ipv4 options must be a multiple of 4 up to 40 bytes, got ${optLen}`);
  }
  const headerLength = IPV4_HEADER_LEN + optLen;
  const totalLength = headerLength + payloadLength;
  if (totalLength > IPV4_MAX_TOTAL_LEN) throw new RangeError(`ipv4 total length ${totalLength}`);
  if (offset + headerLength > buf.length) throw new RangeError("buffer too small for ipv4 header");
  const fragOff = repr.fragmentOffset ?? 0;
  if (fragOff % 8 !== 0 || fragOff < 0 || fragOff / 8 > OFFSET_MASK) {
    throw new RangeError(`fragment offset ${fragOff} is not a multiple of 8 in range`);
  }
  const frag =
    (repr.dontFragment ? FLAG_DF : 0) | (repr.moreFragments ? FLAG_MF : 0) | (fragOff / 8);
  const id = repr.identification ?? 0;
  const src = repr.src >>> 0;
  const dst = repr.dst >>> 0;
  const b = buf;
  const o = offset;
  b[o] = 0x40 | (headerLength / 4);
  b[o + 1] = (repr.tos ?? 0) & 0xff;
  b[o + 2] = totalLength >>> 8;
  b[o + 3] = totalLength & 0xff;
  b[o + 4] = (id >>> 8) & 0xff;
  b[o + 5] = id & 0xff;
  b[o + 6] = frag >>> 8;
  b[o + 7] = frag & 0xff;
  b[o + 8] = (repr.ttl ?? IPV4_DEFAULT_TTL) & 0xff;
  b[o + 9] = repr.protocol & 0xff;
  b[o + 10] = 0;
  b[o + 11] = 0;
  b[o + 12] = src >>> 24;
  b[o + 13] = (src >>> 16) & 0xff;
  b[o + 14] = (src >>> 8) & 0xff;
  b[o + 15] = src & 0xff;
  b[o + 16] = dst >>> 24;
  b[o + 17] = (dst >>> 16) & 0xff;
  b[o + 18] = (dst >>> 8) & 0xff;
  b[o + 19] = dst & 0xff;
  if (options !== undefined) b.set(options, o + IPV4_HEADER_LEN);
  const sum = checksumFinish(checksumAccumulate(b, 0, o, o + headerLength));
  b[o + 10] = sum >>> 8;
  b[o + 11] = sum & 0xff;
  return headerLength;
}

/** True when the packet is one piece of a fragmented datagram (RFC 791 §2.3). */
export function isFragment(header: Pick<Ipv4Header, "moreFragments" | "fragmentOffset">): boolean {
  return header.moreFragments || header.fragmentOffset !== 0;
}
