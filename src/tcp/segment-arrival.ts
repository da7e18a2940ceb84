import { elapsed, type Instant, later } from "../clock/time.ts";
import { seqAdd, seqDiff, seqGt, seqInWindow, seqLe, seqLt, seqMax } from "../wire/seq.ts";
import { TCP_HEADER_LEN, tcpHeaderLength } from "../wire/tcp.ts";
import { Flag, type TcpSegment } from "../wire/tcp-types.ts";
import { TcbEvent } from "./events.ts";
import {
  challengeAck,
  emit,
  emitRaw,
  resendSyn,
  sendAck,
  sendPlainAck,
  updateRcvWnd,
  withdrawProbe,
} from "./output.ts";
import { resetFor, segLen } from "./reset.ts";
import { State } from "./state.ts";
import type { Tcb } from "./tcb.ts";
import { timestampOf } from "./timestamps.ts";
import { maxWindow, peerWindow } from "./window-scale.ts";

/**
 * RFC 9293 §3.10.7 "SEGMENT ARRIVES", for a Tcb in SYN-SENT or a
 * synchronized state, in the RFC's order. LISTEN is listener.ts and CLOSED
 * is reset.ts. Output (ACKs, data) is sent by the Tcb after this returns,
 * except replies that the RFC sends "and drop the segment", which go at once.
 */
export function segmentArrives(tcb: Tcb, seg: TcpSegment, now: Instant): void {
  // settings.dropSynFin "all" (FreeBSD net.inet.tcp.drop_synfin=1): SYN+FIN is
  // a scan signature in every state, dropped before anything else looks at it.
  if (tcb.settings.dropSynFin === "all" && has(seg, Flag.SYN) && has(seg, Flag.FIN)) return;
  if (tcb.state === State.SynSent) synSentArrives(tcb, seg, now);
  else synchronizedArrives(tcb, seg, now);
}

const has = (seg: TcpSegment, flag: number): boolean => (seg.flags & flag) !== 0;
const EMPTY = new Uint8Array(0);

/** RFC 5961 is a master switch over its three checks (settings.ts). */
const rfc5961 = (tcb: Tcb, check: "rfc5961Rst" | "rfc5961Syn" | "rfc5961Ack"): boolean =>
  tcb.settings.rfc5961 && tcb.settings[check];

/** RFC 9293 §3.10.7.3: SYN-SENT. */
function synSentArrives(tcb: Tcb, seg: TcpSegment, now: Instant): void {
  // First, check the ACK bit: SEG.ACK =< ISS or SEG.ACK > SND.NXT is unacceptable.
  const ack = has(seg, Flag.ACK);
  if (ack && (seqLe(seg.ack, tcb.iss) || seqGt(seg.ack, tcb.sndNxt))) {
    // <SEQ=SEG.ACK><CTL=RST>, unless the segment is itself a reset.
    const rst = resetFor(seg);
    if (rst !== undefined) emitRaw(tcb, rst);
    return;
  }
  // Second, the RST bit: with an acceptable ACK the peer refused us (RFC 5961
  // §3.2 agrees: it acknowledges our SYN); without an ACK, drop it.
  if (has(seg, Flag.RST)) {
    if (ack) tcb.closeWith("ECONNREFUSED");
    return;
  }
  // Third, security: not implemented. Fourth, the SYN bit.
  if (!has(seg, Flag.SYN)) return; // fifth: neither SYN nor RST — drop
  tcb.irs = seg.seq;
  tcb.rcvNxt = seqAdd(seg.seq, 1);
  tcb.rcvAdv = seqAdd(tcb.rcvNxt, tcb.rcvWnd);
  tcb.applyNegotiation(seg, now);
  tcb.sndWnd = seg.window;
  tcb.maxSndWnd = Math.max(tcb.maxSndWnd, seg.window);
  tcb.sndWl1 = seg.seq;
  tcb.keepAlive.heard(now); // a SYN-ACK or SYN that passed the checks above
  if (ack) {
    tcb.sndWl2 = seg.ack;
    acknowledge(tcb, seg.ack, now);
  }
  if (seqGt(tcb.sndUna, tcb.iss)) {
    // Our SYN is acknowledged: ESTABLISHED, and <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.
    if (tcb.synRetransmitted) tcb.rttEstimator.afterSynRetransmitted(); // RFC 6298 §5.7
    tcb.setState(State.Established);
    tcb.ackNow = true;
    // "If there are other controls or text in the segment, continue processing at the sixth step."
    segmentText(tcb, seg, now);
  } else {
    // Simultaneous open: SYN-RECEIVED, <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>.
    // "If there are other controls or text in the segment, queue them for
    // processing after the ESTABLISHED state has been reached": the text waits
    // in the reassembly queue, unacknowledged, until ackArrives moves to
    // ESTABLISHED. A FIN on it is not queued: left unacknowledged, the peer
    // sends it again (as FreeBSD does).
    tcb.sndWl2 = tcb.iss;
    tcb.setState(State.SynReceived);
    const text = seg.payload.subarray(0, Math.min(seg.payload.length, tcb.rcvWnd));
    if (text.length > 0) tcb.reassembly.insert(tcb.rcvNxt, tcb.rcvNxt, text);
    resendSyn(tcb, now, false);
  }
}

/**
 * TIME-WAIT choices the RFCs leave open (settings.ts). Returns true when the
 * segment is dealt with; false sends it through the usual §3.10.7.4 steps.
 */
function timeWaitArrives(tcb: Tcb, seg: TcpSegment, now: Instant): boolean {
  const s = tcb.settings;
  // RFC 1337 F1: a RST cannot assassinate TIME-WAIT.
  if (has(seg, Flag.RST)) return s.timeWaitRst === "ignore";
  // RFC 9293 §3.6.1 MAY-2, RFC 1122 §4.2.2.13: a SYN of a newer incarnation reopens.
  if (s.timeWaitReopen && (seg.flags & (Flag.SYN | Flag.ACK)) === Flag.SYN && newer(tcb, seg)) {
    tcb.reopenedBy = seg;
    tcb.closeWith(undefined);
    return true;
  }
  if (s.timeWaitInput !== "bsd") return false;
  // FreeBSD's tcp_twcheck: no sequence check; no ACK bit, no reply.
  if (!has(seg, Flag.ACK)) return true;
  // The peer's FIN again (it ends at RCV.NXT): our last ACK was lost.
  if (has(seg, Flag.FIN) && seqAdd(seg.seq, segLen(seg)) === tcb.rcvNxt) tcb.enterTimeWait(now);
  const duplicateAck =
    seg.flags === Flag.ACK &&
    seg.payload.length === 0 &&
    seg.seq === tcb.rcvNxt &&
    seg.ack === tcb.sndNxt;
  if (!duplicateAck) sendPlainAck(tcb);
  return true;
}

/**
 * Whether a SYN reaching TIME-WAIT is from a newer incarnation. RFC 6191 §2
 * (settings.timeWaitReopenTimestamps): when both incarnations use
 * timestamps, SEG.TSval > TS.Recent, or equal with SEG.SEQ > RCV.NXT;
 * otherwise (RFC 1122 §4.2.2.13) SEG.SEQ > RCV.NXT.
 */
function newer(tcb: Tcb, seg: TcpSegment): boolean {
  const ts = timestampOf(seg);
  if (tcb.settings.timeWaitReopenTimestamps && tcb.tsEnabled && ts !== undefined) {
    if (seqGt(ts.tsVal, tcb.tsRecent)) return true;
    if (ts.tsVal !== tcb.tsRecent) return false;
  }
  return seqGt(seg.seq, tcb.rcvNxt);
}

/**
 * A segment wholly below RCV.NXT: its data (and any FIN) were received
 * before — 4.4BSD's "complete duplicate" (Stevens vol. 2 p. 960).
 */
function oldDuplicate(tcb: Tcb, seg: TcpSegment): boolean {
  const behind = seqDiff(tcb.rcvNxt, seg.seq);
  const len = seg.payload.length;
  return behind > 0 && (behind > len || (behind === len && !has(seg, Flag.FIN)));
}

/** RFC 9293 §3.10.7.4: SYN-RECEIVED and every later state. */
function synchronizedArrives(tcb: Tcb, seg: TcpSegment, now: Instant): void {
  const s = tcb.settings;

  // The opening SYN again (our SYN-ACK was lost, or the network copied the
  // SYN): answer it with the SYN-ACK rather than a bare ACK, so the peer does
  // not wait for our timer. Not counted as our retransmission: a copy is no
  // loss, so neither the one-segment window of RFC 5681 §3.1 nor the 3 s RTO
  // of RFC 6298 §5.7 applies (Linux, too, cuts the window only after more
  // than one). The SYN-ACK's RTT sample is dropped all the same (Karn).
  // RFC 3168 §6.1.1: an ECN-setup SYN carries ECE and CWR too — still the same SYN.
  const bareFlags = seg.flags & ~(Flag.ECE | Flag.CWR);
  if (tcb.state === State.SynReceived && bareFlags === Flag.SYN && seg.seq === tcb.irs) {
    resendSyn(tcb, now, false);
    return;
  }

  if (tcb.state === State.TimeWait && timeWaitArrives(tcb, seg, now)) return;

  // RFC 7323 §3.2 and §5.3 R1, before the sequence number: once negotiated, a
  // segment without timestamps is dropped silently; PAWS (SEG.TSval <
  // TS.Recent, not a RST) is answered with an ACK and dropped.
  const tsVerdict = tcb.ts.check(seg, now);
  if (tsVerdict === "missing") return;
  if (tsVerdict === "paws") {
    sendAck(tcb);
    return;
  }

  // First, check the sequence number.
  if (!acceptable(tcb, seg)) {
    if (has(seg, Flag.RST)) return;
    if (has(seg, Flag.SYN)) {
      // RFC 5961 §4.2: "irrespective of the sequence number", a challenge ACK.
      if (rfc5961(tcb, "rfc5961Syn")) challengeAck(tcb, now);
      else sendPlainAck(tcb);
      return;
    }
    // RFC 2883: data entirely below RCV.NXT is a duplicate — report it (D-SACK).
    const end = seqAdd(seg.seq, seg.payload.length);
    if (seg.payload.length > 0 && seqLe(end, tcb.rcvNxt)) tcb.sackRx.noteDuplicate(seg.seq, end);
    if (s.oldSegmentAck === "process" && has(seg, Flag.ACK) && oldDuplicate(tcb, seg)) {
      // 4.4BSD: trim it to nothing, still process its ACK field, then ACK
      // (unless that ACK ends the connection, as in LAST-ACK).
      tcb.ackNow = true;
      ackArrives(tcb, { ...seg, flags: seg.flags & ~Flag.FIN, payload: EMPTY }, now);
      return;
    }
    if (
      tcb.state === State.TimeWait &&
      has(seg, Flag.FIN) &&
      seqAdd(seg.seq, segLen(seg)) === tcb.rcvNxt
    ) {
      // The peer's FIN again: our last ACK was lost. Eighth step for
      // TIME-WAIT: acknowledge it and restart the 2 MSL timeout.
      tcb.enterTimeWait(now);
    }
    sendAck(tcb); // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
    return;
  }

  // Second, check the RST bit.
  if (has(seg, Flag.RST)) {
    if (rfc5961(tcb, "rfc5961Rst") && seg.seq !== tcb.rcvNxt) {
      // RFC 5961 §3.2: in the window but not exactly RCV.NXT — challenge ACK.
      challengeAck(tcb, now);
      return;
    }
    resetArrives(tcb);
    return;
  }

  // Third, security and precedence: not implemented (RFC 9293 §3.10.7.4 allows).

  // Fourth, check the SYN bit.
  if (has(seg, Flag.SYN)) {
    if (tcb.state === State.SynReceived && tcb.passive) {
      // "If the connection was initiated with a passive OPEN, then return
      // this connection to the LISTEN state": the listener forgets it.
      tcb.closeWith(undefined);
      return;
    }
    if (rfc5961(tcb, "rfc5961Syn")) {
      // RFC 5961 §4.2: a SYN in a synchronized state gets a challenge ACK.
      challengeAck(tcb, now);
      return;
    }
    // RFC 793 behaviour: the SYN is an error — reset and report it. The
    // reset's form is a setting (settings.synResetForm).
    if (s.synResetForm === "connection") {
      emit(tcb, tcb.sndNxt, Flag.RST | Flag.ACK); // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>
    } else {
      const rst = resetFor(seg);
      if (rst !== undefined) emitRaw(tcb, rst);
    }
    tcb.closeWith("ECONNRESET");
    return;
  }

  // Fifth, check the ACK field.
  if (!has(seg, Flag.ACK)) return;
  if (!ackArrives(tcb, seg, now)) return;

  // RFC 7323 §5.3 R3: an acceptable segment may update TS.Recent — only one
  // that passed the RST, SYN and ACK checks too. A blind segment that draws a
  // challenge ACK must not move it: a TSval far ahead would make PAWS drop
  // every later segment of the real peer (Linux moved the update out of
  // tcp_validate_incoming for the same reason).
  tcb.ts.update(seg, now);

  // Sixth, the URG bit: ignored (RFC 6093 — the urgent pointer's data is just data).

  // Seventh, segment text; eighth, FIN.
  switch (tcb.state) {
    case State.Established:
    case State.FinWait1:
    case State.FinWait2:
      segmentText(tcb, seg, now);
      break;
    case State.CloseWait:
    case State.Closing:
    case State.LastAck:
    case State.TimeWait:
      // Text after the peer's FIN cannot be; a FIN here is one we already have.
      if (has(seg, Flag.FIN)) {
        tcb.ackNow = true;
        if (tcb.state === State.TimeWait) tcb.enterTimeWait(now);
      }
      break;
    default:
      break;
  }
}

/**
 * RFC 9293 §3.10.7.4 first step: the four acceptability cases. With RCV.WND = 0
 * a segment at exactly RCV.NXT is let through for its ACK and RST (the
 * special allowance); its text is trimmed away later.
 */
function acceptable(tcb: Tcb, seg: TcpSegment): boolean {
  const len = segLen(seg);
  const wnd = tcb.checkWindow;
  if (len === 0) {
    return wnd === 0 ? seg.seq === tcb.rcvNxt : seqInWindow(seg.seq, tcb.rcvNxt, wnd);
  }
  if (wnd === 0) return seg.seq === tcb.rcvNxt;
  return (
    seqInWindow(seg.seq, tcb.rcvNxt, wnd) || seqInWindow(seqAdd(seg.seq, len - 1), tcb.rcvNxt, wnd)
  );
}

/** Second step: an acceptable RST, by state. */
function resetArrives(tcb: Tcb): void {
  switch (tcb.state) {
    case State.SynReceived:
      // Passive open: back to LISTEN (quietly forgotten); active: refused.
      tcb.closeWith(tcb.passive ? undefined : "ECONNREFUSED");
      return;
    case State.Established:
    case State.FinWait1:
    case State.FinWait2:
    case State.CloseWait:
      tcb.closeWith("ECONNRESET");
      return;
    case State.Closing:
    case State.LastAck:
      // RFC 9293: the connection ends without a signal; FreeBSD and Linux
      // report ECONNRESET (settings.rstErrorWhenClosing).
      tcb.closeWith(tcb.settings.rstErrorWhenClosing ? "ECONNRESET" : undefined);
      return;
    default:
      // TIME-WAIT: the connection ends without error.
      tcb.closeWith(undefined);
      return;
  }
}

/**
 * Fifth step. Returns false when the segment is to be dropped here.
 */
function ackArrives(tcb: Tcb, seg: TcpSegment, now: Instant): boolean {
  const a = seg.ack;
  // RFC 7323 §2.3: SND.WND = SEG.WND << Snd.Wind.Shift.
  const wnd = peerWindow(seg, tcb.sndWscale);
  if (tcb.state === State.SynReceived) {
    if (!(seqLt(tcb.sndUna, a) && seqLe(a, tcb.sndNxt))) {
      // Unacceptable ACK in SYN-RECEIVED: <SEQ=SEG.ACK><CTL=RST> (this also
      // answers ACKs beyond SND.NXT: most likely an old connection's).
      const rst = resetFor(seg);
      if (rst !== undefined) emitRaw(tcb, rst);
      return false;
    }
    // The listener's accept queue is full: drop the ACK, stay in SYN-RECEIVED (Tcb.admit).
    if (tcb.admit !== undefined && !tcb.admit()) return false;
    if (tcb.synRetransmitted) tcb.rttEstimator.afterSynRetransmitted(); // RFC 6298 §5.7
    tcb.sndWnd = wnd;
    tcb.maxSndWnd = Math.max(tcb.maxSndWnd, wnd);
    tcb.sndWl1 = seg.seq;
    tcb.sndWl2 = a;
    tcb.setState(State.Established);
    if (tcb.passive) tcb.roundRcvBuf();
    // Text queued from a SYN (simultaneous open, §3.10.7.3) is processed now.
    deliverQueued(tcb, now);
    // A CLOSE issued while data was queued in SYN-RECEIVED takes effect now.
    if (tcb.finQueued) tcb.setState(State.FinWait1);
  } else if (rfc5961(tcb, "rfc5961Ack")) {
    // RFC 5961 §5.2: acceptable only if SND.UNA − MAX.SND.WND ≤ SEG.ACK ≤ SND.NXT;
    // otherwise discard and send a (rate-limited) challenge ACK.
    const lower = seqAdd(tcb.sndUna, -tcb.maxSndWnd);
    if (seqLt(a, lower) || seqGt(a, tcb.sndNxt)) {
      challengeAck(tcb, now);
      return false;
    }
  } else if (seqGt(a, tcb.sndNxt)) {
    // ACK of something not yet sent: send an ACK, drop the segment.
    sendAck(tcb);
    return false;
  }

  // ESTABLISHED processing (shared by the later states).
  tcb.probesUnanswered = 0; // the peer is answering
  // Keep-alive: only a segment that passed PAWS, the sequence, RST, SYN and
  // ACK checks shows the peer is alive (RFC 9293 §3.10.7.4 order; Linux
  // stamps rcv_tstamp in tcp_ack) — blind junk must not keep a dead peer's
  // connection open, nor reset the probe count.
  tcb.keepAlive.heard(now);
  const oldUna = tcb.sndUna;
  if (seqLt(oldUna, a)) acknowledge(tcb, a, now);
  // Duplicate ACKs (SEG.ACK =< SND.UNA) acknowledge nothing; loss recovery looks at them below.

  // Send window update: SND.UNA =< SEG.ACK =< SND.NXT and the segment is newer
  // than the one that last set the window (SND.WL1, SND.WL2).
  if (
    seqLe(oldUna, a) &&
    (seqLt(tcb.sndWl1, seg.seq) || (tcb.sndWl1 === seg.seq && seqLe(tcb.sndWl2, a)))
  ) {
    tcb.sndWnd = wnd;
    tcb.sndWl1 = seg.seq;
    tcb.sndWl2 = a;
    tcb.maxSndWnd = Math.max(tcb.maxSndWnd, wnd);
    // A probe the peer refused while the window was zero is resent now, not at the next RTO.
    withdrawProbe(tcb);
  }

  // Congestion control and loss recovery: new data acknowledged, duplicate
  // ACKs (RFC 5681 §3.2), SACK blocks (RFC 6675) — recovery.ts.
  tcb.congestion.onAck(seg, oldUna, now);

  switch (tcb.state) {
    case State.FinWait1:
      // Our FIN acknowledged: FIN-WAIT-2.
      if (tcb.ourFinAcked) tcb.setState(State.FinWait2);
      return true;
    case State.Closing:
      if (tcb.ourFinAcked) tcb.enterTimeWait(now);
      return true;
    case State.LastAck:
      if (tcb.ourFinAcked) {
        tcb.closeWith(undefined);
        return false;
      }
      return true;
    default:
      return true;
  }
}

/** New data acknowledged: SND.UNA advances, the retransmission queue shrinks. */
function acknowledge(tcb: Tcb, ack: number, now: Instant): void {
  const freedBefore = tcb.sendBuf.bytes.length;
  tcb.sendBuf.acknowledge(ack);
  tcb.sndUna = ack;
  // RFC 7323 §4 RTTM: with timestamps, the TSecr of an ACK that advances
  // SND.UNA is the sample (valid across retransmissions, so no Karn rule).
  const tsRtt = tcb.ts.rttSample(now);
  if (tsRtt !== undefined) {
    tcb.rttEstimator.sample(tsRtt);
    tcb.rttTiming = undefined;
  }
  // RFC 6298: the timed segment is acknowledged — one RTT sample (Karn's rule
  // is kept by retransmit(), which voids the measurement).
  else if (tcb.rttTiming !== undefined && seqLe(tcb.rttTiming.end, ack)) {
    tcb.rttEstimator.sample(elapsed(tcb.rttTiming.at, now));
    tcb.rttTiming = undefined;
  }
  // §5.2/5.3: stop the timer, or restart it for what is still outstanding
  // (rearmTimers starts it again at now + RTO).
  tcb.rtxAt = undefined;
  tcb.rtxCount = 0;
  if (tcb.sendBuf.bytes.length < freedBefore) tcb.raise(TcbEvent.Writable);
}

/**
 * Seventh step (segment text) and eighth (FIN), for states that accept text.
 * Text is trimmed to the window; in-order text goes to the receive queue,
 * the rest to the reassembly buffer.
 */
function segmentText(tcb: Tcb, seg: TcpSegment, now: Instant): void {
  let start = seqAdd(seg.seq, has(seg, Flag.SYN) ? 1 : 0);
  let data = seg.payload;
  let fin = has(seg, Flag.FIN);
  // Trim what we already have from the front.
  const old = seqDiff(tcb.rcvNxt, start);
  if (old > 0 && data.length > 0) {
    // RFC 2883: the part below RCV.NXT was received before — D-SACK it, at once.
    tcb.sackRx.noteDuplicate(start, seqAdd(start, Math.min(old, data.length)));
    if (tcb.sackRx.pendingDsack !== undefined) tcb.ackNow = true;
  }
  if (old > 0) {
    if (old >= data.length) {
      if (data.length > 0 || (fin && old > data.length)) tcb.ackNow = true; // a duplicate
      if (old > data.length) fin = false;
      data = data.subarray(data.length);
    } else {
      data = data.subarray(old);
    }
    start = seqMax(start, tcb.rcvNxt);
  }
  // Trim to the right edge of the window; a FIN beyond it is not seen.
  const room = Math.max(0, seqDiff(seqAdd(tcb.rcvNxt, tcb.checkWindow), start));
  if (data.length > room) {
    data = data.subarray(0, room);
    fin = false;
    tcb.ackNow = true; // tell the sender where the window ends
  }

  if (data.length > 0) {
    if (start === tcb.rcvNxt) {
      const hadHoles = tcb.reassembly.bytes > 0;
      deliver(tcb, data);
      for (const chunk of tcb.reassembly.take(tcb.rcvNxt)) deliver(tcb, chunk);
      // A full-sized segment holds our MSS less its options (RFC 6691); a
      // longer one is a super-segment the link took whole, not a larger MSS.
      const full = tcb.settings.mss - (tcpHeaderLength(seg.options) - TCP_HEADER_LEN);
      tcb.rcvMss = Math.max(tcb.rcvMss, Math.min(data.length, full));
      if (hadHoles) {
        tcb.ackNow = true; // RFC 5681 §4.2: a segment that fills a hole is ACKed at once
      } else {
        delayAck(tcb, data.length, now);
      }
      tcb.raise(TcbEvent.Readable);
    } else {
      // Out of order: hold it and send a duplicate ACK at once (RFC 9293 §3.10.7.4, RFC 5681 §4.2).
      tcb.reassembly.insert(tcb.rcvNxt, start, data);
      const dup = tcb.reassembly.lastDuplicate;
      if (dup !== undefined) tcb.sackRx.noteDuplicate(dup[0], dup[1]); // RFC 2883
      tcb.ackNow = true;
    }
  }

  // Eighth step: the FIN, once every byte before it is here.
  if (fin) tcb.reassembly.finSeq = seqAdd(start, data.length);
  if (tcb.reassembly.finSeq !== undefined && tcb.reassembly.finSeq === tcb.rcvNxt) {
    tcb.reassembly.finSeq = undefined;
    finArrives(tcb, now);
  }
  // RCV.WND catches up with the text once the segment's events are delivered
  // (a reader may free the buffer first), before anything answers it.
  tcb.rcvWndStale = true;
}

/** In-order text waiting in the reassembly queue at RCV.NXT goes to the receive queue. */
function deliverQueued(tcb: Tcb, now: Instant): void {
  let n = 0;
  for (const chunk of tcb.reassembly.take(tcb.rcvNxt)) {
    deliver(tcb, chunk);
    n += chunk.length;
  }
  if (n === 0) return;
  delayAck(tcb, n, now);
  tcb.raise(TcbEvent.Readable);
  updateRcvWnd(tcb);
}

function deliver(tcb: Tcb, data: Uint8Array): void {
  // The advertised window never exceeds the free queue space, so this fits.
  // The payload is the TCB's (the host copied it off the link): kept, not copied.
  const n = tcb.rcvQueue.push(data, true);
  tcb.rcvNxt = seqAdd(tcb.rcvNxt, n);
}

/**
 * Delayed ACK (RFC 9293 §3.8.6.3, RFC 1122 §4.2.3.2): within settings.delayedAck
 * of the first unacknowledged segment, and at once for every second full-sized
 * one — or once half the window we can offer is unacknowledged: a window
 * under two MSS never sees two full-sized segments, and the sender, stopped
 * at its edge, would wait out the timer every round trip.
 */
function delayAck(tcb: Tcb, bytes: number, now: Instant): void {
  tcb.ackPendingBytes += bytes;
  // The window we can offer: the buffer, within what the field carries
  // (65535 when scaling was not negotiated, whatever the buffer).
  const window = Math.min(tcb.rcvQueue.capacity, maxWindow(tcb.rcvWscale));
  const threshold = Math.min(2 * tcb.rcvMss, Math.floor(window / 2));
  if (tcb.settings.delayedAck <= 0 || tcb.ackPendingBytes >= threshold) {
    tcb.ackNow = true;
  } else if (tcb.delayedAckAt === undefined) {
    tcb.delayedAckAt = later(now, tcb.settings.delayedAck);
  }
}

/** RFC 9293 §3.10.7.4 eighth step: RCV.NXT passes the FIN; ACK it; change state. */
function finArrives(tcb: Tcb, now: Instant): void {
  tcb.rcvNxt = seqAdd(tcb.rcvNxt, 1);
  // The FIN occupies sequence space but no buffer: the right edge moves with it.
  tcb.rcvAdv = seqAdd(tcb.rcvAdv, 1);
  tcb.finReceived = true;
  tcb.ackNow = true;
  tcb.raise(TcbEvent.Readable);
  switch (tcb.state) {
    case State.SynReceived:
    case State.Established:
      tcb.setState(State.CloseWait);
      break;
    case State.FinWait1:
      // Our FIN is not acknowledged yet (else we would be in FIN-WAIT-2): simultaneous close.
      if (tcb.ourFinAcked) tcb.enterTimeWait(now);
      else tcb.setState(State.Closing);
      break;
    case State.FinWait2:
      tcb.enterTimeWait(now);
      break;
    default:
      break;
  }
}
