import { describe, expect, test } from "bun:test";
import { ms } from "../../src/clock/time.ts";
import { VirtualClock } from "../../src/clock/virtual-clock.ts";
import { faults } from "../../src/link/faults.ts";
import type { LinkEnd, PacketHandler } from "../../src/link/link.ts";
import { Rng } from "../../src/util/rng.ts";
import { bitDistance, data, isSyn, seqOf, syn, taggedData, tagOf } from "./packets.ts";

/** A link end that records what is sent into it and lets the test play arrivals. */
class FakeEnd implements LinkEnd {
  readonly mtu = 1500;
  readonly sent: Uint8Array[] = [];
  private handler: PacketHandler | undefined;
  send(packet: Uint8Array): void {
    this.sent.push(packet);
  }
  onReceive(handler: PacketHandler): void {
    this.handler = handler;
  }
  arrive(packet: Uint8Array): void {
    this.handler?.(packet);
  }
}

function setup(seed = 1) {
  const inner = new FakeEnd();
  const clock = new VirtualClock();
  const link = faults(inner, { rng: new Rng(seed), clock });
  const received: Uint8Array[] = [];
  link.onReceive((p) => received.push(p));
  return { inner, clock, link, received };
}

describe("fault rules", () => {
  test("dropNext(n, out, match) drops only the next n matching packets going out", () => {
    const { inner, link, received } = setup();
    const rule = link.dropNext(2, "out", isSyn);
    link.send(syn(1));
    link.send(data(10, "x"));
    link.send(syn(2));
    link.send(syn(3));
    inner.arrive(syn(4)); // "in" is untouched
    expect(inner.sent.map(seqOf)).toEqual([10, 3]);
    expect(received.map(seqOf)).toEqual([4]);
    expect(link.rules()).toEqual([]); // retired after two hits
    expect(rule.remaining).toBe(2); // a snapshot from when it was added
    expect(link.counters("out")).toMatchObject({ seen: 4, dropped: 2 });
    expect(link.counters("in")).toMatchObject({ seen: 1, dropped: 0 });
  });

  test("dropNext(n, in) drops the next n arriving packets and nothing sent", () => {
    const { inner, link, received } = setup();
    link.dropNext(1, "in");
    link.send(data(1, "a"));
    inner.arrive(data(2, "b"));
    inner.arrive(data(3, "c"));
    expect(inner.sent.map(seqOf)).toEqual([1]);
    expect(received.map(seqOf)).toEqual([3]);
  });

  test("dropNext(n, both) shares one count between the two directions", () => {
    const { inner, link, received } = setup();
    link.dropNext(2, "both");
    link.send(data(1, "a")); // dropped
    inner.arrive(data(2, "b")); // dropped
    link.send(data(3, "c"));
    inner.arrive(data(4, "d"));
    expect(inner.sent.map(seqOf)).toEqual([3]);
    expect(received.map(seqOf)).toEqual([4]);
  });

  test("rules report hits and remaining, and can be removed or cleared", () => {
    const { inner, link } = setup();
    const a = link.dropNext(3, "out", isSyn);
    link.addRule({ action: { kind: "duplicate" }, dir: "out", label: "dup all" });
    link.send(syn(1));
    expect(link.rules().map((r) => [r.id, r.hits, r.remaining])).toEqual([
      [a.id, 1, 2],
      [a.id + 1, 0, undefined], // the drop ended the walk: later rules were not consumed
    ]);
    expect(link.removeRule(a)).toBe(true);
    expect(link.removeRule(a)).toBe(false);
    link.send(syn(2));
    expect(inner.sent.map(seqOf)).toEqual([2, 2]);
    link.clearRules();
    link.send(syn(3));
    expect(inner.sent.map(seqOf)).toEqual([2, 2, 3]);
  });

  test("delayNext holds a packet back on the clock, so the next one overtakes it", () => {
    const { inner, clock, link } = setup();
    link.delayNext(1, ms(50), "out", isSyn);
    const buf = syn(1);
    link.send(buf);
    buf.fill(0); // the sender reuses its buffer: the held packet must be a copy
    link.send(data(2, "x"));
    expect(inner.sent.map(seqOf)).toEqual([2]);
    clock.advance(ms(49.999));
    expect(inner.sent.length).toBe(1);
    clock.advance(ms(0.001));
    expect(inner.sent.map(seqOf)).toEqual([2, 1]);
    expect(link.counters("out").delayed).toBe(1);
  });

  test("a duplicate rule and a corrupt rule compose on one packet", () => {
    const { inner, link } = setup();
    link.addRule({ action: { kind: "duplicate" }, dir: "out", count: 1 });
    link.addRule({ action: { kind: "corrupt" }, dir: "out", count: 1 });
    const original = data(7, "hello");
    link.send(original);
    expect(inner.sent.length).toBe(2);
    expect(bitDistance(inner.sent[0]!, original)).toBe(1); // the first copy is damaged
    expect(inner.sent[1]).toEqual(original); // the duplicate is clean
    expect(original).toEqual(data(7, "hello")); // never the caller's buffer
  });

  test("a rule with a chance fires on about that share of matching packets", () => {
    const { inner, link } = setup(17);
    link.addRule({ action: { kind: "drop" }, dir: "out", chance: 0.25 });
    const n = 4000;
    for (let i = 0; i < n; i++) link.send(data(i, "x"));
    const dropped = n - inner.sent.length;
    expect(Math.abs(dropped / n - 0.25)).toBeLessThan(5 * Math.sqrt((0.25 * 0.75) / n));
  });

  test("delays need a clock; bad counts and chances are refused", () => {
    const bare = faults(new FakeEnd());
    expect(() => bare.delayNext(1, ms(10))).toThrow(/clock/);
    expect(() => bare.configure("out", { delay: ms(5) })).toThrow(/clock/);
    expect(() => bare.dropNext(0)).toThrow(RangeError);
    expect(() => bare.addRule({ action: { kind: "drop" }, chance: 2 })).toThrow(RangeError);
    expect(() => bare.configure("in", { loss: -0.1 })).toThrow(RangeError);
  });
});

describe("probability faults", () => {
  const SEED = 4242;
  const N = 10_000;

  function run(seed: number) {
    const { inner, clock, link } = setup(seed);
    link.configure("out", {
      loss: 0.1,
      duplicate: 0.05,
      corrupt: 0.05,
      delay: ms(30),
      delayChance: 0.1,
    });
    const sent: Uint8Array[] = [];
    for (let i = 0; i < N; i++) {
      const p = taggedData(i);
      sent.push(p);
      link.send(p);
      clock.advance(ms(1));
    }
    clock.runUntilIdle();
    return { inner, link, sent };
  }

  test(`loss, duplicate, corrupt and delay rates match the settings over ${N} packets (seed ${SEED})`, () => {
    const { inner, link, sent } = run(SEED);
    const c = link.counters("out");
    const within = (hits: number, trials: number, p: number) =>
      expect(Math.abs(hits / trials - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / trials));
    within(c.dropped, N, 0.1);
    const survivors = N - c.dropped;
    within(c.duplicated, survivors, 0.05);
    within(c.corrupted, survivors, 0.05);
    within(c.delayed, survivors, 0.1);
    expect(inner.sent.length).toBe(survivors + c.duplicated);
    let damaged = 0;
    for (const p of inner.sent) {
      const d = bitDistance(p, sent[tagOf(p)]!);
      expect(d === 0 || d === 1).toBe(true);
      damaged += d;
    }
    expect(damaged).toBe(c.corrupted);
    expect(link.counters("in").seen).toBe(0);
  });

  test("the same seed replays the same faults", () => {
    const hex = (seed: number) => run(seed).inner.sent.map((p) => Buffer.from(p).toString("hex"));
    expect(hex(SEED)).toEqual(hex(SEED));
    expect(hex(SEED + 1)).not.toEqual(hex(SEED));
  });
});
