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

/** Folds carries until the sum fits in 16 bits (end-around carry, RFC 1071 §2 (C)). */
function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return sum;
}

/**
 * Adds `data` to a running partial sum. An odd final byte is padded with a
 * zero byte on the right (RFC 1071 §1 (1)). To checksum data in pieces, every
 * piece but the last must have an even length.
 */
export function checksumAccumulate(data: Uint8Array, sum = 0): number {
  const n = data.length;
  const even = n & ~1;
  const quad = n & ~3;
  let i = 0;
  // Two words per turn; a JS number holds 2^53, far above 65535 * 0xffff.
  for (; i < quad; i += 4) {
    sum += ((data[i]! << 8) | data[i + 1]!) + ((data[i + 2]! << 8) | data[i + 3]!);
  }
  if (i < even) sum += (data[i]! << 8) | data[i + 1]!;
  if (n & 1) sum += data[n - 1]! << 8;
  return fold(sum);
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
 * A checksum value that is certainly wrong for data whose correct checksum is
 * `good`. Flipping the low byte never turns 0x0000 into 0xffff, the other
 * one's complement zero, so the receiver's check fails.
 */
export function corruptChecksum(good: number): number {
  return (good ^ 0x00ff) & 0xffff;
}
