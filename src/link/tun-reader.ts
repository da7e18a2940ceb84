/**
 * Main-thread side of the TUN read loop: starts the worker, waits for its
 * batches (Atomics.waitAsync on the POSTED count), hands each batch's
 * packets to a callback as views into the shared ring (no copy), frees the
 * slot, and stops the worker before the fd is closed — so the worker can
 * never poll a closed (and possibly reused) fd number.
 */

import { CHECKSUM_PARTIAL, CHECKSUM_VALID, type Offload, tcpGso } from "../wire/offload.ts";
import { TunError } from "./tun-error.ts";
import {
  EFD_CLOEXEC,
  EFD_NONBLOCK,
  errno,
  libc,
  strerror,
  VIRTIO_NET_HDR_F_DATA_VALID,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_GSO_ECN,
  VIRTIO_NET_HDR_GSO_TCPV4,
} from "./tun-libc.ts";
import {
  BATCH_WORDS,
  CREDIT,
  CREDIT_WORDS,
  MAX_PACKETS_PER_SLOT,
  POSTED,
  type ReaderInit,
  type ReaderMessage,
  STALLS,
  WAITING,
} from "./tun-reader-protocol.ts";

/** One slot of the ring: a full batch of the worker's. */
export const READER_SLOT_BYTES = 256 * 1024;
/** The hand-off's default memory: 8 slots. */
export const DEFAULT_READER_QUEUE_BYTES = 8 * READER_SLOT_BYTES;
const STOP_TIMEOUT_MS = 2000;

export interface ReaderSink {
  /**
   * One wake-up's packets, and with a virtio_net_hdr what it said of each
   * (`offloads[i]`, undefined for a plain packet). The views are valid
   * during the call only (the slot is reused afterwards): whoever keeps
   * bytes copies them, as the host, the taps and the fault rules do.
   */
  batch(
    packets: readonly Uint8Array[],
    offloads: readonly (Offload | undefined)[] | undefined,
    bytes: number,
  ): void;
  /** The read loop ended because of an error (the device went away). */
  failed(message: string): void;
}

export class WorkerReader {
  private readonly worker: Worker;
  private readonly stopFd: number;
  private readonly credit: Int32Array;
  private stopping: Promise<void> | undefined;
  private resolveStopped: (() => void) | undefined;
  /** Set once the worker has stopped or failed: the batch loop ends. */
  private done = false;

  /** Times the worker found every slot taken: the stack was behind, the kernel's queue took the excess. */
  get stalls(): number {
    return Atomics.load(this.credit, STALLS);
  }

  /**
   * `readBytes`: the largest read (packet and header); `vnetHdr`: the
   * virtio_net_hdr's length before each packet (0: none); `queueBytes`:
   * the ring's size, rounded to whole slots (at least 2).
   */
  constructor(
    fd: number,
    readBytes: number,
    sink: ReaderSink,
    queueBytes = DEFAULT_READER_QUEUE_BYTES,
    vnetHdr = 0,
  ) {
    const c = libc();
    this.stopFd = c.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (this.stopFd < 0) {
      const e = errno();
      throw new TunError(
        "io-failed",
        `could not create an eventfd for the TUN reader: ${strerror(e)}`,
        e,
      );
    }
    // A slot must hold at least one read.
    const slotBytes = Math.max(READER_SLOT_BYTES, readBytes);
    const slots = Math.max(2, Math.round(queueBytes / slotBytes));
    const ring = new SharedArrayBuffer(slots * slotBytes);
    const lengths = new SharedArrayBuffer(slots * MAX_PACKETS_PER_SLOT * 4);
    const sab = new SharedArrayBuffer(CREDIT_WORDS * 4);
    this.credit = new Int32Array(sab);
    this.credit[CREDIT] = slots;
    const wakeAt = Math.ceil(slots / 2);
    const lengthOf = new Uint32Array(lengths);
    const bytesOf = new Uint8Array(ring);
    const batches = new SharedArrayBuffer(slots * BATCH_WORDS * 4);
    const batchOf = new Int32Array(batches);
    const deliver = (slot: number) => {
      const count = batchOf[slot * BATCH_WORDS] ?? 0;
      const packets: Uint8Array[] = new Array(count);
      const offloads: (Offload | undefined)[] | undefined =
        vnetHdr > 0 ? new Array(count) : undefined;
      let off = slot * slotBytes;
      const first = slot * MAX_PACKETS_PER_SLOT;
      for (let i = 0; i < count; i++) {
        const len = lengthOf[first + i] ?? 0;
        if (offloads !== undefined) {
          offloads[i] = offloadOf(bytesOf, off);
          packets[i] = new Uint8Array(ring, off + vnetHdr, Math.max(0, len - vnetHdr));
        } else {
          packets[i] = new Uint8Array(ring, off, len);
        }
        off += len;
      }
      try {
        sink.batch(packets, offloads, batchOf[slot * BATCH_WORDS + 1] ?? 0);
      } finally {
        const free = Atomics.add(this.credit, CREDIT, 1) + 1;
        // A notify costs a futex call and wakes a thread that competes with
        // this one for the CPU: make it only when the worker waits for
        // credit, and only once half the ring is free again (the worker
        // waits only when every slot is posted, so this thread frees them
        // all in the end). The worker sets WAITING before it waits, and its
        // wait expects credit 0, so a credit added before it sleeps is never
        // missed (all Atomics operations are sequentially consistent).
        if (free >= wakeAt && Atomics.load(this.credit, WAITING) !== 0) {
          Atomics.notify(this.credit, CREDIT);
        }
      }
    };
    // Batches come in ring order: deliver every one posted, then wait for the count to move.
    const batchLoop = async () => {
      let consumed = 0;
      let slot = 0;
      while (!this.done) {
        const posted = Atomics.load(this.credit, POSTED);
        if (posted === consumed) {
          const wait = Atomics.waitAsync(this.credit, POSTED, posted);
          if (wait.async) await wait.value;
          continue;
        }
        for (let first = true; consumed !== posted && !this.done; first = false) {
          // One batch per task, as with a message each: what the batch
          // started (an application's reads, its promises) runs before the
          // next batch comes in.
          if (!first) await new Promise<void>((resolve) => setImmediate(resolve));
          const at = slot;
          slot = (slot + 1) % slots;
          consumed = (consumed + 1) | 0;
          try {
            deliver(at);
          } catch (e) {
            // The sink's fault, not the device's: reported as uncaught, as a
            // throwing message handler was, and the loop goes on.
            queueMicrotask(() => {
              throw e;
            });
          }
        }
      }
    };
    this.worker = new Worker(new URL("./tun-reader-worker.ts", import.meta.url).href);
    this.worker.onmessage = (event: MessageEvent<ReaderMessage>) => {
      const msg = event.data;
      if (msg.type === "stopped") {
        this.finish();
        this.resolveStopped?.();
      } else {
        this.finish();
        this.resolveStopped?.();
        sink.failed(msg.errno === 0 ? "the TUN device went away" : strerror(msg.errno));
      }
    };
    const init: ReaderInit = {
      fd,
      stopFd: this.stopFd,
      readBytes,
      ring,
      slots,
      slotBytes,
      lengths,
      batches,
      credit: sab,
    };
    this.worker.postMessage(init);
    void batchLoop();
  }

  /** Ends the batch loop (it may be waiting on POSTED). */
  private finish(): void {
    this.done = true;
    Atomics.notify(this.credit, POSTED);
  }

  /** Stop the worker; resolves once it no longer touches the fd. Idempotent. */
  stop(): Promise<void> {
    if (this.stopping !== undefined) return this.stopping;
    const stopped = new Promise<void>((resolve) => {
      this.resolveStopped = resolve;
    });
    const one = new BigUint64Array([1n]);
    libc().write(this.stopFd, one, 8);
    Atomics.notify(this.credit, CREDIT);
    // Bounded: a worker that does not answer is terminated all the same.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, STOP_TIMEOUT_MS);
    });
    this.stopping = Promise.race([stopped, timeout]).then(async () => {
      clearTimeout(timer);
      this.finish();
      await this.worker.terminate();
      libc().close(this.stopFd);
    });
    return this.stopping;
  }
}

/**
 * What the virtio_net_hdr at b[at] says (little-endian, the legacy layout):
 * flags, gso_type, hdr_len, gso_size, csum_start, csum_offset. The
 * checksum offsets are always the IPv4 transport's, so only the flags and
 * the segment size matter here.
 */
function offloadOf(b: Uint8Array, at: number): Offload | undefined {
  const flags = b[at] ?? 0;
  const gsoType = (b[at + 1] ?? 0) & ~VIRTIO_NET_HDR_GSO_ECN;
  if (gsoType === VIRTIO_NET_HDR_GSO_TCPV4) {
    const gsoSize = (b[at + 4] ?? 0) | ((b[at + 5] ?? 0) << 8);
    if (gsoSize > 0) return tcpGso(gsoSize);
  }
  if ((flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) !== 0) return CHECKSUM_PARTIAL;
  if ((flags & VIRTIO_NET_HDR_F_DATA_VALID) !== 0) return CHECKSUM_VALID;
  return undefined;
}
