import type { TcpOption } from "../wire/tcp-types.ts";
import type { TcpSettings } from "./settings.ts";

/**
 * Option negotiation in one place: what we put on our SYN / SYN-ACK and what
 * we conclude from the peer's. Window scaling, timestamps and SACK-permitted
 * slot in here later, and their results join `Negotiated`.
 */

/** RFC 9293 §3.7.1: the send MSS to assume when the peer's SYN has no MSS option. */
export const DEFAULT_PEER_MSS = 536;

export interface Negotiated {
  /** Effective send MSS: min(peer's MSS option or 536, our own MTU-derived MSS). */
  readonly sndMss: number;
  /** The MSS the peer announced, if it did. */
  readonly peerMss: number | undefined;
}

/** Options on our SYN or SYN-ACK (RFC 9293 §3.7.1: the MSS option only on SYN segments). */
export function synOptions(settings: TcpSettings): TcpOption[] {
  return [{ kind: "mss", value: settings.mss }];
}

export function peerMssOf(options: readonly TcpOption[]): number | undefined {
  for (const opt of options) if (opt.kind === "mss") return opt.value;
  return undefined;
}

/** What the peer's SYN (or SYN-ACK) options mean for this connection. */
export function negotiate(peerSynOptions: readonly TcpOption[], settings: TcpSettings): Negotiated {
  const peerMss = peerMssOf(peerSynOptions);
  // RFC 9293 §3.7.1 / RFC 6691: never send more than the peer accepts nor
  // more than our own link allows; a zero MSS would stall, so floor it at 1.
  const sndMss = Math.max(1, Math.min(peerMss ?? DEFAULT_PEER_MSS, settings.mss));
  return { sndMss, peerMss };
}
