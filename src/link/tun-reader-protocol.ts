/**
 * Messages and shared memory between the TUN driver (main thread) and its
 * read-loop worker.
 *
 * The hand-off is a ring of `slots` buffers of `slotBytes` each in one
 * SharedArrayBuffer: the worker reads packets straight into the next free
 * slot and posts its number; the main thread delivers the packets as views
 * into the slot and then frees it. Memory is the ring, fixed when the
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
  /**
   * Int32s: [CREDIT] free slots; [WAITING] 1 while the worker is (about to
   * be) in Atomics.wait, so the main thread notifies only then; [STALLS]
   * times the worker found no free slot (the stack was behind).
   */
  readonly credit: SharedArrayBuffer;
}

/** Int32 indexes into ReaderInit.credit. */
export const CREDIT = 0;
export const WAITING = 1;
export const STALLS = 2;
export const CREDIT_WORDS = 3;

/** Packets one slot holds at most. */
export const MAX_PACKETS_PER_SLOT = 512;

export type ReaderMessage =
  | {
      readonly type: "batch";
      /** The slot holding the packets, laid end to end; lengths in the lengths array. */
      readonly slot: number;
      readonly count: number;
      readonly bytes: number;
    }
  | { readonly type: "stopped" }
  | { readonly type: "error"; readonly errno: number };
