import { expect, test } from "bun:test";
import { halfSipHashBytes, halfSipHashWords, halfSipKey } from "../../src/util/halfsiphash.ts";

test("HalfSipHash-2-4-32: the reference vectors (key 00..07, message 00..n-1)", () => {
  const key = halfSipKey(Uint8Array.from({ length: 8 }, (_, i) => i));
  const msg = (n: number) => Uint8Array.from({ length: n }, (_, i) => i);
  const vectors: Record<number, number> = {
    0: 0x5b9f35a9,
    1: 0xb85a4727,
    2: 0x03a662fa,
    3: 0x04e7fe8a,
    4: 0x89466e2a,
    5: 0x69b6fac5,
    6: 0x23fc6358,
    7: 0xc563cf8b,
    8: 0x8f84b8d0,
    11: 0x50300808,
    12: 0x2f87f057,
  };
  for (const [n, want] of Object.entries(vectors)) {
    expect(halfSipHashBytes(key, msg(Number(n)))).toBe(want);
  }
  // Whole words hash like their little-endian bytes.
  expect(halfSipHashWords(key, [0x03020100, 0x07060504])).toBe(0x8f84b8d0);
});
