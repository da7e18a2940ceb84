import type { Duration, Instant } from "../clock/time.ts";
import type { Endpoint } from "../wire/addr.ts";
import type { TcpSegment } from "../wire/tcp-types.ts";
import type { CongestionControlName, CongestionPhase } from "./congestion/index.ts";
import type { SoftError, TcpIcmpError, TcpIcmpVerdict } from "./icmp-error.ts";
import type { Negotiated } from "./options.ts";
import type { PathMtuView } from "./path-mtu.ts";
import type { CongestionStats } from "./recovery.ts";
import type { SackBlock } from "./sack-blocks.ts";
import type { TcpSettings } from "./settings.ts";
import type { State, TcpError } from "./state.ts";
import type { TimerName } from "./timers.ts";

/** How `Tcb.send` takes its bytes. */
export interface TcbSendOptions {
  /** The caller never writes to the bytes again: they may be queued without a copy. */
  readonly immutable?: boolean;
  /** Close after the last byte (a FIN with it). */
  readonly close?: boolean;
}

/**
 * What a connection raises for its user. Delivered after the segment, timer
 * or call that caused them has been processed (events.ts), never midway.
 */
export interface TcbEvents {
  stateChanged?(tcb: TcbView, from: State, to: State): void;
  /** In-order data or the peer's FIN became available to recv(). */
  readable?(tcb: TcbView): void;
  /** Send-buffer space was freed (after ACKs). */
  writable?(tcb: TcbView): void;
  /** Reached ESTABLISHED (either open). */
  established?(tcb: TcbView): void;
  /** Reached CLOSED: normally after TIME-WAIT / LAST-ACK, or on reset, timeout or abort (error set). */
  closed?(tcb: TcbView, error: TcpError | undefined): void;
}

/** Congestion control and loss recovery as the lab reads them (recovery.ts). */
export interface CongestionView {
  readonly name: CongestionControlName;
  readonly cwnd: number;
  readonly ssthresh: number;
  readonly phase: CongestionPhase;
  /** RFC 5681 FlightSize: SND.NXT − SND.UNA. */
  readonly flightSize: number;
  /** RFC 6675 pipe. */
  readonly pipe: number;
  /** SACKed ranges [start, end) above SND.UNA. */
  readonly sackedRanges: ReadonlyArray<readonly [number, number]>;
  /** Consecutive duplicate ACKs. */
  readonly dupAcks: number;
  /** RFC 6582 `recover` / RFC 6675 RecoveryPoint: SND.NXT when the last recovery began. */
  readonly recoveryPoint: number;
  /** SACK negotiated: RFC 6675 recovery, else NewReno. */
  readonly sack: boolean;
  readonly stats: Readonly<CongestionStats>;
}

/** Out-of-order data held for reassembly (reassembly.ts). */
export interface ReassemblyView {
  /** Bytes held. */
  readonly bytes: number;
  /** Runs held: the holes between them and RCV.NXT. */
  readonly holes: number;
  /** The bound on bytes held. */
  readonly limit: number;
  /** Segments dropped for the bound on holes. */
  readonly holeLimitDrops: number;
  /** The runs held, [start, end) in sequence numbers. */
  ranges(): Array<readonly [number, number]>;
}

/** Keep-alive as the socket options and the lab read it (keepalive.ts). */
export interface KeepAliveView {
  /** SO_KEEPALIVE. */
  readonly on: boolean;
  /** Probes sent since the peer was last heard from. */
  readonly probes: number;
}

/**
 * One connection as everything outside src/tcp sees it: the TCB's variables
 * read-only, under their RFC 9293 §3.3.1 names (SND.UNA is `sndUna`, RCV.WND
 * `rcvWnd` …), its statistics, and the user calls of §3.10. Only src/tcp
 * writes the state: the segment-arrival steps, the output routine and the
 * timers.
 */
export interface TcbView {
  readonly local: Endpoint;
  readonly remote: Endpoint;
  readonly settings: TcpSettings;
  /** Passive open (from a listener). */
  readonly passive: boolean;
  readonly state: State;
  /** Why the connection ended, once CLOSED by a reset, a timeout or an abort. */
  readonly error: TcpError | undefined;

  // RFC 9293 §3.3.1 send sequence variables.
  readonly iss: number;
  readonly sndUna: number;
  readonly sndNxt: number;
  readonly sndWnd: number;
  readonly sndWl1: number;
  readonly sndWl2: number;
  /** RFC 5961 §5.2 MAX.SND.WND: the largest window the peer has offered. */
  readonly maxSndWnd: number;
  /** The send MSS (§3.7.1), from the peer's SYN. */
  readonly sndMss: number;
  /** The send MSS less the timestamps option: data bytes per full segment (RFC 6691). */
  readonly effSndMss: number;
  /** The length of a full new segment (the effective MSS, bounded by half MAX.SND.WND). */
  readonly sndSegmentSize: number;
  /** Largest segment expected from the peer ("full-sized" for delayed ACKs). */
  readonly rcvMss: number;

  // RFC 9293 §3.3.1 receive sequence variables.
  readonly irs: number;
  readonly rcvNxt: number;
  readonly rcvWnd: number;
  /** RCV.NXT + RCV.WND as last advertised: the right edge, never moved left (§3.8.6.2.2). */
  readonly rcvAdv: number;

  // RFC 7323 and RFC 2018, as the SYNs settled them.
  readonly negotiated: Negotiated | undefined;
  /** Snd.Wind.Shift and Rcv.Wind.Shift (RFC 7323 §2.2; 0 when not negotiated). */
  readonly sndWscale: number;
  readonly rcvWscale: number;
  readonly tsEnabled: boolean;
  /** TS.Recent (RFC 7323 §4.3). */
  readonly tsRecent: number;
  readonly sackEnabled: boolean;
  /** The SACK blocks of the last ACK sent. */
  readonly lastSackBlocks: readonly SackBlock[];

  // RFC 6298 estimator.
  readonly rto: Duration;
  readonly srtt: Duration | undefined;
  readonly rttvar: Duration | undefined;

  // Closing.
  /** The user called CLOSE: a FIN follows the queued data. */
  readonly finQueued: boolean;
  /** The peer's FIN has been received. */
  readonly finReceived: boolean;
  /** FIN received and every byte before it read: end of stream. */
  readonly peerClosed: boolean;

  // Buffers.
  /** In-order bytes waiting for recv(). */
  readonly recvAvailable: number;
  /** Room for send() now (0 once writes are refused). */
  readonly sendSpace: number;
  /** Bytes written and not yet acknowledged. */
  readonly sendQueued: number;
  readonly reassembly: ReassemblyView;
  readonly congestion: CongestionView;

  readonly keepAlive: KeepAliveView;
  /** What the connection knows of its path (RFC 1191; path-mtu.ts). */
  readonly pmtu: PathMtuView;
  /** The last ICMP soft error: what a timeout will report (RFC 1122 §4.2.3.9). */
  readonly softError: SoftError | undefined;
  /** When a segment last came from the peer (the start of the idle time, RFC 1122 §4.2.3.6). */
  readonly lastHeard: Instant;

  // Statistics.
  /** Segments retransmitted (RTO, fast retransmit, recovery, SYN, probes repeated). */
  readonly retransmissions: number;
  /** Challenge ACKs asked for (RFC 5961 §7), and those this connection's own limit suppressed. */
  readonly challengeAcks: number;
  readonly challengeAcksLimited: number;

  /** The running timers and their deadlines. */
  timers(): { name: TimerName; deadline: Instant }[];
  /** The earliest of those deadlines. */
  pollAt(): Instant | undefined;

  // User calls (RFC 9293 §3.10).
  /** SEND: bytes accepted into the send buffer (0 when full), or why not. */
  send(data: Uint8Array, now: Instant, opts?: TcbSendOptions): number | TcpError;
  /** RECEIVE: in-order bytes (reading may open the window). */
  recv(max: number, now: Instant): Uint8Array;
  peek(max: number): Uint8Array;
  /** CLOSE: a FIN follows the queued data. */
  close(now: Instant): void;
  /** ABORT: RST if synchronized, then CLOSED. */
  abort(now: Instant): void;
  /** TCP_NODELAY. */
  setNoDelay(on: boolean, now?: Instant): void;
  /** SO_KEEPALIVE. */
  setKeepAlive(on: boolean, now?: Instant): void;
  /** Listens to this connection's events besides its own `events`; returns the way to stop. */
  observe(events: TcbEvents): () => void;
  unobserve(events: TcbEvents): void;
}

/**
 * A TcbView and the lower-level interface (RFC 9293 §3.9.2) its driver, the
 * Host, calls: segments arrive, timers fire, segments leave.
 */
export interface DrivenTcb extends TcbView {
  /** SEGMENT ARRIVES (§3.10.7) for this connection. */
  input(seg: TcpSegment, now: Instant): void;
  /** Runs the timers due at `now`. */
  onTimer(now: Instant): void;
  /** Hands each queued segment to `send` (a payload is valid only during the call). */
  drainOutput(send: (seg: TcpSegment) => void): void;
  /** The queued segments, each owning its payload (tests and tools). */
  takeOutput(): TcpSegment[];
  /** Deletes the TCB (§3.10.7, §3.10.8): the driver's own reasons (TIME-WAIT reaped, a cookie's handshake not completed). */
  closeWith(error: TcpError | undefined): void;
  /** The new SYN that ended TIME-WAIT, for the listener (RFC 1122 §4.2.2.13). */
  readonly reopenedBy: TcpSegment | undefined;
  /** An ICMP error the driver matched to this connection by its quote (RFC 9293 §3.9.2.2). */
  icmpError(err: TcpIcmpError, now: Instant): TcpIcmpVerdict;
  /** The path MTU the driver knows for the peer, when the connection opens (RFC 1191 §6.5). */
  knownPathMtu(mtu: number, clamped: boolean, agesAt: Instant): void;
}
