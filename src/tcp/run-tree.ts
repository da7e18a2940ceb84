import { seqDiff } from "../wire/seq.ts";

/** No node. */
export const NIL = -1;

// Shared by every tree that has never held a run (grow() replaces them, nothing writes to them).
const NO_U32 = new Uint32Array(0);
const NO_I32 = new Int32Array(0);
const NO_U8 = new Uint8Array(0);

/**
 * The runs of the out-of-order queue in sequence order, as a splay tree
 * (Sleator and Tarjan's top-down splaying): every search, insert and delete
 * is O(log n) amortized whatever order a peer sends in, with no randomness
 * an attacker could predict — and a run next to the last one touched costs
 * O(1), so a peer filling its window upwards one hole at a time costs
 * linear time in total, not n·log n. Runs are disjoint and never adjacent,
 * so ordering by start orders the ends too. Nodes live in typed arrays
 * indexed by number: no object per run for the collector to trace, however
 * many holes a peer opens. Sequence numbers compare modulo 2^32 (all runs
 * lie within one window).
 */
export class RunTree {
  // Empty until the first run: most connections never see one out of
  // order, and five arrays each would be a third of an idle one's memory.
  private seqs = NO_U32;
  private lens = NO_U32;
  private left = NO_I32;
  private right = NO_I32;
  /** 1 while a node is in the tree (a freed index may be remembered elsewhere). */
  private live = NO_U8;
  private root = NIL;
  /** Free nodes, chained through `right`. */
  private free = NIL;
  private used = 0;
  size = 0;

  seq(n: number): number {
    return this.seqs[n] as number;
  }
  len(n: number): number {
    return this.lens[n] as number;
  }
  /** One past the last sequence number of run `n`. */
  end(n: number): number {
    return ((this.seqs[n] as number) + (this.lens[n] as number)) >>> 0;
  }
  /** Grows run `n` by `by` bytes at its end. */
  extend(n: number, by: number): void {
    this.lens[n] = (this.lens[n] as number) + by;
  }
  /** Moves run `n`'s start back by `by` bytes (it stays between its neighbours). */
  extendBack(n: number, by: number): void {
    this.seqs[n] = ((this.seqs[n] as number) - by) >>> 0;
    this.lens[n] = (this.lens[n] as number) + by;
  }

  /** Whether `n` is a run in the tree now. */
  alive(n: number): boolean {
    return n >= 0 && n < this.used && this.live[n] === 1;
  }

  clear(): void {
    this.live.fill(0);
    this.root = NIL;
    this.free = NIL;
    this.used = 0;
    this.size = 0;
  }

  /** The run with the lowest start, or NIL. */
  first(): number {
    let n = this.root;
    if (n === NIL) return NIL;
    while (this.left[n] !== NIL) n = this.left[n] as number;
    this.root = this.splay(this.root, this.seq(n)); // pays for the walk (amortized)
    return n;
  }

  /** The first run whose end lies after `seq` (seq < end), or NIL. */
  endingAfter(seq: number): number {
    if (this.root === NIL) return NIL;
    const t = this.splay(this.root, seq);
    this.root = t;
    // t is the run starting at seq, or the one before or after it.
    if (seqDiff(this.seq(t), seq) <= 0) {
      if (seqDiff(this.end(t), seq) > 0) return t;
      const r = this.right[t] as number;
      if (r === NIL) return NIL;
      const after = this.splay(r, seq); // every key there is above seq: the lowest comes up
      this.right[t] = after;
      return after;
    }
    const l = this.left[t] as number;
    if (l !== NIL) {
      const before = this.splay(l, seq); // every key there is below seq: the highest comes up
      this.left[t] = before;
      if (seqDiff(this.end(before), seq) > 0) return before;
    }
    return t;
  }

  /** The run after `n` in sequence order, or NIL. */
  next(n: number): number {
    return this.endingAfter(this.end(n));
  }

  insert(seq: number, len: number): number {
    const n = this.alloc(seq, len);
    if (this.root !== NIL) {
      const t = this.splay(this.root, seq);
      if (seqDiff(seq, this.seq(t)) < 0) {
        this.left[n] = this.left[t] as number;
        this.right[n] = t;
        this.left[t] = NIL;
      } else {
        this.right[n] = this.right[t] as number;
        this.left[n] = t;
        this.right[t] = NIL;
      }
    }
    this.root = n;
    this.size++;
    return n;
  }

  /** Removes run `n`. */
  remove(n: number): void {
    const key = this.seq(n);
    const t = this.splay(this.root, key); // n itself
    const l = this.left[t] as number;
    const r = this.right[t] as number;
    if (l === NIL) {
      this.root = r;
    } else {
      const top = this.splay(l, key); // the highest below n, with no right child
      this.right[top] = r;
      this.root = top;
    }
    this.size--;
    this.live[n] = 0;
    this.right[n] = this.free;
    this.free = n;
  }

  /** Every run in sequence order. */
  forEach(fn: (n: number) => void): void {
    const stack: number[] = [];
    let n = this.root;
    while (n !== NIL || stack.length > 0) {
      while (n !== NIL) {
        stack.push(n);
        n = this.left[n] as number;
      }
      n = stack.pop() as number;
      fn(n);
      n = this.right[n] as number;
    }
  }

  // ---- AVL ---------------------------------------------------------------

  private alloc(seq: number, len: number): number {
    let n = this.free;
    if (n !== NIL) {
      this.free = this.right[n] as number;
    } else {
      if (this.used === this.seqs.length) this.grow();
      n = this.used++;
    }
    this.seqs[n] = seq >>> 0;
    this.lens[n] = len;
    this.left[n] = NIL;
    this.right[n] = NIL;
    this.live[n] = 1;
    return n;
  }

  private grow(): void {
    const size = Math.max(16, this.seqs.length * 2);
    const copy = <T extends Uint32Array | Int32Array | Uint8Array>(a: T, b: T): T => {
      b.set(a);
      return b;
    };
    this.seqs = copy(this.seqs, new Uint32Array(size));
    this.lens = copy(this.lens, new Uint32Array(size));
    this.left = copy(this.left, new Int32Array(size));
    this.right = copy(this.right, new Int32Array(size));
    this.live = copy(this.live, new Uint8Array(size));
  }

  /**
   * Top-down splay of the tree rooted at `t` for `key`: returns the new
   * root, the run starting at `key` or the last one on the search path (the
   * run just before or just after `key`).
   */
  private splay(t: number, key: number): number {
    if (t === NIL) return NIL;
    const left = this.left;
    const right = this.right;
    let leftTree = NIL; // root of the runs below key, built on its right spine
    let rightTree = NIL; // root of the runs above key, built on its left spine
    let l = NIL;
    let r = NIL;
    for (;;) {
      const c = seqDiff(key, this.seq(t));
      if (c < 0) {
        let y = left[t] as number;
        if (y === NIL) break;
        if (seqDiff(key, this.seq(y)) < 0) {
          left[t] = right[y] as number; // rotate right
          right[y] = t;
          t = y;
          y = left[t] as number;
          if (y === NIL) break;
        }
        if (r === NIL) rightTree = t;
        else left[r] = t; // link right
        r = t;
        t = y;
      } else if (c > 0) {
        let y = right[t] as number;
        if (y === NIL) break;
        if (seqDiff(key, this.seq(y)) > 0) {
          right[t] = left[y] as number; // rotate left
          left[y] = t;
          t = y;
          y = right[t] as number;
          if (y === NIL) break;
        }
        if (l === NIL) leftTree = t;
        else right[l] = t; // link left
        l = t;
        t = y;
      } else {
        break;
      }
    }
    // Assemble: t's subtrees go to the ends of the side trees, which become its children.
    if (l === NIL) leftTree = left[t] as number;
    else right[l] = left[t] as number;
    if (r === NIL) rightTree = right[t] as number;
    else left[r] = right[t] as number;
    left[t] = leftTree;
    right[t] = rightTree;
    return t;
  }
}
