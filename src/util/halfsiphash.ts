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

/** One SipRound on the state v0..v3 (Uint32Array: additions wrap at 32 bits by themselves). */
function round(v: Uint32Array): void {
  v[0] = (v[0] as number) + (v[1] as number);
  v[1] = rotl(v[1] as number, 5) ^ (v[0] as number);
  v[0] = rotl(v[0] as number, 16);
  v[2] = (v[2] as number) + (v[3] as number);
  v[3] = rotl(v[3] as number, 8) ^ (v[2] as number);
  v[0] = (v[0] as number) + (v[3] as number);
  v[3] = rotl(v[3] as number, 7) ^ (v[0] as number);
  v[2] = (v[2] as number) + (v[1] as number);
  v[1] = rotl(v[1] as number, 13) ^ (v[2] as number);
  v[2] = rotl(v[2] as number, 16);
}

/** `rounds` SipRounds with `m` mixed in before (into v3) and after (into v0). */
function compress(v: Uint32Array, m: number, rounds: number): void {
  v[3] = (v[3] as number) ^ m;
  for (let i = 0; i < rounds; i++) round(v);
  v[0] = (v[0] as number) ^ m;
}

/** The state, reused: hashing allocates nothing. */
const state = new Uint32Array(4);

/** `full` whole words of message, then the partial one (if any) in words[full]. */
function halfSip(key: HalfSipKey, words: readonly number[], full: number, length: number): number {
  const v = state;
  v[0] = key.k0;
  v[1] = key.k1;
  v[2] = 0x6c796765 ^ key.k0;
  v[3] = 0x74656462 ^ key.k1;
  for (let i = 0; i < full; i++) compress(v, (words[i] as number) >>> 0, 2);
  // The last block: the message length in the top byte, the leftover bytes below.
  compress(v, ((length << 24) | ((words[full] ?? 0) & 0xffffff)) >>> 0, 2);
  v[2] = (v[2] as number) ^ 0xff;
  for (let i = 0; i < 4; i++) round(v);
  return ((v[1] as number) ^ (v[3] as number)) >>> 0;
}
