import { type Instant, later, max } from "../clock/time.ts";
import { IPV6_MIN_MTU } from "../wire/ipv6.ts";
import { seqAdd } from "../wire/seq.ts";
import type { SentSegment } from "./send-buffer.ts";
import { mssForMtu } from "./settings.ts";
import type { Tcb } from "./tcb.ts";

/**
 * The path MTU of one connection and what it does to the segment size.
 *
 * - RFC 1191 (IPv4 path MTU discovery): segments carry DF; a router that
 *   cannot forward one answers "fragmentation needed" with its next-hop
 *   MTU (icmp-error.ts checks the message); the send MSS drops to fit
 *   (MTU − 40, RFC 879), and what was sent larger is resent in pieces that
 *   fit. RFC 1191 §6.5 allows the retransmission "in immediate response"
 *   and says it must not change the congestion window; its further advice,
 *   one segment until ACKs return, is not followed: like Linux's
 *   tcp_simple_retransmit, what cwnd allows goes at once, and cwnd keeps
 *   its bytes (RFC 5681 names no response to a narrower path). A second
 *   message about the same flight says nothing new and is ignored (§6.5:
 *   not a retransmission per message).
 * - RFC 8201 (IPv6): the same, from a Packet Too Big's MTU (the MSS is
 *   MTU − 60), never below IPv6's 1280 (§4); no fragments instead.
 * - RFC 1191 §6.3, RFC 8201 §5.3: an estimate learned from ICMP ages out after
 *   settings.pmtuExpiry, and the connection sends full segments again (a
 *   route may have widened; if not, the next "fragmentation needed" says so).
 * - RFC 4821 §7.7 / RFC 8899 §4.3 (settings.mtuProbing, Linux's
 *   tcp_mtu_probing=1): when no ICMP comes — a black hole, RFC 2923 §2.1 —
 *   repeated timeouts without progress lower the MSS in steps. The upward
 *   probes of RFC 4821 §7.3–§7.6 are not made: a lowered MSS stays.
 */

/** RFC 791, RFC 1191 §3: every IPv4 path carries 68-byte datagrams. */
export const IPV4_MIN_MTU = 68;

/**
 * Timeouts of the same data before a black hole is suspected: Linux's
 * tcp_retries1 (3), after which it also asks the route layer for advice.
 */
export const MTU_PROBE_RTOS = 3;

/** RFC 1191 §7: the plateaus of common link MTUs, largest first. */
export const MTU_PLATEAUS: readonly number[] = [
  65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68,
];

/** RFC 1191 §5: the plateau below a datagram a router refused without saying its MTU. */
export function plateauBelow(length: number): number {
  for (const p of MTU_PLATEAUS) if (p < length) return p;
  return IPV4_MIN_MTU;
}

/** A connection's path as everything outside src/tcp reads it. */
export interface PathMtuView {
  readonly firstHop: number;
  readonly mtu: number;
  readonly agesAt: Instant | undefined;
  readonly clamped: boolean;
  readonly probedMss: number | undefined;
  readonly loweredByIcmp: number;
  readonly loweredByProbing: number;
}

/** One connection's view of its path (`tcb.pmtu`). */
export class PathMtu implements PathMtuView {
  /** The largest IP datagram the connection sends: the first hop's MTU until the path says less. */
  mtu: number;
  /** When the estimate learned from ICMP ages out (RFC 1191 §6.3); undefined while it is the first hop's. */
  agesAt: Instant | undefined;
  /**
   * A report below settings.minPmtu was raised to it: the connection then
   * sends without DF, so a router on a path that narrow fragments its
   * segments rather than dropping them (Linux's locked route MTU).
   */
  clamped = false;
  /** The MSS the black-hole fallback lowered the connection to (undefined: never). */
  probedMss: number | undefined;
  /** Statistics: times an ICMP message lowered the path MTU; times the fallback lowered the MSS. */
  loweredByIcmp = 0;
  loweredByProbing = 0;

  constructor(readonly firstHop: number) {
    this.mtu = firstHop;
  }
}

/** The path MTU a connection starts with: the first hop's, or a smaller one the host remembers. */
export function startPathMtu(tcb: Tcb, mtu: number, clamped: boolean, agesAt: Instant): void {
  if (mtu >= tcb.pmtu.mtu) return;
  tcb.pmtu.mtu = mtu;
  tcb.pmtu.clamped = clamped;
  tcb.pmtu.agesAt = agesAt;
  // A passive open negotiated its MSS before the host could say.
  if (tcb.negotiated !== undefined) tcb.sndMss = pathMss(tcb);
}

/**
 * The send MSS: the negotiated one (RFC 9293 §3.7.1), within the path MTU
 * and the black-hole fallback's bound, never below settings.minMss (a
 * forged report must not dribble single bytes, CVE-2019-11479's concern).
 */
export function pathMss(tcb: Tcb): number {
  const negotiated = tcb.negotiated?.sndMss ?? tcb.sndMss;
  const path = Math.min(mssForMtu(tcb.pmtu.mtu, tcb.family), tcb.pmtu.probedMss ?? negotiated);
  const floor = Math.max(1, Math.min(tcb.settings.minMss, negotiated));
  return Math.max(floor, Math.min(negotiated, path));
}

/**
 * RFC 1191 §5, §6.3: the path MTU a "fragmentation needed" message
 * reports, or undefined when it would not lower `current`. An old router
 * says 0: the plateau below the datagram it refused (as FreeBSD's
 * ip_next_mtu). A report under `minPmtu` is raised to it and marked
 * `clamped` (the connection then sends without DF).
 */
export function reportedPathMtu(
  nextHopMtu: number,
  quotedLength: number,
  current: number,
  minPmtu: number,
): { readonly mtu: number; readonly clamped: boolean } | undefined {
  let mtu = nextHopMtu === 0 ? plateauBelow(quotedLength) : nextHopMtu;
  const floor = Math.max(IPV4_MIN_MTU, minPmtu);
  const clamped = mtu < floor;
  if (clamped) mtu = floor;
  // RFC 1191 §6.3: a host MUST never raise its estimate because of a Datagram Too Big message.
  if (mtu >= current) return undefined;
  return { mtu, clamped };
}

/**
 * RFC 8201 §4: the path MTU a Packet Too Big reports (at least 1280: the
 * host discards smaller ones), or undefined when it would not lower
 * `current` — a report never raises the estimate (§4, as RFC 1191 §6.3).
 */
export function tooBigPathMtu(mtu: number, current: number): number | undefined {
  return mtu < current ? Math.max(mtu, IPV6_MIN_MTU) : undefined;
}

/**
 * A "fragmentation needed" or Packet Too Big the connection accepted (icmp-error.ts): the
 * path MTU drops to `mtu`, the MSS with it, and the data sent in larger
 * segments goes again in pieces that fit, now (RFC 1191 §6.5).
 */
export function lowerPathMtu(tcb: Tcb, mtu: number, clamped: boolean, now: Instant): void {
  const p = tcb.pmtu;
  p.mtu = mtu;
  p.clamped ||= clamped;
  p.agesAt = later(now, tcb.settings.pmtuExpiry);
  p.loweredByIcmp++;
  if (resize(tcb, true) > 0 && tcb.rtxAt !== undefined) {
    // The first piece leaves with the output routine that follows (Tcb.icmpError):
    // its retransmission timer starts with it (RFC 6298 §5.3).
    tcb.rtxAt = later(now, tcb.rto);
  }
}

/**
 * RFC 1191 §6.3: once an estimate from ICMP has aged out, the connection
 * sends by the first hop's MTU again. Called by the output routine.
 */
export function agePathMtu(tcb: Tcb, now: Instant): void {
  const p = tcb.pmtu;
  if (p.agesAt === undefined || now < p.agesAt) return;
  p.agesAt = undefined;
  p.mtu = p.firstHop;
  p.clamped = false;
  resize(tcb, false);
}

/**
 * A retransmission timeout on data (called by LossRecovery.onTimeout after
 * the timeout's own response): with settings.mtuProbing, the
 * MTU_PROBE_RTOS-th timeout without progress and every one after it lowers
 * the MSS — to mtuProbeBaseMss first, then by half — never below minPmtu −
 * 40 or minMss (RFC 4821 §7.7: a full-stop timeout is first taken as a
 * smaller path; Linux's tcp_mtu_probing). The data in flight is cut to the
 * new size, so the timeout's retransmission already fits.
 */
export function blackHoleCheck(tcb: Tcb): void {
  const s = tcb.settings;
  if (!s.mtuProbing || tcb.rtxCount < MTU_PROBE_RTOS || tcb.negotiated === undefined) return;
  const p = tcb.pmtu;
  // RFC 8201 §4: an IPv6 path carries 1280 bytes, whatever minPmtu says.
  const minPmtu = tcb.family === 6 ? Math.max(s.minPmtu, IPV6_MIN_MTU) : s.minPmtu;
  const floor = Math.max(s.minMss, mssForMtu(minPmtu, tcb.family));
  const next = Math.max(
    floor,
    p.probedMss === undefined ? s.mtuProbeBaseMss : Math.floor(p.probedMss / 2),
  );
  if (p.probedMss !== undefined && next >= p.probedMss) return; // at the floor already
  p.probedMss = next;
  if (next < tcb.sndMss) p.loweredByProbing++;
  resize(tcb, false);
}

/**
 * Sets the send MSS the path allows. Smaller: the congestion controller
 * counts in the new size, and each run of records in flight with more data
 * than a segment now holds is cut again into pieces that fit — a run as
 * one stream, so two 1448-byte records become 1440, 1440 and 16, not 1440,
 * 8, 1440, 8. With `tooBig` the pieces are marked for resending before new
 * data (they were dropped on the way). Returns how many pieces it cut.
 */
function resize(tcb: Tcb, tooBig: boolean): number {
  const old = tcb.sndMss;
  const mss = pathMss(tcb);
  if (mss === old) return 0;
  tcb.sndMss = mss;
  if (tcb.negotiated === undefined) return 0; // SYN-SENT: the SYN-ACK's negotiation applies it
  tcb.congestion.controller.resize(tcb.effSndMss);
  if (mss > old) return 0;
  const size = tcb.effSndMss;
  const records = tcb.sendBuf.inFlight;
  const scoreboard = tcb.congestion.scoreboard;
  let cut = 0;
  for (let i = 0; i < records.length; i++) {
    if (!oversized(records[i] as SentSegment, size)) continue;
    let j = i + 1;
    while (j < records.length && oversized(records[j] as SentSegment, size)) j++;
    const pieces = recut(records.slice(i, j), size);
    records.splice(i, j - i, ...pieces);
    if (tooBig) for (const piece of pieces) scoreboard.markTooBig(piece);
    i += pieces.length - 1;
    cut += pieces.length;
  }
  return cut;
}

function dataLength(rec: SentSegment): number {
  return rec.len - (rec.fin ? 1 : 0);
}

/** Data that no longer fits a segment (a SYN, a window probe or SACKed data stays as it is). */
function oversized(rec: SentSegment, size: number): boolean {
  return !rec.syn && !rec.probe && !rec.sacked && dataLength(rec) > size;
}

/**
 * Cuts a run of adjacent records into pieces of `size` data bytes, the FIN
 * (if the run ends with one) on the last. The first piece is the run's
 * first record, changed in place: a caller holding it (the timeout about to
 * resend it) sends the piece. Every piece counts as sent as often as the
 * run's most sent record (Karn's rule holds for it) and keeps its marks.
 */
function recut(run: readonly SentSegment[], size: number): SentSegment[] {
  const head = run[0] as SentSegment;
  const tail = run[run.length - 1] as SentSegment;
  let total = 0;
  let lastSentAt = head.lastSentAt;
  let transmissions = head.transmissions;
  let markedLost = false;
  let retransmitted = false;
  for (const r of run) {
    total += dataLength(r);
    lastSentAt = max(lastSentAt, r.lastSentAt);
    transmissions = Math.max(transmissions, r.transmissions);
    markedLost ||= r.markedLost === true;
    retransmitted ||= r.retransmitted === true;
  }
  const fin = tail.fin;
  const pieces: SentSegment[] = [head];
  head.len = size;
  head.fin = false;
  head.sackedPart = undefined;
  for (let offset = size; offset < total; offset += size) {
    pieces.push({
      seq: seqAdd(head.seq, offset),
      len: Math.min(size, total - offset),
      syn: false,
      fin: false,
      probe: false,
      firstSentAt: head.firstSentAt,
      lastSentAt,
      transmissions,
    });
  }
  for (const piece of pieces) {
    piece.lastSentAt = lastSentAt;
    piece.transmissions = transmissions;
    piece.markedLost = markedLost;
    piece.retransmitted = retransmitted;
  }
  if (fin) {
    const last = pieces[pieces.length - 1] as SentSegment;
    last.fin = true;
    last.len += 1;
  }
  return pieces;
}
