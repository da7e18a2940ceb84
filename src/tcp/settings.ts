import type { Millis } from "../clock/clock.ts";
import type { CongestionControlName } from "./congestion/controller.ts";

/**
 * Everything about TCP behaviour that a host, a lab or a personality may
 * choose, in one place: the SYN options (window scaling, timestamps, SACK and
 * their layout), keep-alive and the user timeout are switched here too.
 */
export interface TcpSettings {
  /** MSS we advertise on our SYN (RFC 9293 §3.7.1); the host derives it from the MTU. */
  readonly mss: number;
  /** Send buffer size in bytes. */
  readonly sndBuf: number;
  /** Receive buffer size in bytes; also bounds the advertised window (≤ 65535 unless window scaling is negotiated). */
  readonly rcvBuf: number;
  /** RFC 6298 §2.1: RTO before any RTT sample. */
  readonly initialRto: Millis;
  /** RFC 6298 §2.4: lower bound of the RTO. */
  readonly minRto: Millis;
  /** RFC 6298 §2.5: upper bound of the RTO. */
  readonly maxRto: Millis;
  /** Retransmissions of a SYN or SYN-ACK before giving up with ETIMEDOUT. */
  readonly synRetries: number;
  /** Retransmissions of data or FIN before giving up with ETIMEDOUT. */
  readonly maxRetransmissions: number;
  /** Maximum segment lifetime; TIME-WAIT lasts 2×MSL (RFC 9293 §3.4.2). */
  readonly msl: Millis;
  /** Delayed-ACK timeout (RFC 9293 §3.8.6.3, at most 500 ms; RFC 1122 says 200 is usual). 0 turns delayed ACKs off. */
  readonly delayedAck: Millis;
  /** Nagle's algorithm (RFC 9293 §3.7.4); false is TCP_NODELAY. */
  readonly nagle: boolean;
  /** RFC 5961 blind-attack mitigations (challenge ACKs for RST and SYN, ACK range check). */
  readonly rfc5961: boolean;
  /** RFC 5961 §7: at most this many challenge ACKs per second per host. */
  readonly challengeAckLimit: number;
  /** Bytes of out-of-order data a connection may hold. */
  readonly oooLimit: number;
  /** Zero-window probe interval bounds (persist timer), backed off like the RTO. */
  readonly persistMin: Millis;
  readonly persistMax: Millis;

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
  readonly keepAliveIdle: Millis;
  /** Time between unanswered probes. */
  readonly keepAliveInterval: Millis;
  /** Unanswered probes after which the connection is dropped with ETIMEDOUT. */
  readonly keepAliveCount: number;
  /**
   * RFC 9293 §3.8.3 user timeout (RFC 5482 style): give up with ETIMEDOUT when
   * sent data stays unacknowledged this long. 0: off (the retransmission counts decide).
   */
  readonly userTimeout: Millis;
}

/** One entry of a SYN / SYN-ACK option layout ("sackOK" is SACK-permitted, "TS" timestamps). */
export type SynOptionSlot = "mss" | "nop" | "eol" | "wscale" | "sackOK" | "TS";

export const defaultTcpSettings: TcpSettings = {
  mss: 1460,
  sndBuf: 256 * 1024,
  rcvBuf: 65535,
  initialRto: 1000,
  minRto: 1000,
  maxRto: 60_000,
  synRetries: 6,
  maxRetransmissions: 12,
  msl: 30_000,
  delayedAck: 200,
  nagle: true,
  rfc5961: true,
  challengeAckLimit: 10,
  oooLimit: 65535,
  persistMin: 1000,
  persistMax: 60_000,
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
  keepAliveIdle: 2 * 60 * 60 * 1000,
  keepAliveInterval: 75_000,
  keepAliveCount: 9,
  userTimeout: 0,
};
