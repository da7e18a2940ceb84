/**
 * 32-bit modular sequence number arithmetic (RFC 9293 §3.4, RFC 1982 §3.2).
 *
 * Sequence numbers live on a circle of 2^32 values, so `<` on raw numbers is
 * wrong near the wrap point (0xffffffff is *before* 0). Every comparison of
 * sequence numbers in tcplab goes through these helpers.
 */

const TWO_POW_32 = 0x1_0000_0000;
const HALF = 0x8000_0000;

/** a + n modulo 2^32 (n may be negative). */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/**
 * The signed distance a - b in (-2^31, 2^31]. Values exactly 2^31 apart have
 * no defined order (RFC 1982 §3.2); we report +2^31 for them.
 */
export function seqDiff(a: number, b: number): number {
  const d = (a - b) >>> 0;
  return d > HALF ? d - TWO_POW_32 : d;
}

export function seqLt(a: number, b: number): boolean {
  return seqDiff(a, b) < 0;
}

export function seqLe(a: number, b: number): boolean {
  return seqDiff(a, b) <= 0;
}

export function seqGt(a: number, b: number): boolean {
  return seqDiff(a, b) > 0;
}

export function seqGe(a: number, b: number): boolean {
  return seqDiff(a, b) >= 0;
}

/** The later of two sequence numbers. */
export function seqMax(a: number, b: number): number {
  return seqGe(a, b) ? a >>> 0 : b >>> 0;
}

/** The earlier of two sequence numbers. */
export function seqMin(a: number, b: number): number {
  return seqLe(a, b) ? a >>> 0 : b >>> 0;
}

/**
 * start <= x < start + len, modulo 2^32 (the acceptability tests of
 * RFC 9293 §3.10.7.4 are built from this). An empty window holds nothing.
 */
export function seqInWindow(x: number, start: number, len: number): boolean {
  return (x - start) >>> 0 < len;
}
