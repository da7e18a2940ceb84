import type { Duration, Instant } from "../../clock/time.ts";
import { WindowController } from "./controller.ts";

/**
 * CUBIC (RFC 9438). In congestion avoidance the window follows
 *   W_cubic(t) = C·(t − K)³ + W_max,   K = ∛((W_max − cwnd_epoch) / C)
 * (t in seconds since congestion avoidance began, windows in segments),
 * never below the Reno-friendly estimate W_est. On a loss cwnd and ssthresh
 * become β·cwnd. Slow start is RFC 5681's (no HyStart++).
 */
export class Cubic extends WindowController {
  readonly name = "cubic" as const;
  /** RFC 9438 §5.1: C = 0.4 (segments / s³). */
  static readonly C = 0.4;
  /** RFC 9438 §4.6: β_cubic = 0.7. */
  static readonly BETA = 0.7;
  /** RFC 9438 §4.3: α_cubic = 3(1 − β) / (1 + β), the Reno-friendly additive increase. */
  static readonly ALPHA = (3 * (1 - Cubic.BETA)) / (1 + Cubic.BETA);

  /** §4.7 fast convergence (on by default). */
  fastConvergence = true;
  /** W_max in bytes: the window just before the last reduction (undefined before any loss). */
  wMax: number | undefined;
  /** cwnd_prior in bytes: cwnd when ssthresh was last set (§4.3). */
  cwndPrior = 0;
  /** Start of the current congestion-avoidance epoch (undefined = not begun). */
  epochStart: Instant | undefined;
  /** cwnd_epoch in bytes. */
  cwndEpoch = 0;
  /** K in seconds. */
  k = 0;
  /** W_est in bytes (§4.3). */
  wEst = 0;
  /** §4.8: the first congestion avoidance after a timeout uses K = 0, W_max = cwnd_epoch. */
  private afterTimeout = false;

  /** W_cubic(t) in bytes for t seconds into the epoch (RFC 9438 Figure 1). */
  wCubic(t: number): number {
    const wMax = (this.wMax ?? this.cwndEpoch) / this.smss;
    return (Cubic.C * (t - this.k) ** 3 + wMax) * this.smss;
  }

  protected congestionAvoidance(acked: number, now: Instant, rtt: Duration): void {
    if (this.epochStart === undefined) this.beginEpoch(now);
    const t = (now - (this.epochStart ?? now)) / 1000;
    // §4.3: W_est grows by α_cubic segments per cwnd of acknowledged bytes
    // (α = 1 once W_est has reached cwnd_prior).
    const alpha = this.wEst >= this.cwndPrior ? 1 : Cubic.ALPHA;
    this.wEst += (alpha * this.smss * acked) / this.w;
    if (this.wCubic(t) < this.wEst) {
      // Reno-friendly region: at least as fast as Reno would be.
      this.w = this.wEst;
      return;
    }
    // §4.2, §4.4, §4.5: aim at W_cubic one RTT ahead, kept within [cwnd, 1.5·cwnd];
    // each acknowledged segment adds (target − cwnd) / cwnd segments.
    const target = Math.min(Math.max(this.wCubic(t + rtt / 1000), this.w), 1.5 * this.w);
    this.w += ((target - this.w) / this.w) * acked;
  }

  protected decrease(_flightSize: number, _now: Instant): void {
    const cwnd = this.w;
    // §4.7 fast convergence: a loss before reaching the previous W_max means
    // another flow is taking bandwidth — release some more.
    if (this.fastConvergence && this.wMax !== undefined && cwnd < this.wMax) {
      this.wMax = (cwnd * (1 + Cubic.BETA)) / 2;
    } else {
      this.wMax = cwnd;
    }
    this.cwndPrior = cwnd;
    // §4.6: ssthresh = cwnd·β_cubic, at least 2 segments.
    this.ssthresh = Math.max(Math.floor(cwnd * Cubic.BETA), 2 * this.smss);
    this.epochStart = undefined;
  }

  protected override timedOut(): void {
    this.afterTimeout = true;
    this.epochStart = undefined;
  }

  protected override reset(): void {
    this.epochStart = undefined;
  }

  /** §4.2: a congestion-avoidance epoch starts with the first ACK in congestion avoidance. */
  private beginEpoch(now: Instant): void {
    this.epochStart = now;
    this.cwndEpoch = this.w;
    if (this.afterTimeout || this.wMax === undefined) {
      // §4.8 (and no loss seen yet): start the curve here, K = 0.
      this.wMax = this.w;
      this.afterTimeout = false;
    }
    // Figure 2: K = ∛((W_max − cwnd_epoch) / C), in segments; negative K
    // (cwnd already above W_max) starts on the convex side.
    this.k = Math.cbrt((this.wMax - this.cwndEpoch) / this.smss / Cubic.C);
    this.wEst = this.cwndEpoch;
  }
}
