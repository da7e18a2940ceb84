import { seqAdd, seqDiff } from "../wire/seq.ts";

/**
 * Out-of-order segments held until the gap before them fills (RFC 9293
 * §3.10.7.4 seventh step: segments beyond RCV.NXT "may be held for later
 * processing").
 *
 * The held sequence space is a sorted list of runs that are never adjacent
 * nor overlapping: a segment that touches a run merges with it, so the list
 * has one entry per hole. Insertion finds its place by binary search. The
 * bytes themselves live in a ring indexed by sequence number (seq mod a
 * power of two at least the span held, which the window bounds), so merging
 * runs never copies data — the shape of smoltcp's assembler over its ring.
 *
 * Two bounds, and what does not fit is dropped (the sender retransmits it):
 * `limit` bytes held (settings.oooLimit), and `holeLimit` runs — a peer
 * sending one byte in every other position would otherwise make the list as
 * long as the window (smoltcp caps its contig count; FreeBSD's
 * net.inet.tcp.reass.maxqueuelen caps segments; Linux prunes its queue).
 * A FIN seen ahead of the gap is remembered too.
 */
interface Run {
  /** First sequence number held. */
  seq: number;
  len: number;
}

/** A contiguous held range [start, end). */
export interface HeldBlock {
  readonly start: number;
  readonly end: number;
}

/** Runs most recently touched that SACK reporting remembers (RFC 2018 §4 sends at most 4 blocks). */
const RECENT = 8;
/** The ring's first size: it grows by doubling to the span held. */
const MIN_RING = 4096;

export class Reassembly {
  private runs: Run[] = [];
  private stored = 0;
  private ring: Uint8Array | undefined;
  /** A sequence number inside each run most recently touched, newest first, one per run. */
  private recent: number[] = [];
  /** Sequence number of an out-of-order FIN, if one arrived. */
  finSeq: number | undefined;
  /** The first part of the last insert that was held already (a duplicate, RFC 2883), as [start, end). */
  lastDuplicate: readonly [number, number] | undefined;
  /** Statistics: bytes refused because a new hole would pass `holeLimit`. */
  holeLimitDrops = 0;

  constructor(
    public limit: number,
    public holeLimit = Number.POSITIVE_INFINITY,
  ) {}

  /** Bytes currently held. */
  get bytes(): number {
    return this.stored;
  }

  /** Runs currently held (one per hole before it). */
  get holes(): number {
    return this.runs.length;
  }

  get isEmpty(): boolean {
    return this.runs.length === 0 && this.finSeq === undefined;
  }

  /** The held runs as [start, end) sequence ranges, in order (for SACK blocks and the lab). */
  ranges(): Array<readonly [number, number]> {
    return this.runs.map((r) => [r.seq, seqAdd(r.seq, r.len)] as const);
  }

  /** The held runs in sequence order (they are contiguous blocks: runs never touch). */
  blocks(): HeldBlock[] {
    return this.runs.map((r) => ({ start: r.seq, end: seqAdd(r.seq, r.len) }));
  }

  /**
   * Up to `max` held blocks, the most recently touched first (RFC 2018 §4),
   * then others in sequence order if fewer were touched lately. Cost is
   * independent of the number of holes.
   */
  recentBlocks(rcvNxt: number, max: number): HeldBlock[] {
    const out: HeldBlock[] = [];
    const seen = new Set<number>();
    for (const s of this.recent) {
      if (out.length >= max) break;
      const i = this.runContaining(rcvNxt, s);
      if (i < 0 || seen.has(i)) continue;
      seen.add(i);
      out.push(this.block(i));
    }
    for (let i = 0; i < this.runs.length && out.length < max; i++) {
      if (!seen.has(i)) out.push(this.block(i));
    }
    return out;
  }

  /** The held block that contains [left, right), if one does. */
  blockContaining(rcvNxt: number, left: number, right: number): HeldBlock | undefined {
    const i = this.runContaining(rcvNxt, left);
    if (i < 0) return undefined;
    const b = this.block(i);
    return seqDiff(right, b.end) <= 0 ? b : undefined;
  }

  /**
   * Holds the parts of `data` (starting at `seq`, after `rcvNxt`) that are not
   * held already, lowest first, as far as the bounds allow.
   * Returns the number of new bytes stored.
   */
  insert(rcvNxt: number, seq: number, data: Uint8Array): number {
    const start = seqDiff(seq, rcvNxt);
    const end = start + data.length;
    this.lastDuplicate = undefined;
    if (end <= 0) return 0;
    // Collect the pieces of [start, end) not covered by a run already held;
    // the first overlap is the duplicate.
    const pieces: Array<[number, number]> = [];
    let dup: [number, number] | undefined;
    let cursor = Math.max(start, 0);
    for (let i = this.firstEndingAfter(rcvNxt, cursor); i < this.runs.length; i++) {
      const run = this.runs[i]!;
      const rs = seqDiff(run.seq, rcvNxt);
      const re = rs + run.len;
      if (rs >= end) break;
      if (rs > cursor) pieces.push([cursor, rs]);
      const ds = Math.max(rs, cursor);
      if (dup === undefined) dup = [ds, Math.min(re, end)];
      else if (dup[1] === ds) dup[1] = Math.min(re, end); // still one contiguous duplicate
      cursor = Math.max(cursor, re);
      if (cursor >= end) break;
    }
    if (cursor < end) pieces.push([cursor, end]);
    if (dup !== undefined) {
      this.lastDuplicate = [seqAdd(rcvNxt, dup[0]), seqAdd(rcvNxt, dup[1])];
      this.touch(rcvNxt, seqAdd(rcvNxt, dup[0]));
    }

    let added = 0;
    for (const [ps, pe] of pieces) {
      const room = this.limit - this.stored;
      if (room <= 0) break;
      const take = Math.min(pe - ps, room);
      if (!this.addRun(rcvNxt, ps, ps + take)) {
        this.holeLimitDrops += take;
        continue;
      }
      this.write(seqAdd(rcvNxt, ps), data.subarray(ps - start, ps - start + take), rcvNxt);
      this.stored += take;
      added += take;
      this.touch(rcvNxt, seqAdd(rcvNxt, ps));
    }
    return added;
  }

  /**
   * Removes and returns the bytes that now continue the stream at `rcvNxt`
   * (already-passed bytes are discarded). Empty when the gap is still open.
   * The chunks are copies: the caller may keep them.
   */
  take(rcvNxt: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    let removed = 0;
    let next = rcvNxt;
    while (removed < this.runs.length) {
      const run = this.runs[removed]!;
      const rs = seqDiff(run.seq, next);
      if (rs > 0) break;
      removed++;
      this.stored -= run.len;
      const skip = -rs;
      if (skip < run.len) {
        const fresh = this.read(seqAdd(run.seq, skip), run.len - skip);
        out.push(fresh);
        next = seqAdd(next, fresh.length);
      }
    }
    if (removed > 0) this.runs.splice(0, removed);
    if (this.runs.length === 0) this.recent.length = 0;
    return out;
  }

  clear(): void {
    this.runs = [];
    this.stored = 0;
    this.ring = undefined;
    this.recent = [];
    this.finSeq = undefined;
    this.lastDuplicate = undefined;
  }

  // ---- the run list ----------------------------------------------------

  private block(i: number): HeldBlock {
    const r = this.runs[i]!;
    return { start: r.seq, end: seqAdd(r.seq, r.len) };
  }

  /** Index of the first run whose end is after offset `off` from rcvNxt (binary search). */
  private firstEndingAfter(rcvNxt: number, off: number): number {
    let lo = 0;
    let hi = this.runs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const r = this.runs[mid]!;
      if (seqDiff(r.seq, rcvNxt) + r.len <= off) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the run holding sequence number `seq`, or −1. */
  private runContaining(rcvNxt: number, seq: number): number {
    const off = seqDiff(seq, rcvNxt);
    const i = this.firstEndingAfter(rcvNxt, off);
    const r = this.runs[i];
    return r !== undefined && seqDiff(r.seq, rcvNxt) <= off ? i : -1;
  }

  /**
   * Adds the free range [ps, pe) (offsets from rcvNxt), merging with a run
   * ending at ps and one starting at pe. False when it would be a new hole
   * past holeLimit.
   */
  private addRun(rcvNxt: number, ps: number, pe: number): boolean {
    const i = this.firstEndingAfter(rcvNxt, ps - 1); // the first run ending at or after ps
    const left = this.runs[i];
    const joinsLeft = left !== undefined && seqDiff(left.seq, rcvNxt) + left.len === ps;
    const rightIndex = joinsLeft ? i + 1 : i;
    const right = this.runs[rightIndex];
    const joinsRight = right !== undefined && seqDiff(right.seq, rcvNxt) === pe;
    if (joinsLeft && left !== undefined) {
      left.len += pe - ps;
      if (joinsRight && right !== undefined) {
        left.len += right.len;
        this.runs.splice(rightIndex, 1);
      }
      return true;
    }
    if (joinsRight && right !== undefined) {
      right.seq = seqAdd(rcvNxt, ps);
      right.len += pe - ps;
      return true;
    }
    if (this.runs.length >= this.holeLimit) return false;
    this.runs.splice(i, 0, { seq: seqAdd(rcvNxt, ps), len: pe - ps });
    return true;
  }

  /** Remembers that the run holding `seq` was touched now (for SACK order). */
  private touch(rcvNxt: number, seq: number): void {
    const i = this.runContaining(rcvNxt, seq);
    if (i < 0) return;
    const r = this.runs[i]!;
    const rs = seqDiff(r.seq, rcvNxt);
    // One entry per run: entries now inside this (possibly merged) run go.
    this.recent = this.recent.filter((s) => {
      const o = seqDiff(s, rcvNxt);
      return o < rs || o >= rs + r.len;
    });
    this.recent.unshift(seq);
    if (this.recent.length > RECENT) this.recent.length = RECENT;
  }

  // ---- the ring of bytes ----------------------------------------------

  /** Makes the ring cover [rcvNxt, end): doubles it and lays the held bytes out again. */
  private cover(rcvNxt: number, end: number): Uint8Array {
    const span = seqDiff(end, rcvNxt);
    let ring = this.ring;
    if (ring !== undefined && span <= ring.length) return ring;
    let size = ring?.length ?? MIN_RING;
    while (size < span) size *= 2;
    const grown = new Uint8Array(size);
    if (ring !== undefined) {
      for (const r of this.runs) {
        for (let k = 0; k < r.len; ) {
          const s = seqAdd(r.seq, k);
          const from = s & (ring.length - 1);
          const n = Math.min(r.len - k, ring.length - from);
          const piece = ring.subarray(from, from + n);
          this.copyIn(grown, s, piece);
          k += n;
        }
      }
    }
    ring = grown;
    this.ring = ring;
    return ring;
  }

  private write(seq: number, bytes: Uint8Array, rcvNxt: number): void {
    const ring = this.cover(rcvNxt, seqAdd(seq, bytes.length));
    this.copyIn(ring, seq, bytes);
  }

  /** Copies `bytes` into `ring` at the slot of `seq` (seq mod the ring size, wrapping). */
  private copyIn(ring: Uint8Array, seq: number, bytes: Uint8Array): void {
    const at = seq & (ring.length - 1);
    const first = Math.min(bytes.length, ring.length - at);
    ring.set(bytes.subarray(0, first), at);
    if (first < bytes.length) ring.set(bytes.subarray(first), 0);
  }

  private read(seq: number, len: number): Uint8Array {
    const ring = this.ring as Uint8Array;
    const out = new Uint8Array(len);
    const at = seq & (ring.length - 1);
    const first = Math.min(len, ring.length - at);
    out.set(ring.subarray(at, at + first));
    if (first < len) out.set(ring.subarray(0, len - first), first);
    return out;
  }
}
