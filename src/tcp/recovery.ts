import type { Duration, Instant } from "../clock/time.ts";
import { seqAdd, seqDiff, seqGe, seqGt, seqLe } from "../wire/seq.ts";
import { Flag, type TcpSegment } from "../wire/tcp-types.ts";
import {
  type CongestionController,
  type CongestionControlName,
  type CongestionPhase,
  createController,
  HyStartPlusPlus,
  initialWindow,
} from "./congestion/index.ts";
import { DUP_THRESH, Scoreboard, type ScoreboardScan } from "./scoreboard.ts";
import type { SentSegment } from "./send-buffer.ts";
import type { Tcb } from "./tcb.ts";

/** Counters for the lab ("netstat -s" style), per connection. */
export interface CongestionStats {
  /** Duplicate ACKs received (RFC 5681 §2, or RFC 6675's SACK definition when SACK is on). */
  dupAcks: number;
  /** Fast-recovery episodes entered (triple duplicate ACK or IsLost(SND.UNA)). */
  recoveries: number;
  /** Segments retransmitted during fast recovery (the fast retransmit and every hole after it). */
  fastRetransmits: number;
  /** NewReno partial ACKs (RFC 6582). */
  partialAcks: number;
  /** Retransmission timeouts on data (the handshake's are not counted here). */
  timeouts: number;
  /** New segments sent beyond cwnd on the first two duplicate ACKs (RFC 3042). */
  limitedTransmits: number;
}

/**
 * Congestion control and loss recovery for one connection, exposed as
 * `tcb.congestion`. The controller (Reno or CUBIC) does the window
 * arithmetic; this class decides when the events happen:
 *
 * - duplicate ACKs (RFC 5681 §2) → limited transmit (RFC 3042) on the first
 *   two, fast retransmit and fast recovery on the third;
 * - without SACK, NewReno (RFC 6582): a recovery point, a partial ACK
 *   retransmits the next hole and deflates the window, a full ACK ends it;
 * - with SACK, RFC 6675: a scoreboard, IsLost(), pipe and NextSeg() —
 *   retransmit exactly the holes;
 * - a retransmission timeout: cwnd = 1 SMSS, every outstanding segment is
 *   presumed lost and resent in order as the window opens again (slow start),
 *   skipping what gets acknowledged or SACKed meanwhile.
 *
 * The Tcb asks `room()` how much cwnd allows (in `sendAllowance()`) and
 * `nextRetransmission()` what to resend before new data.
 */
export class LossRecovery {
  readonly controller: CongestionController;
  readonly scoreboard = new Scoreboard();
  readonly stats: CongestionStats = {
    dupAcks: 0,
    recoveries: 0,
    fastRetransmits: 0,
    partialAcks: 0,
    timeouts: 0,
    limitedTransmits: 0,
  };
  /**
   * RFC 6582 `recover` / RFC 6675 RecoveryPoint: SND.NXT when the current (or
   * last) recovery began; the recovery ends when SND.UNA reaches it.
   */
  recoveryPoint: number;
  /** Consecutive duplicate ACKs. */
  dupAcks = 0;
  /** Raw window field of the last ACK (RFC 5681 §2 (e) compares them). */
  private lastWindow: number | undefined;
  /** The segment at SND.UNA must be retransmitted now, whatever cwnd says (fast retransmit). */
  private forceFirst = false;
  private lastSendAt: Instant | undefined;
  /** RTT samples of the Tcb's estimator already seen (HyStart++ takes each new one). */
  private rttSamplesSeen = 0;
  /** RFC 6675 RescueRxt: RecoveryPoint of the episode that had its rescue retransmission. */
  private rescueRxt: number | undefined;
  /** The rescue retransmission nextRetransmission() just returned. */
  private rescue: SentSegment | undefined;

  constructor(private readonly tcb: Tcb) {
    const s = tcb.settings;
    this.controller = createController(
      s.congestionControl,
      tcb.sndMss,
      initialWindow(tcb.sndMss, s.initialWindow),
    );
    this.recoveryPoint = tcb.iss;
  }

  // ---- views for the lab ------------------------------------------------

  get name(): CongestionControlName {
    return this.controller.name;
  }
  get cwnd(): number {
    return this.controller.cwnd;
  }
  get ssthresh(): number {
    return this.controller.ssthresh;
  }
  get phase(): CongestionPhase {
    return this.controller.phase;
  }
  /** RFC 5681 FlightSize: SND.NXT − SND.UNA. */
  get flightSize(): number {
    return Math.max(0, seqDiff(this.tcb.sndNxt, this.tcb.sndUna));
  }
  /** RFC 6675 pipe: bytes believed in the network (FlightSize less SACKed and lost, plus retransmitted). */
  get pipe(): number {
    return this.scoreboard.marked ? this.scan().pipe : this.flightSize;
  }
  /** SACKed ranges [start, end) above SND.UNA. */
  get sackedRanges(): Array<[number, number]> {
    return this.scoreboard.sackedRanges(this.tcb.sendBuf.inFlight);
  }
  /** SACK was negotiated on this connection (RFC 2018): RFC 6675 recovery, else NewReno. */
  get sack(): boolean {
    return this.tcb.sackEnabled;
  }

  // ---- engine hooks -----------------------------------------------------

  /** ESTABLISHED: SMSS is known; the initial window (RFC 6928), or 1 SMSS if our SYN had to be sent again (RFC 5681 §3.1). */
  start(): void {
    const smss = this.tcb.effSndMss;
    const iw = this.tcb.synRetransmitted
      ? smss
      : initialWindow(smss, this.tcb.settings.initialWindow);
    this.controller.start(smss, iw);
    this.controller.hystart = this.tcb.settings.hystart ? new HyStartPlusPlus() : undefined;
    this.recoveryPoint = this.tcb.sndUna;
    // The window of the SYN-ACK (or the ACK completing the handshake) is the first "last window".
    this.lastWindow ??= this.tcb.sndWnd;
  }

  /**
   * Bytes cwnd lets us put into the network now: cwnd − pipe, plus up to two
   * segments on the first two duplicate ACKs (RFC 3042 limited transmit,
   * without SACK; with SACK the SACKed segments already left the pipe).
   */
  room(): number {
    return Math.max(0, this.controller.cwnd + this.limitedTransmitBonus() - this.pipe);
  }

  /**
   * The ACK of `seg` was accepted (RFC 9293 §3.10.7.4 fifth step) and SND.UNA
   * has moved from `oldUna` to where it is now.
   */
  onAck(seg: TcpSegment, oldUna: number, now: Instant): void {
    const tcb = this.tcb;
    const records = tcb.sendBuf.inFlight;
    const windowSame = this.lastWindow === seg.window;
    this.lastWindow = seg.window;
    // The SYN's sequence number is no data: it does not grow the window.
    const acked = seqDiff(tcb.sndUna, oldUna) - (oldUna === tcb.iss ? 1 : 0);
    const sack = this.sack;
    let newlySacked = 0;
    let sackBlocks = false;
    if (sack) {
      for (const opt of seg.options) {
        if (opt.kind !== "sack") continue;
        sackBlocks = true;
        newlySacked += this.scoreboard.update(records, tcb.sndUna, tcb.sndNxt, opt.blocks);
      }
    }
    if (records.length === 0) this.scoreboard.marked = false;
    const phase = this.controller.phase;

    if (seqDiff(tcb.sndUna, oldUna) > 0) {
      this.dupAcks = 0;
      const done = seqGe(tcb.sndUna, this.recoveryPoint);
      if (phase === "recovery") {
        if (done) {
          this.controller.onExitRecovery(now); // full ACK (RFC 6582 §3.2 step 3, RFC 6675 (A))
        } else if (!sack) {
          // RFC 6582 §3.2 step 5: partial ACK — the next hole is at SND.UNA.
          this.stats.partialAcks++;
          this.controller.onPartialAck(acked);
          const first = records[0];
          if (first !== undefined) this.scoreboard.markLost(first);
          this.forceFirst = true;
        }
      } else {
        if (phase === "loss" && done) this.controller.onExitRecovery(now);
        if (phase === "slow-start")
          this.controller.hystart?.onAck(tcb.sndUna, tcb.sndNxt, this.newRttSample());
        this.controller.onAck(acked, now, tcb.srtt);
      }
    } else if (seg.ack === oldUna && this.isDuplicate(seg, windowSame, newlySacked, sackBlocks)) {
      this.dupAcks++;
      this.stats.dupAcks++;
      if (phase === "recovery") {
        if (!sack) this.controller.onDupAck(); // RFC 5681 §3.2 step 4
      } else if (phase !== "loss" && this.dupAcks >= DUP_THRESH) {
        this.enterRecovery(now);
        return;
      }
    }
    // RFC 6675 §5: loss recovery also starts when IsLost(SND.UNA) holds,
    // before DupThresh duplicate ACKs (e.g. ACKs lost, or one ACK SACKing much).
    const p = this.controller.phase;
    if (sack && this.scoreboard.marked && (p === "slow-start" || p === "congestion-avoidance")) {
      if (this.scan().firstLost) this.enterRecovery(now);
    }
  }

  /** The retransmission timer expired on data (RFC 6298 §5.4–5.6; RFC 5681 §3.1; RFC 6675 §5.1). */
  onTimeout(now: Instant): void {
    const tcb = this.tcb;
    this.stats.timeouts++;
    this.controller.onRto(this.flightSize, now, tcb.rtxCount > 1);
    // RFC 6582 §3.2 step 4 / RFC 6675 §5.1: no fast recovery until what was
    // outstanding now is acknowledged.
    this.recoveryPoint = tcb.sndNxt;
    this.dupAcks = 0;
    this.forceFirst = false;
    // RFC 2018 §8 says SACK information SHOULD be dropped after a timeout (the
    // receiver may have reneged): every outstanding segment is resent unless
    // acknowledged — or SACKed again — first (Update() continues, RFC 6675 §5.1).
    this.scoreboard.timeout(tcb.sendBuf.inFlight);
  }

  /**
   * The next segment to retransmit before new data, if any and if cwnd and
   * the peer's window allow: the fast retransmit, NextSeg() rule 1 (a lost
   * segment), or with `rule3` (no new data could go) rule 3 in SACK recovery.
   */
  nextRetransmission(rule3: boolean): SentSegment | undefined {
    const tcb = this.tcb;
    const first = tcb.sendBuf.inFlight[0];
    if (this.forceFirst) {
      this.forceFirst = false;
      if (first !== undefined && !first.syn && !first.probe) return first;
    }
    if (!this.scoreboard.marked) return undefined;
    const scan = this.scan();
    const inRecovery = this.controller.phase === "recovery";
    const rule3Ok = rule3 && inRecovery && this.sack;
    const hole = scan.lost ?? (rule3Ok ? scan.unsacked : undefined);
    const rec = hole ?? (rule3Ok ? this.rescueCandidate() : undefined);
    if (rec === undefined) return undefined;
    const dataLen = rec.len - (rec.fin ? 1 : 0);
    if (this.controller.cwnd - scan.pipe < Math.max(1, dataLen)) return undefined; // RFC 6675 (C)
    const rightEdge = seqAdd(tcb.sndUna, tcb.sndWnd);
    if (!seqLe(seqAdd(rec.seq, dataLen), rightEdge)) return undefined;
    if (hole === undefined) this.rescue = rec;
    return rec;
  }

  /** The Tcb retransmitted `rec` (fast retransmit, hole, or after a timeout). */
  retransmitted(rec: SentSegment, now: Instant): void {
    if (rec === this.rescue) {
      // RFC 6675 §4 NextSeg() (4): RescueRxt = RecoveryPoint; HighRxt is not
      // updated (the segment is not marked resent, so pipe counts it once).
      this.rescue = undefined;
      this.rescueRxt = this.recoveryPoint;
      this.stats.fastRetransmits++;
      this.lastSendAt = now;
      return;
    }
    this.scoreboard.markRetransmitted(rec);
    if (this.controller.phase === "recovery") this.stats.fastRetransmits++;
    this.lastSendAt = now;
  }

  /** New data of `len` bytes is about to be sent. */
  noteSent(len: number, now: Instant): void {
    if (len > 0 && this.pipe + len > this.controller.cwnd) this.stats.limitedTransmits++;
    this.lastSendAt = now;
  }

  /**
   * Before sending: RFC 5681 §4.1 restart after idle — nothing in flight and
   * nothing sent for an RTO: cwnd = min(cwnd, IW).
   */
  beforeSend(now: Instant): void {
    const tcb = this.tcb;
    if (!tcb.settings.slowStartAfterIdle || this.lastSendAt === undefined) return;
    if (tcb.sndNxt !== tcb.sndUna || now - this.lastSendAt <= tcb.rto) return;
    const p = this.controller.phase;
    if (p !== "slow-start" && p !== "congestion-avoidance") return;
    this.controller.onIdleRestart(initialWindow(tcb.effSndMss, tcb.settings.initialWindow));
    this.lastSendAt = now;
  }

  // ---- internals --------------------------------------------------------

  /** The Tcb's latest RTT measurement if it is new since the last call. */
  private newRttSample(): Duration | undefined {
    const est = this.tcb.rttEstimator;
    if (est.samples === this.rttSamplesSeen) return undefined;
    this.rttSamplesSeen = est.samples;
    return est.latest;
  }

  /**
   * RFC 6675 §4 NextSeg() rule (4), the rescue retransmission: when rules 1–3
   * find nothing, once per recovery episode (HighACK > RescueRxt), the
   * segment holding the highest outstanding unSACKed sequence number. It is
   * what keeps a loss at the tail of a flight — no segments after it to be
   * SACKed, so never IsLost — from waiting for the retransmission timer.
   * tcplab only rescues a segment not yet resent in this episode: one already
   * resent is being repaired (rules 1 and 3 took it).
   */
  private rescueCandidate(): SentSegment | undefined {
    if (this.rescueRxt !== undefined && !seqGt(this.tcb.sndUna, this.rescueRxt)) return undefined;
    const records = this.tcb.sendBuf.inFlight;
    for (let i = records.length - 1; i >= 0; i--) {
      const rec = records[i] as SentSegment;
      if (rec.sacked) continue;
      return rec.retransmitted || rec.syn || rec.probe ? undefined : rec;
    }
    return undefined;
  }

  private scan(): ScoreboardScan {
    return this.scoreboard.scan(this.tcb.sendBuf.inFlight, this.controller.smss, this.sack);
  }

  /**
   * RFC 5681 §2: a duplicate ACK carries no data and no SYN/FIN, does not
   * move SND.UNA or the window, and arrives while data is outstanding. With
   * SACK, RFC 6675 §2: an ACK whose SACK blocks cover new data below SND.NXT
   * (window and data notwithstanding).
   */
  private isDuplicate(
    seg: TcpSegment,
    windowSame: boolean,
    newlySacked: number,
    sackBlocks: boolean,
  ): boolean {
    if (this.tcb.sndNxt === this.tcb.sndUna) return false;
    if (this.sack && sackBlocks) return newlySacked > 0;
    return windowSame && seg.payload.length === 0 && (seg.flags & (Flag.SYN | Flag.FIN)) === 0;
  }

  /** RFC 5681 §3.2 steps 2–3, RFC 6582 §3.2 step 2, RFC 6675 §5 (4.1–4.3). */
  private enterRecovery(now: Instant): void {
    const tcb = this.tcb;
    const records = tcb.sendBuf.inFlight;
    const first = records[0];
    if (first === undefined || first.syn || first.probe) return;
    this.stats.recoveries++;
    this.recoveryPoint = tcb.sndNxt;
    this.controller.onEnterRecovery(this.flightSize, now, !this.sack);
    this.scoreboard.newEpisode(records);
    // The segment at SND.UNA is presumed lost and goes at once, whatever cwnd says.
    this.scoreboard.markLost(first);
    this.forceFirst = true;
  }

  private limitedTransmitBonus(): number {
    if (!this.tcb.settings.limitedTransmit || this.sack) return 0;
    const p = this.controller.phase;
    if (p !== "slow-start" && p !== "congestion-avoidance") return 0;
    return Math.min(this.dupAcks, DUP_THRESH - 1) * this.controller.smss;
  }
}
