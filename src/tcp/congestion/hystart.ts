import { type Duration, ms } from "../../clock/time.ts";
import { seqGe } from "../../wire/seq.ts";

/**
 * HyStart++ (RFC 9406): leave the initial slow start when the RTT starts to
 * grow — the bottleneck queue is filling — instead of doubling cwnd until
 * a whole window's worth of packets is dropped. After the delay increase,
 * Conservative Slow Start (CSS) grows cwnd at a quarter of the rate for up
 * to CSS_ROUNDS rounds, then congestion avoidance begins (ssthresh = cwnd).
 * Needs several RTT samples per round (RFC 7323 timestamps give one per ACK).
 */
export class HyStartPlusPlus {
  // RFC 9406 §4.3 constants.
  static readonly MIN_RTT_THRESH: Duration = ms(4);
  static readonly MAX_RTT_THRESH: Duration = ms(16);
  static readonly MIN_RTT_DIVISOR = 8;
  static readonly N_RTT_SAMPLE = 8;
  static readonly CSS_GROWTH_DIVISOR = 4;
  static readonly CSS_ROUNDS = 5;

  /** Still watching: the initial slow start has not ended (by HyStart++ or a loss). */
  active = true;
  /** In Conservative Slow Start. */
  inCss = false;
  private cssRounds = 0;
  private cssBaselineMinRtt = Number.POSITIVE_INFINITY;
  private lastRoundMinRtt = Number.POSITIVE_INFINITY;
  private currentRoundMinRtt = Number.POSITIVE_INFINITY;
  private rttSampleCount = 0;
  /** The round ends when SND.UNA reaches this (SND.NXT when it began). */
  private windowEnd: number | undefined;
  /** CSS_ROUNDS are over: the controller should set ssthresh = cwnd. */
  private finished = false;

  /**
   * An ACK advanced SND.UNA to `una` while in slow start; `nxt` is SND.NXT and
   * `rtt` the new RTT sample this ACK gave, if any.
   */
  onAck(una: number, nxt: number, rtt: Duration | undefined): void {
    if (!this.active) return;
    if (this.windowEnd === undefined || seqGe(una, this.windowEnd)) {
      // §4.2: a new round.
      if (
        this.windowEnd !== undefined &&
        this.inCss &&
        ++this.cssRounds >= HyStartPlusPlus.CSS_ROUNDS
      ) {
        this.finished = true;
      }
      this.windowEnd = nxt;
      this.lastRoundMinRtt = this.currentRoundMinRtt;
      this.currentRoundMinRtt = Number.POSITIVE_INFINITY;
      this.rttSampleCount = 0;
    }
    if (rtt === undefined) return;
    this.currentRoundMinRtt = Math.min(this.currentRoundMinRtt, rtt);
    this.rttSampleCount++;
    if (this.rttSampleCount < HyStartPlusPlus.N_RTT_SAMPLE) return;
    if (!this.inCss) {
      if (!Number.isFinite(this.lastRoundMinRtt) || !Number.isFinite(this.currentRoundMinRtt))
        return;
      const thresh = Math.max(
        HyStartPlusPlus.MIN_RTT_THRESH,
        Math.min(
          this.lastRoundMinRtt / HyStartPlusPlus.MIN_RTT_DIVISOR,
          HyStartPlusPlus.MAX_RTT_THRESH,
        ),
      );
      if (this.currentRoundMinRtt >= this.lastRoundMinRtt + thresh) {
        this.cssBaselineMinRtt = this.currentRoundMinRtt;
        this.inCss = true;
        this.cssRounds = 0;
      }
    } else if (this.currentRoundMinRtt < this.cssBaselineMinRtt) {
      // The delay increase was spurious: back to standard slow start.
      this.cssBaselineMinRtt = Number.POSITIVE_INFINITY;
      this.inCss = false;
    }
  }

  /** How much slower than standard slow start cwnd grows now. */
  get divisor(): number {
    return this.inCss ? HyStartPlusPlus.CSS_GROWTH_DIVISOR : 1;
  }

  /** True once, when CSS has run its rounds: enter congestion avoidance. */
  takeFinished(): boolean {
    if (!this.finished) return false;
    this.stop();
    return true;
  }

  /** The initial slow start is over (a loss, or CSS finished): HyStart++ steps aside. */
  stop(): void {
    this.active = false;
    this.inCss = false;
    this.finished = false;
  }
}
