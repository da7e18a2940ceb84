/**
 * A bounded FIFO of bytes on a ring buffer: the storage under the send
 * buffer (bytes from SND.UNA on) and the receive queue (in-order bytes the
 * application has not read yet).
 */
export class ByteQueue {
  private buf: Uint8Array;
  private head = 0;
  private len = 0;
  private cap: number;

  constructor(capacity: number) {
    this.cap = capacity;
    this.buf = new Uint8Array(Math.max(1, capacity));
  }

  get capacity(): number {
    return this.cap;
  }

  /** Enlarges the queue to `capacity` bytes, keeping what is queued (never shrinks). */
  grow(capacity: number): void {
    if (capacity <= this.cap) return;
    const kept = this.peek(0, this.len);
    this.buf = new Uint8Array(capacity);
    this.buf.set(kept);
    this.head = 0;
    this.cap = capacity;
  }

  get length(): number {
    return this.len;
  }

  get free(): number {
    return this.cap - this.len;
  }

  /** Appends as much of `data` as fits; returns the number of bytes taken. */
  push(data: Uint8Array): number {
    const n = Math.min(data.length, this.free);
    let tail = (this.head + this.len) % this.buf.length;
    let done = 0;
    while (done < n) {
      const run = Math.min(n - done, this.buf.length - tail);
      this.buf.set(data.subarray(done, done + run), tail);
      done += run;
      tail = (tail + run) % this.buf.length;
    }
    this.len += n;
    return n;
  }

  /** A copy of `len` bytes starting `offset` bytes after the head (clamped to what is queued). */
  peek(offset: number, len: number): Uint8Array {
    const start = Math.min(Math.max(0, offset), this.len);
    const n = Math.min(Math.max(0, len), this.len - start);
    const out = new Uint8Array(n);
    let pos = (this.head + start) % this.buf.length;
    let done = 0;
    while (done < n) {
      const run = Math.min(n - done, this.buf.length - pos);
      out.set(this.buf.subarray(pos, pos + run), done);
      done += run;
      pos = (pos + run) % this.buf.length;
    }
    return out;
  }

  /**
   * `len` bytes starting `offset` bytes after the head (clamped like peek):
   * a view into the ring when they lie in one piece, else a copy. A view is
   * valid only until the space is reused — after consume() and a push()
   * that wraps over it; callers that keep it must copy.
   */
  view(offset: number, len: number): Uint8Array {
    const start = Math.min(Math.max(0, offset), this.len);
    const n = Math.min(Math.max(0, len), this.len - start);
    const pos = (this.head + start) % this.buf.length;
    if (pos + n <= this.buf.length) return this.buf.subarray(pos, pos + n);
    return this.peek(offset, len);
  }

  /** Drops `n` bytes from the head. */
  consume(n: number): void {
    const k = Math.min(Math.max(0, n), this.len);
    this.head = (this.head + k) % this.buf.length;
    this.len -= k;
    if (this.len === 0) this.head = 0;
  }

  clear(): void {
    this.head = 0;
    this.len = 0;
  }
}
