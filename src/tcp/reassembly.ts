import { seqAdd, seqDiff } from "../wire/seq.ts";
import { NIL, RunTree } from "./run-tree.ts";

/**
 * Out-of-order segments held until the gap before them fills (RFC 9293
 * §3.10.7.4 seventh step: segments beyond RCV.NXT "may be held for later
 * processing").
 *
 * The held sequence space is a set of runs that are never adjacent nor
 * overlapping: a segment that touches a run merges with it, so there is one
 * run per hole. They are kept in a balanced tree (run-tree.ts): finding,
 * adding and removing a run is O(log n) whatever order the segments come
 * in. The bytes themselves live in a ring indexed by sequence number (seq
 * mod a power of two at least the span held, which the window bounds), so
 * merging runs never copies data — smoltcp's assembler over its ring, with
 * Linux's tree for the out-of-order queue.
 *
 * Two bounds, and what does not fit is dropped (the sender retransmits it):
 * `limit` bytes held (settings.oooLimit), and `holeLimit` runs — a peer
 * sending one byte in every other position would otherwise make the list as
 * long as the window (smoltcp caps its contig count; FreeBSD's
 * net.inet.tcp.reass.maxqueuelen caps segments; Linux prunes its queue).
 * A FIN seen ahead of the gap is remembered too.
 */
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
  private readonly runs = new RunTree();
  private stored = 0;
  private ring: Uint8Array | undefined;
  /**
   * The runs most recently touched, newest first, one entry per run: a
   * sequence number inside it and the node that held it then (checked
   * before use: runs merge and go).
   */
  private recent: number[] = [];
  private recentNodes: number[] = [];
  /** The highest run (NIL when empty): segments beyond it, the usual case, need no search. */
  private max = NIL;
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
    return this.runs.size;
  }

  get isEmpty(): boolean {
    return this.runs.size === 0 && this.finSeq === undefined;
  }

  /** The held runs as [start, end) sequence ranges, in order (for SACK blocks and the lab). */
  ranges(): Array<readonly [number, number]> {
    return this.blocks().map((b) => [b.start, b.end] as const);
  }

  /** The held runs in sequence order (they are contiguous blocks: runs never touch). */
  blocks(): HeldBlock[] {
    const out: HeldBlock[] = [];
    this.runs.forEach((n) => {
      out.push(this.block(n));
    });
    return out;
  }

  /**
   * Up to `max` held blocks, the most recently touched first (RFC 2018 §4),
   * then others in sequence order if fewer were touched lately. Cost is
   * independent of the number of holes (O(max · log n)).
   */
  recentBlocks(max: number): HeldBlock[] {
    const out: HeldBlock[] = [];
    const seen: number[] = [];
    for (let i = 0; i < this.recent.length; i++) {
      if (out.length >= max) break;
      const s = this.recent[i] as number;
      const hint = this.recentNodes[i] as number;
      const n = this.holds(hint, s) ? hint : this.runContaining(s);
      if (n === NIL || seen.includes(n)) continue;
      seen.push(n);
      out.push(this.block(n));
    }
    if (out.length >= max) return out;
    for (let n = this.runs.first(); n !== NIL && out.length < max; n = this.runs.next(n)) {
      if (!seen.includes(n)) out.push(this.block(n));
    }
    return out;
  }

  /** The held block that contains [left, right), if one does. */
  blockContaining(left: number, right: number): HeldBlock | undefined {
    const n = this.runContaining(left);
    if (n === NIL) return undefined;
    const b = this.block(n);
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
    // Beyond the highest run (a peer filling the window upwards): nothing to look for.
    const beyond = this.max === NIL || seqDiff(this.runs.end(this.max), rcvNxt) <= cursor;
    const firstOverlap = beyond ? NIL : this.runs.endingAfter(seqAdd(rcvNxt, cursor));
    for (let n = firstOverlap; n !== NIL; n = this.runs.next(n)) {
      const rs = seqDiff(this.runs.seq(n), rcvNxt);
      const re = rs + this.runs.len(n);
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
      this.touch(seqAdd(rcvNxt, dup[0]), NIL);
    }

    let added = 0;
    for (const [ps, pe] of pieces) {
      const room = this.limit - this.stored;
      if (room <= 0) break;
      const take = Math.min(pe - ps, room);
      const run = this.addRun(rcvNxt, ps, ps + take);
      if (run === NIL) {
        this.holeLimitDrops += take;
        continue;
      }
      this.write(seqAdd(rcvNxt, ps), data.subarray(ps - start, ps - start + take), rcvNxt);
      this.stored += take;
      added += take;
      this.touch(seqAdd(rcvNxt, ps), run);
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
    let next = rcvNxt;
    for (let n = this.runs.first(); n !== NIL; n = this.runs.first()) {
      const rs = seqDiff(this.runs.seq(n), next);
      if (rs > 0) break;
      const len = this.runs.len(n);
      const skip = -rs;
      if (skip < len) {
        const fresh = this.read(seqAdd(this.runs.seq(n), skip), len - skip);
        out.push(fresh);
        next = seqAdd(next, fresh.length);
      }
      this.stored -= len;
      this.runs.remove(n);
      if (n === this.max) this.max = NIL;
    }
    if (this.runs.size === 0) {
      this.recent.length = 0;
      this.recentNodes.length = 0;
    }
    return out;
  }

  clear(): void {
    this.runs.clear();
    this.stored = 0;
    this.ring = undefined;
    this.recent = [];
    this.recentNodes = [];
    this.max = NIL;
    this.finSeq = undefined;
    this.lastDuplicate = undefined;
  }

  // ---- the run list ----------------------------------------------------

  private block(n: number): HeldBlock {
    return { start: this.runs.seq(n), end: this.runs.end(n) };
  }

  /** Whether node `n` is a run now and holds `seq`. */
  private holds(n: number, seq: number): boolean {
    if (!this.runs.alive(n)) return false;
    const o = seqDiff(seq, this.runs.seq(n));
    return o >= 0 && o < this.runs.len(n);
  }

  /** The run holding sequence number `seq`, or NIL. */
  private runContaining(seq: number): number {
    const n = this.runs.endingAfter(seq);
    return n !== NIL && seqDiff(this.runs.seq(n), seq) <= 0 ? n : NIL;
  }

  /**
   * Adds the free range [ps, pe) (offsets from rcvNxt), merging with a run
   * ending at ps and one starting at pe. Returns the run that now holds it,
   * or NIL when it would be a new hole past holeLimit.
   */
  private addRun(rcvNxt: number, ps: number, pe: number): number {
    const from = seqAdd(rcvNxt, ps);
    const to = seqAdd(rcvNxt, pe);
    const top = this.max;
    let n: number;
    if (top === NIL || seqDiff(this.runs.end(top), from) < 0) {
      n = NIL; // beyond every run, not touching the highest
    } else if (this.runs.end(top) === from) {
      n = top; // right after the highest run
    } else {
      // The first run ending at or after `from`: it ends there exactly, or
      // (the range being free) starts at or after `to`.
      n = this.runs.endingAfter(seqAdd(from, -1));
    }
    const joinsLeft = n !== NIL && this.runs.end(n) === from;
    const right = joinsLeft ? (n === top ? NIL : this.runs.next(n)) : n;
    const joinsRight = right !== NIL && this.runs.seq(right) === to;
    if (joinsLeft) {
      this.runs.extend(n, pe - ps);
      if (joinsRight) {
        this.runs.extend(n, this.runs.len(right));
        this.runs.remove(right);
        if (right === top) this.max = n;
      }
      return n;
    }
    if (joinsRight) {
      this.runs.extendBack(right, pe - ps);
      return right;
    }
    if (this.runs.size >= this.holeLimit) return NIL;
    const added = this.runs.insert(from, pe - ps);
    if (top === NIL || seqDiff(from, this.runs.seq(top)) > 0) this.max = added;
    return added;
  }

  /** Remembers that the run holding `seq` (node `hint`, if known) was touched now (for SACK order). */
  private touch(seq: number, hint: number): void {
    const n = this.holds(hint, seq) ? hint : this.runContaining(seq);
    if (n === NIL) return;
    const start = this.runs.seq(n);
    const len = this.runs.len(n);
    // One entry per run: entries now inside this (possibly merged) run go.
    let kept = 0;
    for (let i = 0; i < this.recent.length && kept < RECENT - 1; i++) {
      const s = this.recent[i] as number;
      const o = seqDiff(s, start);
      if (o >= 0 && o < len) continue;
      this.recent[kept] = s;
      this.recentNodes[kept] = this.recentNodes[i] as number;
      kept++;
    }
    this.recent.length = kept;
    this.recentNodes.length = kept;
    this.recent.unshift(seq);
    this.recentNodes.unshift(n);
  }

  // ---- the ring of bytes ----------------------------------------------

  /** Makes the ring cover [rcvNxt, end): doubles it and moves the held bytes over. */
  private cover(rcvNxt: number, end: number): Uint8Array {
    const span = seqDiff(end, rcvNxt);
    const ring = this.ring;
    if (ring !== undefined && span <= ring.length) return ring;
    let size = ring?.length ?? MIN_RING;
    while (size < span) size *= 2;
    const grown = new Uint8Array(size);
    // Everything held lies in [rcvNxt, rcvNxt + old size): move that window
    // whole (a byte's slot is its sequence number modulo the ring size).
    if (ring !== undefined) this.copyIn(grown, rcvNxt, this.read(rcvNxt, ring.length));
    this.ring = grown;
    return grown;
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
