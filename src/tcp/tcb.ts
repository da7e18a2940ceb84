import { type Duration, type Instant, later, scale, ZERO } from "../clock/time.ts";
import { type Endpoint, familyOf, type IpFamily } from "../wire/addr.ts";
import { seqAdd, seqGt } from "../wire/seq.ts";
import { Flag, type TcpSegment } from "../wire/tcp-types.ts";
import { ByteQueue } from "./byte-queue.ts";
import { ChallengeAckLimiter, ConnectionChallengeLimit } from "./challenge.ts";
import { EventQueue, type EventSource, fire, TcbEvent } from "./events.ts";
import {
  type SoftError,
  type TcpIcmpError,
  type TcpIcmpVerdict,
  tcpIcmpError,
  timeoutError,
} from "./icmp-error.ts";
import { KeepAlive } from "./keepalive.ts";
import { type Negotiated, negotiate } from "./options.ts";
import { emit, MAX_WINDOW, output, sendSyn, updateRcvWnd } from "./output.ts";
import { PathMtu, pathMss, startPathMtu } from "./path-mtu.ts";
import { Reassembly } from "./reassembly.ts";
import { LossRecovery } from "./recovery.ts";
import { RttEstimator } from "./rtt.ts";
import { type SackBlock, SackReceiver } from "./sack-blocks.ts";
import { segmentArrives } from "./segment-arrival.ts";
import { SendBuffer } from "./send-buffer.ts";
import { defaultSendMss, headerBytes, settingsForFamily, type TcpSettings } from "./settings.ts";
import { State, type TcpError } from "./state.ts";
import { pollAt, type TimerName, timerList, timersDue } from "./timers.ts";
import { Timestamps, TS_OPTION_SPACE } from "./timestamps.ts";
import type { DrivenTcb, TcbEvents, TcbSendOptions } from "./view.ts";
import { MAX_WSCALE, maxWindow } from "./window-scale.ts";

export type { TimerName } from "./timers.ts";

export type { DrivenTcb, TcbEvents, TcbSendOptions, TcbView } from "./view.ts";

export interface TcbOptions {
  local: Endpoint;
  remote: Endpoint;
  /** Initial send sequence number, from the Host's IsnGenerator. */
  iss: number;
  settings: TcpSettings;
  now: Instant;
  events?: TcbEvents;
  /** RFC 5961 §7 limiter shared by the host's connections; a private one is made if absent. */
  challengeLimiter?: ChallengeAckLimiter;
  /** Told whenever the Tcb queues output or its deadlines may have moved (the Host). */
  owner?: TcbOwner;
  /** The first TSval, when not the settings' (Tcb.fromCookie). */
  tsStart?: number;
  /** A passive open's listener: whether its accept queue has room (see Tcb.admit). */
  admit?: () => boolean;
  /** Where events wait for delivery: the Host's, shared by its connections; else the Tcb's own. */
  eventQueue?: EventQueue;
}

/**
 * Whoever drives a Tcb (the Host) learns here which connections changed, so
 * it looks only at those: output queued, timers re-armed, state changed —
 * by a segment, a timer or a user call made outside the Host.
 */
export interface TcbOwner {
  touched(tcb: DrivenTcb): void;
}

/** Shared by every Tcb without events of its own (callers replace `events`, never mutate it). */
const NO_EVENTS: TcbEvents = Object.freeze({});
const NO_OBSERVERS: readonly TcbEvents[] = [];

/**
 * One connection's Transmission Control Block (RFC 9293 §3.3.1) and the
 * user calls on it (§3.10.1–§3.10.6). The RFC's steps live beside it:
 * segment arrival in segment-arrival.ts, the output routine in output.ts,
 * the timers in timers.ts; this class holds the variables, the buffers and
 * the deadlines. Sans-IO: time is always an argument, output segments are
 * collected for drainOutput() / takeOutput().
 *
 * Outside src/tcp a connection is a TcbView (view.ts): its variables
 * read-only, and the user calls; the Host drives it as a DrivenTcb, opened
 * through `openTcb`. Fields and methods marked "engine" are written by the
 * modules above.
 */
export class Tcb implements DrivenTcb, EventSource {
  readonly local: Endpoint;
  readonly remote: Endpoint;
  /** The connection's IP version, from its endpoints: it sizes segments (`settings.mss`, the default send MSS). */
  readonly family: IpFamily;
  /** The host's or listener's settings for this connection's family (`settingsForFamily`). */
  readonly settings: TcpSettings;
  /** Passive open (from a Listener): matters for RST/SYN in SYN-RECEIVED (§3.10.7.4). */
  readonly passive: boolean;
  state: State = State.Closed;
  events: TcbEvents;
  error: TcpError | undefined;

  // RFC 9293 §3.3.1 send sequence variables.
  iss: number;
  sndUna: number;
  sndNxt: number;
  sndWnd = 0;
  sndWl1 = 0;
  sndWl2 = 0;
  /** RFC 5961 §5.2 MAX.SND.WND: the largest window the peer has offered. */
  maxSndWnd = 0;
  /** Effective send MSS (§3.7.1): set from the peer's SYN. */
  sndMss: number;
  /** Largest segment we expect from the peer: "full-sized" for delayed ACKs. */
  rcvMss: number;
  /** The path MTU and what bounds the send MSS by it (path-mtu.ts, RFC 1191). */
  readonly pmtu: PathMtu;
  /** The last ICMP soft error, reported if the connection times out (icmp-error.ts). */
  softError: SoftError | undefined;

  // Receive sequence variables.
  irs = 0;
  rcvNxt = 0;
  rcvWnd: number;
  /** RCV.NXT + RCV.WND as last advertised: this right edge never moves left (§3.8.6.2.2). */
  rcvAdv = 0;

  // RFC 7323 §2.2 window scaling: Snd.Wind.Shift, Rcv.Wind.Shift (0 when not negotiated).
  sndWscale = 0;
  rcvWscale = 0;
  /** What the SYN exchange settled (set once the peer's SYN or SYN-ACK is seen). */
  negotiated: Negotiated | undefined;
  /** engine: RFC 7323 timestamps state (TS.Recent, Last.ACK.sent, our TSval clock). */
  readonly ts: Timestamps;
  /** engine: RFC 2018 / RFC 2883 receiver-side SACK reporting. */
  readonly sackRx: SackReceiver;
  /** engine: keep-alive and user-timeout state (keepalive.ts). */
  readonly keepAlive: KeepAlive;
  /** engine: time of the event being processed (TSval of segments emitted now). */
  now: Instant;

  /**
   * engine: the new SYN that ended TIME-WAIT (settings.timeWaitReopen); the
   * Host hands it to the listener as a new connection (RFC 1122 §4.2.2.13).
   */
  reopenedBy: TcpSegment | undefined;

  /**
   * engine: for a passive open, whether its listener's accept queue has room
   * (TcbOptions.admit, Listener.admit; let go once ESTABLISHED). Without room
   * the ACK that would complete the handshake is dropped and the TCB stays
   * in SYN-RECEIVED, as Linux does (tcp_abort_on_overflow off): our
   * SYN-ACK's retransmission brings the peer's ACK again later. The backlog
   * bounds the accept queue.
   */
  admit: (() => boolean) | undefined;

  /** Statistics: segments retransmitted (RTO, fast retransmit, recovery, SYN, probes repeated). */
  retransmissions = 0;
  /** Statistics: challenge ACKs this connection asked for (sent or suppressed). */
  challengeAcks = 0;
  /** Statistics: of those, suppressed by this connection's own limit. */
  challengeAcksLimited = 0;

  // engine: buffers
  readonly sendBuf: SendBuffer;
  readonly rcvQueue: ByteQueue;
  readonly reassembly: Reassembly;
  readonly rttEstimator: RttEstimator;
  readonly challengeLimiter: ChallengeAckLimiter;
  readonly ownChallengeLimit: ConnectionChallengeLimit;
  /** Congestion control and loss recovery (recovery.ts): cwnd, ssthresh, phase, pipe, SACK scoreboard, counters. */
  readonly congestion: LossRecovery;

  // engine: close state
  /** The user called CLOSE: a FIN follows the queued data. */
  finQueued = false;
  /** Sequence number of our FIN once sent. */
  finSeq: number | undefined;
  /** The peer's FIN has been received (RCV.NXT is past it). */
  finReceived = false;

  // engine: timers (deadlines, undefined = not running)
  rtxAt: Instant | undefined;
  persistAt: Instant | undefined;
  delayedAckAt: Instant | undefined;
  timeWaitAt: Instant | undefined;
  /** Consecutive retransmission-timer expiries without progress. */
  rtxCount = 0;
  persistInterval: Duration = ZERO;
  /** Zero-window probes sent since the peer last answered. */
  probesUnanswered = 0;
  /** The one RTT measurement in progress: ends when SEG.ACK ≥ end. */
  rttTiming: { end: number; at: Instant } | undefined;
  synRetransmitted = false;

  // engine: acknowledgment state
  /** An ACK must go out with the next output (immediately). */
  ackNow = false;
  /** In-order bytes received and not yet acknowledged. */
  ackPendingBytes = 0;
  /**
   * Segment text was queued: RCV.WND is brought up to date (updateRcvWnd)
   * once the segment's events are delivered — after what a reader took from
   * the buffer — or before any segment is formed (output.ts).
   */
  rcvWndStale = false;

  // engine: output (output.ts)
  /** TCP_NODELAY: Nagle's algorithm off. */
  noDelay: boolean;
  /** Segments queued for the driver (drainOutput, takeOutput). */
  segmentsOut: TcpSegment[] = [];
  /** Some queued output's payload is a view into the send buffer (see drainOutput). */
  outputViews = false;
  readonly owner: TcbOwner | undefined;
  /** engine: events raised wait here until the work that raised them is done (events.ts). */
  readonly eventQueue: EventQueue;
  /** The output routine waits in eventQueue (TcbEvent.Output). */
  private outputQueued = false;
  /** Replaced, never changed in place: a delivery running over it is not disturbed by (un)observe. */
  private observers: readonly TcbEvents[] = NO_OBSERVERS;

  private constructor(opts: TcbOptions, passive: boolean) {
    this.owner = opts.owner;
    this.eventQueue = opts.eventQueue ?? new EventQueue();
    this.admit = opts.admit;
    this.local = opts.local;
    this.remote = opts.remote;
    this.family = familyOf(opts.remote);
    this.settings = settingsForFamily(opts.settings, this.family);
    this.passive = passive;
    this.events = opts.events ?? NO_EVENTS;
    this.iss = opts.iss >>> 0;
    this.sndUna = this.iss;
    this.sndNxt = this.iss;
    this.sndMss = Math.min(this.settings.mss, defaultSendMss(this.family));
    this.rcvMss = this.sndMss;
    this.pmtu = new PathMtu(this.settings.mss + headerBytes(this.family));
    this.rcvWnd = Math.min(opts.settings.rcvBuf, MAX_WINDOW);
    this.noDelay = !opts.settings.nagle;
    this.sendBuf = new SendBuffer(opts.settings.sndBuf, seqAdd(this.iss, 1));
    // With window scaling on offer the buffer may exceed 65535; the window
    // stays within 65535 unless scaling is negotiated (updateRcvWnd).
    const rcvCap = opts.settings.windowScaling ? maxWindow(MAX_WSCALE) : MAX_WINDOW;
    this.rcvQueue = new ByteQueue(Math.min(opts.settings.rcvBuf, rcvCap));
    // Out-of-order data may fill what the window offers: by default the bound
    // is the receive buffer (a 64 KiB bound under a 1 MiB window would drop
    // everything past it behind one hole).
    this.reassembly = new Reassembly(
      opts.settings.oooLimit ?? this.rcvQueue.capacity,
      opts.settings.oooHoleLimit,
    );
    const s = opts.settings;
    this.rttEstimator = new RttEstimator(s.initialRto, s.minRto, s.maxRto);
    this.challengeLimiter = opts.challengeLimiter ?? new ChallengeAckLimiter(s.challengeAckLimit);
    this.ownChallengeLimit = new ConnectionChallengeLimit(
      s.challengeAckPerConnection,
      s.challengeAckInterval,
    );
    this.congestion = new LossRecovery(this);
    this.now = opts.now;
    this.ts = new Timestamps(s, this.iss, opts.now, opts.tsStart);
    this.sackRx = new SackReceiver();
    this.keepAlive = new KeepAlive(s, opts.now);
  }

  /** Active OPEN (RFC 9293 §3.10.1): SYN-SENT, with the SYN queued for output. */
  static connect(opts: TcbOptions): Tcb {
    const tcb = new Tcb(opts, false);
    tcb.setState(State.SynSent);
    sendSyn(tcb, opts.now);
    tcb.eventQueue.deliver();
    return tcb;
  }

  /**
   * Passive open completing LISTEN processing of a SYN (§3.10.7.2): SYN-RECEIVED
   * with a SYN-ACK queued. Text and FIN on the SYN are not queued: they are
   * left unacknowledged, so the peer sends them again once synchronized.
   */
  static accept(opts: TcbOptions & { syn: TcpSegment }): Tcb {
    const tcb = Tcb.synReceived(opts, opts.syn);
    sendSyn(tcb, opts.now);
    tcb.eventQueue.deliver();
    return tcb;
  }

  /**
   * A connection whose SYN-ACK went out with a SYN cookie (syn-cookie.ts)
   * and no TCB: SYN-RECEIVED as if it had sent that SYN-ACK, rebuilt from
   * the SYN the cookie stands for; the ACK that returned the cookie is then
   * input as usual. `tsEcr`, that ACK's TSecr, is the SYN-ACK's TSval: our
   * clock continues above it (RFC 7323 §5.4: monotonic), and the echo is not
   * an RTT sample (when the SYN-ACK left is not known).
   */
  static fromCookie(opts: TcbOptions & { syn: TcpSegment; tsEcr: number | undefined }): Tcb {
    const tsStart = opts.tsEcr === undefined ? undefined : (opts.tsEcr + 1) >>> 0;
    const tcb = Tcb.synReceived(
      { ...opts, ...(tsStart !== undefined ? { tsStart } : {}) },
      opts.syn,
    );
    sendSyn(tcb, opts.now, false);
    // What our SYN-ACK acknowledged: TS.Recent follows segments up to it (RFC 7323 §4.3).
    tcb.ts.lastAckSent = tcb.rcvNxt;
    tcb.eventQueue.deliver();
    return tcb;
  }

  /** LISTEN processing of `syn` (§3.10.7.2) up to SYN-RECEIVED, before the SYN-ACK. */
  private static synReceived(opts: TcbOptions, syn: TcpSegment): Tcb {
    const tcb = new Tcb(opts, true);
    tcb.state = State.Listen;
    tcb.irs = syn.seq;
    tcb.rcvNxt = seqAdd(syn.seq, 1);
    tcb.rcvAdv = seqAdd(tcb.rcvNxt, tcb.rcvWnd);
    tcb.applyNegotiation(syn, opts.now);
    tcb.sndWnd = syn.window;
    tcb.maxSndWnd = syn.window;
    tcb.sndWl1 = syn.seq;
    tcb.sndWl2 = tcb.iss;
    tcb.setState(State.SynReceived);
    return tcb;
  }

  // ---- RFC 9293 §3.3.1 views --------------------------------------------

  get rto(): Duration {
    return this.rttEstimator.rto;
  }
  get srtt(): Duration | undefined {
    return this.rttEstimator.srtt;
  }
  get rttvar(): Duration | undefined {
    return this.rttEstimator.rttvar;
  }
  /** RFC 7323 timestamps negotiated. */
  get tsEnabled(): boolean {
    return this.ts.enabled;
  }
  /** TS.Recent: the peer's TSval we echo (RFC 7323 §4.3). */
  get tsRecent(): number {
    return this.ts.tsRecent;
  }
  /** RFC 2018 SACK-permitted negotiated. */
  get sackEnabled(): boolean {
    return this.sackRx.enabled;
  }
  /** The SACK blocks of the last ACK sent ([left, right) pairs; D-SACK first when there was one). */
  get lastSackBlocks(): readonly SackBlock[] {
    return this.sackRx.lastSent;
  }
  /** Data bytes per full segment: the MSS less the timestamps option (RFC 6691, RFC 9293 §3.7.1). */
  get effSndMss(): number {
    return Math.max(1, this.sndMss - (this.ts.enabled ? TS_OPTION_SPACE : 0));
  }
  /**
   * The length of a full new segment: the effective MSS, bounded by half the
   * largest window the peer has offered (MAX.SND.WND; all of it if ≤ 536,
   * the default MSS). A peer whose window holds less than two segments would
   * otherwise get one at a time and sit on each until its delayed-ACK timer
   * fires (RFC 9293 §3.8.6.3 lets it wait for a second): the classic case is
   * a 64 KiB MTU without window scaling, a 65495-byte MSS against a 65535-byte
   * window. Two half-window segments keep the ACK clock going (Linux's
   * tcp_bound_to_half_wnd). settings.boundToHalfWindow turns it off.
   */
  get sndSegmentSize(): number {
    const mss = this.effSndMss;
    const max = this.maxSndWnd;
    if (!this.settings.boundToHalfWindow || max <= 0) return mss;
    const bound = max > 536 ? Math.floor(max / 2) : max;
    // A floor like Linux's (68 bytes of IP datagram): never dribble single bytes.
    return Math.max(Math.min(mss, bound), Math.min(mss, 48));
  }
  /** When a segment last came from the peer (the start of the idle time, RFC 1122 §4.2.3.6). */
  get lastHeard(): Instant {
    return this.keepAlive.since;
  }
  get recvAvailable(): number {
    return this.rcvQueue.length;
  }
  /** FIN received and every byte before it read: end of stream. */
  get peerClosed(): boolean {
    return this.finReceived && this.rcvQueue.length === 0;
  }
  get sendSpace(): number {
    return this.acceptsWrites() ? this.sendBuf.bytes.free : 0;
  }
  get sendQueued(): number {
    return this.sendBuf.bytes.length;
  }

  // ---- user calls (RFC 9293 §3.10) --------------------------------------

  /**
   * RFC 9293 §3.10.7: a segment arrives. LISTEN and CLOSED belong to the
   * Listener / resetFor. The events it raises (writable once SND.UNA moves,
   * readable …) are delivered after the segment, then its output routine
   * runs (events.ts): a write from a callback sees SND.WND updated too
   * (fifth step), so it cannot overrun the peer's right edge with the new
   * SND.UNA and the old window; a read from one opens the window the ACK
   * then carries. A driver holding delivery (the Host) has both done at the
   * end of its own work.
   */
  input(seg: TcpSegment, now: Instant): void {
    if (this.state === State.Closed || this.state === State.Listen) return;
    this.now = now;
    segmentArrives(this, seg, now);
    this.outputAfterEvents();
    this.eventQueue.deliver();
  }

  /**
   * An ICMP error the host matched to this connection by its quote (RFC
   * 9293 §3.9.2.2; icmp-error.ts says what it does). As for a segment, the
   * events it raises are delivered first, then the output routine runs: the
   * data a "fragmentation needed" refused goes again at once.
   */
  icmpError(err: TcpIcmpError, now: Instant): TcpIcmpVerdict {
    this.now = now;
    const verdict = tcpIcmpError(this, err, now);
    this.outputAfterEvents();
    this.eventQueue.deliver();
    return verdict;
  }

  /** The path MTU the host knows for the peer (RFC 1191 §6.5), given when the connection opens. */
  knownPathMtu(mtu: number, clamped: boolean, agesAt: Instant): void {
    startPathMtu(this, mtu, clamped, agesAt);
  }

  /**
   * SEND (§3.10.2): bytes accepted into the send buffer (0 when full).
   * `opts.immutable`: the caller never writes to `data` again, so the buffer
   * may keep it as it is, without a copy. `opts.close`: CLOSE follows once
   * every byte is taken, before any segment is formed, so the FIN rides on
   * the last data segment (§3.10.4; BSD's MSG_EOF) instead of following it
   * alone.
   */
  send(data: Uint8Array, now: Instant, opts?: TcbSendOptions): number | TcpError {
    if (this.error !== undefined) return this.error;
    if (!this.acceptsWrites()) return "EPIPE";
    const n = this.sendBuf.bytes.push(data, opts?.immutable === true);
    if (opts?.close === true && n === data.length) {
      this.close(now); // runs the output routine
      return n;
    }
    this.outputNow(now);
    return n;
  }

  /** RECEIVE (§3.10.3): in-order bytes; reading may open the window (window update). */
  recv(max: number, now: Instant): Uint8Array {
    const data = this.rcvQueue.take(max);
    if (data.length > 0 && updateRcvWnd(this) && this.peerMaySend()) {
      // §3.8.6.2.2: the window opened by a significant amount — tell the peer.
      this.ackNow = true;
      this.outputNow(now);
    }
    return data;
  }

  peek(max: number): Uint8Array {
    return this.rcvQueue.peek(0, max);
  }

  /**
   * CLOSE (§3.10.4): "I have no more to send". A FIN follows the queued data;
   * receiving continues (half-close). In SYN-SENT the connection just ends.
   */
  close(now: Instant): void {
    switch (this.state) {
      case State.SynSent:
        this.closeWith(undefined);
        this.eventQueue.deliver();
        return;
      case State.SynReceived:
        this.finQueued = true;
        // §3.10.4: with nothing queued, FIN now and FIN-WAIT-1; else after ESTABLISHED.
        if (this.sendBuf.bytes.length === 0) this.setState(State.FinWait1);
        break;
      case State.Established:
        this.finQueued = true;
        this.setState(State.FinWait1);
        break;
      case State.CloseWait:
        this.finQueued = true;
        this.setState(State.LastAck);
        break;
      default:
        return; // already closing, or closed
    }
    this.outputNow(now);
  }

  /** ABORT (§3.10.5): RST if synchronized, then CLOSED with ECONNABORTED. */
  abort(now: Instant): void {
    this.now = now;
    switch (this.state) {
      case State.SynReceived:
      case State.Established:
      case State.FinWait1:
      case State.FinWait2:
      case State.CloseWait:
        emit(this, this.sndNxt, Flag.RST);
        break;
      case State.Closed:
        return;
      default:
        break; // SYN-SENT, CLOSING, LAST-ACK, TIME-WAIT: just delete the TCB
    }
    this.closeWith("ECONNABORTED");
    this.eventQueue.deliver();
  }

  /** TCP_NODELAY: true turns Nagle's algorithm off (RFC 9293 §3.7.4). */
  setNoDelay(on: boolean, now?: Instant): void {
    this.noDelay = on;
    if (now !== undefined) this.outputNow(now);
  }

  /** SO_KEEPALIVE (RFC 1122 §4.2.3.6): on or off for this connection. */
  setKeepAlive(on: boolean, now?: Instant): void {
    this.keepAlive.on = on;
    if (now !== undefined) this.keepAlive.since = now;
    this.owner?.touched(this); // the keep-alive deadline joins or leaves the owner's timers
  }

  /** Earliest pending deadline of the timers (timers.ts). */
  pollAt(): Instant | undefined {
    return pollAt(this);
  }

  timers(): { name: TimerName; deadline: Instant }[] {
    return timerList(this);
  }

  /**
   * Runs every timer due at `now`, then the output routine, then delivers the
   * events. Unlike input(), output comes first: the timers that raise events
   * (user timeout, retries exhausted, TIME-WAIT's end) close the connection,
   * so no output follows them and there is nothing to answer in one segment.
   */
  onTimer(now: Instant): void {
    const sendData = timersDue(this, now);
    if (sendData !== undefined) output(this, now, sendData);
    this.eventQueue.deliver();
  }

  /** The segments queued for output, oldest first; each owns its payload bytes. */
  takeOutput(): TcpSegment[] {
    if (this.outputViews) this.copyOutputPayloads();
    const out = this.segmentsOut;
    this.segmentsOut = [];
    return out;
  }

  /**
   * Hands each queued segment to `send` and empties the queue. A payload may
   * be a view into the send buffer, valid only during the call: `send` must
   * copy it (the host writes it into the packet) — one copy instead of two.
   */
  drainOutput(send: (seg: TcpSegment) => void): void {
    const out = this.segmentsOut;
    if (out.length === 0) return;
    this.segmentsOut = [];
    this.outputViews = false;
    for (let i = 0; i < out.length; i++) send(out[i] as TcpSegment);
  }

  private copyOutputPayloads(): void {
    const out = this.segmentsOut;
    for (let i = 0; i < out.length; i++) {
      const seg = out[i] as TcpSegment;
      if (seg.payload.length > 0) out[i] = { ...seg, payload: seg.payload.slice() };
    }
    this.outputViews = false;
  }

  /** Extra listeners besides `events` (the Listener uses this to track its connections). */
  observe(events: TcbEvents): () => void {
    if (!this.observers.includes(events)) this.observers = [...this.observers, events];
    return () => this.unobserve(events);
  }

  unobserve(events: TcbEvents): void {
    if (this.observers.includes(events))
      this.observers = this.observers.filter((o) => o !== events);
  }

  // ---- engine: state and events -----------------------------------------

  setState(to: State): void {
    const from = this.state;
    if (from === to) return;
    this.state = to;
    if (to === State.Established) {
      // RFC 5681 §3.1: the congestion window starts with the connection (SMSS is known now).
      this.congestion.start();
      this.admit = undefined; // past the listener's accept queue check
    }
    const q = this.eventQueue;
    q.raise(this, TcbEvent.StateChanged, from, to);
    if (to === State.Established) q.raise(this, TcbEvent.Established);
    if (to === State.Closed) q.raise(this, TcbEvent.Closed, from, to, this.error);
  }

  /**
   * The output routine after a user call: now, then the call's events — or,
   * when the call comes from a callback (events being delivered), once after
   * the events still waiting, with whatever else the callbacks do: a send
   * and a close from one callback leave in one segment, and the segment
   * that raised the events is answered once.
   */
  private outputNow(now: Instant): void {
    this.now = now;
    if (this.eventQueue.busy) {
      this.outputAfterEvents();
      return;
    }
    output(this, now);
    this.eventQueue.deliver();
  }

  /** Queues the output routine behind the events raised so far (once). */
  private outputAfterEvents(): void {
    if (this.outputQueued) return;
    this.outputQueued = true;
    this.eventQueue.raise(this, TcbEvent.Output);
  }

  /** engine: raises `kind` (readable, writable) for delivery after the work at hand. */
  raise(kind: TcbEvent.Readable | TcbEvent.Writable): void {
    this.eventQueue.raise(this, kind);
  }

  /** engine (events.ts): one event, to `events` and the observers as they are now. */
  deliverEvent(kind: TcbEvent, from: State, to: State, error: TcpError | undefined): void {
    if (kind === TcbEvent.Output) {
      this.outputQueued = false;
      output(this, this.now);
      return;
    }
    fire(this.events, this, kind, from, to, error);
    const observers = this.observers;
    for (let i = 0; i < observers.length; i++) {
      fire(observers[i] as TcbEvents, this, kind, from, to, error);
    }
  }

  /** Enters CLOSED ("delete the TCB"): timers stop, queues flush on error. */
  closeWith(error: TcpError | undefined): void {
    if (this.state === State.Closed) return;
    // RFC 1122 §4.2.3.9: a timeout reports the ICMP soft error that explains it.
    this.error = error === "ETIMEDOUT" ? timeoutError(this) : error;
    this.rtxAt = this.persistAt = this.delayedAckAt = this.timeWaitAt = undefined;
    this.ackNow = false;
    this.sendBuf.inFlight.length = 0;
    this.sendBuf.bytes.clear();
    this.reassembly.clear();
    if (error !== undefined) this.rcvQueue.clear();
    this.setState(State.Closed);
    this.owner?.touched(this);
  }

  /** RFC 9293 §3.10.7.4 eighth step / §3.10.8: TIME-WAIT for 2×MSL, (re)started. */
  enterTimeWait(now: Instant): void {
    this.setState(State.TimeWait);
    this.rtxAt = this.persistAt = this.delayedAckAt = undefined;
    this.timeWaitAt = later(now, scale(this.settings.msl, 2));
    this.owner?.touched(this);
  }

  /**
   * Applies what the peer's SYN (or SYN-ACK) options mean: MSS, window scale
   * (RFC 7323 §2.2), timestamps (§3.2, TS.Recent from the SYN) and
   * SACK-permitted (RFC 2018 §2) — each on only if both SYNs carried it.
   */
  applyNegotiation(syn: TcpSegment, now: Instant): void {
    const n = negotiate(syn.options, this.settings, !this.passive, this.family);
    this.negotiated = n;
    this.sndMss = pathMss(this); // n.sndMss, within the path MTU
    this.sndWscale = n.wscale?.snd ?? 0;
    this.rcvWscale = n.wscale?.rcv ?? 0;
    this.ts.enabled = n.timestamps;
    if (n.timestamps) this.ts.fromSyn(syn, now);
    this.sackRx.enabled = n.sack;
    this.sackRx.dsack = n.sack && this.settings.dsack;
    if (!this.passive) this.roundRcvBuf();
    // "Full-sized" for delayed ACKs: the peer's segments carry timestamps too.
    this.rcvMss = this.effSndMss;
  }

  /**
   * engine: settings.rcvBufRounding "mss" — the receive buffer becomes a whole
   * number of segments once the connection exists (FreeBSD's tcp_mss(): at
   * the SYN-ACK of an active open, at ESTABLISHED of a passive one, whose
   * SYN-RECEIVED lives in the syncache with the advertised window only).
   */
  roundRcvBuf(): void {
    const s = this.settings;
    if (s.rcvBufRounding !== "mss" || s.rcvBuf <= this.sndMss) return;
    const rounded = Math.ceil(s.rcvBuf / this.sndMss) * this.sndMss;
    this.rcvQueue.grow(Math.min(rounded, s.windowScaling ? maxWindow(MAX_WSCALE) : MAX_WINDOW));
    if (s.oooLimit === undefined) this.reassembly.limit = this.rcvQueue.capacity;
  }

  get ourFinAcked(): boolean {
    return this.finSeq !== undefined && seqGt(this.sndUna, this.finSeq);
  }

  /**
   * The receive window the sequence check and text trimming use: RCV.WND, or
   * (settings.seqCheckWindow "buffer") the free buffer space when larger.
   */
  get checkWindow(): number {
    if (this.settings.seqCheckWindow === "advertised") return this.rcvWnd;
    // A passive open in SYN-RECEIVED is FreeBSD's syncache entry: it knows
    // only the window its SYN-ACK advertised.
    if (this.passive && this.state === State.SynReceived) return this.rcvWnd;
    return Math.max(this.rcvWnd, this.rcvQueue.free);
  }

  private acceptsWrites(): boolean {
    if (this.finQueued || this.error !== undefined) return false;
    return (
      this.state === State.SynSent ||
      this.state === State.SynReceived ||
      this.state === State.Established ||
      this.state === State.CloseWait
    );
  }

  /** The peer may still send us data: window updates matter. */
  private peerMaySend(): boolean {
    return (
      this.state === State.Established ||
      this.state === State.FinWait1 ||
      this.state === State.FinWait2 ||
      this.state === State.SynReceived
    );
  }
}

/**
 * The opens for a driver outside src/tcp (the Host). Each returns the TCB as
 * a DrivenTcb: its state can be read, the user calls and the lower-level
 * interface used, but only src/tcp writes its variables.
 */
export const openTcb: {
  /** Active OPEN (§3.10.1). */
  connect(opts: TcbOptions): DrivenTcb;
  /** LISTEN processing of a SYN (§3.10.7.2): SYN-RECEIVED with a SYN-ACK queued. */
  accept(opts: TcbOptions & { syn: TcpSegment }): DrivenTcb;
  /** A SYN cookie's connection (syn-cookie.ts). */
  fromCookie(opts: TcbOptions & { syn: TcpSegment; tsEcr: number | undefined }): DrivenTcb;
} = Tcb;
