/**
 * A bounded FIFO of bytes: the storage under the send buffer (bytes from
 * SND.UNA on) and the receive queue (in-order bytes the application has not
 * read yet).
 *
 * Memory follows what is queued, not the bound: the bytes live in a list of
 * chunks allocated as data arrives and dropped as it is consumed, so an
 * idle connection holds no buffer at all, whatever its configured size (a
 * 1 MiB window costs nothing until a megabyte is in flight) — the mbuf chain
 * or skb queue of a kernel, not a preallocated ring. Small writes share a
 * chunk (no per-byte overhead for a stream of one-byte segments); a large,
 * owned array (a received segment's payload) is kept as it is, without a copy.
 *
 * A queue whose chunks never leave it (the send buffer: nothing it hands
 * out outlives the bytes) may `recycle`: the last two chunks it allocated
 * and consumed whole are used again for the next appends — a fresh 64 KiB
 * array costs more in page faults than the copy into it (9–11 µs against
 * 2–2.5 µs). The spares go when the queue empties, so an idle connection
 * still holds nothing.
 */

/** Smallest chunk allocated for copied data (smaller pushes share one). */
const MIN_CHUNK = 1024;
/** Owned arrays at least this long are kept as they are; shorter ones are copied together. */
const ADOPT_MIN = 512;
/** Chunks a recycling queue keeps for reuse. */
const SPARES = 2;

export class ByteQueue {
  /** The chunks, oldest first, from index `first` on (dropped ones are compacted away in bulk). */
  private chunks: Uint8Array[] = [];
  private first = 0;
  /** Bytes of chunks[first] already consumed. */
  private headSkip = 0;
  private len = 0;
  private cap: number;
  /** The last chunk's backing allocation, when it has room to append (copied data only). */
  private tail: Uint8Array | undefined;
  private tailUsed = 0;
  /** Bytes consumed before chunks[first] (positions below are counted from the queue's start). */
  private headPos = 0;
  /** Where the last lookup ended, so a run of sends walks the chunks once. */
  private cacheIndex = 0;
  private cachePos = 0;
  /** With `recycle`: allocations of ours (never an adopted array), and those consumed whole. */
  /** Made at the first allocation, so an idle connection's queue holds no set. */
  private mine: WeakSet<ArrayBufferLike> | undefined;
  private readonly recycle: boolean;
  private spares: Uint8Array[] | undefined;

  constructor(capacity: number, recycle = false) {
    this.cap = capacity;
    this.recycle = recycle;
  }

  get capacity(): number {
    return this.cap;
  }

  /** Raises the bound to `capacity` bytes (never lowers it); nothing is allocated. */
  grow(capacity: number): void {
    if (capacity > this.cap) this.cap = capacity;
  }

  get length(): number {
    return this.len;
  }

  get free(): number {
    return this.cap - this.len;
  }

  /** Chunks held (for memory accounting and tests). */
  get chunkCount(): number {
    return this.chunks.length - this.first;
  }

  /**
   * Appends as much of `data` as fits; returns the number of bytes taken.
   * `owned`: the caller hands the array over and never writes to it again,
   * so a large one is kept without a copy.
   */
  push(data: Uint8Array, owned = false): number {
    const n = Math.min(data.length, this.free);
    if (n <= 0) return 0;
    if (owned && n >= ADOPT_MIN) {
      this.chunks.push(n === data.length ? data : data.subarray(0, n));
      this.tail = undefined;
    } else {
      this.append(n === data.length ? data : data.subarray(0, n));
    }
    this.len += n;
    return n;
  }

  /** Copies `data` into the tail allocation, starting a new one when it is full. */
  private append(data: Uint8Array): void {
    let done = 0;
    const tail = this.tail;
    if (tail !== undefined) {
      const fit = Math.min(data.length, tail.length - this.tailUsed);
      if (fit > 0) {
        tail.set(data.subarray(0, fit), this.tailUsed);
        this.tailUsed += fit;
        this.chunks[this.chunks.length - 1] = tail.subarray(0, this.tailUsed);
        done = fit;
      }
    }
    if (done === data.length) return;
    const rest = data.length - done;
    // Room for what is likely to follow, within the bound.
    const size = Math.max(rest, Math.min(MIN_CHUNK, this.free));
    const spare = this.spares?.at(-1);
    let fresh: Uint8Array;
    if (spare !== undefined && spare.length >= size) {
      fresh = spare;
      this.spares?.pop();
    } else {
      fresh = new Uint8Array(size);
      if (this.recycle) {
        this.mine ??= new WeakSet();
        this.mine.add(fresh.buffer);
      }
    }
    fresh.set(data.subarray(done));
    this.tail = fresh;
    this.tailUsed = rest;
    this.chunks.push(fresh.subarray(0, rest));
  }

  /** A copy of `len` bytes starting `offset` bytes after the head (clamped to what is queued). */
  peek(offset: number, len: number): Uint8Array {
    const start = Math.min(Math.max(0, offset), this.len);
    const n = Math.min(Math.max(0, len), this.len - start);
    const out = new Uint8Array(n);
    this.copyOut(start, n, out);
    return out;
  }

  /**
   * `len` bytes starting `offset` bytes after the head (clamped like peek):
   * a view into a chunk when they lie in one, else a copy. A view stays
   * valid while its bytes are queued; callers that keep it longer must copy.
   */
  view(offset: number, len: number): Uint8Array {
    const start = Math.min(Math.max(0, offset), this.len);
    const n = Math.min(Math.max(0, len), this.len - start);
    const [i, at] = this.locate(start);
    const chunk = this.chunks[i];
    if (chunk !== undefined && at + n <= chunk.length) return chunk.subarray(at, at + n);
    return this.peek(offset, len);
  }

  /**
   * Removes and returns up to `max` bytes from the head. The head chunk
   * itself when it is what is asked for (no copy: the queue lets go of it).
   */
  take(max: number): Uint8Array {
    const n = Math.min(Math.max(0, max), this.len);
    const head = this.chunks[this.first];
    if (head !== undefined && n > 0 && n <= head.length - this.headSkip) {
      const out = head.subarray(this.headSkip, this.headSkip + n);
      this.mine?.delete(head.buffer); // handed out: never written again
      this.consume(n);
      return out;
    }
    const out = this.peek(0, n);
    this.consume(n);
    return out;
  }

  /** Drops `n` bytes from the head. */
  consume(n: number): void {
    let k = Math.min(Math.max(0, n), this.len);
    this.len -= k;
    while (k > 0) {
      const chunk = this.chunks[this.first] as Uint8Array;
      const left = chunk.length - this.headSkip;
      if (k < left) {
        this.headSkip += k;
        break;
      }
      k -= left;
      this.headPos += chunk.length;
      this.first++;
      this.headSkip = 0;
      if (
        this.mine?.has(chunk.buffer) &&
        chunk.byteOffset === 0 &&
        (this.spares?.length ?? 0) < SPARES
      ) {
        this.spares ??= [];
        this.spares.push(new Uint8Array(chunk.buffer));
      }
    }
    if (this.len === 0) {
      this.clear();
      return;
    }
    // Compact now and then: dropped chunks stay in the array until half of it is dead.
    if (this.first > 32 && this.first * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.first);
      this.cacheIndex -= this.first;
      this.first = 0;
    }
  }

  /** Empties the queue and lets go of every chunk. */
  clear(): void {
    this.chunks = [];
    this.first = 0;
    this.headSkip = 0;
    this.len = 0;
    this.tail = undefined;
    this.tailUsed = 0;
    this.headPos = 0;
    this.cacheIndex = 0;
    this.cachePos = 0;
    this.spares = undefined;
  }

  /** The chunk index and offset in it of the byte `offset` bytes after the head. */
  private locate(offset: number): [number, number] {
    const target = this.headPos + this.headSkip + offset;
    let i = this.first;
    let pos = this.headPos;
    if (this.cacheIndex > i && this.cachePos <= target) {
      i = this.cacheIndex;
      pos = this.cachePos;
    }
    for (;;) {
      const chunk = this.chunks[i];
      if (chunk === undefined || target < pos + chunk.length) break;
      pos += chunk.length;
      i++;
    }
    this.cacheIndex = i;
    this.cachePos = pos;
    return [i, target - pos];
  }

  private copyOut(start: number, n: number, out: Uint8Array): void {
    let [i, at] = this.locate(start);
    let done = 0;
    while (done < n) {
      const chunk = this.chunks[i++] as Uint8Array;
      const run = Math.min(n - done, chunk.length - at);
      out.set(chunk.subarray(at, at + run), done);
      done += run;
      at = 0;
    }
  }
}
