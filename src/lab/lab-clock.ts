/**
 * The lab's clock: tcplab's timers always live on a VirtualClock, so they can
 * be paused and stepped in both worlds. "Running" means a driver advances
 * that virtual clock along real time, `speed` times as fast. The simulated
 * world starts paused; the kernel world starts running (the kernel peer keeps
 * real time, and a tcplab whose clock stands still looks dead to it).
 */
import type { Clock, TimerHandle } from "../clock/clock.ts";
import {
  type Duration,
  EPOCH,
  elapsed,
  type Instant,
  instant,
  later,
  max,
  ms,
  scale,
  ZERO,
} from "../clock/time.ts";
import { VirtualClock } from "../clock/virtual-clock.ts";

/** Real time as the driver sees it; injectable so tests need no sleeping. */
export interface RealTime {
  now(): Instant;
  sleep(ms: Duration): Promise<void>;
}

export const systemRealTime: RealTime = {
  now: () => instant(performance.now()),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export type RunEnd = "paused" | "until" | "idle" | "closed";

export interface RunOptions {
  /** Virtual time at which to stop (and stay paused). */
  readonly until?: Instant;
  /** Stop once no timer is pending. */
  readonly stopWhenIdle?: boolean;
  /** Called after every tick (the session redraws the status pane). */
  readonly onTick?: () => void;
}

export interface SlicedOptions {
  /** Stops the advance early (Ctrl-C). */
  readonly signal?: AbortSignal;
  /** Called between slices, when the event loop has had its turn (progress). */
  readonly onSlice?: () => void;
  /** Called with each deadline on the way, just before the timers due then fire. */
  readonly beforeDeadline?: (at: Instant) => void;
}

/** Real-time milliseconds a sliced advance works before it lets input and drawing in. */
const SLICE_MS: Duration = ms(15);

/** Real-time milliseconds between two driver ticks. */
const TICK_MS: Duration = ms(20);

export class LabClock implements Clock {
  readonly virtual: VirtualClock;
  private running = false;
  private token = 0;
  private closed = false;
  speed = 1;
  /**
   * Told of a timer that threw. The clock goes on with the next timer: one
   * failing connection must not stop the others', or the shell.
   */
  onError: ((error: unknown) => void) | undefined;
  /** Timer errors from before anyone listened (at most a few), for the session to report. */
  readonly earlyErrors: unknown[] = [];

  constructor(
    private readonly real: RealTime = systemRealTime,
    start: Instant = EPOCH,
  ) {
    this.virtual = new VirtualClock(start);
  }

  now(): Instant {
    return this.virtual.now();
  }

  schedule(at: Instant, fn: () => void): TimerHandle {
    return this.virtual.schedule(at, fn);
  }

  cancel(handle: TimerHandle): void {
    this.virtual.cancel(handle);
  }

  get mode(): "paused" | "running" {
    return this.running ? "running" : "paused";
  }

  nextDeadline(): Instant | undefined {
    return this.virtual.nextDeadline();
  }

  /** Fires everything due at the next deadline; false if nothing is pending. */
  stepToNext(): boolean {
    const next = this.virtual.nextDeadline();
    if (next === undefined) return false;
    this.advanceGuarded(next);
    return true;
  }

  /** Moves time forward by `d`, firing timers on the way. */
  advance(d: Duration): void {
    this.advanceGuarded(later(this.virtual.now(), d));
  }

  /**
   * Moves time to `target` like advance(), but in slices: after each
   * SLICE_MS of work it yields to the event loop (so the screen redraws and
   * Ctrl-C is read) and calls onSlice. A step of ten minutes over a bulk
   * transfer is millions of timers; it must not freeze the shell. Resolves
   * with true if it reached `target`, false if stopped by the signal.
   */
  async advanceSliced(target: Instant, opts: SlicedOptions = {}): Promise<boolean> {
    let sliceStart = this.real.now();
    for (;;) {
      if (opts.signal?.aborted || this.closed) return false;
      const next = this.virtual.nextDeadline();
      if (next === undefined || next > target) {
        this.advanceGuarded(target);
        return true;
      }
      opts.beforeDeadline?.(next);
      this.advanceGuarded(next);
      if (this.real.now() - sliceStart >= SLICE_MS) {
        await new Promise<void>((resolve) => setTimeout(resolve, 0));
        opts.onSlice?.();
        sliceStart = this.real.now();
      }
    }
  }

  /** advanceTo, with a timer that throws reported and the rest still fired. */
  private advanceGuarded(target: Instant): void {
    for (let guard = 0; guard < 1_000_000; guard++) {
      try {
        this.virtual.advanceTo(max(target, this.virtual.now()));
        return;
      } catch (error) {
        if (this.onError !== undefined) this.onError(error);
        else if (this.earlyErrors.length < 8) this.earlyErrors.push(error);
      }
    }
  }

  /**
   * Follows real time at `speed` until paused, `until` is reached, or (with
   * stopWhenIdle) nothing is pending. Resolves with why it stopped.
   */
  async run(opts: RunOptions = {}): Promise<RunEnd> {
    if (this.closed) return "closed";
    const token = ++this.token;
    this.running = true;
    let last = this.real.now();
    const live = () => this.running && token === this.token && !this.closed;
    while (live()) {
      if (opts.stopWhenIdle && this.virtual.nextDeadline() === undefined) {
        this.stop(token);
        return "idle";
      }
      await this.real.sleep(TICK_MS);
      if (!live()) break;
      const real = this.real.now();
      let target = later(this.virtual.now(), scale(max(ZERO, elapsed(last, real)), this.speed));
      last = real;
      const until = opts.until;
      if (until !== undefined && target >= until) target = until;
      this.advanceGuarded(target);
      opts.onTick?.();
      if (until !== undefined && this.virtual.now() >= until) {
        this.stop(token);
        return "until";
      }
    }
    return this.closed ? "closed" : "paused";
  }

  /** Stops a run; the run's promise resolves with "paused" at its next tick. */
  pause(): void {
    this.running = false;
    this.token++;
  }

  close(): void {
    this.closed = true;
    this.pause();
  }

  private stop(token: number): void {
    if (token === this.token) this.running = false;
  }
}
