import { describe, expect, test } from "bun:test";
import {
  type Duration,
  EPOCH,
  earlier,
  elapsed,
  FOREVER,
  type Instant,
  instant,
  LONG_AGO,
  later,
  max,
  min,
  minus,
  minutes,
  ms,
  NEVER,
  plus,
  scale,
  seconds,
  ZERO,
} from "../../src/clock/time.ts";
import { VirtualClock } from "../../src/clock/virtual-clock.ts";

// The lines under @ts-expect-error must stay compile errors: `bun run check`
// runs tsc over the tests, and an expect-error line that compiles fails it.
describe("instants and durations are distinct types", () => {
  const t = instant(1000);
  const d = ms(200);

  test("mixing them does not compile", () => {
    // @ts-expect-error an instant plus an instant is no instant
    const sum: Instant = t + t;
    // @ts-expect-error nor is an instant plus a duration without later()
    const moved: Instant = t + d;
    // @ts-expect-error a duration where an instant is expected
    const deadline: Instant = d;
    // @ts-expect-error an instant where a duration is expected
    const timeout: Duration = t;
    // @ts-expect-error a bare number is neither
    const bare: Instant = 5;
    // @ts-expect-error later() takes a duration, not a second instant
    later(t, t);
    // @ts-expect-error elapsed() measures between instants
    elapsed(t, d);
    // @ts-expect-error min() of an instant and a duration
    min(t, d);
    // Type-checked, not run (a clock would act on them).
    const misuses = (clock: VirtualClock): void => {
      // @ts-expect-error advance() moves by a duration
      clock.advance(t);
      // @ts-expect-error advanceTo() goes to an instant
      clock.advanceTo(d);
      // @ts-expect-error schedule() takes a deadline
      clock.schedule(d, () => {});
    };
    expect([sum, moved, deadline, timeout, bare, misuses.length]).toHaveLength(6);
  });

  test("what they are at run time: milliseconds", () => {
    expect(later(t, d)).toBe(instant(1200));
    expect(earlier(t, d)).toBe(instant(800));
    expect(elapsed(t, instant(1500))).toBe(ms(500));
    expect(elapsed(instant(1500), t)).toBe(ms(-500));
    expect(seconds(1.5)).toBe(ms(1500));
    expect(minutes(2)).toBe(ms(120_000));
    expect(plus(d, ms(50))).toBe(ms(250));
    expect(minus(d, ms(50))).toBe(ms(150));
    expect(scale(d, 2)).toBe(ms(400));
    expect(min(t, EPOCH)).toBe(EPOCH);
    expect(max(t, EPOCH)).toBe(t);
    expect(min(d, ZERO)).toBe(ZERO);
    expect(max(d, FOREVER)).toBe(FOREVER);
    expect(LONG_AGO < EPOCH && EPOCH < t && t < NEVER).toBe(true);
    // comparisons and printing work as on numbers
    expect(d < seconds(1)).toBe(true);
    expect(`${t}`).toBe("1000");
  });

  test("a virtual clock reads and moves in them", () => {
    const clock = new VirtualClock(t);
    const fired: Instant[] = [];
    clock.schedule(later(clock.now(), d), () => fired.push(clock.now()));
    clock.advance(seconds(1));
    expect(fired).toEqual([instant(1200)]);
    expect(clock.now()).toBe(instant(2000));
  });
});
