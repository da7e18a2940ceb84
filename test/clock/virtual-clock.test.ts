import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import type { TimerHandle } from "../../src/clock/clock.ts";
import { EPOCH, instant, later, ms } from "../../src/clock/time.ts";
import { VirtualClock } from "../../src/clock/virtual-clock.ts";

describe("VirtualClock", () => {
  test("fires timers in deadline order, with now() at each deadline", () => {
    const clock = new VirtualClock();
    const seen: Array<[string, number]> = [];
    clock.schedule(instant(30), () => seen.push(["c", clock.now()]));
    clock.schedule(instant(10), () => seen.push(["a", clock.now()]));
    clock.schedule(instant(20), () => seen.push(["b", clock.now()]));
    expect(clock.pending()).toBe(3);
    expect(clock.nextDeadline()).toBe(instant(10));
    expect(clock.advance(ms(25))).toBe(2);
    expect(seen).toEqual([
      ["a", 10],
      ["b", 20],
    ]);
    expect(clock.now()).toBe(instant(25));
    clock.advance(ms(100));
    expect(seen.map(([name]) => name)).toEqual(["a", "b", "c"]);
    expect(clock.now()).toBe(instant(125));
    expect(clock.pending()).toBe(0);
    expect(clock.nextDeadline()).toBeUndefined();
  });

  test("equal deadlines fire first-scheduled-first", () => {
    const clock = new VirtualClock();
    const seen: number[] = [];
    for (let i = 0; i < 20; i++) clock.schedule(instant(i % 2 === 0 ? 7 : 3), () => seen.push(i));
    clock.advance(ms(10));
    const odd = [1, 3, 5, 7, 9, 11, 13, 15, 17, 19];
    const even = [0, 2, 4, 6, 8, 10, 12, 14, 16, 18];
    expect(seen).toEqual([...odd, ...even]);
  });

  test("fire order equals a stable sort by deadline, with any cancellations (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.boolean()), { maxLength: 200 }),
        (plan) => {
          const clock = new VirtualClock();
          const fired: number[] = [];
          const handles: TimerHandle[] = plan.map(([at], i) =>
            clock.schedule(instant(at), () => fired.push(i)),
          );
          plan.forEach(([, cancel], i) => {
            if (cancel) clock.cancel(handles[i]!);
          });
          const expected = plan
            .map(([at, cancel], i) => ({ at, cancel, i }))
            .filter((t) => !t.cancel)
            .sort((x, y) => x.at - y.at || x.i - y.i)
            .map((t) => t.i);
          expect(clock.pending()).toBe(expected.length);
          clock.advance(ms(51));
          expect(fired).toEqual(expected);
        },
      ),
    );
  });

  test("cancel removes a timer; cancelling again or after it fired is harmless", () => {
    const clock = new VirtualClock();
    const seen: string[] = [];
    const a = clock.schedule(instant(5), () => seen.push("a"));
    const b = clock.schedule(instant(5), () => seen.push("b"));
    clock.schedule(instant(6), () => seen.push("c"));
    clock.cancel(a);
    clock.cancel(a);
    expect(clock.pending()).toBe(2);
    clock.advance(ms(10));
    clock.cancel(b);
    expect(seen).toEqual(["b", "c"]);
    expect(clock.pending()).toBe(0);
  });

  test("a timer may cancel a later timer due at the same instant", () => {
    const clock = new VirtualClock();
    const seen: string[] = [];
    let second: TimerHandle | undefined;
    clock.schedule(instant(5), () => {
      seen.push("first");
      if (second) clock.cancel(second);
    });
    second = clock.schedule(instant(5), () => seen.push("second"));
    clock.advance(ms(5));
    expect(seen).toEqual(["first"]);
  });

  test("timers scheduled by timers fire within the same advance when due", () => {
    const clock = new VirtualClock();
    const seen: Array<[string, number]> = [];
    clock.schedule(instant(10), () => {
      seen.push(["outer", clock.now()]);
      clock.schedule(later(clock.now(), ms(5)), () => seen.push(["inner", clock.now()]));
      clock.schedule(later(clock.now(), ms(50)), () => seen.push(["late", clock.now()]));
    });
    clock.advance(ms(20));
    expect(seen).toEqual([
      ["outer", 10],
      ["inner", 15],
    ]);
    expect(clock.pending()).toBe(1);
    expect(clock.nextDeadline()).toBe(instant(60));
  });

  test("a deadline in the past fires at the next step, never inside schedule()", () => {
    const clock = new VirtualClock(instant(100));
    const seen: number[] = [];
    clock.schedule(instant(40), () => seen.push(clock.now()));
    expect(seen).toEqual([]);
    expect(clock.nextDeadline()).toBe(instant(100)); // clamped: time never runs backwards
    expect(clock.advance(ms(0))).toBe(1);
    expect(seen).toEqual([100]);
    expect(clock.now()).toBe(instant(100));
  });

  test("advance(0) fires what is due now, including zero-delay follow-ups, and nothing later", () => {
    const clock = new VirtualClock();
    const seen: string[] = [];
    clock.schedule(EPOCH, () => {
      seen.push("now");
      clock.schedule(clock.now(), () => seen.push("also now"));
    });
    clock.schedule(instant(0.001), () => seen.push("later"));
    expect(clock.advance(ms(0))).toBe(2);
    expect(seen).toEqual(["now", "also now"]);
    expect(clock.now()).toBe(EPOCH);
  });

  test("advance rejects negative or NaN durations", () => {
    const clock = new VirtualClock();
    expect(() => clock.advance(ms(-1))).toThrow(RangeError);
    expect(() => clock.advance(ms(Number.NaN))).toThrow(RangeError);
  });

  test("runToNextDeadline jumps to the earliest deadline and fires everything due then", () => {
    const clock = new VirtualClock();
    const seen: string[] = [];
    clock.schedule(instant(7), () => seen.push("x"));
    clock.schedule(instant(7), () => seen.push("y"));
    clock.schedule(instant(9), () => seen.push("z"));
    expect(clock.runToNextDeadline()).toBe(true);
    expect(clock.now()).toBe(instant(7));
    expect(seen).toEqual(["x", "y"]);
    expect(clock.runToNextDeadline()).toBe(true);
    expect(clock.now()).toBe(instant(9));
    expect(clock.runToNextDeadline()).toBe(false);
    expect(clock.now()).toBe(instant(9));
  });

  test("runUntilIdle drains a chain of timers and reports idle", () => {
    const clock = new VirtualClock();
    let ticks = 0;
    const tick = () => {
      ticks++;
      if (ticks < 5) clock.schedule(later(clock.now(), ms(100)), tick);
    };
    clock.schedule(instant(100), tick);
    expect(clock.runUntilIdle()).toEqual({ events: 5, idle: true });
    expect(clock.now()).toBe(instant(500));
  });

  test("runUntilIdle stops by itself at maxEvents (a timer that always re-arms)", () => {
    const clock = new VirtualClock();
    const forever = () => {
      clock.schedule(clock.now(), forever);
    };
    clock.schedule(EPOCH, forever);
    expect(clock.runUntilIdle({ maxEvents: 1000 })).toEqual({ events: 1000, idle: false });
    expect(clock.pending()).toBe(1);
    // And without an explicit cap, the default guard still ends the call.
    expect(clock.runUntilIdle().idle).toBe(false);
  });

  test("runUntilIdle stops at maxTime and leaves the clock there", () => {
    const clock = new VirtualClock();
    const every = () => {
      clock.schedule(later(clock.now(), ms(200)), every);
    };
    clock.schedule(EPOCH, every);
    const result = clock.runUntilIdle({ maxTime: instant(1000) });
    expect(result).toEqual({ events: 6, idle: false }); // 0, 200, ..., 1000
    expect(clock.now()).toBe(instant(1000));
    expect(clock.nextDeadline()).toBe(instant(1200));

    const quiet = new VirtualClock();
    quiet.schedule(instant(30), () => {});
    expect(quiet.runUntilIdle({ maxTime: instant(1000) })).toEqual({ events: 1, idle: true });
    expect(quiet.now()).toBe(instant(30)); // idle before the cap: time stays at the last event
  });

  test("stays ordered through many interleaved schedules and cancels", () => {
    const clock = new VirtualClock();
    const fired: number[] = [];
    const handles: TimerHandle[] = [];
    for (let i = 0; i < 2000; i++) {
      const at = (i * 7919) % 1000;
      handles.push(clock.schedule(instant(at), () => fired.push(clock.now())));
      if (i % 3 === 0) clock.cancel(handles[Math.floor(i / 2)]!);
    }
    clock.advance(ms(1000));
    for (let i = 1; i < fired.length; i++) expect(fired[i]!).toBeGreaterThanOrEqual(fired[i - 1]!);
    expect(clock.pending()).toBe(0);
  });
});
