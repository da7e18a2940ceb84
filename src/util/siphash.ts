/**
 * SipHash-2-4 (Aumasson and Bernstein): a pseudorandom function keyed by
 * 128 bits with a 64-bit result — what Linux keys its ISNs with
 * (`secure_tcp_seq`: siphash of the 4-tuple under a boot-time secret).
 * Pure integer code, no I/O: each 64-bit lane is a pair of 32-bit halves.
 */

/** A key: 16 bytes, as the little-endian 64-bit words k0 and k1, each split in halves. */
export interface SipKey {
  readonly k0hi: number;
  readonly k0lo: number;
  readonly k1hi: number;
  readonly k1lo: number;
}

export function sipKey(bytes: Uint8Array): SipKey {
  if (bytes.length < 16) throw new RangeError("a SipHash key is 16 bytes");
  const v = new DataView(bytes.buffer, bytes.byteOffset, 16);
  return {
    k0lo: v.getUint32(0, true),
    k0hi: v.getUint32(4, true),
    k1lo: v.getUint32(8, true),
    k1hi: v.getUint32(12, true),
  };
}

/** The state v0..v3 as [hi, lo] pairs (Uint32Array: every store wraps to 32 bits), reused. */
const v = new Uint32Array(8);
const HI = [0, 2, 4, 6] as const;

/** v[a] += v[b] (64-bit). */
function add(a: number, b: number): void {
  const lo = (v[a + 1] as number) + (v[b + 1] as number);
  v[a] = (v[a] as number) + (v[b] as number) + (lo > 0xffffffff ? 1 : 0);
  v[a + 1] = lo;
}

/** v[a] = rotl64(v[a], n) for 0 < n < 32. */
function rotl(a: number, n: number): void {
  const hi = v[a] as number;
  const lo = v[a + 1] as number;
  v[a] = (hi << n) | (lo >>> (32 - n));
  v[a + 1] = (lo << n) | (hi >>> (32 - n));
}

/** v[a] = rotl64(v[a], 32). */
function swap(a: number): void {
  const hi = v[a] as number;
  v[a] = v[a + 1] as number;
  v[a + 1] = hi;
}

/** v[a] ^= v[b]. */
function xor(a: number, b: number): void {
  v[a] = (v[a] as number) ^ (v[b] as number);
  v[a + 1] = (v[a + 1] as number) ^ (v[b + 1] as number);
}

function sipRound(): void {
  const [v0, v1, v2, v3] = HI;
  add(v0, v1);
  rotl(v1, 13);
  xor(v1, v0);
  swap(v0);
  add(v2, v3);
  rotl(v3, 16);
  xor(v3, v2);
  add(v0, v3);
  rotl(v3, 21);
  xor(v3, v0);
  add(v2, v1);
  rotl(v1, 17);
  xor(v1, v2);
  swap(v2);
}

/** Mixes one message word (hi, lo) in: into v3, two rounds, then into v0. */
function block(hi: number, lo: number): void {
  v[6] = (v[6] as number) ^ hi;
  v[7] = (v[7] as number) ^ lo;
  sipRound();
  sipRound();
  v[0] = (v[0] as number) ^ hi;
  v[1] = (v[1] as number) ^ lo;
}

/** SipHash-2-4 of `data`: the 64-bit result as a bigint-free pair { hi, lo }. */
export function sipHash(key: SipKey, data: Uint8Array): { hi: number; lo: number } {
  v[0] = key.k0hi ^ 0x736f6d65;
  v[1] = key.k0lo ^ 0x70736575;
  v[2] = key.k1hi ^ 0x646f7261;
  v[3] = key.k1lo ^ 0x6e646f6d;
  v[4] = key.k0hi ^ 0x6c796765;
  v[5] = key.k0lo ^ 0x6e657261;
  v[6] = key.k1hi ^ 0x74656462;
  v[7] = key.k1lo ^ 0x79746573;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const whole = data.length >>> 3;
  for (let i = 0; i < whole; i++)
    block(view.getUint32(i * 8 + 4, true), view.getUint32(i * 8, true));
  // The last block: the length (mod 256) in the top byte, the leftover bytes below, little-endian.
  let hi = (data.length & 0xff) << 24;
  let lo = 0;
  for (let i = whole * 8; i < data.length; i++) {
    const shift = (i & 7) * 8;
    if (shift < 32) lo |= (data[i] as number) << shift;
    else hi |= (data[i] as number) << (shift - 32);
  }
  block(hi >>> 0, lo >>> 0);
  v[5] = (v[5] as number) ^ 0xff;
  for (let i = 0; i < 4; i++) sipRound();
  return {
    hi: ((v[0] as number) ^ (v[2] as number) ^ (v[4] as number) ^ (v[6] as number)) >>> 0,
    lo: ((v[1] as number) ^ (v[3] as number) ^ (v[5] as number) ^ (v[7] as number)) >>> 0,
  };
}
