/**
 * How fast can tcplab drain a TUN device, and how quiet is it when idle?
 *
 *   sudo bun scripts/tun-read-bench.ts [--seconds 3] [--only NAME,...]
 *
 * For each read strategy a child process creates its own namespace
 * (tcplab-bench<pid>), opens a TUN there (kernel 10.0.0.1, tcplab 10.0.0.2),
 * measures CPU while idle, then lets a flooder inside the namespace (this
 * script with --flood: a UDP socket write(2)-ing as fast as it can to
 * 10.0.0.2:9) fill the device, and counts what the reader drains: packets/s,
 * MB/s, packets per wake-up, CPU. Finally write(2) speed per packet.
 * Traffic never leaves the namespace; every phase is bounded in time.
 *
 * Strategies:
 *   worker-batch  worker thread blocked in poll(), drains with read() and
 *                 transfers batches of packets (what src/link/tun.ts uses)
 *   worker-wake   worker blocked in poll() only signals; the main thread
 *                 drains with non-blocking FFI read() until EAGAIN
 *   fs-read       node:fs.read() on a blocking fd (Bun's thread pool blocks
 *                 in read(2)); one read outstanding
 *   fs-read-x4    the same with four reads outstanding (order not kept)
 *   bun-stream    Bun.file(fd).stream() on a non-blocking fd (Bun's event
 *                 loop polls the fd); chunks re-split by IPv4 total length
 */
import { dlopen, FFIType, ptr } from "bun:ffi";
import { read as fsRead } from "node:fs";
import { createNetns, enterNetns, type Netns } from "../src/link/netns.ts";
import { openTun } from "../src/link/tun.ts";
import { AF_INET, EFD_CLOEXEC, EFD_NONBLOCK, libc, SOCK_DGRAM } from "../src/link/tun-libc.ts";
import { openConfiguredTun } from "../src/link/tun-open.ts";
import { ip } from "../src/wire/addr.ts";

const STRATEGIES = ["worker-batch", "worker-wake", "fs-read", "fs-read-x4", "bun-stream"] as const;
type Strategy = (typeof STRATEGIES)[number];

const KERNEL = "10.0.0.1";
const LAB = "10.0.0.2";
const MTU = 1500;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}

// ---------------------------------------------------------------- flooder
// Runs inside the namespace: UDP to LAB:9 as fast as write(2) goes.
function flood(seconds: number, payload: number): void {
  const c = libc();
  const s = c.socket(AF_INET, SOCK_DGRAM, 0);
  const sa = new Uint8Array(16);
  const v = new DataView(sa.buffer);
  v.setUint16(0, AF_INET, true);
  v.setUint16(2, 9, false);
  v.setUint32(4, ip(LAB), false);
  const extra = dlopen("libc.so.6", {
    sendto: {
      args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32, FFIType.ptr, FFIType.u32],
      returns: FFIType.i64_fast,
    },
  }).symbols;
  const buf = new Uint8Array(payload);
  const bp = ptr(buf);
  const sp = ptr(sa);
  const deadline = performance.now() + seconds * 1000;
  let sent = 0;
  let failed = 0;
  while (performance.now() < deadline) {
    for (let i = 0; i < 256; i++) {
      if (Number(extra.sendto(s, bp, payload, 0, sp, 16)) === payload) sent++;
      else failed++;
    }
  }
  process.stdout.write(JSON.stringify({ sent, failed }));
}

// ---------------------------------------------------------------- readers
interface Counter {
  packets: number;
  bytes: number;
  wakeups: number;
  first: number;
  last: number;
  /** bun-stream only: chunks that did not split into whole IPv4 packets. */
  misaligned: number;
}

function newCounter(): Counter {
  return { packets: 0, bytes: 0, wakeups: 0, first: 0, last: 0, misaligned: 0 };
}

interface Reader {
  counter: Counter;
  stop(): Promise<void>;
}

function count(c: Counter, packets: number, bytes: number): void {
  const now = performance.now();
  if (c.packets === 0) c.first = now;
  c.last = now;
  c.packets += packets;
  c.bytes += bytes;
  c.wakeups++;
}

async function startReader(strategy: Strategy, ns: Netns): Promise<Reader> {
  const counter = newCounter();
  if (strategy === "worker-batch") {
    const tun = await openTun({
      netns: ns,
      name: "bench0",
      mtu: MTU,
      localAddr: KERNEL,
      peerAddr: LAB,
    });
    let seen = { packets: 0, bytes: 0, wakeups: 0 };
    // Count through the public API: one onReceive per packet, stats per wake-up.
    tun.onReceive(() => {
      const s = tun.stats;
      if (s.readWakeups !== seen.wakeups) {
        count(counter, s.packetsIn - seen.packets, s.bytesIn - seen.bytes);
        counter.wakeups += s.readWakeups - seen.wakeups - 1;
        seen = { packets: s.packetsIn, bytes: s.bytesIn, wakeups: s.readWakeups };
      }
    });
    return { counter, stop: () => tun.close() };
  }
  const opened = enterNetns(ns.path, () =>
    openConfiguredTun({
      name: "bench0",
      mtu: MTU,
      localAddr: ip(KERNEL),
      peerAddr: ip(LAB),
      nonBlocking: !strategy.startsWith("fs-read"),
    }),
  );
  const fd = opened.fd;
  const c = libc();

  if (strategy === "worker-wake") {
    const stopFd = c.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    const state = new Int32Array(new SharedArrayBuffer(4));
    state[0] = 1;
    const worker = new Worker(new URL("./tun-read-bench-wake-worker.ts", import.meta.url).href);
    let buf = new Uint8Array(256 * 1024);
    let used = 0;
    const packets: Uint8Array[] = [];
    let stopped: () => void = () => {};
    worker.onmessage = (e: MessageEvent<string>) => {
      if (e.data === "stopped") return stopped();
      let n = 0;
      let bytes = 0;
      for (;;) {
        if (buf.length - used < MTU) {
          buf = new Uint8Array(256 * 1024);
          used = 0;
        }
        const got = Number(c.read(fd, ptr(buf, used), MTU));
        if (got <= 0) break;
        packets.push(buf.subarray(used, used + got));
        used += got;
        n++;
        bytes += got;
      }
      packets.length = 0;
      if (n > 0) count(counter, n, bytes);
      Atomics.store(state, 0, 1);
      Atomics.notify(state, 0);
    };
    worker.postMessage({ fd, stopFd, state: state.buffer });
    return {
      counter,
      stop: async () => {
        const done = new Promise<void>((r) => {
          stopped = r;
        });
        c.write(stopFd, new BigUint64Array([1n]), 8);
        Atomics.store(state, 0, 1);
        Atomics.notify(state, 0);
        await Promise.race([done, Bun.sleep(1000)]);
        worker.terminate();
        c.close(fd);
      },
    };
  }

  if (strategy === "fs-read" || strategy === "fs-read-x4") {
    const outstanding = strategy === "fs-read" ? 1 : 4;
    let running = true;
    const loop = () => {
      const buf = Buffer.allocUnsafe(MTU);
      fsRead(fd, buf, 0, MTU, null, (err, n) => {
        if (err !== null || !running) return;
        count(counter, 1, n);
        loop();
      });
    };
    for (let i = 0; i < outstanding; i++) loop();
    // The blocked pool threads are only released by process exit (closing the
    // fd does not wake a read(2) in progress); this child exits right after.
    return {
      counter,
      stop: async () => {
        running = false;
      },
    };
  }

  // bun-stream
  const stream = Bun.file(fd).stream();
  const reader = stream.getReader();
  let running = true;
  const views: Uint8Array[] = [];
  void (async () => {
    while (running) {
      const { value, done } = await reader.read();
      if (done || value === undefined) break;
      // A chunk may hold several packets: re-split by the IPv4 total length.
      let n = 0;
      let off = 0;
      while (off + 4 <= value.length) {
        const total = ((value[off + 2] ?? 0) << 8) | (value[off + 3] ?? 0);
        if (total < 20) break;
        views.push(value.subarray(off, off + total));
        off += total;
        n++;
      }
      views.length = 0;
      // A packet cut by a short read (TUN truncates to the buffer given) shows here.
      if (off !== value.length) counter.misaligned++;
      count(counter, n, value.length);
    }
  })().catch(() => {});
  return {
    counter,
    stop: async () => {
      running = false;
      await reader.cancel().catch(() => {});
    },
  };
}

// ---------------------------------------------------------------- one strategy
interface Phase {
  payload: number;
  sent: number;
  drained: number;
  pps: number;
  mbps: number;
  perWakeup: number;
  cpuPct: number;
  misaligned: number;
}

interface Result {
  strategy: Strategy;
  idleCpuPct: number;
  idleWakeups: number;
  load: Phase[];
  writes?: { size: number; count: number; perSec: number; mbps: number }[];
}

function cpuMs(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1000;
}

async function runStrategy(strategy: Strategy, seconds: number): Promise<Result> {
  const ns = await createNetns(`tcplab-bench${process.pid}`);
  try {
    const reader = await startReader(strategy, ns);
    await Bun.sleep(300); // let the device settle (no traffic expected)

    // Idle: nothing is sent into the namespace.
    const w0 = reader.counter.wakeups;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await Bun.sleep(seconds * 1000);
    const idleCpuPct = (100 * cpuMs(process.cpuUsage(c0))) / (performance.now() - t0);
    const idleWakeups = reader.counter.wakeups - w0;

    const load: Phase[] = [];
    for (const payload of [64, 1400]) {
      Object.assign(reader.counter, newCounter());
      const cpu0 = process.cpuUsage();
      const flooder = ns.spawn(
        [process.execPath, import.meta.path, "--flood", String(seconds), String(payload)],
        { stdout: "pipe" },
      );
      const out = await new Response(flooder.stdout as ReadableStream<Uint8Array>).text();
      await flooder.exited;
      await Bun.sleep(100); // let the reader finish what is queued
      const cpu = cpuMs(process.cpuUsage(cpu0));
      const k = reader.counter;
      const span = Math.max(1, k.last - k.first);
      const sent = (JSON.parse(out || "{}") as { sent?: number }).sent ?? 0;
      load.push({
        payload,
        sent,
        drained: k.packets,
        pps: Math.round((k.packets * 1000) / span),
        mbps: Number(((k.bytes * 1000) / span / 1e6).toFixed(1)),
        perWakeup: Number((k.packets / Math.max(1, k.wakeups)).toFixed(1)),
        cpuPct: Math.round((100 * cpu) / span),
        misaligned: k.misaligned,
      });
    }
    await reader.stop();
    const result: Result = {
      strategy,
      idleCpuPct: Number(idleCpuPct.toFixed(2)),
      idleWakeups,
      load,
    };
    if (strategy === "worker-batch") result.writes = await writeBench(ns);
    return result;
  } finally {
    await ns.remove();
  }
}

/** write(2) per packet via FFI: UDP datagrams from tcplab to the kernel's discard port. */
async function writeBench(
  ns: Netns,
): Promise<{ size: number; count: number; perSec: number; mbps: number }[]> {
  const tun = await openTun({
    netns: ns,
    name: "benchw0",
    mtu: MTU,
    localAddr: KERNEL,
    peerAddr: LAB,
  });
  tun.onReceive(() => {}); // ICMP port unreachables come back; ignore them
  const out: { size: number; count: number; perSec: number; mbps: number }[] = [];
  for (const [size, n] of [
    [64, 100_000],
    [1428, 50_000],
  ] as const) {
    const pkt = udpPacket(size);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) tun.send(pkt);
    const ms = performance.now() - t0;
    out.push({
      size,
      count: n,
      perSec: Math.round((n * 1000) / ms),
      mbps: Number(((n * size) / ms / 1e3).toFixed(1)),
    });
  }
  await tun.close();
  return out;
}

function udpPacket(total: number): Uint8Array {
  const p = new Uint8Array(total);
  const v = new DataView(p.buffer);
  p[0] = 0x45;
  v.setUint16(2, total);
  p[8] = 64;
  p[9] = 17;
  v.setUint32(12, ip(LAB));
  v.setUint32(16, ip(KERNEL));
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += v.getUint16(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  v.setUint16(10, ~sum & 0xffff);
  v.setUint16(20, 40000);
  v.setUint16(22, 9);
  v.setUint16(24, total - 20);
  v.setUint16(26, 0); // RFC 768: zero checksum means none
  return p;
}

// ---------------------------------------------------------------- main
async function main(): Promise<void> {
  const floodArgs = arg("--flood");
  if (floodArgs !== undefined) {
    flood(Number(floodArgs), Number(process.argv[process.argv.indexOf("--flood") + 2]));
    return;
  }
  const seconds = Number(arg("--seconds") ?? 3);
  const one = arg("--strategy");
  if (one !== undefined) {
    const res = await runStrategy(one as Strategy, seconds);
    process.stdout.write(`${JSON.stringify(res)}\n`);
    process.exit(0); // fs-read leaves pool threads blocked in read(2)
  }
  const only = arg("--only")?.split(",") ?? [...STRATEGIES];
  console.log(
    `tun read bench: ${seconds}s idle + ${seconds}s flood per payload size; ${navigator.hardwareConcurrency} CPUs`,
  );
  for (const s of STRATEGIES.filter((x) => only.includes(x))) {
    const child = Bun.spawn(
      [process.execPath, import.meta.path, "--strategy", s, "--seconds", String(seconds)],
      {
        stdout: "pipe",
        stderr: "inherit",
      },
    );
    const timer = setTimeout(() => child.kill("SIGKILL"), (seconds * 4 + 30) * 1000);
    const text = await new Response(child.stdout).text();
    await child.exited;
    clearTimeout(timer);
    try {
      const r = JSON.parse(text.trim().split("\n").pop() ?? "") as Result;
      console.log(
        `\n${r.strategy}: idle CPU ${r.idleCpuPct}% (${r.idleWakeups} wake-ups in ${seconds}s)`,
      );
      for (const p of r.load) {
        console.log(
          `  flood ${String(p.payload).padStart(4)} B payload: sent ${p.sent}, drained ${p.drained} = ${p.pps} pkt/s, ${p.mbps} MB/s, ${p.perWakeup} pkt/wake-up, CPU ${p.cpuPct}%${p.misaligned > 0 ? `, ${p.misaligned} chunks not whole packets` : ""}`,
        );
      }
      for (const w of r.writes ?? []) {
        console.log(
          `  write ${w.size} B packets: ${w.perSec} pkt/s, ${w.mbps} MB/s (${w.count} writes)`,
        );
      }
    } catch {
      console.log(`\n${s}: failed (exit ${child.exitCode}) ${text.slice(0, 300)}`);
    }
  }
}

await main();
