import { DeadlineHeap } from "../util/deadline-heap.ts";
import type { TimerHandle } from "./clock.ts";
import type { Instant } from "./time.ts";

/** One pending timer; its id is its insertion order. */
interface Entry extends TimerHandle {
  readonly fn: () => void;
}

/**
 * The single timer queue both clocks share: a binary min-heap keyed by
 * (deadline, insertion order), with O(log n) cancel. Ordering is total, so
 * the same schedule always fires in the same order.
 */
export class TimerQueue {
  private readonly heap = new DeadlineHeap<Entry, Instant>();
  private readonly byId = new Map<number, Entry>();
  private nextSeq = 0;

  get size(): number {
    return this.heap.size;
  }

  push(deadline: Instant, fn: () => void): TimerHandle {
    if (Number.isNaN(deadline)) throw new RangeError("timer deadline is NaN");
    const seq = this.nextSeq++;
    const entry: Entry = { id: seq, fn };
    // The rank breaks ties: equal deadlines fire first-scheduled-first.
    this.heap.set(entry, deadline, seq);
    this.byId.set(seq, entry);
    return { id: seq };
  }

  /** Removes the timer if it is still pending; cancelling twice or after it fired is harmless. */
  cancel(handle: TimerHandle): boolean {
    const entry = this.byId.get(handle.id);
    if (entry === undefined) return false;
    this.byId.delete(handle.id);
    this.heap.delete(entry);
    return true;
  }

  peekDeadline(): Instant | undefined {
    return this.heap.peek();
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
    limit: Instant,
    before: number = Number.POSITIVE_INFINITY,
  ): { deadline: Instant; fn: () => void } | undefined {
    const top = this.heap.first();
    if (top === undefined || top.deadline > limit || top.rank >= before) return undefined;
    this.heap.delete(top.item);
    this.byId.delete(top.item.id);
    return { deadline: top.deadline, fn: top.item.fn };
  }

  clear(): void {
    this.heap.clear();
    this.byId.clear();
  }
}
