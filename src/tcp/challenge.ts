import { type Duration, type Instant, LONG_AGO } from "../clock/time.ts";

/** A uniformly random 32-bit unsigned integer per call: entropy from the edge. */
export type Random32 = () => number;

/**
 * RFC 5961 §7: challenge ACKs are throttled so that an attacker cannot use
 * us to amplify traffic. One limiter is shared by all connections of a host
 * (the Host creates it and passes it in TcbOptions); a Tcb without one gets
 * its own. Counting is per one-second interval.
 *
 * A fixed budget per second is itself a side channel (CVE-2016-5696, RFC
 * 5961 §10): an off-path attacker spends the budget with its own
 * connection, sends a guess about a victim's connection, and counts the
 * challenge ACKs it still gets — one fewer means the guess hit. So each
 * second's budget is drawn at random from [limit/2, limit/2 + limit), as
 * Linux does since that CVE, and every connection has its own limit first
 * (ConnectionChallengeLimit): an attacker's connection can no longer spend
 * the host's budget, and what is left of it no longer tells the victim's use.
 */
export class ChallengeAckLimiter {
  private windowStart: Instant = LONG_AGO;
  private budget = 0;
  /** Statistics: challenge ACKs sent and suppressed by the limit. */
  sent = 0;
  suppressed = 0;

  /**
   * `limitPerSecond`: the mean budget (0: no host-wide limit). `random`:
   * where each second's budget comes from, drawn while `randomise()` says so
   * (settings.challengeAckRandom, read live); otherwise, or without a
   * source, the budget is the limit itself.
   */
  constructor(
    public limitPerSecond: number,
    private readonly random?: Random32,
    private readonly randomise: () => boolean = () => true,
  ) {}

  /** Whether one more challenge ACK may be sent at `now` (and counts it if so). */
  allow(now: Instant): boolean {
    if (this.limitPerSecond <= 0) {
      this.sent++;
      return true;
    }
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.budget = this.drawBudget();
    }
    if (this.budget <= 0) {
      this.suppressed++;
      return false;
    }
    this.budget--;
    this.sent++;
    return true;
  }

  private drawBudget(): number {
    const limit = this.limitPerSecond;
    if (this.random === undefined || !this.randomise()) return limit;
    const half = Math.ceil(limit / 2);
    return half + (this.random() % Math.max(1, limit));
  }
}

/**
 * One connection's own challenge-ACK allowance: `count` per `interval` ms
 * (settings.challengeAckPerConnection, challengeAckInterval), checked before
 * the host's budget. A count of 0 (or no interval) is no limit.
 */
export class ConnectionChallengeLimit {
  private windowStart: Instant = LONG_AGO;
  private used = 0;

  constructor(
    private readonly count: number,
    private readonly interval: Duration,
  ) {}

  allow(now: Instant): boolean {
    if (this.count <= 0 || this.interval <= 0) return true; // off
    if (now - this.windowStart >= this.interval) {
      this.windowStart = now;
      this.used = 0;
    }
    if (this.used >= this.count) return false;
    this.used++;
    return true;
  }
}
