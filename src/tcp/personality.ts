/**
 * Personalities: the choices the RFCs leave open, bundled under a name.
 *
 * RFC 9293 fixes what a segment means but not, for example, in which order
 * a SYN carries its options, how big the first window is, or how a socket
 * buffer is rounded. Real stacks differ there, and a script written against
 * one stack encodes that stack's choices. A personality names them:
 *
 * - `tcp`: overrides of TcpSettings (buffers, timers, RFC 5961);
 * - `synOptions`: the SYN and SYN-ACK option layout, padding, window-scale
 *   shift and first TSval — mapped onto TcpSettings by hostSettingsFor();
 * - `sockets`: how the socket layer reports things (fcntl flag values,
 *   SO_RCVBUF rounding);
 * - `script`: defaults of the packetdrill runner (the `#ifdef` names that
 *   are defined, the window of injected segments that omit `win`).
 */

import { ms, type SynOptionSlot, type TcpSettings } from "./settings.ts";

export type { SynOptionSlot };

export interface SynOptionLayout {
  /** Options on our SYN (active open), in order, padding included. */
  readonly syn: readonly SynOptionSlot[];
  /**
   * Our SYN-ACK: "echo" answers only what the peer's SYN offered, in
   * `synAckOrder`'s order, padded with `synAckPad` to a multiple of 4 bytes.
   */
  readonly synAckOrder: readonly SynOptionSlot[];
  readonly synAckPad: "eol" | "nop";
  /**
   * Our window scale shift when window scaling is on (RFC 7323 §2.3);
   * undefined: the smallest shift that covers the receive buffer.
   */
  readonly wscale: number | undefined;
  /** The TSval a connection starts with, then one tick per ms (scripts compare TSval only loosely). */
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

/**
 * tcplab's own choices, made for reading: the engine's defaults
 * (src/tcp/settings.ts) with a window-scale shift just big enough for the
 * buffer (0 for 64 KiB, so windows read as bytes) and a TSval that starts at
 * 1 when a connection opens — TSval − 1 is the connection's age in ms. Its
 * challenge ACKs follow RFC 5961 §7 as written, one fixed budget a second
 * for the host, so a lab can count them and then show why Linux hardened
 * it (the engine's defaults, used by `tcplab serve`, limit each connection
 * and draw the budget at random).
 */
const tcplab: Personality = {
  name: "tcplab",
  description:
    "tcplab's defaults, for reading: small TSvals (1 + ms since open), shift 0 for 64 KiB",
  tcp: { challengeAckRandom: false, challengeAckPerConnection: 0 },
  synOptions: {
    syn: ["mss", "nop", "wscale", "sackOK", "TS"],
    synAckOrder: ["mss", "nop", "wscale", "sackOK", "TS"],
    synAckPad: "nop",
    wscale: undefined,
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
    initialRto: ms(1000),
    maxRto: ms(64_000),
    msl: ms(30_000),
    delayedAck: ms(100),
    rfc5961: true,
    // Where FreeBSD's tcp_input / tcp_twcheck / syncache choose differently
    // from tcplab's RFC 9293 defaults (src/tcp/settings.ts says why each is open).
    synResetForm: "connection",
    rstErrorWhenClosing: true,
    oldSegmentAck: "process",
    ackRepeatsFin: true,
    timeWaitRst: "ignore",
    timeWaitReopen: true,
    timeWaitReopenTimestamps: false,
    timeWaitInput: "bsd",
    dropSynFin: "never", // net.inet.tcp.drop_synfin=0
    listenSynAckReset: false,
    listenerCloseHalfOpen: "drop",
    synCookies: true, // net.inet.tcp.syncookies=1
    rcvBufRounding: "mss",
    seqCheckWindow: "buffer",
    receiverSws: "bsd",
    // Hardening knobs at FreeBSD's values: net.inet.tcp.minmss, the ack_war
    // rate limit (net.inet.tcp.ack_war_cnt per ack_war_timewindow), and
    // net.inet.tcp.reass.maxqueuelen (segments there, holes here).
    minMss: 216,
    challengeAckPerConnection: 5,
    challengeAckInterval: ms(1000),
    oooHoleLimit: 100,
    badOptionLength: "skip", // tcp_dooptions passes over what it cannot use
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
 *
 * Linux's SYN-ACK packs sackOK next to TS when the peer offered both
 * (`<mss,sackOK,TS,nop,wscale>`, tcp_options_write) but writes
 * `<mss,nop,nop,sackOK,nop,wscale>` without timestamps. One static layout
 * cannot say both; this one is exact for a peer that offers timestamps (any
 * modern stack) and keeps sackOK before wscale otherwise.
 */
const linux: Personality = {
  name: "linux",
  description: "Linux defaults as packetdrill's own scripts expect them",
  tcp: {
    rcvBuf: 65535,
    initialRto: ms(1000),
    minRto: ms(200),
    maxRto: ms(120_000),
    msl: ms(30_000),
    delayedAck: ms(40),
    rfc5961: true,
    // Known Linux choices: tcp_reset() reports ECONNRESET in CLOSING/LAST-ACK,
    // tcp_timewait_state_process() takes a new SYN above RCV.NXT or with a
    // newer TSval (RFC 6191), SYN+FIN is
    // dropped in LISTEN only, request sockets die silently with their
    // listener. The other switches stay at tcplab's defaults.
    rstErrorWhenClosing: true,
    timeWaitReopen: true,
    timeWaitReopenTimestamps: true,
    dropSynFin: "listen",
    listenerCloseHalfOpen: "drop",
    // tcp_min_snd_mss, tcp_invalid_ratelimit (one per 500 ms per socket), and
    // the host-wide tcp_challenge_ack_limit before it became unlimited.
    minMss: 48,
    challengeAckPerConnection: 1,
    challengeAckInterval: ms(500),
    challengeAckLimit: 1000,
    badOptionLength: "skip", // tcp_parse_options, likewise
    synCookies: true, // net.ipv4.tcp_syncookies=1: when the SYN queue overflows
  },
  synOptions: {
    syn: ["mss", "sackOK", "TS", "nop", "wscale"],
    synAckOrder: ["mss", "sackOK", "TS", "nop", "wscale"],
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

/** The names, for completion and messages. */
export function personalityNames(): readonly string[] {
  return Object.keys(personalities);
}

/**
 * The TcpSettings a host gets for this personality, over the engine's
 * defaults: its `tcp` overrides and its SYN option layout, mapped in this
 * one place (wscaleShift is present even when undefined: "the smallest shift").
 */
export function hostSettingsFor(p: Personality): Partial<TcpSettings> {
  const o = p.synOptions;
  return {
    ...p.tcp,
    synOptionLayout: o.syn,
    synAckOptionLayout: o.synAckOrder,
    synOptionPadding: o.synAckPad,
    wscaleShift: o.wscale,
    tsValStart: o.tsValStart,
  };
}
