import { seqDiff } from "../wire/seq.ts";
import { Flag, type TcpSegment } from "../wire/tcp-types.ts";

/**
 * RFC 7323 §2 window scaling: the 16-bit window field counts units of
 * 2^shift bytes once both SYNs carried the option. Snd.Wind.Shift scales
 * the peer's windows, Rcv.Wind.Shift ours. The field of a SYN or SYN-ACK is
 * never scaled (§2.2).
 */

/** RFC 7323 §2.3: the largest shift; a larger one received is used as 14. */
export const MAX_WSCALE = 14;
/** The largest value of the 16-bit window field. */
export const MAX_WINDOW_FIELD = 0xffff;

/** Our shift: a fixed choice, or the smallest with rcvBuf ≤ 65535 << shift (≤ 14). */
export function shiftFor(rcvBuf: number, fixed: number | undefined): number {
  if (fixed !== undefined) return Math.max(0, Math.min(MAX_WSCALE, Math.floor(fixed)));
  let shift = 0;
  while (shift < MAX_WSCALE && rcvBuf > MAX_WINDOW_FIELD * 2 ** shift) shift++;
  return shift;
}

/** RFC 7323 §2.3: "If a Window Scale option is received with a shift.cnt value larger than 14, the TCP SHOULD log the error but MUST use 14." */
export function clampPeerShift(shift: number): { shift: number; clamped: boolean } {
  return shift > MAX_WSCALE ? { shift: MAX_WSCALE, clamped: true } : { shift, clamped: false };
}

/** The largest window, in bytes, the field can carry with `shift` (65535 without scaling). */
export function maxWindow(shift: number): number {
  return MAX_WINDOW_FIELD * 2 ** shift;
}

/**
 * A window we may open to, given `free` bytes of receive buffer: rounded
 * down to a multiple of 2^shift (so that the field, once shifted, never
 * offers more than the buffer holds) and capped to what the field carries.
 */
export function openableWindow(free: number, shift: number): number {
  const unit = 2 ** shift;
  return Math.min(Math.floor(Math.max(0, free) / unit) * unit, maxWindow(shift));
}

/** SND.WND from a segment: the field shifted by Snd.Wind.Shift, except on a SYN (§2.2). */
export function peerWindow(seg: TcpSegment, sndWscale: number): number {
  return seg.flags & Flag.SYN ? seg.window : seg.window * 2 ** sndWscale;
}

/** The receive-window variables the window field is derived from. */
export interface ReceiveWindow {
  readonly rcvNxt: number;
  readonly rcvWnd: number;
  readonly rcvAdv: number;
}

/**
 * The window field of an outgoing segment. A SYN carries RCV.WND unscaled
 * (capped at 65535, §2.2). Otherwise the window to the right edge RCV.ADV is
 * shifted right rounding *up*: truncating would offer an edge left of what
 * the buffer already promised (RFC 7323 §2.4, Appendix F; RFC 9293
 * §3.8.6.2.2 says the edge must not move left). The surplus, under one unit
 * of 2^shift bytes, is not recorded as a promise: were each rounded edge
 * kept and rounded again as RCV.NXT moves, the window would creep right of
 * the buffer by up to a unit per segment (with shift 14 it would never
 * close). So the edge the peer sees never falls behind any edge backed by
 * buffer space, and exceeds it by less than one unit.
 */
export function windowField(w: ReceiveWindow, syn: boolean, rcvWscale: number): number {
  if (syn || rcvWscale === 0) return Math.min(w.rcvWnd, MAX_WINDOW_FIELD);
  const toEdge = Math.max(0, seqDiff(w.rcvAdv, w.rcvNxt));
  return Math.min(MAX_WINDOW_FIELD, Math.ceil(toEdge / 2 ** rcvWscale));
}
