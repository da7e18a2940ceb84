/** Messages between the TUN driver (main thread) and its read-loop worker. */
export interface ReaderInit {
  readonly fd: number;
  /** An eventfd: writing to it makes the worker leave its poll loop. */
  readonly stopFd: number;
  /** Largest packet to read (the device MTU). */
  readonly mtu: number;
  /** One Int32: batches the worker may still post before it must wait. */
  readonly credit: SharedArrayBuffer;
}

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
