import type { Instant } from "../clock/time.ts";

/**
 * A token bucket: `perSecond` tokens a second, at most `burst` saved up.
 * RFC 1812 §4.3.2.8 asks that ICMP errors be rate-limited and names this
 * scheme; RFC 1122 §3.2.2 allows it for hosts.
 */
export class TokenBucket {
  private tokens: number;
  private last: Instant | undefined;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  /** Takes a token at `now` if one is there. */
  take(now: Instant): boolean {
    if (this.last !== undefined && now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.perSecond) / 1000);
    }
    if (this.last === undefined || now > this.last) this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
