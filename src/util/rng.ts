/**
 * A small seeded PRNG: sfc32 (Chris Doty-Humphrey's Small Fast Counting
 * generator, 128-bit state) seeded through splitmix32. The same seed gives
 * the same sequence on every run and platform, which is what makes a
 * simulated run with loss and reordering reproducible from one printed number.
 */

const TWO_POW_32 = 4_294_967_296;

/** One step of splitmix32 (golden-ratio increment, then a 32-bit finaliser). */
function splitmix32(state: number): { state: number; value: number } {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  z ^= z >>> 15;
  return { state: next, value: z >>> 0 };
}

/** FNV-1a over the label's UTF-16 code units: labels become fork keys. */
function hashLabel(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) {
    h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  }
  return h >>> 0;
}

export class Rng {
  /** The seed this generator was built from: print it to replay a failing run. */
  readonly seed: number;
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    if (!Number.isFinite(seed))
      throw new RangeError(`Rng seed must be a finite number, got ${seed}`);
    this.seed = seed;
    // Fold the whole integer part in, so seeds like Date.now() keep their high bits.
    const lo = seed >>> 0;
    const hi = Math.floor(seed / TWO_POW_32) >>> 0;
    let s = lo ^ Math.imul(hi, 0x85ebca6b);
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const step = splitmix32(s);
      s = step.state;
      words.push(step.value);
    }
    this.a = words[0]!;
    this.b = words[1]!;
    this.c = words[2]!;
    this.d = words[3]!;
    // sfc32's authors mix the state a few rounds before use.
    for (let i = 0; i < 12; i++) this.uint32();
  }

  /** The next raw 32-bit output, in [0, 2^32). */
  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.uint32() / TWO_POW_32;
  }

  /** Uniform integer in [0, maxExclusive), without modulo bias. */
  int(maxExclusive: number): number {
    if (!Number.isInteger(maxExclusive) || maxExclusive < 1 || maxExclusive > TWO_POW_32) {
      throw new RangeError(`int() needs an integer in [1, 2^32], got ${maxExclusive}`);
    }
    // Reject the top sliver of the 32-bit range that does not divide evenly.
    const limit = TWO_POW_32 - (TWO_POW_32 % maxExclusive);
    for (;;) {
      const u = this.uint32();
      if (u < limit) return u % maxExclusive;
    }
  }

  /** True with probability `p` (p ≤ 0 never, p ≥ 1 always; consumes one draw either way). */
  chance(p: number): boolean {
    return this.next() < p;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      let u = this.uint32();
      for (let j = i; j < Math.min(i + 4, n); j++) {
        out[j] = u & 0xff;
        u >>>= 8;
      }
    }
    return out;
  }

  /**
   * An independent generator for one named consumer. It depends only on this
   * generator's seed and the label — not on how much has been drawn — so
   * adding a consumer elsewhere never shifts another one's sequence.
   */
  fork(label: string): Rng {
    const lo = this.seed >>> 0;
    const hi = Math.floor(this.seed / TWO_POW_32) >>> 0;
    const mixed = splitmix32(lo ^ Math.imul(hi, 0xc2b2ae35) ^ hashLabel(label)).value;
    return new Rng(splitmix32(mixed ^ 0x5bd1e995).value);
  }
}
