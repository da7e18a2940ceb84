/** Messages between the TUN driver (main thread) and its read-loop worker. */
export interface ReaderInit {
  readonly fd: number;
  /** An eventfd: writing to it makes the worker leave its poll loop. */
  readonly stopFd: number;
  /** Largest packet to read (the device MTU). */
  readonly mtu: number;
  /**
   * Two Int32s: [CREDIT] batches the worker may still post before it must
   * wait; [WAITING] 1 while the worker is (about to be) in Atomics.wait, so
   * the main thread notifies only then.
   */
  readonly credit: SharedArrayBuffer;
}

/** Int32 indexes into ReaderInit.credit. */
export const CREDIT = 0;
export const WAITING = 1;

export type ReaderMessage =
  | {
      readonly type: "batch";
      /** Packets laid end to end; `lengths[i]` for i < count. Transferred, never reused. */
      readonly buf: ArrayBuffer;
      readonly lengths: Uint32Array;
      readonly count: number;
      readonly bytes: number;
    }
  | { readonly type: "stopped" }
  | { readonly type: "error"; readonly errno: number };
