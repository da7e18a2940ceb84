import { seqAdd } from "../wire/seq.ts";
import { Flag, type TcpSegment } from "../wire/tcp-types.ts";

/** SEG.LEN: payload bytes plus one for each of SYN and FIN (RFC 9293 §3.4). */
export function segLen(seg: TcpSegment): number {
  return seg.payload.length + (seg.flags & Flag.SYN ? 1 : 0) + (seg.flags & Flag.FIN ? 1 : 0);
}

/** A bare control segment from `from`'s ports reversed, no options, no data. */
export function replyTo(seg: TcpSegment, seq: number, ack: number, flags: number): TcpSegment {
  return {
    srcPort: seg.dstPort,
    dstPort: seg.srcPort,
    seq,
    ack,
    flags,
    window: 0,
    urgentPointer: 0,
    options: [],
    payload: new Uint8Array(0),
  };
}

/**
 * RFC 9293 §3.10.7.1 (CLOSED): the reply to a segment that reaches no
 * connection. An incoming RST is discarded; otherwise
 *   ACK off: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
 *   ACK on:  <SEQ=SEG.ACK><CTL=RST>
 * The same form answers unacceptable ACKs in LISTEN and SYN-SENT.
 */
export function resetFor(seg: TcpSegment): TcpSegment | undefined {
  if (seg.flags & Flag.RST) return undefined;
  if (seg.flags & Flag.ACK) return replyTo(seg, seg.ack, 0, Flag.RST);
  return replyTo(seg, 0, seqAdd(seg.seq, segLen(seg)), Flag.RST | Flag.ACK);
}
