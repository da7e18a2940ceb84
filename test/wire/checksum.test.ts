import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { ip } from "../../src/wire/addr.ts";
import {
  checksumAccumulate,
  checksumFinish,
  corruptChecksum,
  internetChecksum,
  pseudoHeaderSum,
} from "../../src/wire/checksum.ts";
import { fcParams, hexBytes, referenceChecksum } from "./prop.ts";

describe("RFC 1071 checksum", () => {
  test("the RFC 1071 §3 worked example: sum ddf2, checksum 220d", () => {
    const data = hexBytes("00 01 f2 03 f4 f5 f6 f7");
    expect(checksumAccumulate(data)).toBe(0xddf2);
    expect(checksumFinish(checksumAccumulate(data))).toBe(0x220d);
    expect(internetChecksum(data)).toBe(0x220d);
  });

  test("a real IPv4 header verifies, and its checksum recomputes to b861", () => {
    const header = hexBytes("4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7");
    expect(internetChecksum(header)).toBe(0);
    header[10] = 0;
    header[11] = 0;
    expect(internetChecksum(header)).toBe(0xb861);
  });

  test("odd length pads the last byte with zero on the right", () => {
    expect(checksumAccumulate(hexBytes("01"))).toBe(0x0100);
    expect(internetChecksum(hexBytes("00 01 f2"))).toBe(internetChecksum(hexBytes("00 01 f2 00")));
    expect(internetChecksum(hexBytes("ab cd ef"))).toBe(~(0xabcd + 0xef00 - 0xffff) & 0xffff);
  });

  test("empty data sums to zero, checksum ffff", () => {
    expect(checksumAccumulate(new Uint8Array(0))).toBe(0);
    expect(internetChecksum(new Uint8Array(0))).toBe(0xffff);
  });

  test("carries are folded end-around", () => {
    // ffff + 0001 = 1_0000 -> 0001
    expect(checksumAccumulate(hexBytes("ff ff 00 01"))).toBe(0x0001);
    expect(checksumFinish(0x2_fffd)).toBe(~0xffff & 0xffff);
  });

  test("works on a subarray view at an odd byte offset without copying", () => {
    const backing = hexBytes("99 00 01 f2 03 f4 f5 f6 f7 99");
    expect(internetChecksum(backing.subarray(1, 9))).toBe(0x220d);
  });

  test("pseudo-header sum adds addresses, protocol and length", () => {
    const sum = pseudoHeaderSum(ip("10.0.0.1"), ip("10.0.0.2"), 6, 40);
    expect(sum).toBe(0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 6 + 40);
  });

  test("matches a naive reference on random data", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (data) => {
        return internetChecksum(data) === referenceChecksum(data);
      }),
      fcParams(),
    );
  });

  test("incremental accumulate over even-length pieces equals the whole", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 600 }),
        fc.array(fc.nat(300), { maxLength: 6 }),
        (data, cuts) => {
          const points = [...new Set(cuts.map((c) => (c * 2) % (data.length + 1)))]
            .filter((c) => c % 2 === 0)
            .sort((a, b) => a - b);
          let sum = 0;
          let start = 0;
          for (const p of points) {
            sum = checksumAccumulate(data.subarray(start, p), sum);
            start = p;
          }
          sum = checksumAccumulate(data.subarray(start), sum);
          return checksumFinish(sum) === internetChecksum(data);
        },
      ),
      fcParams(),
    );
  });

  test("data with its checksum appended verifies to zero", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (body) => {
        const even = body.length % 2 === 0 ? body : Uint8Array.of(...body, 0);
        const c = internetChecksum(even);
        const whole = Uint8Array.of(...even, c >> 8, c & 0xff);
        return internetChecksum(whole) === 0;
      }),
      fcParams(),
    );
  });

  test("corruptChecksum always makes verification fail", () => {
    for (const good of [0x0000, 0xffff, 0x00ff, 0xff00, 0x1234]) {
      const bad = corruptChecksum(good);
      expect(bad).not.toBe(good);
      // 0 and ffff are the same one's complement value; the corruption must not hop between them.
      expect(new Set([good, bad])).not.toEqual(new Set([0, 0xffff]));
    }
  });
});

describe("checksumAccumulate: the word-at-a-time path agrees with the byte loop", () => {
  /** RFC 1071 by the book: big-endian 16-bit words, one at a time. */
  function reference(data: Uint8Array, start: number, end: number, sum: number): number {
    for (let i = start; i < end; i += 2) sum += (data[i]! << 8) | (i + 1 < end ? data[i + 1]! : 0);
    while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
    return sum;
  }

  test("any offset, length and starting sum (seeded); all-ones data too", () => {
    let x = 12345;
    const next = (n: number) => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return (x >>> 8) % n;
    };
    const backing = new Uint8Array(70_000);
    for (let i = 0; i < backing.length; i++) backing[i] = next(256);
    for (let round = 0; round < 400; round++) {
      const base = next(8);
      const view = backing.subarray(base, base + 66_000);
      const start = next(64);
      const end = Math.min(view.length, start + next(round % 10 === 0 ? 65_536 : 2_000));
      const sum = next(3) === 0 ? 0 : next(0x20000);
      const got = checksumAccumulate(view, sum, start, end);
      const want = reference(view, start, end, sum);
      if (got !== want) {
        throw new Error(
          `round ${round}: base ${base} start ${start} end ${end} sum ${sum}: ${got} ≠ ${want}`,
        );
      }
    }
    const ones = new Uint8Array(65_536).fill(0xff);
    expect(checksumAccumulate(ones)).toBe(reference(ones, 0, ones.length, 0));
    expect(checksumAccumulate(new Uint8Array(4096))).toBe(0);
  });
});
