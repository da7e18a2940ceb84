import type { Millis } from "../clock/clock.ts";

/**
 * RFC 5961 §7: challenge ACKs are throttled so that an attacker cannot use
 * us to amplify traffic. One limiter is shared by all connections of a host
 * (the Host creates it and passes it in TcbOptions); a Tcb without one gets
 * its own. Counting is per one-second interval.
 */
export class ChallengeAckLimiter {
  private windowStart: Millis = Number.NEGATIVE_INFINITY;
  private sentInWindow = 0;
  /** Statistics: challenge ACKs sent and suppressed by the limit. */
  sent = 0;
  suppressed = 0;

  constructor(public limitPerSecond: number) {}

  /** Whether one more challenge ACK may be sent at `now` (and counts it if so). */
  allow(now: Millis): boolean {
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.sentInWindow = 0;
    }
    if (this.sentInWindow >= this.limitPerSecond) {
      this.suppressed++;
      return false;
    }
    this.sentInWindow++;
    this.sent++;
    return true;
  }
}
