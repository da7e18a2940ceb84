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
  /** When a segment last covered this run (insert order): SACK blocks go most recent first (RFC 2018 §4). */
  touched: number;
}

/** A contiguous held range [start, end) and when a segment last touched it. */
export interface HeldBlock {
  readonly start: number;
  readonly end: number;
  readonly touched: number;
}

export class Reassembly {
  private runs: Run[] = [];
  private stored = 0;
  private clock = 0;
  /** Sequence number of an out-of-order FIN, if one arrived. */
  finSeq: number | undefined;
  /** The first part of the last insert that was held already (a duplicate, RFC 2883), as [start, end). */
  lastDuplicate: readonly [number, number] | undefined;

  constructor(public limit: number) {}

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
   * The held runs merged into contiguous blocks, in sequence order, each with
   * the latest time a segment touched any of its runs.
   */
  blocks(rcvNxt: number): HeldBlock[] {
    const out: HeldBlock[] = [];
    for (const r of this.runs) {
      const end = seqAdd(r.seq, r.data.length);
      const last = out[out.length - 1];
      if (last !== undefined && seqDiff(r.seq, last.end) <= 0) {
        const further = seqDiff(end, last.end) > 0 ? end : last.end;
        out[out.length - 1] = {
          start: last.start,
          end: further,
          touched: Math.max(last.touched, r.touched),
        };
      } else if (seqDiff(end, rcvNxt) > 0) {
        out.push({ start: r.seq, end, touched: r.touched });
      }
    }
    return out;
  }

  /**
   * Holds the parts of `data` (starting at `seq`, after `rcvNxt`) that are not
   * held already, lowest first, as far as the memory bound allows.
   * Returns the number of new bytes stored.
   */
  insert(rcvNxt: number, seq: number, data: Uint8Array): number {
    const start = seqDiff(seq, rcvNxt);
    const end = start + data.length;
    this.lastDuplicate = undefined;
    if (end <= 0) return 0;
    const stamp = ++this.clock;
    // Collect the pieces of [start, end) not covered by a run already held;
    // the runs it overlaps are touched, and the first overlap is the duplicate.
    const pieces: Array<[number, number]> = [];
    let dup: [number, number] | undefined;
    let cursor = Math.max(start, 0);
    for (const run of this.runs) {
      const rs = seqDiff(run.seq, rcvNxt);
      const re = rs + run.data.length;
      if (re <= cursor) continue;
      if (rs >= end) break;
      if (rs > cursor) pieces.push([cursor, Math.min(rs, end)]);
      run.touched = stamp;
      const ds = Math.max(rs, cursor);
      if (dup === undefined) dup = [ds, Math.min(re, end)];
      else if (dup[1] === ds) dup[1] = Math.min(re, end); // still one contiguous duplicate
      cursor = Math.max(cursor, re);
      if (cursor >= end) break;
    }
    if (cursor < end) pieces.push([cursor, end]);
    if (dup !== undefined) this.lastDuplicate = [seqAdd(rcvNxt, dup[0]), seqAdd(rcvNxt, dup[1])];

    let added = 0;
    for (const [ps, pe] of pieces) {
      const room = this.limit - this.stored;
      if (room <= 0) break;
      const take = Math.min(pe - ps, room);
      const bytes = data.slice(ps - start, ps - start + take);
      this.runs.push({ seq: seqAdd(rcvNxt, ps), data: bytes, touched: stamp });
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
    this.lastDuplicate = undefined;
  }
}
