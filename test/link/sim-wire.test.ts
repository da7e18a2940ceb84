import { describe, expect, test } from "bun:test";
import { ms } from "../../src/clock/time.ts";
import { VirtualClock } from "../../src/clock/virtual-clock.ts";
import { SimWire, type WireSettings } from "../../src/link/sim-wire.ts";
import { Rng } from "../../src/util/rng.ts";

interface Arrival {
  time: number;
  packet: Uint8Array;
}

function setup(settings: Partial<WireSettings> = {}, seed = 1, mtu?: number) {
  const clock = new VirtualClock();
  const wire = new SimWire(
    clock,
    new Rng(seed),
    mtu === undefined ? { settings } : { settings, mtu },
  );
  const atB: Arrival[] = [];
  const atA: Arrival[] = [];
  wire.b.onReceive((packet) => atB.push({ time: clock.now(), packet }));
  wire.a.onReceive((packet) => atA.push({ time: clock.now(), packet }));
  return { clock, wire, atA, atB };
}

/** A packet of `size` bytes whose index survives any single bit flip (three copies, majority). */
function tagged(index: number, size = 100): Uint8Array {
  const p = new Uint8Array(size);
  const v = new DataView(p.buffer);
  for (const at of [0, 4, 8]) v.setUint32(at, index);
  for (let i = 12; i < size; i++) p[i] = (index * 31 + i) & 0xff;
  return p;
}

function indexOf(p: Uint8Array): number {
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const [x, y, z] = [v.getUint32(0), v.getUint32(4), v.getUint32(8)];
  return x === y || x === z ? x : y;
}

function bitDistance(x: Uint8Array, y: Uint8Array): number {
  let bits = 0;
  for (let i = 0; i < x.length; i++) {
    let d = x[i]! ^ y[i]!;
    while (d) {
      bits += d & 1;
      d >>>= 1;
    }
  }
  return bits;
}

describe("SimWire timing", () => {
  test("an ideal wire delivers after exactly `delay`, in order, in both directions", () => {
    const { clock, wire, atA, atB } = setup({ delay: ms(10) });
    wire.a.send(tagged(1));
    wire.a.send(tagged(2));
    clock.advance(ms(3));
    wire.b.send(tagged(3));
    clock.runUntilIdle();
    expect(atB.map((x) => [x.time, indexOf(x.packet)])).toEqual([
      [10, 1],
      [10, 2],
    ]);
    expect(atA.map((x) => [x.time, indexOf(x.packet)])).toEqual([[13, 3]]);
    expect(wire.counters("a->b")).toMatchObject({ sent: 2, delivered: 2 });
    expect(wire.counters("b->a")).toMatchObject({ sent: 1, delivered: 1 });
  });

  test("1500-byte packets at 12 Mbit/s serialize in 1 ms each, queued behind each other", () => {
    const { clock, wire, atB } = setup({ delay: ms(10), bandwidth: 12_000_000 });
    for (let i = 0; i < 3; i++) wire.a.send(tagged(i, 1500));
    clock.advance(ms(2.5));
    wire.a.send(tagged(3, 1500)); // serializer busy until 3 ms
    clock.advance(ms(7.5)); // t = 10: the queue has drained
    wire.a.send(tagged(4, 750)); // idle line: 0.5 ms
    clock.runUntilIdle();
    expect(atB.map((x) => [indexOf(x.packet), x.time])).toEqual([
      [0, 11],
      [1, 12],
      [2, 13],
      [3, 14],
      [4, 20.5],
    ]);
  });

  test("drop-tail: at most queueLimit packets wait behind the one being sent", () => {
    const { clock, wire, atB } = setup({ delay: ms(0), bandwidth: 12_000_000, queueLimit: 2 });
    for (let i = 0; i < 5; i++) wire.a.send(tagged(i, 1500)); // 1 on the line + 2 waiting
    expect(wire.counters("a->b").dropped.queue).toBe(2);
    clock.advance(ms(1)); // packet 0 done, packet 1 on the line: one slot free
    wire.a.send(tagged(5, 1500));
    wire.a.send(tagged(6, 1500));
    clock.runUntilIdle();
    expect(atB.map((x) => [indexOf(x.packet), x.time])).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
      [5, 4],
    ]);
    expect(wire.counters("a->b")).toMatchObject({
      sent: 7,
      delivered: 4,
      dropped: { queue: 3, loss: 0, mtu: 0, fault: 0 },
    });
  });

  test("queueLimit 0 keeps only the packet on the line", () => {
    const { clock, wire, atB } = setup({ bandwidth: 8_000, queueLimit: 0 }); // 1 byte per ms
    wire.a.send(new Uint8Array(10));
    wire.a.send(new Uint8Array(10));
    clock.runUntilIdle();
    expect(atB.map((x) => x.time)).toEqual([10]);
    expect(wire.counters("a->b").dropped.queue).toBe(1);
  });

  test("jitter keeps each delay within delay ± jitter", () => {
    const { clock, wire, atB } = setup({ delay: ms(20), jitter: ms(5) }, 7);
    for (let i = 0; i < 500; i++) wire.a.send(tagged(i));
    clock.runUntilIdle();
    expect(atB.length).toBe(500);
    const times = atB.map((x) => x.time);
    expect(Math.min(...times)).toBeGreaterThanOrEqual(15);
    expect(Math.max(...times)).toBeLessThanOrEqual(25);
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(8); // it does vary
  });

  test("a reordered packet is held back by reorderDelay and overtaken", () => {
    const { clock, wire, atB } = setup({ delay: ms(10), reorder: 1, reorderDelay: ms(3) });
    wire.a.send(tagged(0));
    wire.configure("a->b", { reorder: 0 });
    clock.advance(ms(1));
    wire.a.send(tagged(1));
    clock.runUntilIdle();
    expect(atB.map((x) => [indexOf(x.packet), x.time])).toEqual([
      [1, 11],
      [0, 13],
    ]);
    expect(wire.counters("a->b").reordered).toBe(1);
  });

  test("duplicate sends a second copy serialized right behind the first", () => {
    const { clock, wire, atB } = setup({ delay: ms(10), bandwidth: 12_000_000, duplicate: 1 });
    wire.a.send(tagged(9, 1500));
    clock.runUntilIdle();
    expect(atB.map((x) => [indexOf(x.packet), x.time])).toEqual([
      [9, 11],
      [9, 12],
    ]);
    expect(atB[0]!.packet).not.toBe(atB[1]!.packet);
    expect(wire.counters("a->b")).toMatchObject({ sent: 1, delivered: 2, duplicated: 1 });
  });
});

describe("SimWire drops and copies", () => {
  test("a packet larger than the MTU is dropped and counted as mtu", () => {
    const { clock, wire, atB } = setup({}, 1, 576);
    expect(wire.a.mtu).toBe(576);
    wire.a.send(new Uint8Array(577));
    wire.a.send(new Uint8Array(576));
    clock.runUntilIdle();
    expect(atB.map((x) => x.packet.length)).toEqual([576]);
    expect(wire.counters("a->b").dropped.mtu).toBe(1);
    wire.mtu = 1500;
    expect(wire.b.mtu).toBe(1500);
  });

  test("the default MTU is 1500", () => {
    const { wire } = setup();
    expect(wire.a.mtu).toBe(1500);
    expect(wire.b.mtu).toBe(1500);
  });

  test("packets are copied on send: the sender may reuse its buffer", () => {
    const { clock, wire, atB } = setup({ delay: ms(5) });
    const buf = tagged(1);
    wire.a.send(buf);
    buf.fill(0);
    clock.runUntilIdle();
    expect(indexOf(atB[0]!.packet)).toBe(1);
  });

  test("a cut wire drops what is sent (fault) but delivers what was already on it", () => {
    const { clock, wire, atB } = setup({ delay: ms(10) });
    wire.a.send(tagged(1));
    clock.advance(ms(5));
    wire.configure("both", { down: true });
    wire.a.send(tagged(2));
    wire.b.send(tagged(3));
    clock.runUntilIdle();
    expect(atB.map((x) => indexOf(x.packet))).toEqual([1]);
    expect(wire.counters("a->b").dropped.fault).toBe(1);
    expect(wire.counters("b->a").dropped.fault).toBe(1);
  });

  test("a packet arriving where nobody listens is counted, not lost silently", () => {
    const clock = new VirtualClock();
    const wire = new SimWire(clock, new Rng(1));
    wire.a.send(tagged(1));
    clock.runUntilIdle();
    expect(wire.counters("a->b").dropped["no-receiver"]).toBe(1);
    expect(wire.counters("a->b").delivered).toBe(0);
  });

  test("configure changes one direction or both, validates, and leaves in-flight packets alone", () => {
    const { clock, wire, atB } = setup({ delay: ms(10) });
    wire.a.send(tagged(1));
    wire.configure("a->b", { delay: ms(50) });
    wire.a.send(tagged(2));
    clock.runUntilIdle();
    expect(atB.map((x) => [indexOf(x.packet), x.time])).toEqual([
      [1, 10],
      [2, 50],
    ]);
    expect(wire.settings("b->a").delay).toBe(ms(10));
    expect(() => wire.configure("both", { loss: 1.5 })).toThrow(RangeError);
    expect(() => wire.configure("both", { bandwidth: 0 })).toThrow(RangeError);
    expect(wire.settings("a->b").loss).toBe(0); // a rejected change changes nothing
  });
});

describe("SimWire randomness", () => {
  const SEED = 20240607;
  const N = 10_000;
  const settings: Partial<WireSettings> = {
    delay: ms(10),
    jitter: ms(0),
    bandwidth: 100_000_000,
    loss: 0.1,
    duplicate: 0.05,
    reorder: 0.1,
    reorderDelay: ms(3),
    corrupt: 0.05,
  };

  function run(seed: number) {
    const { clock, wire, atB } = setup(settings, seed);
    const sent: Uint8Array[] = [];
    for (let i = 0; i < N; i++) {
      const p = tagged(i, 200);
      sent.push(p.slice());
      wire.a.send(p);
      clock.advance(ms(0.1)); // 200 bytes at 100 Mbit/s = 0.016 ms: the queue stays short
    }
    clock.runUntilIdle();
    return { wire, atB, sent };
  }

  test(`rates land within tolerance of the settings over ${N} packets (seed ${SEED})`, () => {
    const { wire, atB, sent } = run(SEED);
    const c = wire.counters("a->b");
    // 5 standard deviations of a binomial proportion: a correct wire essentially never fails.
    const within = (hits: number, trials: number, p: number) => {
      const tolerance = 5 * Math.sqrt((p * (1 - p)) / trials);
      expect(Math.abs(hits / trials - p)).toBeLessThan(tolerance);
    };
    expect(c.sent).toBe(N);
    within(c.dropped.loss, N, 0.1);
    const survivors = N - c.dropped.loss;
    within(c.duplicated, survivors, 0.05);
    within(c.corrupted, survivors, 0.05);
    within(c.reordered, survivors + c.duplicated, 0.1); // decided per copy on the wire
    expect(c.dropped.queue).toBe(0);
    expect(c.delivered).toBe(survivors + c.duplicated);
    expect(atB.length).toBe(c.delivered);

    // What arrived agrees with the counters: one-bit corruptions and overtakes are real.
    let corrupted = 0;
    let overtaken = 0;
    let highest = -1;
    for (const { packet } of atB) {
      const i = indexOf(packet);
      const d = bitDistance(packet, sent[i]!);
      expect(d === 0 || d === 1).toBe(true);
      corrupted += d;
      if (i < highest) overtaken++;
      highest = Math.max(highest, i);
    }
    expect(corrupted).toBe(c.corrupted);
    expect(overtaken).toBeGreaterThan(0.5 * c.reordered);
    expect(overtaken).toBeLessThanOrEqual(c.reordered);
  });

  test("the same seed gives the identical delivery sequence; another seed does not", () => {
    const fingerprint = (seed: number) =>
      run(seed).atB.map((x) => `${x.time.toFixed(6)}:${Buffer.from(x.packet).toString("hex")}`);
    const first = fingerprint(SEED);
    const second = fingerprint(SEED);
    expect(second).toEqual(first);
    expect(fingerprint(SEED + 1)).not.toEqual(first);
  });

  test("traffic one way does not shift the other direction's random draws", () => {
    const lossy = { loss: 0.3 };
    const alone = setup(lossy, 5);
    const busy = setup(lossy, 5);
    for (let i = 0; i < 200; i++) {
      busy.wire.a.send(tagged(i));
      alone.wire.b.send(tagged(i));
      busy.wire.b.send(tagged(i));
    }
    alone.clock.runUntilIdle();
    busy.clock.runUntilIdle();
    expect(busy.atA.map((x) => indexOf(x.packet))).toEqual(alone.atA.map((x) => indexOf(x.packet)));
  });

  test("corruption flips exactly one bit, anywhere in the packet", () => {
    const { clock, wire, atB } = setup({ corrupt: 1 }, 11);
    const original = tagged(0, 64);
    for (let i = 0; i < 2000; i++) wire.a.send(original);
    clock.runUntilIdle();
    const positions = new Set<number>();
    for (const { packet } of atB) {
      expect(bitDistance(packet, original)).toBe(1);
      const byte = packet.findIndex((b, k) => b !== original[k]);
      positions.add(byte);
    }
    expect(wire.counters("a->b").corrupted).toBe(2000);
    expect(positions.size).toBe(64); // every byte got hit at least once
    expect(original).toEqual(tagged(0, 64)); // the sender's buffer is untouched
  });
});
