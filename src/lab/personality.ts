/**
 * Personalities: the choices the RFCs leave open, bundled under a name.
 *
 * RFC 9293 fixes what a segment means but not, for example, in which order
 * a SYN carries its options, how big the first window is, or how a socket
 * buffer is rounded. Real stacks differ there, and a script written against
 * one stack encodes that stack's choices. A personality names them:
 *
 * - `tcp`: overrides of TcpSettings the engine honours today;
 * - `synOptions`: the SYN and SYN-ACK option layout the stack should use.
 *   The engine does not yet negotiate window scale, SACK-permitted or
 *   timestamps (src/tcp/options.ts sends only the MSS); the layout is named
 *   here so that option negotiation can honour it once it exists;
 * - `sockets`: how the socket layer reports things (fcntl flag values,
 *   SO_RCVBUF rounding);
 * - `script`: defaults of the packetdrill runner (the `#ifdef` names that
 *   are defined, the window of injected segments that omit `win`).
 */

import type { TcpSettings } from "../tcp/settings.ts";

/** One entry of a SYN option layout, in wire order. */
export type SynOptionSlot = "mss" | "nop" | "eol" | "wscale" | "sackOK" | "TS";

export interface SynOptionLayout {
  /** Options on our SYN (active open), in order, padding included. */
  readonly syn: readonly SynOptionSlot[];
  /**
   * Our SYN-ACK: "echo" answers only what the peer's SYN offered, in
   * `synAckOrder`'s order, padded with `synAckPad` to a multiple of 4 bytes.
   */
  readonly synAckOrder: readonly SynOptionSlot[];
  readonly synAckPad: "eol" | "nop";
  /** Our window scale shift when window scaling is on (RFC 7323 §2.3). */
  readonly wscale: number;
  /** The first TSval we send (scripts compare TSval only loosely). */
  readonly tsValStart: number;
}

export interface SocketConventions {
  /** fcntl flag values of the platform (O_RDWR, O_NONBLOCK). */
  readonly oRdwr: number;
  readonly oNonblock: number;
  /**
   * "mss": once a connection knows its MSS, SO_RCVBUF reports the buffer
   * rounded up to a multiple of it (FreeBSD's tcp_mss() does this so the
   * window is a whole number of segments). "none": as set.
   */
  readonly rcvBufRounding: "mss" | "none";
}

export interface ScriptDefaults {
  /** Names defined for `#ifdef` blocks. */
  readonly defines: readonly string[];
  /** Window of an injected segment whose line has no `win`. */
  readonly inboundWindow: number;
}

export interface Personality {
  readonly name: string;
  readonly description: string;
  readonly tcp: Partial<TcpSettings>;
  readonly synOptions: SynOptionLayout;
  readonly sockets: SocketConventions;
  readonly script: ScriptDefaults;
}

/** tcplab's own choices: the engine's defaults. */
const tcplab: Personality = {
  name: "tcplab",
  description: "tcplab's defaults (src/tcp/settings.ts): MSS-only SYN options, RFC 6298 timers",
  tcp: {},
  synOptions: {
    syn: ["mss", "nop", "wscale", "sackOK", "TS"],
    synAckOrder: ["mss", "nop", "wscale", "sackOK", "TS"],
    synAckPad: "nop",
    wscale: 7,
    tsValStart: 1,
  },
  sockets: { oRdwr: 0x2, oNonblock: 0x800, rcvBufRounding: "none" },
  script: { defines: ["tcplab"], inboundWindow: 65535 },
};

/**
 * FreeBSD as the FreeBSD TCP test suite expects it: SYN
 * `<mss 1460,nop,wscale 6,sackOK,TS val 100 ecr 0>`, SYN-ACK echoing the
 * peer's offer padded with EOLs, window 65535, net.inet.tcp.recvspace 65536
 * (rounded up to a multiple of the MSS once connected), sendspace 32768,
 * a 1 s initial RTO, MSL 30 s, delayed ACKs at 100 ms.
 */
const freebsd: Personality = {
  name: "freebsd",
  description: "FreeBSD 11+ defaults as the FreeBSD TCP test suite expects them",
  tcp: {
    rcvBuf: 65536,
    sndBuf: 32768,
    // net.inet.tcp.rexmit_initial; the floor stays RFC 6298's 1 s (FreeBSD's
    // 30 ms rexmit_min plus a 200 ms slop is not an RFC 6298 estimator).
    initialRto: 1000,
    maxRto: 64_000,
    msl: 30_000,
    delayedAck: 100,
    rfc5961: true,
  },
  synOptions: {
    syn: ["mss", "nop", "wscale", "sackOK", "TS"],
    synAckOrder: ["mss", "nop", "wscale", "sackOK", "TS"],
    synAckPad: "eol",
    wscale: 6,
    tsValStart: 100,
  },
  sockets: { oRdwr: 0x2, oNonblock: 0x4, rcvBufRounding: "mss" },
  script: { defines: ["FreeBSD"], inboundWindow: 65535 },
};

/**
 * Linux as packetdrill's own scripts expect it: SYN
 * `<mss 1460,sackOK,TS val … ecr 0,nop,wscale 7>`, RTO floor 200 ms,
 * delayed ACK 40 ms, MSL 60 s (TIME-WAIT 60 s).
 */
const linux: Personality = {
  name: "linux",
  description: "Linux defaults as packetdrill's own scripts expect them",
  tcp: {
    rcvBuf: 65535,
    initialRto: 1000,
    minRto: 200,
    maxRto: 120_000,
    msl: 30_000,
    delayedAck: 40,
    rfc5961: true,
  },
  synOptions: {
    syn: ["mss", "sackOK", "TS", "nop", "wscale"],
    synAckOrder: ["mss", "nop", "nop", "sackOK", "nop", "wscale"],
    synAckPad: "nop",
    wscale: 7,
    tsValStart: 1,
  },
  sockets: { oRdwr: 0x2, oNonblock: 0x800, rcvBufRounding: "none" },
  script: { defines: ["Linux"], inboundWindow: 65535 },
};

export const personalities: Readonly<Record<string, Personality>> = { tcplab, freebsd, linux };

export const DEFAULT_PERSONALITY = "tcplab";

export function personalityNamed(name: string): Personality | undefined {
  return Object.hasOwn(personalities, name) ? personalities[name] : undefined;
}

/**
 * The TcpSettings a host gets for this personality. The SYN option layout
 * (`synOptions`) is the personality's own record until TcpSettings declares
 * the option-negotiation fields (window scaling, SACK, timestamps and their
 * layouts); then it is mapped here, in this one place.
 */
export function hostSettingsFor(p: Personality): Partial<TcpSettings> {
  return { ...p.tcp };
}
