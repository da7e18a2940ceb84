import type { TcpOption } from "../wire/tcp-types.ts";
import type { IpFamily } from "../wire/addr.ts";
import { defaultSendMss, type TcpSettings } from "./settings.ts";
import { layOut } from "./syn-options.ts";
import { clampPeerShift, shiftFor } from "./window-scale.ts";

/**
 * Option negotiation in one place: what we put on our SYN / SYN-ACK and what
 * we conclude from the peer's. MSS (RFC 9293 §3.7.1), window scale and
 * timestamps (RFC 7323 §2.2, §3.2), SACK-permitted (RFC 2018 §2). The order
 * and padding on the wire come from the settings' layouts (syn-options.ts).
 */

/** RFC 9293 §3.7.1: the send MSS to assume when the peer's SYN has no MSS option (IPv4; `defaultSendMss`). */
export const DEFAULT_PEER_MSS = defaultSendMss(4);

export interface Negotiated {
  /** Effective send MSS: min(peer's MSS option or 536 (IPv6: 1220), our own MTU-derived MSS). */
  readonly sndMss: number;
  /** The MSS the peer announced, if it did. */
  readonly peerMss: number | undefined;
  /**
   * RFC 7323 §2: both SYNs carried window scale — Snd.Wind.Shift (the peer's,
   * at most 14) and Rcv.Wind.Shift (ours); undefined when not in use.
   * `peerShiftClamped`: the peer asked for more than 14 (worth logging, §2.3).
   */
  readonly wscale:
    | { readonly snd: number; readonly rcv: number; readonly peerShiftClamped: boolean }
    | undefined;
  /** RFC 7323 §3.2: both SYNs carried timestamps. */
  readonly timestamps: boolean;
  /** RFC 2018 §2: both SYNs carried SACK-permitted. */
  readonly sack: boolean;
}

/** What our own SYN offers: the feature switched on and named in the SYN layout. */
export function offered(settings: TcpSettings, layout = settings.synOptionLayout) {
  return {
    wscale: settings.windowScaling && layout.includes("wscale"),
    timestamps: settings.timestamps && layout.includes("TS"),
    sack: settings.sack && layout.includes("sackOK"),
  };
}

export interface SynOptionContext {
  /** Our TSval now (the timestamps option is left out without it). */
  readonly tsVal?: number;
  /** TSecr: TS.Recent on a SYN-ACK, 0 on a SYN (RFC 7323 §3.2). */
  readonly tsEcr?: number;
  /** For a SYN-ACK: what was negotiated from the peer's SYN — only that is echoed. */
  readonly reply?: Negotiated;
}

/**
 * Options on our SYN or SYN-ACK. A SYN offers what is switched on; a SYN-ACK
 * answers only what the peer's SYN offered (RFC 7323 §2.2: "only if a Window
 * Scale option was received in the initial <SYN>"; §3.2 and RFC 2018 §2 alike).
 * The MSS option goes on both (RFC 9293 §3.7.1).
 */
export function synOptions(settings: TcpSettings, ctx: SynOptionContext = {}): TcpOption[] {
  const reply = ctx.reply;
  const layout = reply === undefined ? settings.synOptionLayout : settings.synAckOptionLayout;
  const offer = offered(settings, layout);
  const wscale = reply === undefined ? offer.wscale : reply.wscale !== undefined;
  const ts = (reply === undefined ? offer.timestamps : reply.timestamps) && ctx.tsVal !== undefined;
  const sack = reply === undefined ? offer.sack : reply.sack;
  return layOut(
    layout,
    {
      mss: { kind: "mss", value: settings.mss },
      wscale: wscale
        ? { kind: "wscale", shift: shiftFor(settings.rcvBuf, settings.wscaleShift) }
        : undefined,
      sackOK: sack ? { kind: "sackPermitted" } : undefined,
      TS: ts ? { kind: "timestamps", tsVal: ctx.tsVal ?? 0, tsEcr: ctx.tsEcr ?? 0 } : undefined,
    },
    settings.synOptionPadding,
  );
}

export function peerMssOf(options: readonly TcpOption[]): number | undefined {
  for (const opt of options) if (opt.kind === "mss") return opt.value;
  return undefined;
}

/**
 * What the peer's SYN (or SYN-ACK) options mean for this connection.
 * `active`: we sent a SYN first (its layout says what we offered); otherwise
 * we answer the peer's SYN and agree to whatever it offered that we support.
 * `settings` are the connection's family's (`settingsForFamily`).
 */
export function negotiate(
  peerSynOptions: readonly TcpOption[],
  settings: TcpSettings,
  active = false,
  family: IpFamily = 4,
): Negotiated {
  const peerMss = peerMssOf(peerSynOptions);
  // RFC 9293 §3.7.1 / RFC 6691: never send more than the peer accepts nor
  // more than our own link allows. The floor (settings.minMss, Linux's
  // tcp_min_snd_mss) keeps a peer from asking for one-byte segments
  // (CVE-2019-11479); our own MSS stays the ceiling.
  const floor = Math.max(1, Math.min(settings.minMss, settings.mss));
  const sndMss = Math.max(floor, Math.min(peerMss ?? defaultSendMss(family), settings.mss));
  const ours = offered(settings, active ? settings.synOptionLayout : settings.synAckOptionLayout);
  let wscale: Negotiated["wscale"];
  let timestamps = false;
  let sack = false;
  for (const o of peerSynOptions) {
    if (o.kind === "wscale" && ours.wscale) {
      const peer = clampPeerShift(o.shift);
      const rcv = shiftFor(settings.rcvBuf, settings.wscaleShift);
      wscale = { snd: peer.shift, rcv, peerShiftClamped: peer.clamped };
    } else if (o.kind === "timestamps" && ours.timestamps) {
      timestamps = true;
    } else if (o.kind === "sackPermitted" && ours.sack) {
      sack = true;
    }
  }
  return { sndMss, peerMss, wscale, timestamps, sack };
}
