/**
 * The simulated part of the bench: bulk-transfer goodput of tcplab's
 * congestion controllers over a long fat path on the simulated wire, next to
 * what the loss-based throughput models predict for the same path.
 *
 * The path: 50 ms RTT (25 ms each way), a 100 Mbit/s bottleneck each way
 * with a drop-tail queue of about one bandwidth-delay product (625 kB ≈ 417
 * full-sized packets), and random loss on every packet (both directions).
 * Host a sends to host b on the VirtualClock; goodput is the payload over the
 * time until b has read the end of the stream (handshake and slow start
 * included). Each case runs over several seeds; the median is reported.
 *
 * The models, for MSS = 1448 bytes (1500 − 40 − 12 of timestamps) and
 * RTT = 50 ms, with p the loss rate:
 *   Reno / NewReno  W = √(3/(2p)) segments per RTT (Mathis et al., 1997);
 *   CUBIC           RFC 9438 §5: the larger of the Reno-friendly
 *                   W_est = √(3/(2p)) (AIMD with α_cubic, β = 0.7) and
 *                   W_cubic = (C·(3+β)/(4·(1−β)))^¼ · (RTT^¾ / p^¾), C = 0.4;
 *   goodput = W · MSS / RTT, at most the bottleneck.
 * They describe the steady state of a long transfer; a 20 MB run is mostly
 * slow start and the first few losses, so it can beat them. The long runs
 * (200 MB) measure the steady state: goodput and mean cwnd from a quarter of
 * the way in to the end.
 */
import { type Duration, ms } from "../../src/clock/time.ts";
import { runSimTransfer, type SimSample } from "../../src/runtime/sim-transfer.ts";
import type { TcpSettings } from "../../src/tcp/settings.ts";

export const SIM_PATH = {
  bandwidthBps: 100e6,
  oneWayMs: 25,
  rttMs: 50,
  /** 1500 − 20 (IP) − 20 (TCP) − 12 (timestamps). */
  mss: 1448,
  get bdpBytes(): number {
    return (this.bandwidthBps / 8) * (this.rttMs / 1000);
  },
  get queuePackets(): number {
    return Math.round(this.bdpBytes / 1500);
  },
};

const BIG = 4 << 20;
const SMALL = 64 << 10;

type Cc = "cubic" | "newreno";

export interface SimCaseSpec {
  readonly id: string;
  readonly cc: Cc;
  /** Random loss per packet, each direction. */
  readonly loss: number;
  readonly windowScaling: boolean;
  readonly buffer: number;
}

const spec = (cc: Cc, loss: number, scaled = true): SimCaseSpec => ({
  id: `${cc}-${scaled ? "4MiB-wscale" : "64KiB-nowscale"}-loss${loss * 100}%`,
  cc,
  loss,
  windowScaling: scaled,
  buffer: scaled ? BIG : SMALL,
});

/** The goodput cases, each over every seed. */
export const SIM_CASES: readonly SimCaseSpec[] = [
  spec("cubic", 0.001),
  spec("newreno", 0.001),
  spec("cubic", 0.0001),
  spec("newreno", 0.0001),
  spec("cubic", 0),
  spec("newreno", 0),
  spec("cubic", 0, false),
  spec("cubic", 0.001, false),
];

function tcpFor(c: Pick<SimCaseSpec, "cc" | "windowScaling" | "buffer">): Partial<TcpSettings> {
  return {
    congestionControl: c.cc,
    windowScaling: c.windowScaling,
    rcvBuf: c.buffer,
    sndBuf: c.buffer,
    // Hold out-of-order data up to the window, or one burst of queue drops
    // leaves the sender nothing but its retransmission timer.
    oooLimit: c.buffer,
  };
}

export interface SimRun {
  readonly seed: number;
  readonly ok: boolean;
  readonly failure?: string;
  readonly goodputMbps: number;
  readonly seconds: number;
  /** Data packets a → b dropped by the random loss / by the full queue. */
  readonly lossDrops: number;
  readonly queueDrops: number;
  readonly recoveries: number;
  readonly timeouts: number;
  readonly retransmissions: number;
  readonly wallMs: number;
}

export interface SimCaseResult extends SimCaseSpec {
  readonly bytes: number;
  readonly runs: readonly SimRun[];
  readonly medianMbps: number | null;
  /** Median goodput as % of the bottleneck. */
  readonly medianPct: number | null;
  readonly minPct: number | null;
  readonly maxPct: number | null;
}

export interface ModelFigures {
  readonly loss: number;
  /** Mathis / Reno: segments per RTT, Mbit/s, % of the bottleneck. */
  readonly renoWindow: number;
  readonly renoMbps: number;
  readonly renoPct: number;
  /** RFC 9438 §5 W_cubic alone, and CUBIC's average max(W_cubic, W_est). */
  readonly cubicWindow: number;
  readonly cubicAvgWindow: number;
  readonly cubicMbps: number;
  readonly cubicPct: number;
}

export interface SteadyState {
  readonly cc: Cc;
  readonly loss: number;
  readonly bytes: number;
  readonly seed: number;
  readonly ok: boolean;
  readonly totalMbps: number;
  /** From `fromBytes` received to the end. */
  readonly fromBytes: number;
  readonly seconds: number;
  readonly goodputMbps: number;
  /** Time-averaged cwnd and flight over that period, in MSS. */
  readonly meanCwndSegments: number;
  readonly meanFlightSegments: number;
  readonly meanSrttMs: number;
  /** Data packets sent a → b in the period, random-loss drops among them, loss events (recoveries + timeouts). */
  readonly packets: number;
  readonly lossDrops: number;
  readonly lossEvents: number;
  readonly timeouts: number;
  /** The model for the measured event rate (events / packets) and the measured SRTT. */
  readonly modelMbps: number;
  /** Measured / model. */
  readonly ratio: number;
}

export interface SimBenchResult {
  readonly path: {
    readonly bandwidthMbps: number;
    readonly rttMs: number;
    readonly queuePackets: number;
    readonly mss: number;
    readonly bdpSegments: number;
  };
  readonly seeds: readonly number[];
  readonly bytes: number;
  readonly cases: readonly SimCaseResult[];
  readonly models: readonly ModelFigures[];
  /** Loss rate at which each model's steady state reaches 80% of the bottleneck. */
  readonly lossFor80Pct: { readonly reno: number; readonly cubic: number };
  readonly steady: readonly SteadyState[];
  readonly wallSeconds: number;
  readonly commands: Record<string, string>;
}

/** RFC 9438 §4.6, §5.1. */
const C = 0.4;
const BETA = 0.7;

const renoWindow = (p: number) => Math.sqrt(3 / (2 * p));
const cubicWindow = (p: number, rttS: number) =>
  ((C * (3 + BETA)) / (4 * (1 - BETA))) ** 0.25 * (rttS ** 0.75 / p ** 0.75);
const windowMbps = (w: number, rttMs: number) => (w * SIM_PATH.mss * 8) / (rttMs / 1000) / 1e6;

export function modelFigures(p: number): ModelFigures {
  const rtt = SIM_PATH.rttMs;
  const cap = SIM_PATH.bandwidthBps / 1e6;
  const rw = renoWindow(p);
  const cw = cubicWindow(p, rtt / 1000);
  const avg = Math.max(cw, rw);
  const renoMbps = Math.min(cap, windowMbps(rw, rtt));
  const cubicMbps = Math.min(cap, windowMbps(avg, rtt));
  return {
    loss: p,
    renoWindow: rw,
    renoMbps,
    renoPct: (100 * renoMbps) / cap,
    cubicWindow: cw,
    cubicAvgWindow: avg,
    cubicMbps,
    cubicPct: (100 * cubicMbps) / cap,
  };
}

/** The loss rate where each model's window is 80% of the BDP. */
export function lossFor80Pct(): { reno: number; cubic: number } {
  const w = (0.8 * SIM_PATH.bdpBytes) / SIM_PATH.mss;
  const rtt = SIM_PATH.rttMs / 1000;
  const reno = 3 / (2 * w * w);
  // W_cubic = k·RTT^¾/p^¾ = w → p = (k·RTT^¾ / w)^(4/3); CUBIC is at least Reno.
  const k = ((C * (3 + BETA)) / (4 * (1 - BETA))) ** 0.25;
  const cubic = Math.max(reno, ((k * rtt ** 0.75) / w) ** (4 / 3));
  return { reno, cubic };
}

function wire(loss: number) {
  return {
    delay: ms(SIM_PATH.oneWayMs),
    bandwidth: SIM_PATH.bandwidthBps,
    queueLimit: SIM_PATH.queuePackets,
    loss,
  };
}

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1
    ? (s[mid] as number)
    : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

function runCase(c: SimCaseSpec, bytes: number, seed: number): SimRun {
  const r = runSimTransfer({
    bytes,
    seed,
    wire: wire(c.loss),
    tcp: tcpFor(c),
    maxSimMs: ms(3_600_000),
  });
  const seconds = (r.transferMs ?? Number.NaN) / 1000;
  return {
    seed,
    ok: r.ok,
    ...(r.ok ? {} : { failure: r.failure }),
    goodputMbps: round((bytes * 8) / seconds / 1e6, 2),
    seconds: round(seconds, 3),
    lossDrops: r.wire["a->b"].dropped.loss,
    queueDrops: r.wire["a->b"].dropped.queue,
    recoveries: r.a.congestion.recoveries,
    timeouts: r.a.congestion.timeouts,
    retransmissions: r.a.retransmissions,
    wallMs: r.wallMs,
  };
}

/** Time-weighted mean of `f` over consecutive samples in [from, to]. */
function timeMean(samples: readonly SimSample[], f: (s: SimSample) => number): number {
  let area = 0;
  let span = 0;
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1] as SimSample;
    const b = samples[i] as SimSample;
    area += f(a) * (b.t - a.t);
    span += b.t - a.t;
  }
  return span > 0 ? area / span : Number.NaN;
}

/** A long transfer, measured from a quarter of the bytes in to the end. */
export function steadyState(cc: Cc, loss: number, bytes: number, seed: number): SteadyState {
  const every: Duration = ms(50);
  const r = runSimTransfer({
    bytes,
    seed,
    wire: wire(loss),
    tcp: tcpFor({ cc, windowScaling: true, buffer: BIG }),
    maxSimMs: ms(7_200_000),
    sampleEveryMs: every,
  });
  const samples = r.samples ?? [];
  const fromBytes = Math.round(bytes / 4);
  const startIdx = samples.findIndex((s) => s.received >= fromBytes);
  const first = samples[Math.max(0, startIdx)] as SimSample;
  const last = samples[samples.length - 1] as SimSample;
  const window = samples.slice(Math.max(0, startIdx));
  const seconds = (last.t - first.t) / 1000;
  const goodputMbps = ((last.received - first.received) * 8) / seconds / 1e6;
  const mss = SIM_PATH.mss;
  // Packets in the period: the a → b lane's count scaled by the share of bytes (it is counted
  // over the whole run); the loss events are counted exactly from the samples.
  const share = (last.received - first.received) / bytes;
  const packets = Math.round(r.wire["a->b"].sent * share);
  const lossDrops = Math.round(r.wire["a->b"].dropped.loss * share);
  const lossEvents = last.recoveries - first.recoveries + (last.timeouts - first.timeouts);
  const meanSrtt = timeMean(window, (s) => s.srtt ?? SIM_PATH.rttMs);
  const pEvent = lossEvents / Math.max(1, packets);
  const model = Math.min(
    SIM_PATH.bandwidthBps / 1e6,
    windowMbps(
      cc === "newreno"
        ? renoWindow(pEvent)
        : Math.max(renoWindow(pEvent), cubicWindow(pEvent, meanSrtt / 1000)),
      meanSrtt,
    ),
  );
  return {
    cc,
    loss,
    bytes,
    seed,
    ok: r.ok,
    totalMbps: round((bytes * 8) / ((r.transferMs ?? Number.NaN) / 1000) / 1e6, 2),
    fromBytes,
    seconds: round(seconds, 1),
    goodputMbps: round(goodputMbps, 2),
    meanCwndSegments: round(timeMean(window, (s) => s.cwnd) / mss, 1),
    meanFlightSegments: round(timeMean(window, (s) => s.flight) / mss, 1),
    meanSrttMs: round(meanSrtt, 1),
    packets,
    lossDrops,
    lossEvents,
    timeouts: last.timeouts - first.timeouts,
    modelMbps: round(model, 2),
    ratio: round(goodputMbps / model, 2),
  };
}

export interface SimBenchOptions {
  readonly seeds: readonly number[];
  readonly bytes: number;
  /** Long runs for the steady state: [controller, loss, bytes, seeds]; none in a quick run. */
  readonly steady: ReadonlyArray<{ cc: Cc; loss: number; bytes: number; seeds: readonly number[] }>;
  readonly log?: (line: string) => void;
}

export const SIM_FULL: SimBenchOptions = {
  seeds: [1, 2, 3, 4, 5],
  bytes: 20_000_000,
  steady: [
    { cc: "newreno", loss: 0.001, bytes: 200_000_000, seeds: [1, 2, 3] },
    { cc: "cubic", loss: 0.001, bytes: 200_000_000, seeds: [1, 2, 3] },
  ],
};

export const SIM_QUICK: SimBenchOptions = { seeds: [1], bytes: 4_000_000, steady: [] };

export function runSimBench(opts: SimBenchOptions): SimBenchResult {
  const t0 = performance.now();
  const cases: SimCaseResult[] = [];
  const cap = SIM_PATH.bandwidthBps / 1e6;
  for (const c of SIM_CASES) {
    opts.log?.(`bench: simulated ${c.id} × ${opts.seeds.length} seeds…`);
    const runs = opts.seeds.map((seed) => runCase(c, opts.bytes, seed));
    const good = runs.filter((r) => r.ok).map((r) => r.goodputMbps);
    const m = runs.every((r) => r.ok) ? median(good) : null;
    const pct = (x: number | null) => (x === null ? null : round((100 * x) / cap, 1));
    cases.push({
      ...c,
      bytes: opts.bytes,
      runs,
      medianMbps: m === null ? null : round(m, 2),
      medianPct: pct(m),
      minPct: pct(good.length > 0 ? Math.min(...good) : null),
      maxPct: pct(good.length > 0 ? Math.max(...good) : null),
    });
  }
  const steady: SteadyState[] = [];
  for (const s of opts.steady) {
    for (const seed of s.seeds) {
      opts.log?.(
        `bench: simulated steady state ${s.cc} ${s.loss * 100}% ${s.bytes / 1e6} MB seed ${seed}…`,
      );
      steady.push(steadyState(s.cc, s.loss, s.bytes, seed));
    }
  }
  const l80 = lossFor80Pct();
  return {
    path: {
      bandwidthMbps: cap,
      rttMs: SIM_PATH.rttMs,
      queuePackets: SIM_PATH.queuePackets,
      mss: SIM_PATH.mss,
      bdpSegments: round(SIM_PATH.bdpBytes / SIM_PATH.mss, 1),
    },
    seeds: opts.seeds,
    bytes: opts.bytes,
    cases,
    models: [0.001, 0.0001].map(modelFigures),
    lossFor80Pct: l80,
    steady,
    wallSeconds: round((performance.now() - t0) / 1000, 1),
    commands: {
      "simulated cases": `bun scripts/bench-sim.ts --seeds ${opts.seeds.join(",")} --bytes ${opts.bytes}${opts.steady.length === 0 ? " --no-steady" : ""}`,
    },
  };
}

// ───────────────────────────── report ─────────────────────────────

const pctOf = (x: number | null | undefined) =>
  x === null || x === undefined ? "—" : `${x.toFixed(1)}%`;
const lossLabel = (p: number) => (p === 0 ? "0" : `${+(p * 100).toPrecision(2)}%`);

function caseLabel(c: SimCaseSpec): string {
  return c.windowScaling ? c.cc : `${c.cc}, 64 KiB, no wscale`;
}

export function simGoodputRows(r: SimBenchResult): string[][] {
  return r.cases.map((c) => {
    const m = c.loss > 0 ? modelFigures(c.loss) : undefined;
    const model =
      m === undefined ? "—" : `${(c.cc === "newreno" ? m.renoPct : m.cubicPct).toFixed(1)}%`;
    const sum = (f: (x: SimRun) => number) => c.runs.map(f).join("/");
    return [
      caseLabel(c),
      lossLabel(c.loss),
      c.medianMbps === null ? "FAILED" : c.medianMbps.toFixed(1),
      pctOf(c.medianPct),
      `${pctOf(c.minPct)}–${pctOf(c.maxPct)}`,
      model,
      sum((x) => x.lossDrops),
      sum((x) => x.queueDrops),
      sum((x) => x.recoveries),
      sum((x) => x.timeouts),
    ];
  });
}

export const SIM_HEAD = [
  "case",
  "loss",
  "median Mbit/s",
  "% of 100M",
  "range",
  "model (steady state)",
  "loss drops",
  "queue drops",
  "recoveries",
  "RTOs",
];

export const STEADY_HEAD = [
  "long run",
  "seed",
  "Mbit/s (from 25%)",
  "mean cwnd (MSS)",
  "mean SRTT ms",
  "loss events / packets",
  "RTOs",
  "model Mbit/s at that rate",
  "measured / model",
];

export function steadyRows(r: SimBenchResult): string[][] {
  return r.steady.map((s) => [
    `${s.cc}, ${lossLabel(s.loss)}, ${s.bytes / 1e6} MB${s.ok ? "" : " (FAILED)"}`,
    String(s.seed),
    s.goodputMbps.toFixed(2),
    s.meanCwndSegments.toFixed(1),
    s.meanSrttMs.toFixed(1),
    `${s.lossEvents} / ${s.packets} (${((100 * s.lossEvents) / Math.max(1, s.packets)).toFixed(3)}%)`,
    String(s.timeouts),
    s.modelMbps.toFixed(2),
    s.ratio.toFixed(2),
  ]);
}

function mdTable(head: string[], rows: string[][]): string[] {
  return [
    `| ${head.join(" | ")} |`,
    `|${head.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`,
    ...rows.map((row) => `| ${row.join(" | ")} |`),
  ];
}

export function simMarkdown(r: SimBenchResult): string {
  const md: string[] = [];
  const p = r.path;
  md.push("## Simulated wire: congestion control over a long fat path");
  md.push("");
  md.push(
    `${p.bandwidthMbps} Mbit/s bottleneck each way, RTT ${p.rttMs} ms, drop-tail queue ${p.queuePackets} packets (≈ 1 BDP = ${p.bdpSegments} segments of ${p.mss} B), random loss on every packet in both directions. ${r.bytes / 1e6} MB per run, seeds ${r.seeds.join(", ")}; median goodput (handshake and slow start included) and the range over the seeds. Per-run counts are listed seed by seed. Buffers 4 MiB with window scaling unless the case says otherwise. \`model\` is the steady state the throughput models predict at that loss rate (below).`,
  );
  md.push("");
  md.push(...mdTable(SIM_HEAD, simGoodputRows(r)));
  md.push("");
  const unscaled = r.cases.find((c) => !c.windowScaling && c.loss === 0);
  const scaled = r.cases.find((c) => c.windowScaling && c.cc === "cubic" && c.loss === 0);
  if (unscaled !== undefined && scaled !== undefined) {
    md.push(
      `Window scaling: 64 KiB buffers without scaling reach ${pctOf(unscaled.medianPct)} of the bottleneck (one 65535-byte window per RTT ≈ ${((65535 * 8) / (p.rttMs / 1000) / 1e6).toFixed(1)} Mbit/s); 4 MiB with scaling ${pctOf(scaled.medianPct)}.`,
    );
    md.push("");
  }
  const lineRate = (r.bytes * 8) / (p.bandwidthMbps * 1e6);
  md.push(
    `Where no loss-based limit applies (0 and 0.01% here), a ${r.bytes / 1e6} MB run is bounded by its start: the bytes alone take ${lineRate.toFixed(2)} s at the line rate, and the handshake, slow start (about ${Math.ceil(Math.log2(p.bdpSegments / 10))} RTTs from 10 segments to one BDP) and the repair of its overshoot into the queue come on top.`,
  );
  md.push("");
  md.push("### What the models allow");
  md.push("");
  md.push(
    `Reno/NewReno (Mathis et al.): W = √(3/(2p)) segments per RTT. CUBIC (RFC 9438 §5): the larger of the Reno-friendly W_est = √(3/(2p)) and W_cubic = (C(3+β)/(4(1−β)))^¼ · RTT^¾ / p^¾ with C = 0.4, β = 0.7. Goodput = W · ${p.mss} B / ${p.rttMs} ms.`,
  );
  md.push("");
  md.push(
    ...mdTable(
      ["loss p", "Reno W (MSS)", "Reno Mbit/s", "W_cubic (MSS)", "CUBIC W (MSS)", "CUBIC Mbit/s"],
      r.models.map((m) => [
        lossLabel(m.loss),
        m.renoWindow.toFixed(1),
        `${m.renoMbps.toFixed(1)} (${m.renoPct.toFixed(1)}%)`,
        m.cubicWindow.toFixed(1),
        m.cubicAvgWindow.toFixed(1),
        `${m.cubicMbps.toFixed(1)} (${m.cubicPct.toFixed(1)}%)`,
      ]),
    ),
  );
  md.push("");
  md.push(
    `80% of the bottleneck needs a mean window of ${(0.8 * p.bdpSegments).toFixed(0)} segments: p ≤ ${(r.lossFor80Pct.reno * 100).toPrecision(2)}% for Reno, p ≤ ${(r.lossFor80Pct.cubic * 100).toPrecision(2)}% for CUBIC. At 0.1% loss no loss-based controller can hold it; a short transfer can exceed its steady state because slow start runs up to the first losses.`,
  );
  md.push("");
  if (r.steady.length > 0) {
    md.push("### Steady state against the model");
    md.push("");
    md.push(
      "Long runs, measured from a quarter of the bytes in to the end: goodput, time-averaged cwnd, the loss events the sender saw (fast recoveries + timeouts) per data packet sent, and the model evaluated at that event rate and the measured SRTT.",
    );
    md.push("");
    md.push(...mdTable(STEADY_HEAD, steadyRows(r)));
    md.push("");
  }
  md.push(`Simulated part: ${r.wallSeconds.toFixed(0)} s of wall time.`);
  md.push("");
  return md.join("\n");
}

export function simText(r: SimBenchResult): string {
  const table = (head: string[], rows: string[][]) => {
    const all = [head, ...rows];
    const widths = head.map((_, i) => Math.max(...all.map((row) => (row[i] ?? "").length)));
    const line = (row: string[]) =>
      row
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
        .join("  ");
    return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
  };
  const out = [
    `simulated: ${r.bytes / 1e6} MB, ${r.path.bandwidthMbps} Mbit/s, RTT ${r.path.rttMs} ms, queue ${r.path.queuePackets} packets, seeds ${r.seeds.join(",")}`,
    table(SIM_HEAD, simGoodputRows(r)),
  ];
  if (r.steady.length > 0) out.push("", table(STEADY_HEAD, steadyRows(r)));
  return out.join("\n");
}
