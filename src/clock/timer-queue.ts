import type { Millis, TimerHandle } from "./clock.ts";

/** One pending timer. `index` is its slot in the heap (-1 once it has left). */
interface Entry extends TimerHandle {
  readonly deadline: Millis;
  /** Insertion order: breaks ties so equal deadlines fire first-scheduled-first. */
  readonly seq: number;
  readonly fn: () => void;
  index: number;
}

/**
 * The single timer queue both clocks share: a binary min-heap keyed by
 * (deadline, insertion order), with O(log n) cancel. Ordering is total, so
 * the same schedule always fires in the same order.
 */
export class TimerQueue {
  private readonly heap: Entry[] = [];
  private readonly byId = new Map<number, Entry>();
  private nextSeq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(deadline: Millis, fn: () => void): TimerHandle {
    if (Number.isNaN(deadline)) throw new RangeError("timer deadline is NaN");
    const seq = this.nextSeq++;
    const entry: Entry = { id: seq, deadline, seq, fn, index: this.heap.length };
    this.heap.push(entry);
    this.byId.set(entry.id, entry);
    this.siftUp(entry.index);
    return { id: entry.id };
  }

  /** Removes the timer if it is still pending; cancelling twice or after it fired is harmless. */
  cancel(handle: TimerHandle): boolean {
    const entry = this.byId.get(handle.id);
    if (entry === undefined) return false;
    this.removeAt(entry.index);
    return true;
  }

  peekDeadline(): Millis | undefined {
    return this.heap[0]?.deadline;
  }

  /** A mark that orders after every timer scheduled so far (see popDue's `before`). */
  mark(): number {
    return this.nextSeq;
  }

  /**
   * Removes and returns the earliest timer if its deadline is ≤ `limit` and,
   * when `before` is given, it was scheduled before that mark.
   */
  popDue(
    limit: Millis,
    before: number = Number.POSITIVE_INFINITY,
  ): { deadline: Millis; fn: () => void } | undefined {
    const top = this.heap[0];
    if (top === undefined || top.deadline > limit || top.seq >= before) return undefined;
    this.removeAt(0);
    return { deadline: top.deadline, fn: top.fn };
  }

  clear(): void {
    for (const entry of this.heap) entry.index = -1;
    this.heap.length = 0;
    this.byId.clear();
  }

  private removeAt(index: number): void {
    const heap = this.heap;
    const gone = heap[index]!;
    const last = heap.pop()!;
    this.byId.delete(gone.id);
    gone.index = -1;
    if (last === gone) return;
    heap[index] = last;
    last.index = index;
    this.siftUp(index);
    this.siftDown(last.index);
  }

  private before(x: Entry, y: Entry): boolean {
    return x.deadline < y.deadline || (x.deadline === y.deadline && x.seq < y.seq);
  }

  private siftUp(index: number): void {
    const heap = this.heap;
    const entry = heap[index]!;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex]!;
      if (!this.before(entry, parent)) break;
      heap[index] = parent;
      parent.index = index;
      index = parentIndex;
    }
    heap[index] = entry;
    entry.index = index;
  }

  private siftDown(index: number): void {
    const heap = this.heap;
    const n = heap.length;
    const entry = heap[index]!;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= n) break;
      const right = left + 1;
      let child = left;
      if (right < n && this.before(heap[right]!, heap[left]!)) child = right;
      const smaller = heap[child]!;
      if (!this.before(smaller, entry)) break;
      heap[index] = smaller;
      smaller.index = index;
      index = child;
    }
    heap[index] = entry;
    entry.index = index;
  }
}
