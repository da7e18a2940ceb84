import type { Clock, TimerHandle } from "./clock.ts";
import { type Duration, EPOCH, type Instant, later, max, NEVER } from "./time.ts";
import { TimerQueue } from "./timer-queue.ts";

export interface RunLimits {
  /** Absolute clock time not to run past; if reached, the clock ends there. */
  maxTime?: Instant;
  /** Most timers to fire in this call (default 1 000 000, a guard against livelock). */
  maxEvents?: number;
}

export interface RunResult {
  /** Timers fired by this call. */
  events: number;
  /** True when no timer is left pending. */
  idle: boolean;
}

const DEFAULT_MAX_EVENTS = 1_000_000;

/**
 * Time that moves only when told to. Timers fire in (deadline, scheduling
 * order), with `now()` equal to the timer's deadline while it runs, so a run
 * is a pure function of what was scheduled.
 */
export class VirtualClock implements Clock {
  private current: Instant;
  private readonly queue = new TimerQueue();

  constructor(start: Instant = EPOCH) {
    this.current = start;
  }

  now(): Instant {
    return this.current;
  }

  /**
   * A deadline in the past is treated as "now": the timer fires at the next
   * step (advance(0), runToNextDeadline, runUntilIdle), never from inside
   * schedule() itself, and time never runs backwards.
   */
  schedule(at: Instant, fn: () => void): TimerHandle {
    return this.queue.push(max(at, this.current), fn);
  }

  cancel(handle: TimerHandle): void {
    this.queue.cancel(handle);
  }

  nextDeadline(): Instant | undefined {
    return this.queue.peekDeadline();
  }

  pending(): number {
    return this.queue.size;
  }

  /**
   * Moves time forward by `d`, firing every timer due up to the end in order
   * (including timers those timers schedule within the window), then leaves
   * the clock at the end. Returns the number of timers fired.
   */
  advance(d: Duration): number {
    if (!(d >= 0)) throw new RangeError(`advance needs a non-negative duration, got ${d}`);
    return this.runUntil(later(this.current, d));
  }

  /** Sets the clock to the absolute time `at` (not earlier than now), firing timers on the way. */
  advanceTo(at: Instant): number {
    if (!(at >= this.current)) throw new RangeError(`cannot go back from ${this.current} to ${at}`);
    return this.runUntil(at);
  }

  /**
   * Jumps to the earliest deadline and fires every timer due at that instant
   * (also ones scheduled for that same instant while firing). False if none.
   */
  runToNextDeadline(): boolean {
    const next = this.queue.peekDeadline();
    if (next === undefined) return false;
    this.runUntil(next);
    return true;
  }

  /**
   * Fires timers in order until none is left, or the next one lies beyond
   * `maxTime`, or `maxEvents` have fired — whichever comes first.
   */
  runUntilIdle(limits: RunLimits = {}): RunResult {
    const maxTime = limits.maxTime ?? NEVER;
    const maxEvents = limits.maxEvents ?? DEFAULT_MAX_EVENTS;
    let events = 0;
    while (events < maxEvents) {
      if (!this.fireOne(maxTime)) break;
      events++;
    }
    const next = this.queue.peekDeadline();
    if (next !== undefined && next > maxTime && maxTime > this.current) this.current = maxTime;
    return { events, idle: next === undefined };
  }

  private runUntil(end: Instant): number {
    let events = 0;
    while (this.fireOne(end)) events++;
    this.current = end;
    return events;
  }

  private fireOne(limit: Instant): boolean {
    const due = this.queue.popDue(limit);
    if (due === undefined) return false;
    this.current = due.deadline;
    due.fn();
    return true;
  }
}
