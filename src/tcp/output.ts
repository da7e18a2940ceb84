import { type Instant, later, max, min } from "../clock/time.ts";
import { seqAdd, seqDiff, seqGt } from "../wire/seq.ts";
import { Flag, type TcpOption, type TcpSegment } from "../wire/tcp-types.ts";
import { synOptions } from "./options.ts";
import { segmentOptions } from "./segment-options.ts";
import type { SentSegment } from "./send-buffer.ts";
import { State } from "./state.ts";
import type { Tcb } from "./tcb.ts";
import { openableWindow, windowField } from "./window-scale.ts";

/**
 * The output routine of one connection: what may be sent now (the usable
 * window, cwnd, Nagle, SWS avoidance on both sides, the persist timer's
 * probes), the segments we build (SYN, data, FIN, ACK, RST), the receive
 * window our segments offer, and the retransmission and persist timers
 * re-armed after each output (RFC 9293 §3.8, RFC 6298 §5). Segments are
 * queued on the Tcb (segmentsOut) for its driver: Tcb.drainOutput, Tcb.takeOutput.
 */

/** Largest window the 16-bit header field carries unscaled (RFC 7323 §2 lifts it once negotiated). */
export const MAX_WINDOW = 65535;
const NO_PAYLOAD = new Uint8Array(0);
const NO_OPTIONS: TcpOption[] = [];

/** Queues a segment from us; any ACK we send covers what we owe (piggybacking). */
export function emit(
  tcb: Tcb,
  seq: number,
  flags: number,
  payload?: Uint8Array,
  options: TcpOption[] = NO_OPTIONS,
): void {
  const withAck = (flags & Flag.ACK) !== 0;
  // Timestamps and SACK blocks (segment-options.ts); a SYN brings its own.
  const extra = segmentOptions(tcb, flags, payload?.length ?? 0);
  if (!(flags & Flag.SYN)) options = extra.options;
  if (withAck) {
    tcb.ackNow = extra.ackStillOwed;
    tcb.ackPendingBytes = 0;
    tcb.delayedAckAt = undefined;
  }
  tcb.segmentsOut.push({
    srcPort: tcb.local.port,
    dstPort: tcb.remote.port,
    seq,
    ack: withAck ? tcb.rcvNxt : 0,
    flags,
    window: flags & Flag.RST ? 0 : windowField(tcb, (flags & Flag.SYN) !== 0, tcb.rcvWscale),
    urgentPointer: 0,
    options,
    payload: payload ?? NO_PAYLOAD,
  });
  tcb.owner?.touched(tcb);
}

/** Queues a reply made elsewhere (a reset from resetFor) as it is. */
export function emitRaw(tcb: Tcb, seg: TcpSegment): void {
  tcb.segmentsOut.push(seg);
  tcb.owner?.touched(tcb);
}

/**
 * The output routine's ACK, now: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, or,
 * with settings.ackRepeatsFin while our FIN is unacknowledged, the FIN
 * again: <SEQ=FIN><ACK=RCV.NXT><CTL=FIN,ACK> (4.4BSD).
 */
export function sendAck(tcb: Tcb): void {
  const fin = tcb.finSeq;
  if (tcb.settings.ackRepeatsFin && fin !== undefined && !tcb.ourFinAcked) {
    // The FIN goes twice: an RTT measured across it would be ambiguous (Karn).
    if (tcb.rttTiming !== undefined && seqGt(tcb.rttTiming.end, fin)) tcb.rttTiming = undefined;
    emit(tcb, fin, Flag.FIN | Flag.ACK);
    return;
  }
  emit(tcb, tcb.sndNxt, Flag.ACK);
}

/** A bare <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> formed as a reply to one segment (never repeats our FIN). */
export function sendPlainAck(tcb: Tcb): void {
  emit(tcb, tcb.sndNxt, Flag.ACK);
}

/**
 * RFC 5961 §7: a challenge ACK, if this connection's own limit and then
 * the host's budget allow (challenge.ts says why both).
 */
export function challengeAck(tcb: Tcb, now: Instant): void {
  tcb.challengeAcks++;
  if (!tcb.ownChallengeLimit.allow(now)) {
    tcb.challengeAcksLimited++;
    return;
  }
  if (tcb.challengeLimiter.allow(now)) sendPlainAck(tcb);
}

/** Our SYN (or SYN-ACK) into the retransmission queue; `send` false: it already went (a cookie's). */
export function sendSyn(tcb: Tcb, now: Instant, send = true): void {
  const rec: SentSegment = {
    seq: tcb.iss,
    len: 1,
    syn: true,
    fin: false,
    probe: false,
    firstSentAt: now,
    lastSentAt: now,
    transmissions: 1,
  };
  tcb.sendBuf.inFlight.push(rec);
  tcb.sndNxt = seqAdd(tcb.iss, 1);
  if (!send) return;
  tcb.rttTiming = { end: tcb.sndNxt, at: now };
  emitRecord(tcb, rec);
  tcb.rtxAt = later(now, tcb.rto);
}

/** Sends a record's sequence space again, as the current state frames it. */
function emitRecord(tcb: Tcb, rec: SentSegment): void {
  if (rec.syn) {
    // SYN-SENT: <SEQ=ISS><CTL=SYN>; SYN-RECEIVED: <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>.
    const synAck = tcb.state !== State.SynSent;
    const options = synOptions(tcb.settings, {
      tsVal: tcb.ts.tsVal(tcb.now),
      tsEcr: synAck ? tcb.ts.tsRecent : 0,
      reply: synAck ? tcb.negotiated : undefined,
    });
    emit(tcb, tcb.iss, synAck ? Flag.SYN | Flag.ACK : Flag.SYN, undefined, options);
    return;
  }
  const dataLen = rec.len - (rec.fin ? 1 : 0);
  const payload = tcb.sendBuf.view(rec.seq, dataLen);
  if (dataLen > 0) tcb.outputViews = true;
  let flags = Flag.ACK;
  if (dataLen > 0 && seqAdd(rec.seq, dataLen) === tcb.sendBuf.endSeq) flags |= Flag.PSH;
  if (rec.fin) flags |= Flag.FIN;
  emit(tcb, rec.seq, flags, payload);
}

/** Retransmits a record (Karn's rule: the RTT measurement in progress is void). */
export function retransmit(tcb: Tcb, rec: SentSegment, now: Instant): void {
  rec.transmissions++;
  rec.lastSentAt = now;
  tcb.retransmissions++;
  tcb.rttTiming = undefined;
  if (rec.syn) tcb.synRetransmitted = true;
  emitRecord(tcb, rec);
}

/**
 * Sends our SYN again, framed for the current state (SYN-ACK in SYN-RECEIVED).
 * `counted`: a true retransmission (statistics); either way the RTT
 * measurement of the SYN is void, since two copies are out.
 */
export function resendSyn(tcb: Tcb, now: Instant, counted: boolean): void {
  const rec = tcb.sendBuf.inFlight[0];
  if (rec === undefined || !rec.syn) return;
  if (counted) {
    retransmit(tcb, rec, now);
    return;
  }
  rec.transmissions++;
  rec.lastSentAt = now;
  tcb.rttTiming = undefined;
  emitRecord(tcb, rec);
}

/** Sends `len` new data bytes at SND.NXT (and our FIN after them if `fin`). */
export function sendNew(tcb: Tcb, len: number, fin: boolean, now: Instant, probe = false): void {
  tcb.congestion.noteSent(len, now);
  const rec: SentSegment = {
    seq: tcb.sndNxt,
    len: len + (fin ? 1 : 0),
    syn: false,
    fin,
    probe,
    firstSentAt: now,
    lastSentAt: now,
    transmissions: 1,
  };
  tcb.sendBuf.inFlight.push(rec);
  emitRecord(tcb, rec);
  if (fin) tcb.finSeq = seqAdd(tcb.sndNxt, len);
  tcb.sndNxt = seqAdd(tcb.sndNxt, rec.len);
  if (tcb.rttTiming === undefined && !probe) tcb.rttTiming = { end: tcb.sndNxt, at: now };
  // RFC 6298 §5.1: start the timer if it is not running.
  if (tcb.rtxAt === undefined && !probe) tcb.rtxAt = later(now, tcb.rto);
}

/**
 * "How much may I send now": the usable window SND.UNA + SND.WND − SND.NXT
 * (RFC 9293 §3.8.6), and no more than the congestion window leaves room
 * for: cwnd − pipe (RFC 5681 §3.1 / RFC 6675, with RFC 3042's allowance).
 */
export function sendAllowance(tcb: Tcb): number {
  const usable = Math.max(0, seqDiff(seqAdd(tcb.sndUna, tcb.sndWnd), tcb.sndNxt));
  return Math.min(usable, tcb.congestion.room());
}

/** Data written but never sent. */
export function unsentBytes(tcb: Tcb): number {
  return Math.max(0, seqDiff(tcb.sendBuf.endSeq, tcb.sndNxt));
}

/**
 * Sender-side silly window syndrome avoidance (RFC 9293 §3.8.6.2.1) and
 * Nagle (§3.7.4): may a segment of `len` bytes go now?
 */
function mayTransmit(tcb: Tcb, len: number, unsent: number): boolean {
  if (len >= tcb.sndSegmentSize) return true; // a full segment
  const outstanding = tcb.sndNxt !== tcb.sndUna;
  if (len === unsent) {
    // All queued data fits: Nagle holds a small segment while data is
    // unacknowledged, unless NODELAY or the FIN follows (nothing more will come).
    return tcb.noDelay || tcb.finQueued || !outstanding;
  }
  if (!tcb.settings.senderSws) return true; // no avoidance: a silly sender
  return len >= tcb.maxSndWnd / 2; // Fs = 1/2 of the largest window seen
}

/** States in which our data (and FIN) may be sent. */
export function canSendData(state: State): boolean {
  return (
    state === State.Established ||
    state === State.CloseWait ||
    state === State.FinWait1 ||
    state === State.LastAck ||
    state === State.Closing
  );
}

/**
 * The output routine, after a segment, a timer or a user call: sends what
 * may be sent, then the ACK we owe if nothing carried it; re-arms the
 * timers. `sendData` false: after a retransmission timeout only the
 * earliest segment goes (RFC 6298 §5.4), the rest follow its ACK.
 */
export function output(tcb: Tcb, now: Instant, sendData = true): void {
  tcb.now = now;
  if (tcb.state === State.Closed) return;
  if (tcb.rcvWndStale) updateRcvWnd(tcb);
  if (canSendData(tcb.state) && sendData) {
    tcb.congestion.beforeSend(now);
    // RFC 6675 NextSeg(): (1) lost segments first, (2) then new data, (3) in
    // SACK recovery an unSACKed segment when no new data can go. NewReno's
    // holes and the resending after an RTO come through (1) too. At most
    // settings.maxBurst segments per event: with a tiny MSS one ACK could
    // otherwise release thousands; the ACKs of these release the rest.
    for (let burst = 0; burst < tcb.settings.maxBurst; burst++) {
      const lost = tcb.congestion.nextRetransmission(false);
      if (lost === undefined && sendNewSegment(tcb, now)) continue;
      const rec = lost ?? tcb.congestion.nextRetransmission(true);
      if (rec === undefined) break;
      retransmit(tcb, rec, now);
      tcb.congestion.retransmitted(rec, now);
    }
  }
  if (tcb.ackNow && tcb.state !== State.SynSent) sendAck(tcb);
  rearmTimers(tcb, now);
  tcb.owner?.touched(tcb);
}

/** One new segment if the windows, Nagle and SWS avoidance let it go; false if none went. */
function sendNewSegment(tcb: Tcb, now: Instant): boolean {
  const unsent = unsentBytes(tcb);
  const finPending = tcb.finQueued && tcb.finSeq === undefined;
  if (unsent === 0 && !finPending) return false;
  const len = Math.min(unsent, sendAllowance(tcb), tcb.sndSegmentSize);
  if (unsent > 0 && (len <= 0 || !mayTransmit(tcb, len, unsent))) return false;
  sendNew(tcb, len, finPending && len === unsent, now);
  return true;
}

/** RFC 6298 §5.1–5.2 and the persist timer (RFC 9293 §3.8.6.1), after output. */
function rearmTimers(tcb: Tcb, now: Instant): void {
  if (tcb.state === State.TimeWait || tcb.state === State.Closed) return;
  const inFlight = tcb.sendBuf.inFlight;
  const probing = tcb.sndWnd === 0 && inFlight.length > 0 && inFlight.every((r) => r.probe);
  if (inFlight.length > 0 && !probing) {
    if (tcb.rtxAt === undefined) tcb.rtxAt = later(now, tcb.rto);
  } else {
    tcb.rtxAt = undefined; // §5.2: all outstanding data acknowledged
  }
  // Data waiting that no ACK will release: the window is closed or too small.
  const stuck =
    canSendData(tcb.state) && unsentBytes(tcb) > 0 && (inFlight.length === 0 || probing);
  if (stuck) {
    if (tcb.persistAt === undefined) {
      tcb.persistInterval = min(tcb.settings.persistMax, max(tcb.settings.persistMin, tcb.rto));
      tcb.persistAt = later(now, tcb.persistInterval);
    }
  } else {
    tcb.persistAt = undefined;
  }
}

/**
 * The peer's window reopened while our zero-window probe is outstanding and
 * unacknowledged: the peer refused its byte (RFC 9293 §3.8.6.1). Take the
 * probe back — SND.NXT returns to SND.UNA — so that byte leaves at once as
 * ordinary data with the bytes behind it, instead of waiting for a
 * retransmission timeout while Nagle holds the rest behind it.
 */
export function withdrawProbe(tcb: Tcb): void {
  const inFlight = tcb.sendBuf.inFlight;
  if (tcb.sndWnd === 0 || inFlight.length === 0 || !inFlight.every((r) => r.probe)) return;
  // Probes go out only when nothing else is in flight (rearmTimers), so
  // they are the whole of SND.UNA..SND.NXT.
  inFlight.length = 0;
  tcb.sndNxt = tcb.sndUna;
  tcb.rtxAt = undefined;
}

/**
 * Receiver SWS avoidance (RFC 9293 §3.8.6.2.2): the right edge stays put
 * until the free space exceeds it by min(rcvBuf/2, MSS); then the whole
 * free space is offered. Returns whether the window opened by that much
 * (worth a window update). With settings.receiverSws "bsd" any segment
 * sent offers all free space once it is at least min(rcvBuf/4, MSS)
 * (4.4BSD tcp_output); the update is still sent only for the larger step.
 * With "off" there is no avoidance: all free space is offered at once, and
 * any opening is worth an update.
 */
export function updateRcvWnd(tcb: Tcb): boolean {
  tcb.rcvWndStale = false;
  // RFC 7323 §2.2: a SYN's window is never scaled. While our SYN is
  // unacknowledged a retransmitted SYN-ACK may have to carry the window,
  // so the edge stays within 65535 of RCV.NXT — else that SYN-ACK would
  // move it left (§3.8.6.2.2). Only reachable through CLOSE in SYN-RECEIVED
  // (FIN-WAIT-1 before the handshake completes), where text is accepted.
  const synPending = tcb.sendBuf.inFlight[0]?.syn === true;
  const room = synPending ? Math.min(tcb.rcvQueue.free, MAX_WINDOW) : tcb.rcvQueue.free;
  // Whole units of 2^Rcv.Wind.Shift, at most what the field carries (RFC 7323 §2.3).
  const free = openableWindow(room, tcb.rcvWscale);
  const current = Math.max(0, seqDiff(tcb.rcvAdv, tcb.rcvNxt));
  const cap = tcb.rcvQueue.capacity;
  const significant = free - current >= Math.min(cap / 2, tcb.settings.mss);
  const bsd =
    tcb.settings.receiverSws === "bsd" &&
    free > current &&
    free >= Math.min(cap / 4, tcb.settings.mss);
  const off = tcb.settings.receiverSws === "off" && free > current;
  if (significant || bsd || off) {
    tcb.rcvWnd = free;
    tcb.rcvAdv = seqAdd(tcb.rcvNxt, free);
    return significant || off;
  }
  tcb.rcvWnd = current;
  return false;
}
