/**
 * HalfSipHash-2-4 with a 32-bit result (Aumasson and Bernstein's 32-bit
 * SipHash variant, the `hsiphash` Linux uses where a keyed hash must be
 * cheap): a pseudorandom function keyed by 64 bits, for values an attacker
 * must not predict (SYN cookies). Pure integer code, no I/O.
 */

const rotl = (x: number, b: number): number => ((x << b) | (x >>> (32 - b))) >>> 0;

/** A key: 8 bytes, as two little-endian 32-bit words. */
export interface HalfSipKey {
  readonly k0: number;
  readonly k1: number;
}

export function halfSipKey(bytes: Uint8Array): HalfSipKey {
  if (bytes.length < 8) throw new RangeError("a HalfSipHash key is 8 bytes");
  const v = new DataView(bytes.buffer, bytes.byteOffset, 8);
  return { k0: v.getUint32(0, true), k1: v.getUint32(4, true) };
}

/** HalfSipHash-2-4-32 of `words` taken as their little-endian bytes (4 per word). */
export function halfSipHashWords(key: HalfSipKey, words: readonly number[]): number {
  return halfSipHash(key, words, words.length * 4);
}

/** HalfSipHash-2-4-32 of `data`. */
export function halfSipHashBytes(key: HalfSipKey, data: Uint8Array): number {
  const whole = data.length >>> 2;
  const words: number[] = [];
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let i = 0; i < whole; i++) words.push(v.getUint32(i * 4, true));
  let tail = 0;
  for (let i = data.length - 1; i >= whole * 4; i--) tail = (tail << 8) | (data[i] as number);
  if ((data.length & 3) !== 0) words.push(tail);
  return halfSip(key, words, whole, data.length);
}

function halfSipHash(key: HalfSipKey, words: readonly number[], length: number): number {
  return halfSip(key, words, words.length, length);
}

/** `full` whole words of message, then the partial one (if any) in words[full]. */
function halfSip(key: HalfSipKey, words: readonly number[], full: number, length: number): number {
  let v0 = key.k0 >>> 0;
  let v1 = key.k1 >>> 0;
  let v2 = (0x6c796765 ^ key.k0) >>> 0;
  let v3 = (0x74656462 ^ key.k1) >>> 0;
  const round = (): void => {
    v0 = (v0 + v1) >>> 0;
    v1 = rotl(v1, 5) ^ v0;
    v0 = rotl(v0, 16);
    v2 = (v2 + v3) >>> 0;
    v3 = rotl(v3, 8) ^ v2;
    v0 = (v0 + v3) >>> 0;
    v3 = rotl(v3, 7) ^ v0;
    v2 = (v2 + v1) >>> 0;
    v1 = rotl(v1, 13) ^ v2;
    v2 = rotl(v2, 16);
  };
  for (let i = 0; i < full; i++) {
    const m = (words[i] as number) >>> 0;
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
  // The last block: the message length in the top byte, the leftover bytes below.
  const b = ((length << 24) | ((words[full] ?? 0) & 0xffffff)) >>> 0;
  v3 ^= b;
  round();
  round();
  v0 ^= b;
  v2 ^= 0xff;
  round();
  round();
  round();
  round();
  return (v1 ^ v3) >>> 0;
}
