/** `plot #ID [cwnd|seq]`: a connection's congestion window, or its sequence numbers, over time. */
import type { CongestionPhase } from "../tcp/congestion/controller.ts";
import { formatTime } from "./args.ts";
import { type ChartSeries, renderChart } from "./chart.ts";
import { err, hint, text } from "./cmd-sockets.ts";
import type { Registry } from "./registry.ts";
import type { ConnectionSeries, WindowSample } from "./samples.ts";
import type { LabEngine } from "./session.ts";
import { formatEp } from "./state-view.ts";
import type { Block, Line } from "./view.ts";

const USAGE = "plot #ID [cwnd|seq]";

/** Plotting area: fits an 80-column terminal with the value labels. */
export const PLOT_WIDTH = 64;
export const PLOT_HEIGHT = 14;

/** One letter per phase for the strip under the time axis. */
export const PHASE_LETTER: Readonly<Record<CongestionPhase, string>> = {
  "slow-start": "S",
  "congestion-avoidance": "A",
  recovery: "R",
  loss: "L",
};

export const PHASE_NAME: Readonly<Record<CongestionPhase, string>> = {
  "slow-start": "slow start",
  "congestion-avoidance": "congestion avoidance",
  recovery: "fast recovery",
  loss: "loss recovery after a timeout",
};

/** 14480 → "14.5k", 950 → "950". */
export function compactBytes(v: number): string {
  if (!Number.isFinite(v)) return "∞";
  if (Math.abs(v) >= 10_000_000) return `${Math.round(v / 1_000_000)}M`;
  if (Math.abs(v) >= 1_000_000) return `${(v / 1_000_000).toFixed(1)}M`;
  if (Math.abs(v) >= 10_000) return `${Math.round(v / 1000)}k`;
  if (Math.abs(v) >= 1000) return `${(v / 1000).toFixed(1)}k`;
  return String(Math.round(v));
}

const seconds = (t: number) => `${formatTime(t)} s`;

/** The phase in force during most of [t0, t1) — the last one to start before t1. */
function phaseAt(samples: readonly WindowSample[], t1: number): CongestionPhase | undefined {
  let phase: CongestionPhase | undefined;
  for (const s of samples) {
    if (s.t >= t1) break;
    phase = s.phase;
  }
  return phase;
}

export interface PlotData {
  readonly series: readonly ChartSeries[];
  readonly tMin: number;
  readonly tMax: number;
}

/** The chart's series for `what` (exported for tests: the data behind the picture). */
export function plotData(conn: ConnectionSeries, what: "cwnd" | "seq", now: number): PlotData {
  const w = conn.window;
  const tMin = Math.min(w[0]?.t ?? now, conn.sent[0]?.t ?? now);
  if (what === "cwnd") {
    return {
      tMin,
      tMax: now,
      series: [
        {
          name: "ssthresh",
          mark: "-",
          style: "step",
          points: w.map((s) => ({ t: s.t, v: s.ssthresh })),
        },
        { name: "cwnd", mark: "*", style: "step", points: w.map((s) => ({ t: s.t, v: s.cwnd })) },
      ],
    };
  }
  const data = conn.sent.filter((s) => s.len > 0);
  return {
    tMin,
    tMax: now,
    series: [
      { name: "acked", mark: ".", style: "step", points: w.map((s) => ({ t: s.t, v: s.una })) },
      {
        name: "sent",
        mark: "+",
        style: "points",
        points: data.filter((s) => !s.retransmission).map((s) => ({ t: s.t, v: s.seq })),
      },
      {
        name: "retransmitted",
        mark: "R",
        style: "points",
        points: data.filter((s) => s.retransmission).map((s) => ({ t: s.t, v: s.seq })),
      },
    ],
  };
}

export function plotBlock(
  conn: ConnectionSeries,
  id: string,
  what: "cwnd" | "seq",
  now: number,
): Block {
  const tcb = conn.tcb;
  const c = tcb.congestion;
  const data = plotData(conn, what, now);
  const chart = renderChart(data.series, {
    width: PLOT_WIDTH,
    height: PLOT_HEIGHT,
    unit: what === "cwnd" ? "bytes" : "seq",
    formatValue: compactBytes,
    formatTime: seconds,
    tMin: data.tMin,
    tMax: data.tMax,
    ...(what === "cwnd"
      ? {
          overlap: "#",
          strip: (_t0: number, t1: number) => {
            const p = phaseAt(conn.window, t1);
            return p === undefined ? " " : PHASE_LETTER[p];
          },
        }
      : {}),
  });
  const head: Line = [
    { text: `${id} `, tone: "accent" },
    { text: `${formatEp(tcb.local)} → ${formatEp(tcb.remote)}  `, tone: "muted" },
    {
      text:
        what === "cwnd"
          ? `${c.name}: cwnd ${c.cwnd}, ssthresh ${compactBytes(c.ssthresh)}, ${PHASE_NAME[c.phase]}`
          : `sent up to ${compactBytes(Math.max(0, ...conn.sent.map((s) => s.seq + s.len)))}, acknowledged ${compactBytes(conn.window[conn.window.length - 1]?.una ?? 0)} (relative to ISS)`,
    },
  ];
  const legend: Line =
    what === "cwnd"
      ? hint(
          "* cwnd  - ssthresh (∞: none)  # both  phase: S slow start, A avoidance, R recovery, L timeout",
        )
      : hint("+ segment sent (its first byte)  R retransmission  . acknowledged (SND.UNA)");
  const retrans = conn.sent.filter((s) => s.retransmission && s.len > 0).length;
  const lines: Line[] = [head, ...chart.lines.map((l): Line => [{ text: l }]), legend];
  if (what === "seq" && retrans > 0) lines.push(hint(`${retrans} data segment(s) sent again`));
  return { kind: "text", lines };
}

export function registerPlotCommands(reg: Registry<LabEngine>): void {
  reg.add({
    name: "plot",
    usage: USAGE,
    summary: "draw a connection's cwnd and ssthresh, or its sequence numbers, over time",
    help: [
      "plot #ID cwnd (the default): the congestion window and the slow-start threshold against time",
      "(RFC 5681), with the phase under the time axis: slow start, congestion avoidance, fast recovery.",
      "plot #ID seq: every segment the connection sent, by sequence number (relative to ISS) against",
      "time, with retransmissions marked R and the acknowledged edge (SND.UNA) as dots — a clean",
      "transfer climbs steadily; a loss shows as an R below the climb.",
    ],
    args: [
      { name: "#ID", kind: "socket", closedOk: true },
      { name: "WHAT", kind: "word", optional: true, values: ["cwnd", "seq"] },
    ],
    run(ctx, a) {
      const { engine, host } = ctx;
      const fd = a.num("#ID") as number;
      const tcb = engine.tcbById(host, fd);
      if (tcb === undefined) return [err(`plot: #${fd} has no connection`, USAGE)];
      const conn = host.samples.series(tcb);
      if (conn === undefined || conn.window.length === 0)
        return [text(hint(`#${fd}: nothing recorded for this connection yet`))];
      const what = a.str("WHAT") === "seq" ? "seq" : "cwnd";
      return [plotBlock(conn, `#${fd}`, what, engine.clock.now())];
    },
  });
}
