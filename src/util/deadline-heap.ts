/**
 * Items keyed by a deadline in a binary min-heap, each item at most once:
 * setting an item's deadline inserts, moves or (undefined) removes it in
 * O(log n), and the earliest deadline is read in O(1). The host keeps one
 * entry per connection here, so finding the next timer never looks at the
 * connections that are idle (smoltcp's poll_at, BSD's callout wheel). Ties
 * break by `rank` (the order items were first given one), so the order of
 * items due together does not depend on the heap's shape.
 */
interface Node<T, K extends number> {
  readonly item: T;
  readonly rank: number;
  deadline: K;
  index: number;
}

/** `K` is the deadline's type: a plain number, or a branded instant from src/clock. */
export class DeadlineHeap<T, K extends number = number> {
  private readonly heap: Node<T, K>[] = [];
  private readonly nodes = new Map<T, Node<T, K>>();

  get size(): number {
    return this.heap.length;
  }

  /** The item's deadline, if it has one. */
  get(item: T): K | undefined {
    return this.nodes.get(item)?.deadline;
  }

  /**
   * Gives `item` the deadline `at` (undefined: no deadline, leave the heap).
   * `rank` orders items with equal deadlines; it is taken the first time only.
   */
  set(item: T, at: K | undefined, rank = 0): void {
    const node = this.nodes.get(item);
    if (at === undefined) {
      if (node !== undefined) this.removeAt(node.index);
      return;
    }
    if (node === undefined) {
      const fresh: Node<T, K> = { item, rank, deadline: at, index: this.heap.length };
      this.heap.push(fresh);
      this.nodes.set(item, fresh);
      this.siftUp(fresh.index);
      return;
    }
    if (node.deadline === at) return;
    const earlier = at < node.deadline;
    node.deadline = at;
    if (earlier) this.siftUp(node.index);
    else this.siftDown(node.index);
  }

  delete(item: T): void {
    this.set(item, undefined);
  }

  /** The earliest deadline, if any. */
  peek(): K | undefined {
    return this.heap[0]?.deadline;
  }

  /** The item with the earliest deadline (lowest rank among equals), without removing it. */
  first(): { readonly item: T; readonly deadline: K; readonly rank: number } | undefined {
    return this.heap[0];
  }

  clear(): void {
    this.heap.length = 0;
    this.nodes.clear();
  }

  /** Removes and returns every item whose deadline is ≤ `now`, in (deadline, rank) order. */
  popDue(now: K): T[] {
    const out: T[] = [];
    for (;;) {
      const top = this.heap[0];
      if (top === undefined || top.deadline > now) return out;
      this.removeAt(0);
      out.push(top.item);
    }
  }

  /** The rank an item was given (for callers that order a batch of items). */
  rankOf(item: T): number | undefined {
    return this.nodes.get(item)?.rank;
  }

  private removeAt(index: number): void {
    const heap = this.heap;
    const gone = heap[index]!;
    const last = heap.pop()!;
    this.nodes.delete(gone.item);
    if (last === gone) return;
    heap[index] = last;
    last.index = index;
    this.siftUp(index);
    this.siftDown(last.index);
  }

  private static before<T, K extends number>(x: Node<T, K>, y: Node<T, K>): boolean {
    return x.deadline < y.deadline || (x.deadline === y.deadline && x.rank < y.rank);
  }

  /** Puts `node` at `index`. */
  private place(node: Node<T, K>, index: number): void {
    this.heap[index] = node;
    node.index = index;
  }

  private siftUp(index: number): void {
    const node = this.heap[index]!;
    while (index > 0) {
      const up = (index - 1) >> 1;
      const parent = this.heap[up]!;
      if (!DeadlineHeap.before(node, parent)) break;
      this.place(parent, index);
      index = up;
    }
    this.place(node, index);
  }

  private siftDown(index: number): void {
    const heap = this.heap;
    const node = heap[index]!;
    for (let left = 2 * index + 1; left < heap.length; left = 2 * index + 1) {
      const right = left + 1;
      const child =
        right < heap.length && DeadlineHeap.before(heap[right]!, heap[left]!) ? right : left;
      const smaller = heap[child]!;
      if (!DeadlineHeap.before(smaller, node)) break;
      this.place(smaller, index);
      index = child;
    }
    this.place(node, index);
  }
}
