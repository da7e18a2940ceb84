/**
 * Time in tcplab is a number of milliseconds (fractions allowed) since the
 * clock's epoch. The engine never reads a clock: callers pass `now` in.
 */
export type Millis = number;

export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  now(): Millis;
  /** Calls `fn` once when the clock reaches `at` (or at once if `at` has passed, on the next turn). */
  schedule(at: Millis, fn: () => void): TimerHandle;
  cancel(handle: TimerHandle): void;
}
