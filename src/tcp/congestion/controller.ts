import { type Duration, type Instant, ZERO } from "../../clock/time.ts";
import type { HyStartPlusPlus } from "./hystart.ts";

/** The congestion controllers a connection may use (`settings.congestionControl`). */
export type CongestionControlName = "newreno" | "cubic";

/**
 * Where the sender is, as the lab shows it: growing exponentially
 * (slow start, cwnd < ssthresh), linearly or along the cubic curve
 * (congestion avoidance), repairing a loss found by duplicate ACKs / SACK
 * (fast recovery), or resending after a retransmission timeout (loss).
 */
export type CongestionPhase = "slow-start" | "congestion-avoidance" | "recovery" | "loss";

/**
 * One congestion controller: the window arithmetic only. Loss detection and
 * what to retransmit live in recovery.ts, which calls these at the events
 * RFC 5681 names. Sizes are bytes; time comes in as `now` (sans-IO).
 */
export interface CongestionController {
  readonly name: CongestionControlName;
  /** Congestion window in bytes (whole bytes). */
  readonly cwnd: number;
  /** Slow-start threshold in bytes (Infinity until the first loss, RFC 5681 §3.1). */
  readonly ssthresh: number;
  readonly phase: CongestionPhase;
  /** Sender maximum segment size the window is counted in. */
  readonly smss: number;
  /** RFC 9406 HyStart++ watching the initial slow start, if switched on. */
  hystart: HyStartPlusPlus | undefined;
  /** The connection is established: SMSS is known, cwnd = the initial window (RFC 5681 §3.1, RFC 6928). */
  start(smss: number, initialWindow: number): void;
  /** New data acknowledged outside fast recovery: slow start or congestion avoidance. `rtt` is SRTT. */
  onAck(acked: number, now: Instant, rtt?: Duration): void;
  /** A further duplicate ACK in NewReno fast recovery: inflate by one SMSS (RFC 5681 §3.2 step 4). */
  onDupAck(): void;
  /** A partial ACK in NewReno fast recovery: deflate (RFC 6582 §3.2 step 5). */
  onPartialAck(acked: number): void;
  /**
   * Fast retransmit: lower ssthresh and set cwnd for recovery. `inflate` adds
   * the three segments that left the network (NewReno without SACK, RFC 5681
   * §3.2 step 3); with SACK the pipe estimate accounts for them instead.
   */
  onEnterRecovery(flightSize: number, now: Instant, inflate: boolean): void;
  /** Fast recovery or the resending after a timeout is over. */
  onExitRecovery(now: Instant): void;
  /**
   * Retransmission timeout: cwnd becomes the loss window (1 SMSS). ssthresh is
   * lowered on the first timeout of a loss only (`repeated` false), RFC 5681 §3.1.
   */
  onRto(flightSize: number, now: Instant, repeated: boolean): void;
  /** Restart after idle (RFC 5681 §4.1): cwnd = min(cwnd, restart window). */
  onIdleRestart(restartWindow: number): void;
}

/** The RFC 6928 initial window, generalised to `segments`: min(N·SMSS, max(2·SMSS, N·1460)). */
export function initialWindow(smss: number, segments: number): number {
  const n = Math.max(1, Math.floor(segments));
  return Math.min(n * smss, Math.max(2 * smss, n * 1460));
}

type Mode = "open" | "recovery" | "loss";

/**
 * What RFC 5681 controllers share: slow start with appropriate byte counting
 * (RFC 3465, L = 2·SMSS, and L = 1·SMSS while resending after a timeout,
 * §2.3), NewReno's window inflation and deflation in fast recovery, the loss
 * window after a timeout. Subclasses give congestion avoidance and the
 * multiplicative decrease.
 */
export abstract class WindowController implements CongestionController {
  abstract readonly name: CongestionControlName;
  /** cwnd as a real number of bytes: CUBIC grows it by fractions. */
  protected w: number;
  ssthresh = Number.POSITIVE_INFINITY;
  smss: number;
  protected mode: Mode = "open";
  hystart: HyStartPlusPlus | undefined;

  constructor(smss: number, iw: number) {
    this.smss = smss;
    this.w = iw;
  }

  get cwnd(): number {
    return Math.floor(this.w);
  }

  get phase(): CongestionPhase {
    if (this.mode === "recovery") return "recovery";
    if (this.mode === "loss") return "loss";
    return this.w < this.ssthresh ? "slow-start" : "congestion-avoidance";
  }

  start(smss: number, iw: number): void {
    this.smss = smss;
    this.w = iw;
    this.ssthresh = Number.POSITIVE_INFINITY;
    this.mode = "open";
    this.reset();
  }

  onAck(acked: number, now: Instant, rtt?: Duration): void {
    if (this.mode === "recovery" || acked <= 0) return; // no growth while repairing
    let rest = acked;
    // RFC 9406 §4.2: Conservative Slow Start has run its rounds — congestion avoidance.
    if (this.hystart?.takeFinished()) this.ssthresh = Math.floor(this.w);
    if (this.w < this.ssthresh) {
      // RFC 3465 §2.2: slow start counts bytes, at most L per ACK; §2.3: L = 1 SMSS
      // after an RTO. In HyStart++'s CSS a quarter of that (RFC 9406 §4.2).
      const limit = this.mode === "loss" ? this.smss : 2 * this.smss;
      const inc = Math.min(rest, limit) / (this.hystart?.divisor ?? 1);
      if (this.w + inc <= this.ssthresh) {
        this.w += inc;
        return;
      }
      // Crossing ssthresh: the rest of this ACK counts towards congestion avoidance.
      rest = Math.max(0, rest - (this.ssthresh - this.w));
      this.w = this.ssthresh;
    }
    this.congestionAvoidance(rest, now, rtt ?? ZERO);
  }

  onDupAck(): void {
    if (this.mode === "recovery") this.w += this.smss; // RFC 5681 §3.2 step 4
  }

  onPartialAck(acked: number): void {
    if (this.mode !== "recovery") return;
    // RFC 6582 §3.2 step 5: deflate by the newly acknowledged data; add back
    // one SMSS if at least that much was acknowledged.
    this.w = Math.max(this.smss, this.w - acked + (acked >= this.smss ? this.smss : 0));
  }

  onEnterRecovery(flightSize: number, now: Instant, inflate: boolean): void {
    this.hystart?.stop();
    this.decrease(flightSize, now);
    // RFC 5681 §3.2 step 3 (NewReno): cwnd = ssthresh + 3·SMSS; with SACK, RFC 6675 §5 (4.2): cwnd = ssthresh.
    this.w = this.ssthresh + (inflate ? 3 * this.smss : 0);
    this.mode = "recovery";
  }

  onExitRecovery(_now: Instant): void {
    // RFC 6582 §3.2 step 3, option 2: on a full ACK, cwnd = ssthresh.
    if (this.mode === "recovery") this.w = this.ssthresh;
    this.mode = "open";
  }

  onRto(flightSize: number, now: Instant, repeated: boolean): void {
    // RFC 5681 §3.1: ssthresh per equation (4) on the first timeout, held on
    // repeated timeouts of the same data; cwnd = LW = 1 SMSS (§3.1, §5).
    // A timeout during fast recovery keeps the ssthresh the recovery set:
    // FlightSize then counts data the peer has SACKed, and halving it would
    // undo the reduction (Linux's tcp_enter_loss keeps it the same way).
    this.hystart?.stop();
    if (!repeated && this.mode !== "recovery") this.decrease(flightSize, now);
    this.timedOut();
    this.w = this.smss;
    this.mode = "loss";
  }

  onIdleRestart(restartWindow: number): void {
    this.w = Math.min(this.w, restartWindow);
    this.reset();
  }

  /** Congestion avoidance for `acked` bytes (cwnd ≥ ssthresh). */
  protected abstract congestionAvoidance(acked: number, now: Instant, rtt: Duration): void;
  /** The multiplicative decrease: set ssthresh (and the controller's memory of the loss). */
  protected abstract decrease(flightSize: number, now: Instant): void;
  /** A timeout happened (after `decrease` if it ran). */
  protected timedOut(): void {}
  /** Forget per-epoch state (start, idle restart). */
  protected reset(): void {}
}
