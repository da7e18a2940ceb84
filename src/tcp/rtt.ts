import { type Duration, max, min, ms, scale } from "../clock/time.ts";

/**
 * RFC 6298 retransmission-timeout estimator: SRTT and RTTVAR from RTT
 * samples, RTO = SRTT + max(G, K·RTTVAR) clamped to [minRto, maxRto], and
 * exponential backoff on expiry. Karn's rule (no samples from retransmitted
 * segments) is the caller's job: it decides which samples to feed in.
 */
export class RttEstimator {
  /** RFC 6298 §2.3: α = 1/8, β = 1/4, K = 4. */
  static readonly ALPHA = 1 / 8;
  static readonly BETA = 1 / 4;
  static readonly K = 4;
  /** Clock granularity G: our clock has millisecond resolution. */
  static readonly G: Duration = ms(1);

  srtt: Duration | undefined;
  rttvar: Duration | undefined;
  rto: Duration;
  /** The latest measurement and how many there have been (HyStart++ watches them, RFC 9406). */
  latest: Duration | undefined;
  samples = 0;

  constructor(
    private readonly initialRto: Duration,
    private readonly minRto: Duration,
    private readonly maxRto: Duration,
  ) {
    // RFC 6298 §2.1: until a sample is made, RTO = initial value (1 s).
    this.rto = this.clamp(initialRto);
  }

  /** Feeds one RTT measurement R (RFC 6298 §2.2 first, §2.3 later ones). */
  sample(r: Duration): void {
    this.latest = r;
    this.samples++;
    if (this.srtt === undefined || this.rttvar === undefined) {
      this.srtt = r;
      this.rttvar = ms(r / 2);
    } else {
      // §2.3: RTTVAR is updated with the old SRTT, then SRTT.
      this.rttvar = ms(
        (1 - RttEstimator.BETA) * this.rttvar + RttEstimator.BETA * Math.abs(this.srtt - r),
      );
      this.srtt = ms((1 - RttEstimator.ALPHA) * this.srtt + RttEstimator.ALPHA * r);
    }
    this.rto = this.clamp(ms(this.srtt + Math.max(RttEstimator.G, RttEstimator.K * this.rttvar)));
  }

  /** RFC 6298 §5.5: the timer expired — double the RTO (up to the maximum). */
  backoff(): void {
    this.rto = this.clamp(scale(this.rto, 2));
  }

  /**
   * RFC 6298 §5.7: if the SYN was retransmitted and no sample was taken,
   * RTO is re-initialised to 3 s when data transmission begins.
   */
  afterSynRetransmitted(): void {
    if (this.srtt === undefined) this.rto = this.clamp(max(ms(3000), this.initialRto));
  }

  private clamp(rto: Duration): Duration {
    // §2.4 lower bound, §2.5 upper bound.
    return min(this.maxRto, max(this.minRto, rto));
  }
}
