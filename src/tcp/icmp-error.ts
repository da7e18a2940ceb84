import type { Instant } from "../clock/time.ts";
import { IcmpUnreachable } from "../wire/icmp.ts";
import { type IcmpErrorMeaning, icmpErrorMeaning } from "../wire/icmp-errors.ts";
import { seqLe, seqLt } from "../wire/seq.ts";
import { lowerPathMtu, reportedPathMtu, tooBigPathMtu } from "./path-mtu.ts";
import { State, type TcpError } from "./state.ts";
import type { Tcb } from "./tcb.ts";

/**
 * An ICMP error about one of a connection's segments (RFC 9293 §3.9.2.2,
 * RFC 1122 §4.2.3.9, RFC 5927), after the host matched its quote to the
 * connection by addresses and ports.
 */
export type TcpIcmpError = TcpIcmpv4Error | TcpPacketTooBig | TcpIcmpv6Error;

/** An ICMPv4 Destination Unreachable or Time Exceeded. */
export interface TcpIcmpv4Error {
  readonly type: "dest-unreachable" | "time-exceeded";
  readonly code: number;
  /** RFC 1191 §4: the next-hop MTU of a "fragmentation needed" (0 from old routers). */
  readonly nextHopMtu: number;
  /** Total length of the quoted datagram: what the router refused. */
  readonly quotedLength: number;
  /** The quoted segment's sequence number. */
  readonly seq: number;
}

/** An ICMPv6 Packet Too Big (RFC 4443 §3.2, RFC 8201), its MTU at least 1280 (the host checked). */
export interface TcpPacketTooBig {
  readonly type: "packet-too-big";
  readonly mtu: number;
  readonly seq: number;
}

/** Any other ICMPv6 error, with what the host read it to mean (icmpv6-errors.ts). */
export interface TcpIcmpv6Error {
  readonly type: "icmpv6";
  readonly meaning: IcmpErrorMeaning;
  readonly seq: number;
}

/**
 * What the connection did with the message. "out-of-window",
 * "pmtu-not-lower" and "pmtu-off" are ignored messages (the host counts
 * them as drops, by that name).
 */
export type TcpIcmpVerdict =
  | "out-of-window"
  | "pmtu-lowered"
  | "pmtu-not-lower"
  | "pmtu-off"
  | "soft-error"
  | "aborted";

/** The error a timeout reports in place of ETIMEDOUT: an ICMP error heard since the peer was. */
export interface SoftError {
  readonly error: TcpError;
  readonly at: Instant;
}

/**
 * RFC 5927 §4.1: an error is only believed about a segment in flight,
 * SND.UNA =< SEG.SEQ < SND.NXT — an off-path attacker must guess a sequence
 * number in the window to be heard, as for a reset (RFC 5961). Then:
 *
 * - "fragmentation needed": RFC 1191 path MTU discovery (path-mtu.ts);
 *   IPv6's Packet Too Big: RFC 8201's, always on — IPv6 routers never
 *   fragment, so a connection that ignored it would stall (§4);
 * - a hard error (port or protocol unreachable, the prohibited codes) while
 *   the connection is being set up ends it with that error (RFC 1122
 *   §4.2.3.9 SHOULD; ECONNREFUSED for a port) — later it is only kept as a
 *   soft one: RFC 5461 §4.1, as Linux and FreeBSD do, since a transient
 *   routing problem must not kill an established connection;
 * - a soft error (net or host unreachable, time exceeded …) MUST NOT abort
 *   (RFC 1122 §4.2.3.9): it is remembered, and if the connection later
 *   times out with nothing heard from the peer since, it reports that
 *   error instead of ETIMEDOUT (Linux's sk_err_soft, FreeBSD's t_softerror).
 */
export function tcpIcmpError(tcb: Tcb, err: TcpIcmpError, now: Instant): TcpIcmpVerdict {
  if (!(seqLe(tcb.sndUna, err.seq) && seqLt(err.seq, tcb.sndNxt))) return "out-of-window";
  if (err.type === "packet-too-big") {
    const mtu = tooBigPathMtu(err.mtu, tcb.pmtu.mtu);
    if (mtu === undefined) return "pmtu-not-lower";
    lowerPathMtu(tcb, mtu, false, now);
    return "pmtu-lowered";
  }
  if (err.type === "dest-unreachable" && err.code === IcmpUnreachable.FRAG_NEEDED) {
    if (!tcb.settings.pmtuDiscovery) return "pmtu-off";
    const r = reportedPathMtu(err.nextHopMtu, err.quotedLength, tcb.pmtu.mtu, tcb.settings.minPmtu);
    if (r === undefined) return "pmtu-not-lower";
    lowerPathMtu(tcb, r.mtu, r.clamped, now);
    return "pmtu-lowered";
  }
  const meaning = err.type === "icmpv6" ? err.meaning : icmpErrorMeaning(err.type, err.code);
  if (meaning.hard && (tcb.state === State.SynSent || tcb.state === State.SynReceived)) {
    tcb.closeWith(meaning.errno);
    return "aborted";
  }
  tcb.softError = { error: meaning.errno, at: now };
  return "soft-error";
}

/**
 * The error a connection that timed out reports: the soft error of an ICMP
 * message, when nothing was heard from the peer after it; else ETIMEDOUT.
 */
export function timeoutError(tcb: Tcb): TcpError {
  const soft = tcb.softError;
  return soft !== undefined && tcb.lastHeard <= soft.at ? soft.error : "ETIMEDOUT";
}
