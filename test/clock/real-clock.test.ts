import { describe, expect, test } from "bun:test";
import { RealClock } from "../../src/clock/real-clock.ts";
import { instant, later, ms } from "../../src/clock/time.ts";

// These wait on the clock's own timers (a few ms of real time), never on a sleep.
describe("RealClock", () => {
  test("time starts near 0 and never runs backwards", () => {
    const clock = new RealClock();
    const a = clock.now();
    const b = clock.now();
    expect(a).toBeGreaterThanOrEqual(0);
    expect(a).toBeLessThan(1000);
    expect(b).toBeGreaterThanOrEqual(a);
  });

  test("fires in (deadline, scheduling order), not before the deadline", async () => {
    const clock = new RealClock();
    const seen: Array<[string, number]> = [];
    const t0 = clock.now();
    const done = new Promise<void>((resolve) => {
      clock.schedule(instant(t0 + 6), () => {
        seen.push(["late", clock.now()]);
        resolve();
      });
    });
    clock.schedule(instant(t0 + 3), () => seen.push(["early-1", clock.now()]));
    clock.schedule(instant(t0 + 3), () => seen.push(["early-2", clock.now()]));
    await done;
    expect(seen.map(([n]) => n)).toEqual(["early-1", "early-2", "late"]);
    expect(seen[0]![1]).toBeGreaterThanOrEqual(t0 + 3 - 1); // host timers may round by < 1 ms
    expect(seen[2]![1]).toBeGreaterThanOrEqual(t0 + 6 - 1);
    expect(clock.pending()).toBe(0);
  });

  test("a past deadline fires on a later turn, never inside schedule()", async () => {
    const clock = new RealClock();
    let fired = false;
    const done = new Promise<void>((resolve) => {
      clock.schedule(instant(clock.now() - 50), () => {
        fired = true;
        resolve();
      });
    });
    expect(fired).toBe(false);
    await done;
    expect(fired).toBe(true);
  });

  test("cancel stops a timer; an earlier timer re-arms the single host timeout", async () => {
    const clock = new RealClock();
    const seen: string[] = [];
    const t0 = clock.now();
    const cancelled = clock.schedule(instant(t0 + 2), () => seen.push("cancelled"));
    const done = new Promise<void>((resolve) => {
      clock.schedule(instant(t0 + 8), () => {
        seen.push("last");
        resolve();
      });
    });
    clock.schedule(instant(t0 + 1), () => seen.push("first")); // earlier than what was armed
    clock.cancel(cancelled);
    await done;
    expect(seen).toEqual(["first", "last"]);
  });

  test("a self-rescheduling zero-delay timer yields to the event loop between turns", async () => {
    const clock = new RealClock();
    let turns = 0;
    let otherRan = false;
    const done = new Promise<void>((resolve) => {
      const again = () => {
        turns++;
        if (otherRan || turns > 10_000) resolve();
        else clock.schedule(clock.now(), again);
      };
      clock.schedule(clock.now(), again);
    });
    setTimeout(() => {
      otherRan = true;
    }, 0);
    await done;
    expect(otherRan).toBe(true);
    clock.close();
  });

  test("close drops pending timers", async () => {
    const clock = new RealClock();
    let fired = false;
    clock.schedule(later(clock.now(), ms(1)), () => {
      fired = true;
    });
    clock.close();
    expect(clock.pending()).toBe(0);
    // Wait on a timer of a fresh clock, past the dropped deadline.
    const other = new RealClock();
    await new Promise<void>((resolve) => other.schedule(later(other.now(), ms(5)), resolve));
    expect(fired).toBe(false);
  });
});
