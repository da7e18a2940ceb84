import { type Instant, later, min, scale } from "../clock/time.ts";
import { retransmit, sendAllowance, sendNew, unsentBytes } from "./output.ts";
import { State } from "./state.ts";
import type { Tcb } from "./tcb.ts";

/**
 * The timers of one connection (RFC 9293 §3.8): retransmission (RFC 6298),
 * persist (§3.8.6.1), delayed ACK (§3.8.6.3), TIME-WAIT (§3.10.8),
 * keep-alive (§3.8.4, keepalive.ts) and the user timeout (§3.8.3). Sans-IO:
 * each is a deadline on the Tcb (undefined = not running); the driver asks
 * pollAt() when to come back and runs timersDue() then. The output routine
 * (output.ts) starts and stops the retransmission and persist timers after
 * each output.
 */

export type TimerName =
  | "retransmission"
  | "persist"
  | "delayed-ack"
  | "time-wait"
  | "keepalive"
  | "user-timeout";

function earliest(a: Instant | undefined, b: Instant | undefined): Instant | undefined {
  return a === undefined || (b !== undefined && b < a) ? b : a;
}

/**
 * RFC 9293 §3.8.3 user timeout: the moment the oldest unacknowledged
 * segment will have waited settings.userTimeout since it was first sent
 * (undefined when off or nothing is outstanding).
 */
export function userTimeoutDeadline(tcb: Tcb): Instant | undefined {
  const ut = tcb.settings.userTimeout;
  const first = tcb.sendBuf.inFlight[0];
  if (ut <= 0 || first === undefined) return undefined;
  return later(first.firstSentAt, ut);
}

/** Earliest pending deadline (the minimum of timerList(), without building the list). */
export function pollAt(tcb: Tcb): Instant | undefined {
  let at = earliest(tcb.rtxAt, tcb.persistAt);
  at = earliest(at, tcb.delayedAckAt);
  at = earliest(at, tcb.timeWaitAt);
  at = earliest(at, tcb.keepAlive.deadline(tcb.state));
  return tcb.timeWaitAt === undefined ? earliest(at, userTimeoutDeadline(tcb)) : at;
}

/** The running timers and their deadlines (the lab's state table). */
export function timerList(tcb: Tcb): { name: TimerName; deadline: Instant }[] {
  const out: { name: TimerName; deadline: Instant }[] = [];
  if (tcb.rtxAt !== undefined) out.push({ name: "retransmission", deadline: tcb.rtxAt });
  if (tcb.persistAt !== undefined) out.push({ name: "persist", deadline: tcb.persistAt });
  if (tcb.delayedAckAt !== undefined) out.push({ name: "delayed-ack", deadline: tcb.delayedAckAt });
  if (tcb.timeWaitAt !== undefined) out.push({ name: "time-wait", deadline: tcb.timeWaitAt });
  const keepAliveAt = tcb.keepAlive.deadline(tcb.state);
  if (keepAliveAt !== undefined) out.push({ name: "keepalive", deadline: keepAliveAt });
  const userTimeoutAt = tcb.timeWaitAt === undefined ? userTimeoutDeadline(tcb) : undefined;
  if (userTimeoutAt !== undefined) out.push({ name: "user-timeout", deadline: userTimeoutAt });
  return out;
}

/**
 * Runs the timers due at `now`. Returns whether new data may follow in the
 * output routine (false after a retransmission timeout: RFC 6298 §5.4
 * sends only the earliest segment, the rest follow its ACK), or undefined
 * when the connection closed.
 */
export function timersDue(tcb: Tcb, now: Instant): boolean | undefined {
  tcb.now = now;
  if (tcb.timeWaitAt !== undefined && now >= tcb.timeWaitAt) {
    // RFC 9293 §3.10.8: time-wait timeout — delete the TCB.
    tcb.closeWith(undefined);
    return;
  }
  const userTimeoutAt = userTimeoutDeadline(tcb);
  if (userTimeoutAt !== undefined && now >= userTimeoutAt && tcb.state !== State.TimeWait) {
    // RFC 9293 §3.8.3: data unacknowledged for the user timeout — give up.
    tcb.closeWith("ETIMEDOUT");
    return;
  }
  const keepAliveAt = tcb.keepAlive.deadline(tcb.state);
  if (keepAliveAt !== undefined && now >= keepAliveAt) {
    tcb.keepAlive.fire(tcb, now);
    if (tcb.state === State.Closed) return;
  }
  if (tcb.delayedAckAt !== undefined && now >= tcb.delayedAckAt) {
    // RFC 9293 §3.8.6.3: the delayed ACK is due; the output routine sends it.
    tcb.delayedAckAt = undefined;
    tcb.ackNow = true;
  }
  let rtoFired = false;
  if (tcb.rtxAt !== undefined && now >= tcb.rtxAt) {
    retransmissionTimeout(tcb, now);
    if (tcb.state === State.Closed) return;
    rtoFired = true;
  }
  if (tcb.persistAt !== undefined && now >= tcb.persistAt) {
    persistTimeout(tcb, now);
    if (tcb.state === State.Closed) return;
  }
  return !rtoFired;
}

/** RFC 6298 §5.4–5.6: retransmit the earliest unacknowledged segment, back off. */
function retransmissionTimeout(tcb: Tcb, now: Instant): void {
  tcb.rtxAt = undefined;
  const first = tcb.sendBuf.inFlight[0];
  if (first === undefined) return;
  tcb.rtxCount++;
  const handshake = tcb.state === State.SynSent || tcb.state === State.SynReceived;
  const limit = handshake ? tcb.settings.synRetries : tcb.settings.maxRetransmissions;
  if (tcb.rtxCount > limit) {
    tcb.closeWith("ETIMEDOUT");
    return;
  }
  tcb.rttEstimator.backoff();
  // RFC 5681 §3.1: cwnd = 1 SMSS and the outstanding data is presumed lost;
  // the earliest segment goes now, the rest as ACKs open the window again.
  if (!handshake) tcb.congestion.onTimeout(now);
  retransmit(tcb, first, now);
  if (!handshake) tcb.congestion.retransmitted(first, now);
  tcb.rtxAt = later(now, tcb.rto);
}

/**
 * Persist timer (RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17): the peer's window is
 * zero (probe with the next byte) or too small for SWS rules (send what fits:
 * the §3.8.6.2.1 override). Backs off up to persistMax; gives up only when
 * probes go unanswered maxRetransmissions times.
 */
function persistTimeout(tcb: Tcb, now: Instant): void {
  tcb.persistAt = undefined;
  tcb.probesUnanswered++;
  if (tcb.probesUnanswered > tcb.settings.maxRetransmissions) {
    tcb.closeWith("ETIMEDOUT");
    return;
  }
  const allowance = sendAllowance(tcb);
  const probe = tcb.sendBuf.inFlight.find((r) => r.probe);
  if (allowance > 0) {
    const unsent = unsentBytes(tcb);
    const len = Math.min(unsent, allowance, tcb.sndSegmentSize);
    sendNew(tcb, len, tcb.finQueued && len === unsent, now);
  } else if (probe !== undefined) {
    retransmit(tcb, probe, now);
  } else {
    sendNew(tcb, 1, false, now, true);
  }
  tcb.persistInterval = min(scale(tcb.persistInterval, 2), tcb.settings.persistMax);
  tcb.persistAt = later(now, tcb.persistInterval);
}
