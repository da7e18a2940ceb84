import type { Duration, Instant } from "../../clock/time.ts";
import { WindowController } from "./controller.ts";

/**
 * Reno window arithmetic (RFC 5681), used with NewReno loss recovery
 * (RFC 6582) or SACK recovery (RFC 6675): +1 SMSS per window of acknowledged
 * bytes in congestion avoidance, half the flight on a loss.
 */
export class Reno extends WindowController {
  readonly name = "newreno" as const;
  /** RFC 3465 §2.1 bytes_acked: bytes acknowledged since cwnd last grew in congestion avoidance. */
  private bytesAcked = 0;

  protected congestionAvoidance(acked: number, _now: Instant, _rtt: Duration): void {
    // RFC 5681 §3.1 / RFC 3465 §2.1: when a whole cwnd of bytes has been
    // acknowledged, cwnd grows by one SMSS (about one segment per RTT).
    this.bytesAcked += acked;
    if (this.bytesAcked >= this.w) {
      this.bytesAcked -= this.w;
      this.w += this.smss;
    }
  }

  protected decrease(flightSize: number, _now: Instant): void {
    // RFC 5681 §3.1 equation (4): ssthresh = max(FlightSize / 2, 2·SMSS).
    this.ssthresh = Math.max(Math.floor(flightSize / 2), 2 * this.smss);
    this.bytesAcked = 0;
  }

  protected override reset(): void {
    this.bytesAcked = 0;
  }
}
