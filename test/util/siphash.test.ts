import { expect, test } from "bun:test";
import { sipHash, sipKey } from "../../src/util/siphash.ts";

test("SipHash-2-4: the reference vectors (key 00..0f, message 00..n-1)", () => {
  const key = sipKey(Uint8Array.from({ length: 16 }, (_, i) => i));
  const msg = (n: number) => Uint8Array.from({ length: n }, (_, i) => i);
  // From the reference implementation's vectors.h (vectors_sip64), as 64-bit little-endian words.
  const vectors: Record<number, bigint> = {
    0: 0x726fdb47dd0e0e31n,
    1: 0x74f839c593dc67fdn,
    2: 0x0d6c8009d9a94f5an,
    3: 0x85676696d7fb7e2dn,
    4: 0xcf2794e0277187b7n,
    7: 0xab0200f58b01d137n,
    8: 0x93f5f5799a932462n,
    9: 0x9e0082df0ba9e4b0n,
    15: 0xa129ca6149be45e5n,
    16: 0x3f2acc7f57c29bdbn,
    63: 0x958a324ceb064572n,
  };
  for (const [n, want] of Object.entries(vectors)) {
    const { hi, lo } = sipHash(key, msg(Number(n)));
    expect((BigInt(hi) << 32n) | BigInt(lo)).toBe(want);
  }
});

test("SipHash-2-4: a view into a larger buffer hashes only its own bytes", () => {
  const key = sipKey(new Uint8Array(16).fill(3));
  const big = Uint8Array.from({ length: 40 }, (_, i) => i * 7);
  expect(sipHash(key, big.subarray(5, 27))).toEqual(sipHash(key, big.slice(5, 27)));
});
