/** RFC 1191 §5, §6.3: the host's path MTU per destination — aged, and bounded. */
import { describe, expect, test } from "bun:test";
import { EPOCH, instant } from "../../src/clock/time.ts";
import { PathMtuCache } from "../../src/stack/path-mtu-cache.ts";

describe("the path MTU cache", () => {
  test("an entry is found until it ages out, then forgotten", () => {
    const c = new PathMtuCache();
    c.learn(7, { mtu: 1000, clamped: false, agesAt: instant(600_000) });
    expect(c.lookup(7, instant(599_999))?.mtu).toBe(1000);
    expect(c.lookup(8, EPOCH)).toBeUndefined();
    expect(c.lookup(7, instant(600_000))).toBeUndefined();
    expect(c.size).toBe(0);
  });

  test("bounded: past the limit the oldest destination goes; learning again makes one the newest", () => {
    const c = new PathMtuCache(3);
    const agesAt = instant(1e9);
    for (const dst of [1, 2, 3]) c.learn(dst, { mtu: 1000 + dst, clamped: false, agesAt });
    c.learn(1, { mtu: 900, clamped: false, agesAt }); // 1 is now the newest
    c.learn(4, { mtu: 1004, clamped: false, agesAt }); // 2 goes
    expect(c.size).toBe(3);
    expect(c.lookup(2, EPOCH)).toBeUndefined();
    expect([1, 3, 4].map((d) => c.lookup(d, EPOCH)?.mtu)).toEqual([900, 1003, 1004]);
  });
});
