/**
 * The TUN read loop, on its own thread. Bun has no async FFI, so a blocking
 * `poll()` here is what keeps an idle tcplab at ~0% CPU while the main
 * thread stays free: the worker sleeps in the kernel until the device (or
 * the stop eventfd) is readable, then drains every queued packet with
 * non-blocking `read()`s straight into the next free slot of the shared
 * ring and posts it (POSTED, then a notify) — many packets per wake-up
 * under load.
 *
 * Backpressure: when no slot is free the worker blocks (Atomics.wait) and
 * the kernel's device queue fills and drops, as a real NIC ring would
 * (tun-reader-protocol.ts).
 *
 * Protocol (see tun-reader-protocol.ts): init ReaderInit → batches through
 * the shared POSTED count … → {type:"stopped"} or {type:"error", errno}.
 */
import { ptr } from "bun:ffi";
import { EAGAIN, EINTR, errno, libc, POLLERR, POLLHUP, POLLIN, POLLNVAL } from "./tun-libc.ts";
import {
  BATCH_WORDS,
  CREDIT,
  MAX_PACKETS_PER_SLOT,
  POSTED,
  type ReaderInit,
  type ReaderMessage,
  STALLS,
  WAITING,
} from "./tun-reader-protocol.ts";

declare const self: Worker;

function post(msg: ReaderMessage): void {
  self.postMessage(msg);
}

function run(init: ReaderInit): void {
  const c = libc();
  const credit = new Int32Array(init.credit);
  // struct pollfd[2] { int fd; short events; short revents; }
  const pfds = new Uint8Array(16);
  const pv = new DataView(pfds.buffer);
  pv.setInt32(0, init.fd, true);
  pv.setInt16(4, POLLIN, true);
  pv.setInt32(8, init.stopFd, true);
  pv.setInt16(12, POLLIN, true);
  const pfdsPtr = ptr(pfds);
  let stopping = false;
  const ring = new Uint8Array(init.ring);
  const lengths = new Uint32Array(init.lengths);
  const batches = new Int32Array(init.batches);
  let slot = 0;
  /** Whether `slot` is ours to fill (a credit was taken for it). */
  let held = false;

  for (;;) {
    pv.setInt16(6, 0, true);
    pv.setInt16(14, 0, true);
    const n = c.poll(pfdsPtr, 2, -1);
    if (n < 0) {
      const e = errno();
      if (e === EINTR) continue;
      post({ type: "error", errno: e });
      return;
    }
    if (pv.getInt16(14, true) !== 0) break; // stop requested
    const revents = pv.getInt16(6, true);
    if ((revents & (POLLERR | POLLHUP | POLLNVAL)) !== 0 && (revents & POLLIN) === 0) {
      post({ type: "error", errno: 0 });
      return;
    }

    // Drain: read until EAGAIN or the slot is full, straight into the slot;
    // a full slot is posted and the next one taken (waiting for it if the
    // main thread has not freed it yet).
    let count = 0;
    let used = 0;
    let failed = 0;
    for (;;) {
      if (!held && !take()) break;
      if (count === MAX_PACKETS_PER_SLOT || init.slotBytes - used < init.readBytes) {
        send();
        count = 0;
        used = 0;
        continue;
      }
      const base = slot * init.slotBytes;
      const got = Number(c.read(init.fd, ptr(ring, base + used), init.readBytes));
      if (got < 0) {
        const e = errno();
        if (e === EINTR) continue;
        if (e !== EAGAIN) failed = e;
        break;
      }
      if (got === 0) break;
      lengths[slot * MAX_PACKETS_PER_SLOT + count++] = got;
      used += got;
    }
    if (count > 0 && !stopping) send();
    if (stopping) break;
    if (failed !== 0) {
      post({ type: "error", errno: failed });
      return;
    }

    function send(): void {
      batches[slot * BATCH_WORDS] = count;
      batches[slot * BATCH_WORDS + 1] = used;
      // The add publishes the writes above (Atomics are sequentially consistent).
      Atomics.add(credit, POSTED, 1);
      Atomics.notify(credit, POSTED);
      slot = (slot + 1) % init.slots;
      held = false;
    }
  }

  /** Takes the next slot, waiting until the main thread frees one; false if a stop came first. */
  function take(): boolean {
    if (Atomics.sub(credit, CREDIT, 1) > 0) {
      held = true;
      return true;
    }
    Atomics.add(credit, CREDIT, 1);
    Atomics.add(credit, STALLS, 1); // the stack is behind: the kernel's queue takes the excess
    for (;;) {
      // Announce the wait first (the main thread notifies only then); a
      // credit returned in between makes the wait return at once.
      Atomics.store(credit, WAITING, 1);
      Atomics.wait(credit, CREDIT, 0, 50);
      Atomics.store(credit, WAITING, 0);
      if (stopRequested()) {
        stopping = true;
        return false;
      }
      if (Atomics.sub(credit, CREDIT, 1) > 0) {
        held = true;
        return true;
      }
      Atomics.add(credit, CREDIT, 1);
    }
  }
  post({ type: "stopped" });

  function stopRequested(): boolean {
    const one = new Uint8Array(16);
    const v = new DataView(one.buffer);
    v.setInt32(0, init.stopFd, true);
    v.setInt16(4, POLLIN, true);
    return c.poll(ptr(one), 1, 0) > 0;
  }
}

self.onmessage = (event: MessageEvent<ReaderInit>) => {
  run(event.data);
};
