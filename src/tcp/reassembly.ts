import { seqAdd, seqDiff } from "../wire/seq.ts";

/**
 * Out-of-order segments held until the gap before them fills (RFC 9293
 * §3.10.7.4 seventh step: segments beyond RCV.NXT "may be held for later
 * processing"). Stored as non-overlapping byte runs keyed by sequence number;
 * total bytes never exceed `limit` (settings.oooLimit) — what does not fit
 * is dropped and the sender will retransmit it. A FIN seen ahead of the gap
 * is remembered too.
 */
interface Run {
  seq: number;
  data: Uint8Array;
}

export class Reassembly {
  private runs: Run[] = [];
  private stored = 0;
  /** Sequence number of an out-of-order FIN, if one arrived. */
  finSeq: number | undefined;

  constructor(readonly limit: number) {}

  /** Bytes currently held. */
  get bytes(): number {
    return this.stored;
  }

  get isEmpty(): boolean {
    return this.runs.length === 0 && this.finSeq === undefined;
  }

  /** The held runs as [start, end) sequence ranges, in order (for SACK blocks and the lab). */
  ranges(): Array<readonly [number, number]> {
    return this.runs.map((r) => [r.seq, seqAdd(r.seq, r.data.length)] as const);
  }

  /**
   * Holds the parts of `data` (starting at `seq`, after `rcvNxt`) that are not
   * held already, lowest first, as far as the memory bound allows.
   * Returns the number of new bytes stored.
   */
  insert(rcvNxt: number, seq: number, data: Uint8Array): number {
    const start = seqDiff(seq, rcvNxt);
    const end = start + data.length;
    if (end <= 0) return 0;
    // Collect the pieces of [start, end) not covered by a run already held.
    const pieces: Array<[number, number]> = [];
    let cursor = Math.max(start, 0);
    for (const run of this.runs) {
      const rs = seqDiff(run.seq, rcvNxt);
      const re = rs + run.data.length;
      if (re <= cursor) continue;
      if (rs >= end) break;
      if (rs > cursor) pieces.push([cursor, Math.min(rs, end)]);
      cursor = Math.max(cursor, re);
      if (cursor >= end) break;
    }
    if (cursor < end) pieces.push([cursor, end]);

    let added = 0;
    for (const [ps, pe] of pieces) {
      const room = this.limit - this.stored;
      if (room <= 0) break;
      const take = Math.min(pe - ps, room);
      const bytes = data.slice(ps - start, ps - start + take);
      this.runs.push({ seq: seqAdd(rcvNxt, ps), data: bytes });
      this.stored += take;
      added += take;
    }
    if (added > 0) this.runs.sort((a, b) => seqDiff(a.seq, rcvNxt) - seqDiff(b.seq, rcvNxt));
    return added;
  }

  /**
   * Removes and returns the bytes that now continue the stream at `rcvNxt`
   * (already-passed bytes are discarded). Empty when the gap is still open.
   */
  take(rcvNxt: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    let next = rcvNxt;
    while (this.runs.length > 0) {
      const run = this.runs[0]!;
      const rs = seqDiff(run.seq, next);
      if (rs > 0) break;
      this.runs.shift();
      this.stored -= run.data.length;
      const skip = -rs;
      if (skip < run.data.length) {
        const fresh = run.data.subarray(skip);
        out.push(fresh);
        next = seqAdd(next, fresh.length);
      }
    }
    return out;
  }

  clear(): void {
    this.runs = [];
    this.stored = 0;
    this.finSeq = undefined;
  }
}
