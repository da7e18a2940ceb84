import type { Clock, TimerHandle } from "./clock.ts";
import { elapsed, type Instant, instant, max, ZERO } from "./time.ts";
import { TimerQueue } from "./timer-queue.ts";

/**
 * Wall-clock time since construction (performance.now()), with the same
 * single timer queue as the virtual clock: one host timeout is armed for the
 * earliest deadline, and everything due when it wakes fires in
 * (deadline, scheduling order).
 */
export class RealClock implements Clock {
  private readonly origin = performance.now();
  private readonly queue = new TimerQueue();
  private armed: ReturnType<typeof setTimeout> | undefined;
  private armedFor: Instant | undefined;
  private firing = false;

  now(): Instant {
    return instant(performance.now() - this.origin);
  }

  /** A deadline in the past fires on a later turn of the event loop, never inside schedule(). */
  schedule(at: Instant, fn: () => void): TimerHandle {
    const handle = this.queue.push(at, fn);
    this.arm();
    return handle;
  }

  cancel(handle: TimerHandle): void {
    if (this.queue.cancel(handle)) this.arm();
  }

  pending(): number {
    return this.queue.size;
  }

  nextDeadline(): Instant | undefined {
    return this.queue.peekDeadline();
  }

  /** Drops every pending timer and the host timeout, so the process can exit. */
  close(): void {
    this.queue.clear();
    this.disarm();
  }

  private arm(): void {
    if (this.firing) return; // wake() re-arms once it has drained what is due
    const next = this.queue.peekDeadline();
    if (next === this.armedFor) return;
    this.disarm();
    if (next === undefined) return;
    this.armedFor = next;
    this.armed = setTimeout(() => this.wake(), max(ZERO, elapsed(this.now(), next)));
  }

  private disarm(): void {
    if (this.armed !== undefined) clearTimeout(this.armed);
    this.armed = undefined;
    this.armedFor = undefined;
  }

  private wake(): void {
    this.armed = undefined;
    this.armedFor = undefined;
    this.firing = true;
    try {
      // Fire, in order, what was pending and due when we woke. A timer that
      // one of them schedules for "now" waits for the next turn, so a
      // self-rescheduling timer cannot starve I/O; order is still kept,
      // because we stop at the first timer that is newer than the wake-up.
      const limit = this.now();
      const mark = this.queue.mark();
      for (let due = this.queue.popDue(limit, mark); due; due = this.queue.popDue(limit, mark)) {
        due.fn();
      }
    } finally {
      this.firing = false;
      this.arm();
    }
  }
}
