/**
 * Messages and shared memory between the TUN driver (main thread) and its
 * read-loop worker.
 *
 * The hand-off is a ring of `slots` buffers of `slotBytes` each in one
 * SharedArrayBuffer: the worker reads packets straight into the next free
 * slot, writes the slot's packet count and bytes beside it, counts it
 * posted (POSTED) and notifies; the main thread, waiting on POSTED with
 * Atomics.waitAsync, delivers the packets as views into the slot and then
 * frees it. Slots are posted and freed in ring order, so a count is all
 * either side needs — and no message is cloned per batch (a postMessage
 * per batch cost about a quarter more per wake-up than the notify). Memory is the ring, fixed when the
 * device opens (TunOptions.queueBytes): nothing is allocated per packet or
 * per batch, so a flood cannot grow it whatever the garbage collector does.
 * When every slot is taken the stack is behind: the worker stops reading,
 * the kernel's device queue fills and the kernel drops (counted by the
 * device, TunStats.kernelDropped), as a NIC does when its ring is full.
 */
export interface ReaderInit {
  readonly fd: number;
  /** An eventfd: writing to it makes the worker leave its poll loop. */
  readonly stopFd: number;
  /** Largest read: the device MTU, or 64 KiB super-segments, plus any virtio_net_hdr. */
  readonly readBytes: number;
  /** The ring: `slots` × `slotBytes`. */
  readonly ring: SharedArrayBuffer;
  readonly slots: number;
  readonly slotBytes: number;
  /** Packet lengths: `slots` × MAX_PACKETS_PER_SLOT Uint32s. */
  readonly lengths: SharedArrayBuffer;
  /** Per slot, Int32s [packets, bytes] of its batch: `slots` × BATCH_WORDS. */
  readonly batches: SharedArrayBuffer;
  /**
   * Int32s: [CREDIT] free slots; [WAITING] 1 while the worker is (about to
   * be) in Atomics.wait, so the main thread notifies only then; [STALLS]
   * times the worker found no free slot (the stack was behind); [POSTED]
   * batches posted so far (wrapping), the main thread waits on it.
   */
  readonly credit: SharedArrayBuffer;
}

/** Int32 indexes into ReaderInit.credit. */
export const CREDIT = 0;
export const WAITING = 1;
export const STALLS = 2;
export const POSTED = 3;
export const CREDIT_WORDS = 4;

/** Int32s per slot in ReaderInit.batches: its packet count and bytes. */
export const BATCH_WORDS = 2;

/** Packets one slot holds at most. */
export const MAX_PACKETS_PER_SLOT = 512;

/** What the worker posts besides batches (which go through POSTED). */
export type ReaderMessage =
  | { readonly type: "stopped" }
  | { readonly type: "error"; readonly errno: number };
