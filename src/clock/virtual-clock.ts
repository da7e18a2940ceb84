import type { Clock, Millis, TimerHandle } from "./clock.ts";
import { TimerQueue } from "./timer-queue.ts";

export interface RunLimits {
  /** Absolute clock time not to run past; if reached, the clock ends there. */
  maxTime?: Millis;
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
  private current: Millis;
  private readonly queue = new TimerQueue();

  constructor(start: Millis = 0) {
    this.current = start;
  }

  now(): Millis {
    return this.current;
  }

  /**
   * A deadline in the past is treated as "now": the timer fires at the next
   * step (advance(0), runToNextDeadline, runUntilIdle), never from inside
   * schedule() itself, and time never runs backwards.
   */
  schedule(at: Millis, fn: () => void): TimerHandle {
    return this.queue.push(Math.max(at, this.current), fn);
  }

  cancel(handle: TimerHandle): void {
    this.queue.cancel(handle);
  }

  nextDeadline(): Millis | undefined {
    return this.queue.peekDeadline();
  }

  pending(): number {
    return this.queue.size;
  }

  /**
   * Moves time forward by `ms`, firing every timer due up to the end in order
   * (including timers those timers schedule within the window), then leaves
   * the clock at the end. Returns the number of timers fired.
   */
  advance(ms: Millis): number {
    if (!(ms >= 0)) throw new RangeError(`advance needs a non-negative duration, got ${ms}`);
    return this.runUntil(this.current + ms);
  }

  /** Sets the clock to the absolute time `at` (not earlier than now), firing timers on the way. */
  advanceTo(at: Millis): number {
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
    const maxTime = limits.maxTime ?? Number.POSITIVE_INFINITY;
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

  private runUntil(end: Millis): number {
    let events = 0;
    while (this.fireOne(end)) events++;
    this.current = end;
    return events;
  }

  private fireOne(limit: Millis): boolean {
    const due = this.queue.popDue(limit);
    if (due === undefined) return false;
    this.current = due.deadline;
    due.fn();
    return true;
  }
}
