import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  seqAdd,
  seqDiff,
  seqGe,
  seqGt,
  seqInWindow,
  seqLe,
  seqLt,
  seqMax,
  seqMin,
} from "../../src/wire/seq.ts";
import { fcParams } from "./prop.ts";

describe("seq arithmetic around the wrap point", () => {
  test("seqAdd wraps modulo 2^32", () => {
    expect(seqAdd(0xffffffff, 1)).toBe(0);
    expect(seqAdd(0xfffffff0, 0x20)).toBe(0x10);
    expect(seqAdd(0, -1)).toBe(0xffffffff);
    expect(seqAdd(5, 0)).toBe(5);
  });

  test("0xffffffff is before 0", () => {
    expect(seqLt(0xffffffff, 0)).toBe(true);
    expect(seqLe(0xffffffff, 0)).toBe(true);
    expect(seqGt(0, 0xffffffff)).toBe(true);
    expect(seqGe(0, 0xffffffff)).toBe(true);
    expect(seqGt(0xffffffff, 0)).toBe(false);
    expect(seqLt(0, 0xffffffff)).toBe(false);
  });

  test("equal numbers", () => {
    expect(seqLt(7, 7)).toBe(false);
    expect(seqLe(7, 7)).toBe(true);
    expect(seqGe(7, 7)).toBe(true);
    expect(seqGt(7, 7)).toBe(false);
    expect(seqDiff(0xffffffff, 0xffffffff)).toBe(0);
  });

  test("seqDiff is signed and lies in (-2^31, 2^31]", () => {
    expect(seqDiff(0, 0xffffffff)).toBe(1);
    expect(seqDiff(0xffffffff, 0)).toBe(-1);
    expect(seqDiff(10, 0xfffffff6)).toBe(20);
    expect(seqDiff(0x80000000, 0)).toBe(0x80000000);
    expect(seqDiff(0, 0x80000000)).toBe(0x80000000);
    expect(seqDiff(0x80000001, 0)).toBe(-0x7fffffff);
    expect(seqDiff(0x7fffffff, 0)).toBe(0x7fffffff);
  });

  test("seqMax / seqMin follow modular order", () => {
    expect(seqMax(0xffffffff, 3)).toBe(3);
    expect(seqMin(0xffffffff, 3)).toBe(0xffffffff);
    expect(seqMax(3, 9)).toBe(9);
    expect(seqMin(3, 9)).toBe(3);
  });

  test("seqInWindow: start <= x < start + len, across the wrap", () => {
    const start = 0xfffffffe;
    expect(seqInWindow(0xfffffffe, start, 4)).toBe(true);
    expect(seqInWindow(0xffffffff, start, 4)).toBe(true);
    expect(seqInWindow(0, start, 4)).toBe(true);
    expect(seqInWindow(1, start, 4)).toBe(true);
    expect(seqInWindow(2, start, 4)).toBe(false);
    expect(seqInWindow(0xfffffffd, start, 4)).toBe(false);
    expect(seqInWindow(start, start, 0)).toBe(false);
  });

  test("properties: a + n is after a for 0 < n < 2^31, and diff inverts add", () => {
    const u32 = fc.integer({ min: 0, max: 0xffffffff });
    const step = fc.integer({ min: 1, max: 0x7fffffff });
    fc.assert(
      fc.property(u32, step, (a, n) => {
        const b = seqAdd(a, n);
        return (
          seqLt(a, b) && seqGt(b, a) && !seqLt(b, a) && seqDiff(b, a) === n && seqDiff(a, b) === -n
        );
      }),
      fcParams(),
    );
  });
});
