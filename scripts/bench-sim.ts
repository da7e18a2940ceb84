#!/usr/bin/env bun
/**
 * Simulated-wire benchmark: bulk-transfer goodput over a long fat path.
 *
 * The wire: 50 ms RTT (25 ms each way), a 100 Mbit/s bottleneck in each
 * direction with a drop-tail queue of about one bandwidth-delay product
 * (625 kB ≈ 416 full-sized packets), and optionally random loss. Host a sends
 * `--bytes` (default 20 MB) to host b on the VirtualClock; goodput is the
 * payload divided by the time until b has read the end of the stream
 * (handshake and slow start included), as a percentage of the bottleneck.
 *
 *   bun scripts/bench-sim.ts [--bytes N] [--seed N] [--json]
 *
 * Cases: CUBIC and NewReno with 0.1 % random loss and without (drops from
 * the queue only), and the same path with 64 KiB buffers and no window
 * scaling (window-limited: 65535 B per RTT ≈ 10.5 Mbit/s) against 4 MiB
 * buffers with scaling.
 */
import { runSimTransfer } from "../src/runtime/sim-transfer.ts";
import type { TcpSettings } from "../src/tcp/settings.ts";

const BANDWIDTH = 100e6; // bit/s
const ONE_WAY = 25; // ms
const BDP_BYTES = (BANDWIDTH / 8) * ((2 * ONE_WAY) / 1000);
const QUEUE = Math.round(BDP_BYTES / 1500);
const BIG = 4 << 20;
const SMALL = 64 << 10;

interface Case {
  readonly name: string;
  readonly loss: number;
  readonly tcp: Partial<TcpSettings>;
}

const scaled = (cc: "cubic" | "newreno"): Partial<TcpSettings> => ({
  congestionControl: cc,
  windowScaling: true,
  rcvBuf: BIG,
  sndBuf: BIG,
  // Hold out-of-order data up to the window, or one burst of queue drops
  // leaves the sender nothing but its retransmission timer.
  oooLimit: BIG,
});
const unscaled: Partial<TcpSettings> = {
  congestionControl: "cubic",
  windowScaling: false,
  rcvBuf: SMALL,
  sndBuf: SMALL,
  oooLimit: SMALL,
};

const CASES: readonly Case[] = [
  { name: "cubic, 0.1% loss", loss: 0.001, tcp: scaled("cubic") },
  { name: "newreno, 0.1% loss", loss: 0.001, tcp: scaled("newreno") },
  { name: "cubic, no random loss", loss: 0, tcp: scaled("cubic") },
  { name: "newreno, no random loss", loss: 0, tcp: scaled("newreno") },
  { name: "64 KiB, no wscale, 0.1% loss", loss: 0.001, tcp: unscaled },
  { name: "64 KiB, no wscale, no random loss", loss: 0, tcp: unscaled },
  { name: "4 MiB, wscale, no random loss", loss: 0, tcp: scaled("cubic") },
];

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : Number.NaN;
  return Number.isFinite(v) ? v : fallback;
}

const bytes = arg("--bytes", 20_000_000);
const seed = arg("--seed", 1);
const json = process.argv.includes("--json");

const rows = CASES.map((c) => {
  const r = runSimTransfer({
    bytes,
    seed,
    wire: { delay: ONE_WAY, bandwidth: BANDWIDTH, queueLimit: QUEUE, loss: c.loss },
    tcp: c.tcp,
    maxSimMs: 3_600_000,
  });
  const seconds = (r.transferMs ?? Number.NaN) / 1000;
  const mbps = (bytes * 8) / seconds / 1e6;
  return {
    case: c.name,
    ok: r.ok,
    failure: r.failure,
    goodputMbps: Number(mbps.toFixed(1)),
    percentOfBottleneck: Number(((100 * mbps * 1e6) / BANDWIDTH).toFixed(1)),
    transferMs: r.transferMs,
    timeouts: r.a.congestion.timeouts,
    recoveries: r.a.congestion.recoveries,
    retransmissions: r.a.retransmissions,
    drops: { loss: r.wire["a->b"].dropped.loss, queue: r.wire["a->b"].dropped.queue },
    wallMs: r.wallMs,
  };
});

if (json) {
  console.log(
    JSON.stringify(
      { bytes, seed, bandwidth: BANDWIDTH, rttMs: 2 * ONE_WAY, queue: QUEUE, rows },
      null,
      2,
    ),
  );
} else {
  console.log(
    `${(bytes / 1e6).toFixed(0)} MB over 100 Mbit/s, RTT ${2 * ONE_WAY} ms, queue ${QUEUE} packets (≈1 BDP), seed ${seed}`,
  );
  const head = [
    "case",
    "goodput",
    "% of 100M",
    "time",
    "RTOs",
    "recoveries",
    "rexmits",
    "drops loss/queue",
    "wall",
  ];
  const body = rows.map((r) => [
    r.case + (r.ok ? "" : ` (FAILED: ${r.failure})`),
    `${r.goodputMbps} Mbit/s`,
    `${r.percentOfBottleneck}%`,
    `${((r.transferMs ?? 0) / 1000).toFixed(2)} s`,
    String(r.timeouts),
    String(r.recoveries),
    String(r.retransmissions),
    `${r.drops.loss}/${r.drops.queue}`,
    `${r.wallMs} ms`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ");
  console.log(line(head));
  for (const b of body) console.log(line(b));
}
if (rows.some((r) => !r.ok)) process.exitCode = 1;
