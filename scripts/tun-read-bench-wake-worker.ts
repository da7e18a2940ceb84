/**
 * Bench-only read strategy "wake": this worker only waits in poll(2) and
 * tells the main thread "readable"; the main thread drains the device itself
 * with non-blocking read(2)s, then lets the worker poll again. No packet
 * bytes cross threads.
 *
 * Shared Int32 state[0]: 0 = main thread is draining (worker waits),
 * 1 = worker may poll.
 */
import { ptr } from "bun:ffi";
import { EINTR, errno, libc, POLLIN } from "../src/link/tun-libc.ts";

declare const self: Worker;

interface WakeInit {
  readonly fd: number;
  readonly stopFd: number;
  readonly state: SharedArrayBuffer;
}

self.onmessage = (event: MessageEvent<WakeInit>) => {
  const { fd, stopFd } = event.data;
  const state = new Int32Array(event.data.state);
  const c = libc();
  const pfds = new Uint8Array(16);
  const pv = new DataView(pfds.buffer);
  pv.setInt32(0, fd, true);
  pv.setInt16(4, POLLIN, true);
  pv.setInt32(8, stopFd, true);
  pv.setInt16(12, POLLIN, true);
  for (;;) {
    while (Atomics.load(state, 0) === 0) Atomics.wait(state, 0, 0, 100);
    pv.setInt16(6, 0, true);
    pv.setInt16(14, 0, true);
    const n = c.poll(ptr(pfds), 2, -1);
    if (n < 0 && errno() === EINTR) continue;
    if (n < 0 || pv.getInt16(14, true) !== 0) break;
    Atomics.store(state, 0, 0);
    self.postMessage("readable");
  }
  self.postMessage("stopped");
};
