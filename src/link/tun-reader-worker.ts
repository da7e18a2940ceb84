/**
 * The TUN read loop, on its own thread. Bun has no async FFI, so a blocking
 * `poll()` here is what keeps an idle tcplab at ~0% CPU while the main
 * thread stays free: the worker sleeps in the kernel until the device (or
 * the stop eventfd) is readable, then drains every queued packet with
 * non-blocking `read()`s into one ArrayBuffer and transfers it (no copy) to
 * the main thread — many packets per wake-up under load.
 *
 * Backpressure: at most MAX_IN_FLIGHT batches may wait on the main thread;
 * beyond that the worker blocks (Atomics.wait) and the kernel's device
 * queue fills and drops, as a real NIC ring would.
 *
 * Protocol (see tun-reader.ts): init {fd, stopFd, mtu, credit} → batches
 * {type:"batch", buf, lengths, count, bytes} … → {type:"stopped"} or
 * {type:"error", errno}.
 */
import { ptr } from "bun:ffi";
import { EAGAIN, EINTR, errno, libc, POLLERR, POLLHUP, POLLIN, POLLNVAL } from "./tun-libc.ts";
import { CREDIT, type ReaderInit, type ReaderMessage, WAITING } from "./tun-reader-protocol.ts";

declare const self: Worker;

const BATCH_BYTES = 256 * 1024;
const MAX_PACKETS_PER_BATCH = 512;

function post(msg: ReaderMessage, transfer?: ArrayBuffer[]): void {
  if (transfer === undefined) self.postMessage(msg);
  else self.postMessage(msg, transfer);
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
  const scratch = new Uint8Array(BATCH_BYTES);
  const scratchLengths = new Uint32Array(MAX_PACKETS_PER_BATCH);

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

    // Drain: read until EAGAIN or the batch is full, into a reused scratch
    // buffer; each batch is then copied once into a right-sized buffer that
    // is transferred (zeroing a fresh large buffer per wake-up cost more).
    let count = 0;
    let used = 0;
    let failed = 0;
    for (;;) {
      if (count === MAX_PACKETS_PER_BATCH || BATCH_BYTES - used < init.mtu) {
        if (!send()) break;
        count = 0;
        used = 0;
      }
      const got = Number(c.read(init.fd, ptr(scratch, used), init.mtu));
      if (got < 0) {
        const e = errno();
        if (e === EINTR) continue;
        if (e !== EAGAIN) failed = e;
        break;
      }
      if (got === 0) break;
      scratchLengths[count++] = got;
      used += got;
    }
    if (count > 0 && !stopping) send();
    if (stopping) break;
    if (failed !== 0) {
      post({ type: "error", errno: failed });
      return;
    }

    function send(): boolean {
      // Wait for credit: the main thread returns one per batch it has handled.
      while (Atomics.sub(credit, CREDIT, 1) <= 0) {
        Atomics.add(credit, CREDIT, 1);
        // Announce the wait first (the main thread notifies only then); a
        // credit returned in between makes the wait return at once.
        Atomics.store(credit, WAITING, 1);
        Atomics.wait(credit, CREDIT, 0, 50);
        Atomics.store(credit, WAITING, 0);
        if (stopRequested()) {
          stopping = true;
          return false;
        }
      }
      const buf = scratch.slice(0, used).buffer;
      const lengths = scratchLengths.slice(0, count);
      post({ type: "batch", buf, lengths, count, bytes: used }, [buf, lengths.buffer]);
      return true;
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
