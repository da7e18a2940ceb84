import { seqLe } from "../wire/seq.ts";
import type { Reassembly } from "./reassembly.ts";

/**
 * SACK as a data receiver (RFC 2018 §4) and D-SACK (RFC 2883): which blocks
 * an ACK reports.
 *
 * - The first block holds the segment that triggered this ACK — the most
 *   recently touched block of the reassembly buffer — then the others,
 *   most recently touched first (§4: "the most recently reported SACK
 *   blocks"), as many as fit.
 * - A duplicate segment (below RCV.NXT, or data already held) is reported
 *   once, in the first block (RFC 2883 §4); if it lies inside a held block,
 *   that block comes second.
 */

export type SackBlock = readonly [left: number, right: number];

/** Option bytes: kind + length, then 8 per block; sent after two NOPs (4 + 8n bytes). */
export function sackOptionSpace(blocks: number): number {
  return blocks === 0 ? 0 : 4 + 8 * blocks;
}

/** How many blocks fit in `room` option bytes (40 at most: 4 blocks alone, 3 beside timestamps). */
export function blocksThatFit(room: number): number {
  return Math.max(0, Math.min(4, Math.floor((room - 4) / 8)));
}

export class SackReceiver {
  /** SACK-permitted was negotiated (both SYNs, RFC 2018 §2). */
  enabled = false;
  /** RFC 2883 reporting on (settings.dsack). */
  dsack = false;
  /** A duplicate to report in the next ACK, [left, right). */
  pendingDsack: SackBlock | undefined;
  /** The blocks of the last ACK we sent (empty if it had none), for the lab. */
  lastSent: readonly SackBlock[] = [];
  /** Statistics: D-SACK blocks sent. */
  dsacksSent = 0;

  /** A duplicate arrived: [left, right) was already received (RFC 2883 §4). */
  noteDuplicate(left: number, right: number): void {
    if (!this.enabled || !this.dsack || seqLe(right, left)) return;
    this.pendingDsack = [left >>> 0, right >>> 0];
  }

  /** The blocks to report now, at most `max`; a pending D-SACK first (consumed by `sent`). */
  blocks(reassembly: Reassembly, max: number): SackBlock[] {
    if (!this.enabled || max <= 0) return [];
    const out: SackBlock[] = [];
    const d = this.pendingDsack;
    let inside: SackBlock | undefined;
    if (d !== undefined) {
      out.push(d);
      // RFC 2883 §4: the held block containing the duplicate comes second.
      const b = reassembly.blockContaining(d[0], d[1]);
      if (b !== undefined) {
        inside = [b.start, b.end];
        out.push(inside);
      }
    }
    // Most recently touched first (RFC 2018 §4), without looking at every hole.
    for (const b of reassembly.recentBlocks(max + 1)) {
      if (out.length >= max) break;
      if (inside === undefined || b.start !== inside[0]) out.push([b.start, b.end]);
    }
    return out.slice(0, max);
  }

  /** Records what an outgoing ACK carried; a D-SACK sent is not repeated. */
  sent(blocks: readonly SackBlock[]): void {
    this.lastSent = blocks;
    const d = this.pendingDsack;
    if (d !== undefined && blocks.length > 0 && blocks[0] === d) {
      this.pendingDsack = undefined;
      this.dsacksSent++;
    }
  }

  /** The connection ended. */
  clear(): void {
    this.pendingDsack = undefined;
    this.lastSent = [];
  }
}
