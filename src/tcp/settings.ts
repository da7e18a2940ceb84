import { type Duration, ms } from "../clock/time.ts";
import type { IpFamily } from "../wire/addr.ts";
import type { CongestionControlName } from "./congestion/controller.ts";

/** Durations in settings are written `ms(…)`; presets take it from here, so they import nothing outside src/tcp. */
export { ms };

/**
 * Everything about TCP behaviour that a host, a lab or a personality may
 * choose, in one place: the SYN options (window scaling, timestamps, SACK and
 * their layout), keep-alive and the user timeout are switched here too.
 */
export interface TcpSettings {
  /**
   * MSS we advertise on our SYN over IPv4 (RFC 9293 §3.7.1); the host derives
   * it from the MTU (`mssForMtu`). An IPv6 connection uses 20 bytes less
   * (`settingsForFamily`).
   */
  readonly mss: number;
  /** Send buffer size in bytes. */
  readonly sndBuf: number;
  /** Receive buffer size in bytes; also bounds the advertised window (≤ 65535 unless window scaling is negotiated). */
  readonly rcvBuf: number;
  /** RFC 6298 §2.1: RTO before any RTT sample. */
  readonly initialRto: Duration;
  /** RFC 6298 §2.4: lower bound of the RTO. */
  readonly minRto: Duration;
  /** RFC 6298 §2.5: upper bound of the RTO. */
  readonly maxRto: Duration;
  /** Retransmissions of a SYN or SYN-ACK before giving up with ETIMEDOUT. */
  readonly synRetries: number;
  /** Retransmissions of data or FIN before giving up with ETIMEDOUT. */
  readonly maxRetransmissions: number;
  /** Maximum segment lifetime; TIME-WAIT lasts 2×MSL (RFC 9293 §3.4.2). */
  readonly msl: Duration;
  /** Delayed-ACK timeout (RFC 9293 §3.8.6.3, at most 500 ms; RFC 1122 says 200 is usual). 0 turns delayed ACKs off. */
  readonly delayedAck: Duration;
  /** Nagle's algorithm (RFC 9293 §3.7.4); false is TCP_NODELAY. */
  readonly nagle: boolean;
  /**
   * RFC 5961 blind-attack mitigations, all three (challenge ACKs for RST and
   * SYN, ACK range check). false turns every one off; true leaves each to
   * its own switch below.
   */
  readonly rfc5961: boolean;
  /** RFC 5961 §3.2: a RST in the window but not at RCV.NXT gets a challenge ACK (off: it resets, RFC 793). FreeBSD's net.inet.tcp.insecure_rst=1 turns it off. */
  readonly rfc5961Rst: boolean;
  /** RFC 5961 §4.2: a SYN in a synchronized state gets a challenge ACK (off: an in-window SYN resets, RFC 793). FreeBSD's net.inet.tcp.insecure_syn=1 turns it off. */
  readonly rfc5961Syn: boolean;
  /** RFC 5961 §5.2: an ACK below SND.UNA − MAX.SND.WND gets a challenge ACK and is dropped. */
  readonly rfc5961Ack: boolean;
  /**
   * RFC 5961 §7: challenge ACKs per second per host (on average when
   * challengeAckRandom). 0 turns the host-wide limit off.
   */
  readonly challengeAckLimit: number;
  /**
   * Each second's host-wide budget is drawn at random from [limit/2,
   * 3·limit/2) (Linux after CVE-2016-5696): with a fixed budget an off-path
   * attacker counts how many a victim's connection spent (RFC 5961 §10).
   * false: exactly challengeAckLimit a second, as RFC 5961 §7 reads.
   */
  readonly challengeAckRandom: boolean;
  /**
   * At most this many challenge ACKs per challengeAckInterval per
   * connection, before the host-wide budget is touched (Linux's
   * tcp_invalid_ratelimit: 1 per 500 ms; FreeBSD's ack_war: 5 per 1000 ms):
   * what one connection spends then says nothing about the others. 0: no
   * limit per connection.
   */
  readonly challengeAckPerConnection: number;
  /** The period of challengeAckPerConnection. */
  readonly challengeAckInterval: Duration;
  /**
   * The reset that answers an in-window SYN in a synchronized state when
   * RFC 5961 §4 is off (RFC 9293 §3.10.7.4 fourth step, RFC 793 behaviour:
   * "send a reset", form unspecified). "segment": formed from the SYN like
   * a closed port's reply (§3.10.7.1), <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>,
   * which a restarted peer in SYN-SENT accepts. "connection": from the
   * connection's own state, <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>, which a
   * synchronized peer accepts (4.4BSD's tcp_drop, FreeBSD).
   */
  readonly synResetForm: "segment" | "connection";
  /**
   * RFC 9293 §3.10.7.4 second step: a RST in CLOSING or LAST-ACK "enter[s] the
   * CLOSED state" with no signal to the user (false). FreeBSD and Linux report
   * ECONNRESET to the socket (true).
   */
  readonly rstErrorWhenClosing: boolean;
  /**
   * A segment entirely below RCV.NXT (an old duplicate) fails the sequence
   * check. "drop": RFC 9293 §3.10.7.4 — ACK it and drop it. "process": 4.4BSD
   * (Stevens vol. 2 p. 960, FreeBSD) trims it to nothing and still processes
   * its ACK field before acknowledging, so an old-numbered ACK of our FIN
   * still closes LAST-ACK.
   */
  readonly oldSegmentAck: "drop" | "process";
  /**
   * While our FIN is sent and unacknowledged (FIN-WAIT-1, CLOSING, LAST-ACK),
   * every ACK of the output routine repeats it: <SEQ=FIN><CTL=FIN,ACK>
   * (4.4BSD tcp_output, FreeBSD). false: a plain <SEQ=SND.NXT><CTL=ACK>
   * (RFC 9293 §3.10.7.4). Challenge ACKs are always plain.
   */
  readonly ackRepeatsFin: boolean;

  // ---- TIME-WAIT (RFC 9293 §3.10.7.4, RFC 1337, RFC 1122 §4.2.2.13, RFC 6191) ----
  /**
   * A RST in TIME-WAIT: "close" (RFC 9293 §3.10.7.4: acceptable → CLOSED) or
   * "ignore" (RFC 1337 fix F1 against TIME-WAIT assassination; FreeBSD).
   */
  readonly timeWaitRst: "close" | "ignore";
  /**
   * RFC 9293 §3.6.1 MAY-2, RFC 1122 §4.2.2.13: a new SYN (no ACK) from a
   * newer incarnation — SEG.SEQ > RCV.NXT, or the timestamp test below —
   * ends TIME-WAIT and goes to the listener as a new connection, whose ISS
   * is then above the old SND.NXT. false: it is handled like any SYN in a
   * synchronized state (a challenge ACK, RFC 5961 §4), and a client that
   * reuses its port waits out our 2×MSL.
   */
  readonly timeWaitReopen: boolean;
  /**
   * RFC 6191 §2, with timeWaitReopen: when the old connection used
   * timestamps and the SYN carries one, the timestamp decides — SEG.TSval >
   * TS.Recent reopens (equal: SEG.SEQ > RCV.NXT), so a peer whose ISNs do
   * not grow still reuses its port (Linux). false: only the sequence number
   * is compared (FreeBSD's tcp_twcheck).
   */
  readonly timeWaitReopenTimestamps: boolean;
  /**
   * Other segments in TIME-WAIT. "rfc9293": the sequence check and RFC 5961
   * as in every synchronized state. "bsd": FreeBSD's tcp_twcheck — no
   * sequence check; a segment without ACK is dropped; anything but a pure
   * duplicate ACK (SEG.SEQ=RCV.NXT, SEG.ACK=SND.NXT, no data, no flags
   * besides ACK) is answered with <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>; the
   * peer's FIN again restarts the 2 MSL timer.
   */
  readonly timeWaitInput: "rfc9293" | "bsd";
  /**
   * Host-wide bound on connections in TIME-WAIT (Linux tcp_max_tw_buckets,
   * FreeBSD maxtcptw). Past it the oldest one, the nearest to its end, is
   * closed early and counted ("tcp.time-wait-reaped"), so a closing storm
   * cannot grow memory without bound.
   */
  readonly timeWaitLimit: number;

  // ---- LISTEN (RFC 9293 §3.10.7.2) ----
  /**
   * SYN+FIN: "never" dropped (RFC 9293 §3.10.7.2: the SYN is processed, the
   * FIN later), dropped in "listen" only (Linux), or in "all" states
   * (FreeBSD net.inet.tcp.drop_synfin=1) — it is a scan signature.
   */
  readonly dropSynFin: "never" | "listen" | "all";
  /**
   * A SYN-ACK reaching LISTEN: RFC 9293 §3.10.7.2 answers any ACK-bearing
   * segment with <SEQ=SEG.ACK><CTL=RST> (true); FreeBSD's test suite expects
   * it dropped silently (false).
   */
  readonly listenSynAckReset: boolean;
  /**
   * Closing a listener: its half-open connections (SYN-RECEIVED) are "reset"
   * (ABORT, RFC 9293 §3.10.5) or forgotten silently, "drop" (FreeBSD's
   * syncache, Linux's request sockets). Completed connections not yet
   * accepted are always aborted with a RST.
   */
  readonly listenerCloseHalfOpen: "reset" | "drop";
  /**
   * RFC 4987 §3.6 SYN cookies: when a listener's half-open set is full, a
   * SYN is answered statelessly, its SYN-ACK's ISS encoding what the
   * connection needs (syn-cookie.ts), instead of being dropped — a flood of
   * spoofed SYNs then cannot lock legitimate clients out (Linux
   * net.ipv4.tcp_syncookies=1, FreeBSD net.inet.tcp.syncookies=1). false:
   * such a SYN is dropped ("listen-backlog-full").
   */
  readonly synCookies: boolean;

  // ---- receive buffer ----
  /**
   * "mss": once the MSS is known the receive buffer is rounded up to a
   * multiple of it (FreeBSD's tcp_mss(): 65536 → 65700 for MSS 1460) so the
   * window is whole segments. "none": as set.
   */
  readonly rcvBufRounding: "none" | "mss";
  /**
   * The window the sequence check (RFC 9293 §3.10.7.4 first step) and the
   * trimming of text use. "advertised": RCV.WND as sent in the window field.
   * "buffer": the free receive-buffer space when larger (FreeBSD: rcv_wnd =
   * max(sbspace, rcv_adv − rcv_nxt)) — a 65700-byte buffer accepts up to
   * RCV.NXT+65700 though the unscaled field says 65535.
   */
  readonly seqCheckWindow: "advertised" | "buffer";
  /**
   * Receiver SWS avoidance (RFC 9293 §3.8.6.2.2, MUST-39). "rfc9293": the
   * suggested algorithm — RCV.NXT+RCV.WND stays put until it can move by
   * min(rcvBuf/2, MSS). "bsd": never offer a window below min(rcvBuf/4, MSS),
   * but otherwise offer all free space in every segment (4.4BSD tcp_output,
   * FreeBSD), so the edge may creep by a few bytes. "off": no avoidance —
   * every segment offers all free space and every read that frees a byte
   * sends a window update (the receiver of RFC 813's syndrome; for labs).
   */
  readonly receiverSws: "rfc9293" | "bsd" | "off";
  /**
   * Sender SWS avoidance (RFC 9293 §3.8.6.2.1, RFC 1122 §4.2.3.4): a segment
   * shorter than a full one, with more data waiting behind it, goes only
   * once it is at least half the largest window the peer has offered (or
   * when the persist timer overrides). false: whatever the window allows
   * goes at once, however small (the sender of RFC 813's syndrome; for
   * labs). Nagle (§3.7.4) is a switch of its own.
   */
  readonly senderSws: boolean;

  /**
   * Bound new segments to half the largest window the peer has offered
   * (Linux's tcp_bound_to_half_wnd): a window of under two MSS still gets
   * two segments per round trip, so the peer's ACK clock keeps running
   * without delayed-ACK waits. false: always full MSS-sized segments (4.4BSD,
   * FreeBSD).
   */
  readonly boundToHalfWindow: boolean;

  /**
   * Bytes of out-of-order data a connection may hold. undefined: the receive
   * buffer (everything the window offers may arrive behind one hole).
   */
  readonly oooLimit: number | undefined;
  /**
   * Holes the out-of-order queue may leave (its runs of held bytes); a
   * segment that would open one more is dropped and retransmitted later.
   * Without it a peer sending every other byte makes the list as long as the
   * window (smoltcp caps its contigs; FreeBSD's reass.maxqueuelen caps segments).
   */
  readonly oooHoleLimit: number;
  /**
   * The smallest send MSS a peer's MSS option may impose (RFC 9293 §3.7.1 /
   * RFC 6691 leave the floor open; Linux's tcp_min_snd_mss 48, FreeBSD's
   * net.inet.tcp.minmss 216): an MSS of 1 turns a 1 MiB reply into a million
   * segments (CVE-2019-11479). Our own settings.mss stays the ceiling.
   */
  readonly minMss: number;
  /**
   * Segments one event (an ACK, a timer, a write) may send: the work a
   * single arriving segment can cause stays bounded whatever the window;
   * the ACKs of this burst release the next one.
   */
  readonly maxBurst: number;
  /**
   * A TCP option whose length byte is wrong. RFC 9293 §3.2 (MUST-7) asks only
   * to be prepared for it. "skip": a known option of the wrong size is
   * ignored, and a length below 2 or past the header ends the option list —
   * the segment is processed (Linux tcp_parse_options, FreeBSD tcp_dooptions).
   * "drop": the segment is discarded. Either way it is counted.
   */
  readonly badOptionLength: "skip" | "drop";
  /** Zero-window probe interval bounds (persist timer), backed off like the RTO. */
  readonly persistMin: Duration;
  readonly persistMax: Duration;

  // ---- congestion control and loss recovery (src/tcp/congestion/, recovery.ts) ----
  /** RFC 5681 + RFC 6582 NewReno, or RFC 9438 CUBIC (Linux's default). */
  readonly congestionControl: CongestionControlName;
  /**
   * Initial window in segments (RFC 6928: 10, i.e. min(10·MSS, max(2·MSS, 14600))
   * bytes; generally min(N·MSS, max(2·MSS, N·1460))). 1 if our SYN was retransmitted.
   */
  readonly initialWindow: number;
  /** RFC 3042 limited transmit: new data on the first two duplicate ACKs. */
  readonly limitedTransmit: boolean;
  /** RFC 9406 HyStart++: leave the initial slow start when the RTT grows (needs per-ACK RTT samples: timestamps). */
  readonly hystart: boolean;
  /** RFC 5681 §4.1: after an idle period longer than the RTO, cwnd restarts from the initial window. */
  readonly slowStartAfterIdle: boolean;

  // ---- options negotiated on the SYN (src/tcp/options.ts, syn-options.ts) ----
  /** RFC 7323 §2: offer window scaling on our SYN, accept it on the peer's. */
  readonly windowScaling: boolean;
  /**
   * Our shift (Rcv.Wind.Shift) when scaling is on. undefined: the smallest
   * shift whose scaled 16-bit window covers rcvBuf (at most 14, RFC 7323 §2.3).
   * A personality may fix it (Linux and FreeBSD pick larger shifts than needed).
   */
  readonly wscaleShift: number | undefined;
  /** RFC 7323 §3–§5: timestamps (RTTM and PAWS). */
  readonly timestamps: boolean;
  /**
   * TSval at the moment the connection opens (the clock then ticks once per ms).
   * undefined: a per-connection offset derived from the ISS (RFC 7323 §5.4 / §7.1
   * recommend a random one); labs and tests fix it.
   */
  readonly tsValStart: number | undefined;
  /** RFC 2018: SACK-permitted; as a receiver we then send SACK blocks. */
  readonly sack: boolean;
  /** RFC 2883: report duplicate segments in a D-SACK block (only with SACK). */
  readonly dsack: boolean;
  /**
   * Our SYN's options in wire order, NOPs included, as a stack lays them out:
   * FreeBSD `["mss","nop","wscale","sackOK","TS"]`, Linux
   * `["mss","sackOK","TS","nop","wscale"]`. An option that is switched off is
   * left out together with the NOPs right before it.
   */
  readonly synOptionLayout: readonly SynOptionSlot[];
  /**
   * Our SYN-ACK's options: only what the peer's SYN offered (RFC 7323 §2.2,
   * §3.2; RFC 2018 §2) and we have switched on, in this order, with the same
   * NOP rule as the SYN layout.
   */
  readonly synAckOptionLayout: readonly SynOptionSlot[];
  /** How SYN and SYN-ACK options are padded to 4 bytes: NOPs, or EOL then zeros (FreeBSD). */
  readonly synOptionPadding: "nop" | "eol";

  // ---- keep-alive and user timeout (src/tcp/keepalive.ts) ----
  /** RFC 9293 §3.8.4, RFC 1122 §4.2.3.6: keep-alive probes on an idle connection (SO_KEEPALIVE); off by default. */
  readonly keepAlive: boolean;
  /** Idle time before the first probe (RFC 1122: no less than two hours by default). */
  readonly keepAliveIdle: Duration;
  /** Time between unanswered probes. */
  readonly keepAliveInterval: Duration;
  /** Unanswered probes after which the connection is dropped with ETIMEDOUT. */
  readonly keepAliveCount: number;
  /**
   * RFC 9293 §3.8.3 user timeout (RFC 5482 style): give up with ETIMEDOUT when
   * sent data stays unacknowledged this long. 0: off (the retransmission counts decide).
   */
  readonly userTimeout: Duration;
}

/**
 * Buffers for bulk transfer against a real peer (the kernel world: `tcplab
 * serve`, startKernelHost), in the spirit of Linux's receive autotuning,
 * which grows a busy socket's buffers to a few MiB: bounded at 1 MiB each.
 * The bound costs nothing while idle: buffers hold only the bytes queued
 * (byte-queue.ts). With window scaling (RFC 7323) a 1 MiB receive buffer is offered whole
 * (shift 5), and the out-of-order bound follows it (oooLimit undefined).
 * Against the kernel over TUN they gave about +45% upload throughput over
 * 64 KiB. Without scaling the window stays ≤ 65535 whatever the buffer.
 *
 * They are not the defaults of defaultTcpSettings: the simulated lab world
 * teaches with a 65535-byte window and shift 0, and its diagrams, state
 * tables and guided labs show those numbers.
 */
export const BULK_BUFFERS: Readonly<Pick<TcpSettings, "rcvBuf" | "sndBuf">> = {
  rcvBuf: 1024 * 1024,
  sndBuf: 1024 * 1024,
};

/** RFC 9293 §3.7.1: the MSS leaves out the fixed IP header and the 20-byte TCP header. */
const TCP_HEADER = 20;
/** IPv4's header without options (RFC 791), IPv6's fixed header (RFC 8200 §3). */
const IP_HEADER: Readonly<Record<IpFamily, number>> = { 4: 20, 6: 40 };

/** The MSS a link of `mtu` carries (RFC 9293 §3.7.1): MTU − 40 over IPv4, MTU − 60 over IPv6. */
export function mssForMtu(mtu: number, family: IpFamily = 4): number {
  return mtu - IP_HEADER[family] - TCP_HEADER;
}

/**
 * The send MSS when the peer's SYN has no MSS option (RFC 9293 §3.7.1):
 * what the smallest MTU every link must carry leaves — 576 over IPv4
 * (RFC 1122 §3.3.3: 536), 1280 over IPv6 (RFC 8200 §5: 1220).
 */
export function defaultSendMss(family: IpFamily): number {
  return mssForMtu(family === 6 ? 1280 : 576, family);
}

/**
 * The settings a connection of `family` runs with: `mss` is written for
 * IPv4, and over the same link an IPv6 header takes 20 bytes more of each
 * packet (MTU − 60, RFC 9293 §3.7.1).
 */
export function settingsForFamily(settings: TcpSettings, family: IpFamily): TcpSettings {
  if (family === 4) return settings;
  return { ...settings, mss: settings.mss - (IP_HEADER[6] - IP_HEADER[4]) };
}

/** One entry of a SYN / SYN-ACK option layout ("sackOK" is SACK-permitted, "TS" timestamps). */
export type SynOptionSlot = "mss" | "nop" | "eol" | "wscale" | "sackOK" | "TS";

export const defaultTcpSettings: TcpSettings = {
  mss: 1460,
  sndBuf: 256 * 1024,
  rcvBuf: 65535,
  initialRto: ms(1000),
  minRto: ms(1000),
  maxRto: ms(60_000),
  synRetries: 6,
  maxRetransmissions: 12,
  msl: ms(30_000),
  delayedAck: ms(200),
  nagle: true,
  rfc5961: true,
  rfc5961Rst: true,
  rfc5961Syn: true,
  rfc5961Ack: true,
  synResetForm: "segment",
  rstErrorWhenClosing: false,
  oldSegmentAck: "drop",
  ackRepeatsFin: false,
  timeWaitRst: "close",
  timeWaitReopen: true,
  timeWaitReopenTimestamps: true,
  timeWaitInput: "rfc9293",
  timeWaitLimit: 16_384,
  dropSynFin: "never",
  listenSynAckReset: true,
  listenerCloseHalfOpen: "reset",
  synCookies: true,
  rcvBufRounding: "none",
  seqCheckWindow: "advertised",
  receiverSws: "rfc9293",
  senderSws: true,
  challengeAckLimit: 10,
  challengeAckRandom: true,
  challengeAckPerConnection: 1,
  challengeAckInterval: ms(500),
  boundToHalfWindow: true,
  oooLimit: undefined,
  oooHoleLimit: 1024,
  minMss: 48,
  maxBurst: 64,
  badOptionLength: "skip",
  persistMin: ms(1000),
  persistMax: ms(60_000),
  congestionControl: "cubic",
  initialWindow: 10,
  limitedTransmit: true,
  hystart: true,
  slowStartAfterIdle: true,
  windowScaling: true,
  wscaleShift: undefined,
  timestamps: true,
  tsValStart: undefined,
  sack: true,
  dsack: true,
  // tcplab's SYN is laid out like FreeBSD's: <mss,nop,wscale,sackOK,TS> — 20
  // bytes, every option at its natural alignment, no padding needed.
  synOptionLayout: ["mss", "nop", "wscale", "sackOK", "TS"],
  synAckOptionLayout: ["mss", "nop", "wscale", "sackOK", "TS"],
  synOptionPadding: "nop",
  keepAlive: false,
  keepAliveIdle: ms(2 * 60 * 60 * 1000),
  keepAliveInterval: ms(75_000),
  keepAliveCount: 9,
  userTimeout: ms(0),
};
