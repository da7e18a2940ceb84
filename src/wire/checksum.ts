/**
 * The Internet checksum (RFC 1071): the 16-bit one's complement of the one's
 * complement sum of the data taken as big-endian 16-bit words.
 *
 * A running sum is a plain non-negative number. Because the one's complement
 * sum is order independent and carries can be folded at any time
 * (RFC 1071 §2 (B), (C)), we add 16-bit words into a JS number and fold only
 * at the end of each call; this stays exact far beyond any IPv4 packet size.
 */
import type { Ipv4Addr } from "./addr.ts";
import type { Ipv6Addr } from "./ipv6-addr.ts";

/** Folds carries until the sum fits in 16 bits (end-around carry, RFC 1071 §2 (C)). */
function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return sum;
}

/** True on a little-endian machine: a Uint32Array then reads 16-bit words byte-swapped. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Below this many bytes the word-at-a-time path is not worth its typed-array view. */
const WIDE_MIN = 64;

/**
 * Adds `data` (or its bytes start..end) to a running partial sum. An odd
 * final byte is padded with a zero byte on the right (RFC 1071 §1 (1)). To
 * checksum data in pieces, every piece but the last must have an even
 * length. The range saves a `subarray()`, which costs an allocation on the
 * hot output path.
 */
export function checksumAccumulate(
  data: Uint8Array,
  sum = 0,
  start = 0,
  end = data.length,
): number {
  let i = start;
  // Long runs starting on an even address are read 32 bits at a time.
  if (end - start >= WIDE_MIN && ((data.byteOffset + start) & 1) === 0) {
    if (((data.byteOffset + i) & 2) !== 0) {
      sum += (data[i]! << 8) | data[i + 1]!; // to a 4-byte boundary
      i += 2;
    }
    sum += wideSum(data, i, (end - i) >>> 2);
    i += (end - i) & ~3;
  }
  const n = end - i;
  const evenEnd = i + (n & ~1);
  const quadEnd = i + (n & ~3);
  // Two words per turn; a JS number holds 2^53, far above 65535 * 0xffff.
  for (; i < quadEnd; i += 4) {
    sum += ((data[i]! << 8) | data[i + 1]!) + ((data[i + 2]! << 8) | data[i + 3]!);
  }
  if (i < evenEnd) sum += (data[i]! << 8) | data[i + 1]!;
  if (n & 1) sum += data[end - 1]! << 8;
  return fold(sum);
}

/**
 * The big-endian 16-bit one's complement sum of `words` 32-bit words at
 * data[at] (4-byte aligned). Each 32-bit word is two 16-bit words, and
 * 2^16 ≡ 1 modulo 2^16 − 1, so folding the plain sum of the 32-bit words
 * gives the sum of their 16-bit halves; on a little-endian machine those
 * halves are byte-swapped, and since the one's complement sum does not
 * depend on byte order (RFC 1071 §2 (B)) swapping the folded result fixes
 * it. 16384 words of at most 2^32 stay far below 2^53.
 */
function wideSum(data: Uint8Array, at: number, words: number): number {
  if (words === 0) return 0;
  const w = new Uint32Array(data.buffer, data.byteOffset + at, words);
  let s = 0;
  for (let k = 0; k < words; k++) s += w[k]!;
  const f = fold(s);
  return LITTLE_ENDIAN ? ((f & 0xff) << 8) | (f >>> 8) : f;
}

/** Folds and complements a running sum into the 16-bit checksum field value. */
export function checksumFinish(sum: number): number {
  return ~fold(sum) & 0xffff;
}

/** The checksum of `data`. Over data that embeds a correct checksum it is 0. */
export function internetChecksum(data: Uint8Array): number {
  return checksumFinish(checksumAccumulate(data));
}

/**
 * The partial sum of the TCP/UDP pseudo-header (RFC 9293 §3.1, RFC 768):
 * source, destination, zero + protocol, and the transport length.
 */
export function pseudoHeaderSum(
  src: Ipv4Addr,
  dst: Ipv4Addr,
  protocol: number,
  length: number,
): number {
  return (
    (src >>> 16) +
    (src & 0xffff) +
    (dst >>> 16) +
    (dst & 0xffff) +
    (protocol & 0xff) +
    (length & 0xffff)
  );
}

/**
 * The partial sum of the IPv6 pseudo-header (RFC 8200 §8.1): source,
 * destination, the upper-layer packet length as 32 bits, three zero bytes
 * and the next header (the upper-layer protocol, not the first extension
 * header). At a receiver the destination is the header's own: we act on no
 * routing header with segments left.
 */
export function pseudoHeaderSum6(
  src: Ipv6Addr,
  dst: Ipv6Addr,
  nextHeader: number,
  length: number,
): number {
  let sum = (length >>> 16) + (length & 0xffff) + (nextHeader & 0xff);
  for (let i = 0; i < 4; i++) {
    const s = src[i]!;
    const d = dst[i]!;
    sum += (s >>> 16) + (s & 0xffff) + (d >>> 16) + (d & 0xffff);
  }
  return sum;
}

/** An address of either family as the codecs take it: IPv4 a number, IPv6 four words. */
export type IpAddrValue = Ipv4Addr | Ipv6Addr;

/** The address type of A's family: a pseudo-header's two addresses are of one family. */
export type SameFamily<A extends IpAddrValue> = A extends number ? Ipv4Addr : Ipv6Addr;

/**
 * The pseudo-header sum of either family, chosen by the addresses' type
 * (RFC 9293 §3.1 and RFC 768 for IPv4, RFC 8200 §8.1 for IPv6). A mix of
 * families, which the types already refuse, is a RangeError.
 */
export function ipPseudoHeaderSum<A extends IpAddrValue>(
  src: A,
  dst: SameFamily<A>,
  protocol: number,
  length: number,
): number {
  const s: IpAddrValue = src;
  const d: IpAddrValue = dst;
  if (typeof s === "number" && typeof d === "number") {
    return pseudoHeaderSum(s, d, protocol, length);
  }
  if (typeof s !== "number" && typeof d !== "number") {
    return pseudoHeaderSum6(s, d, protocol, length);
  }
  throw new RangeError("a pseudo-header needs two addresses of one family");
}

/**
 * A checksum value that is certainly wrong for data whose correct checksum is
 * `good`. Flipping the low byte never turns 0x0000 into 0xffff, the other
 * one's complement zero, so the receiver's check fails.
 */
export function corruptChecksum(good: number): number {
  return (good ^ 0x00ff) & 0xffff;
}
