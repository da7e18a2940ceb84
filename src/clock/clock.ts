import type { Instant } from "./time.ts";

/**
 * The engine never reads a clock: callers pass `now` in (an `Instant`, see
 * time.ts).
 */
export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  now(): Instant;
  /** Calls `fn` once when the clock reaches `at` (or at once if `at` has passed, on the next turn). */
  schedule(at: Instant, fn: () => void): TimerHandle;
  cancel(handle: TimerHandle): void;
}
