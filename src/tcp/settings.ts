import type { Millis } from "../clock/clock.ts";

/**
 * Everything about TCP behaviour that a host, a lab or a personality may
 * choose. Later options (window scaling, timestamps, SACK, congestion
 * control, keep-alive) are added here too, so there is one place to switch them.
 */
export interface TcpSettings {
  /** MSS we advertise on our SYN (RFC 9293 §3.7.1); the host derives it from the MTU. */
  readonly mss: number;
  /** Send buffer size in bytes. */
  readonly sndBuf: number;
  /** Receive buffer size in bytes; also bounds the advertised window (≤ 65535 without window scaling). */
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
}

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
};
