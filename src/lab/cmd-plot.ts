/**
 * `plot [#ID …] [cwnd|seq|rate] [FROM..TO]`: a connection's sequence numbers
 * (a Stevens/tcptrace time-sequence graph), its congestion window, or the
 * delivery rate of one or more connections over time, drawn in braille
 * (chart.ts) over the period the connections were active, or the one asked.
 */

import { instant } from "../clock/time.ts";
import { formatTime } from "./args.ts";
import { type Chart, type ChartSeries, renderChart } from "./chart.ts";
import { err, hint } from "./cmd-sockets.ts";
import {
  busiestPeriod,
  cwndPlot,
  PHASE_LETTER,
  PHASE_NAME,
  type PlotKind,
  type Plotted,
  parseRange,
  phaseAt,
  RANGE_SYNTAX,
  rateBetween,
  ratePlot,
  resolveRange,
  retransmissions,
  seqPlot,
  type TimeRange,
} from "./plots.ts";
import type { Registry } from "./registry.ts";
import type { ConnectionSeries } from "./samples.ts";
import type { LabEngine } from "./session.ts";
import { formatEp } from "./state-view.ts";
import type { Block, Line } from "./view.ts";
import type { LabHost } from "./world.ts";

export const PLOT_USAGE = `plot [#ID …] [cwnd|seq|rate] [${RANGE_SYNTAX.split(" ")[0]}]`;

/** Plotting area: fits an 80-column terminal with the value labels. */
export const PLOT_WIDTH = 64;
export const PLOT_HEIGHT = 16;

/** Connections a plot may compare at once. */
const MAX_PLOTTED = 4;

/** 14480 → "14.5k", 950 → "950". */
export function compactBytes(v: number): string {
  if (!Number.isFinite(v)) return "∞";
  if (Math.abs(v) >= 10_000_000) return `${Math.round(v / 1_000_000)}M`;
  if (Math.abs(v) >= 1_000_000) return `${Number((v / 1_000_000).toFixed(2))}M`;
  if (Math.abs(v) >= 10_000) return `${Math.round(v / 1000)}k`;
  if (Math.abs(v) >= 1000) return `${Number((v / 1000).toFixed(1))}k`;
  return String(Math.round(v));
}

/** 4_800_000 → "4.8 Mbit/s". */
export function formatRate(bits: number): string {
  if (bits >= 1e9) return `${Number((bits / 1e9).toFixed(2))} Gbit/s`;
  if (bits >= 1e6) return `${Number((bits / 1e6).toFixed(2))} Mbit/s`;
  if (bits >= 1e3) return `${Number((bits / 1e3).toFixed(1))} kbit/s`;
  return `${Math.round(bits)} bit/s`;
}

const span = (a: number, b: number) => `${formatTime(instant(a))}–${formatTime(instant(b))} s`;

function chartLines(chart: Chart, head: Line, notes: readonly Line[]): Block {
  return { kind: "chart", lines: [head, ...chart.lines, chart.legend, ...notes] };
}

/** The sequence plot of `conn` over `r` as drawn (exported for tests: where each mark lands). */
export function seqChart(
  conn: ConnectionSeries,
  r: TimeRange,
): { chart: Chart; edgeAbove: boolean } {
  const data = seqPlot(conn, r);
  const chart = renderChart(data.series, {
    width: PLOT_WIDTH,
    height: PLOT_HEIGHT,
    unit: "seq",
    formatValue: compactBytes,
    tMin: r.from,
    tMax: r.to,
    vMin: data.vMin,
    vMax: data.vMax,
  });
  return { chart, edgeAbove: data.edgeAbove };
}

function seqBlock(p: Plotted, r: TimeRange): Block {
  const { conn } = p;
  const { chart, edgeAbove } = seqChart(conn, r);
  const rtx = retransmissions(conn, r);
  const lost = conn.sent.filter((s) => s.lost !== undefined && s.t >= r.from && s.t <= r.to);
  const head: Line = [
    { text: `${p.id} `, tone: "accent" },
    { text: `${formatEp(conn.tcb.local)} → ${formatEp(conn.tcb.remote)}  `, tone: "muted" },
    {
      text: `seq, ${span(r.from, r.to)}: ${rtx.length} sent again, ${lost.length} lost`,
    },
  ];
  const notes: Line[] = [];
  const busy = busiestPeriod([conn], r);
  if (busy !== undefined) notes.push(zoomHint(`${p.id} seq`, busy));
  if (edgeAbove)
    notes.push(
      hint("the window edge is above the chart: the window is far larger than the flight"),
    );
  return chartLines(chart, head, notes);
}

/** `most segments left in 0.03–0.16 s: plot #3 seq 0.03s..0.16s zooms in`. */
function zoomHint(what: string, busy: TimeRange): Line {
  const at = (t: number) => Number((t / 1000).toFixed(3));
  return hint(
    `most segments left in ${at(busy.from)}–${at(busy.to)} s: plot ${what} ${at(busy.from)}s..${at(busy.to)}s zooms in`,
  );
}

function cwndBlock(ps: readonly Plotted[], r: TimeRange): Block {
  const series = cwndPlot(ps, r);
  const one = ps.length === 1 ? (ps[0] as Plotted) : undefined;
  const chart = renderChart(series, {
    width: PLOT_WIDTH,
    height: PLOT_HEIGHT,
    unit: "bytes",
    formatValue: compactBytes,
    tMin: r.from,
    tMax: r.to,
    ...(one !== undefined
      ? {
          strip: (_t0: number, t1: number) => {
            const ph = phaseAt(one.conn.window, t1);
            return ph === undefined ? " " : PHASE_LETTER[ph];
          },
        }
      : {}),
  });
  let head: Line;
  const notes: Line[] = [];
  if (one !== undefined) {
    const c = one.conn.tcb.congestion;
    head = [
      { text: `${one.id} `, tone: "accent" },
      {
        text: `${formatEp(one.conn.tcb.local)} → ${formatEp(one.conn.tcb.remote)}  `,
        tone: "muted",
      },
      {
        text: `${c.name}: cwnd ${c.cwnd}, ssthresh ${compactBytes(c.ssthresh)}, ${PHASE_NAME[c.phase]}`,
      },
    ];
    const busy = busiestPeriod([one.conn], r);
    if (busy !== undefined) notes.push(zoomHint(`${one.id} cwnd`, busy));
    notes.push(
      hint("phase: S slow start, A avoidance, R recovery, L timeout; ssthresh ∞ is not drawn"),
    );
  } else {
    head = [
      { text: "cwnd ", tone: "accent" },
      {
        text: `of ${ps.map((p) => `${p.id} (${p.conn.tcb.congestion.name})`).join(", ")}, ${span(r.from, r.to)}`,
      },
    ];
    notes.push(hint("each line is labelled with its socket id along the way"));
  }
  return chartLines(chart, head, notes);
}

function rateBlock(engine: LabEngine, ps: readonly Plotted[], r: TimeRange): Block {
  const series: ChartSeries[] = ratePlot(ps, r, PLOT_WIDTH / 2);
  const chart = renderChart(series, {
    width: PLOT_WIDTH,
    height: PLOT_HEIGHT,
    unit: "bit/s",
    formatValue: (v) => compactBytes(v),
    tMin: r.from,
    tMax: r.to,
  });
  const averages = ps.map((p) => {
    const rate = rateBetween(p.conn, r.from, r.to);
    return `${p.id} ${rate === undefined ? "-" : formatRate(rate)}`;
  });
  const b = engine.world.bottleneck?.();
  const head: Line = [
    { text: "delivery rate ", tone: "accent" },
    { text: `(bytes acknowledged × 8 per second), ${span(r.from, r.to)}: ` },
    { text: `average ${averages.join(", ")}` },
  ];
  const notes: Line[] = [
    hint(
      b === undefined
        ? "no bottleneck on the path (bottleneck RATE [QUEUE] sets one)"
        : `the bottleneck sends ${formatRate(b.rate)}${b.queue === undefined ? "" : ` with a queue of ${b.queue} packets`}`,
    ),
  ];
  return chartLines(chart, head, notes);
}

/** The connections named (or, with none named, every one of the host that sent data). */
function plotted(engine: LabEngine, host: LabHost, fds: readonly number[]): Plotted[] | Block {
  if (fds.length === 0) {
    const all: Plotted[] = [];
    const idOf = engine.names.idOf(host);
    for (const tcb of host.host.connections()) {
      const conn = host.samples.series(tcb);
      if (conn?.sent.some((s) => s.len > 0)) all.push({ id: idOf(tcb), conn });
    }
    if (all.length === 0)
      return err(
        `plot: no connection on ${host.name} has sent data yet (plot #ID names one)`,
        PLOT_USAGE,
      );
    return all.slice(0, MAX_PLOTTED);
  }
  const out: Plotted[] = [];
  for (const fd of fds) {
    const tcb = engine.tcbById(host, fd);
    if (tcb === undefined) return err(`plot: #${fd} has no connection`, PLOT_USAGE);
    const conn = host.samples.series(tcb);
    if (conn === undefined || conn.window.length === 0)
      return err(`plot: nothing recorded for #${fd} yet`, PLOT_USAGE);
    out.push({ id: `#${fd}`, conn });
  }
  return out;
}

/** Draws `what` for the connections `fds` on `host` over `rangeText` (or their active period). */
export function plotCommand(
  engine: LabEngine,
  host: LabHost,
  fds: readonly number[],
  what: PlotKind,
  rangeText: string | undefined,
): Block {
  if (rangeText !== undefined && !rangeText.includes("..")) {
    return err(
      `plot: "${rangeText}" is neither cwnd, seq nor rate, nor a time range ${RANGE_SYNTAX}`,
      PLOT_USAGE,
    );
  }
  const picked = rangeText === undefined ? {} : parseRange(rangeText);
  if ("error" in picked) return err(`plot: ${picked.error}`, PLOT_USAGE);
  const ps = plotted(engine, host, fds);
  if (!Array.isArray(ps)) return ps;
  if (what === "seq" && ps.length > 1) {
    return err(
      `plot: a sequence plot shows one connection (${ps.map((p) => p.id).join(", ")}: plot one, or plot them by cwnd or rate)`,
      PLOT_USAGE,
    );
  }
  const r = resolveRange(
    picked,
    ps.map((p) => p.conn),
    engine.clock.now(),
  );
  if ("error" in r) return err(`plot: ${r.error}`, PLOT_USAGE);
  if (what === "seq") return seqBlock(ps[0] as Plotted, r);
  if (what === "rate") return rateBlock(engine, ps, r);
  return cwndBlock(ps, r);
}

export function registerPlotCommands(reg: Registry<LabEngine>): void {
  const socket = (name: string) => ({
    name,
    kind: "socket" as const,
    closedOk: true,
    optional: true,
  });
  reg.add({
    name: "plot",
    usage: PLOT_USAGE,
    summary:
      "draw a connection's sequence numbers, cwnd, or the delivery rate of connections, over time",
    help: [
      "plot #ID seq: a time-sequence graph (Stevens, tcptrace): each segment sent as a bar from its",
      "first to its last byte (relative to ISS) at the time it left, the ACK line (SND.UNA) below, the",
      "peer's window edge (SND.UNA + SND.WND, dashed) above, SACK blocks (dotted), R where a segment",
      "was sent again and ✕ where one was lost on the way.",
      "plot #ID cwnd (the default): cwnd and ssthresh (dashed) with the phase under the time axis",
      "(RFC 5681): slow start, congestion avoidance, fast recovery. plot #3 #5 cwnd compares two.",
      "plot #3 #5 rate: each connection's delivery rate (bytes acknowledged per second) — with a",
      "bottleneck (bottleneck RATE), how the connections share it. Without #ID: every connection of",
      "the host that sent data.",
      "The time axis spans the period the connections were active; FROM..TO picks one: 1.0s..1.5s,",
      "200ms..400ms, 2s.. (from 2 s on), ..0.5s. Without colour, marks and dashes tell lines apart.",
    ],
    args: [
      socket("#ID"),
      socket("#ID2"),
      socket("#ID3"),
      socket("#ID4"),
      { name: "WHAT", kind: "word", optional: true, values: ["cwnd", "seq", "rate"] },
      { name: "FROM..TO", kind: "word", optional: true, open: true },
    ],
    run(ctx, a) {
      const fds = ["#ID", "#ID2", "#ID3", "#ID4"]
        .map((n) => a.num(n))
        .filter((n): n is number => n !== undefined);
      const what = (a.str("WHAT") ?? "cwnd") as PlotKind;
      return [plotCommand(ctx.engine, ctx.host, fds, what, a.str("FROM..TO"))];
    },
  });
}
