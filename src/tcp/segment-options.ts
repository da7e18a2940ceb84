import { Flag, type TcpOption } from "../wire/tcp-types.ts";
import { blocksThatFit, type SackBlock } from "./sack-blocks.ts";
import type { Tcb } from "./tcb.ts";
import { TS_OPTION_SPACE } from "./timestamps.ts";

/** RFC 9293 §3.1: at most 40 bytes of options. */
const MAX_OPTION_SPACE = 40;

/**
 * Options on a segment other than a SYN, once negotiated:
 * `<nop,nop,TS val ecr>` on every segment (RFC 7323 §3.2; RSTs too, which
 * the RFC recommends), then `<nop,nop,sack …>` on ACKs while out-of-order
 * data is held or a duplicate is to be reported (RFC 2018 §4, RFC 2883).
 *
 * A data segment's options count against the MSS (RFC 6691, RFC 9293
 * §3.7.1): SACK blocks that do not fit beside the payload are left off, and
 * `ackStillOwed` asks the caller to follow with a pure ACK that carries them.
 */
export function segmentOptions(
  tcb: Tcb,
  flags: number,
  payloadLen: number,
): { options: TcpOption[]; ackStillOwed: boolean } {
  const options: TcpOption[] = [];
  const withAck = (flags & Flag.ACK) !== 0;
  if (withAck) tcb.ts.lastAckSent = tcb.rcvNxt; // Last.ACK.sent (RFC 7323 §4.3)
  let used = 0;
  if (tcb.ts.enabled) {
    options.push({ kind: "nop" }, { kind: "nop" }, tcb.ts.option(tcb.now, withAck));
    used = TS_OPTION_SPACE;
  }
  let ackStillOwed = false;
  if (withAck && !(flags & Flag.RST) && tcb.sackRx.enabled) {
    const alone = blocksThatFit(MAX_OPTION_SPACE - used);
    const room =
      payloadLen > 0 ? Math.min(MAX_OPTION_SPACE, tcb.sndMss - payloadLen) : MAX_OPTION_SPACE;
    const fit = Math.min(alone, blocksThatFit(room - used));
    const wanted = tcb.sackRx.blocks(tcb.reassembly, alone);
    const blocks: SackBlock[] = wanted.slice(0, fit);
    if (blocks.length > 0) options.push({ kind: "nop" }, { kind: "nop" }, { kind: "sack", blocks });
    tcb.sackRx.sent(blocks);
    ackStillOwed = blocks.length < wanted.length;
  }
  return { options, ackStillOwed };
}
