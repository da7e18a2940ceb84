/**
 * What the plots are drawn from, and what lab checks and questions read of
 * it: the time range a plot shows (the period the connections were active,
 * or one the learner picks: `1.0s..1.5s`), the series of a sequence plot
 * (segments, ACK line, window edge, SACK blocks, retransmissions, drops), of
 * a cwnd plot and of a rate plot, and readings at a moment or over a period
 * (`cwnd a:#3 at 0.5s`, `rate a:#3 between 1s 2s`, the retransmissions).
 */

import { instant } from "../clock/time.ts";
import type { CongestionPhase } from "../tcp/congestion/controller.ts";
import { Flag } from "../wire/tcp-types.ts";
import { formatTime } from "./args.ts";
import type { ChartSeries } from "./chart.ts";
import type { ConnectionSeries, SentSample, WindowSample } from "./samples.ts";

export type PlotKind = "cwnd" | "seq" | "rate";
export const PLOT_KINDS: readonly PlotKind[] = ["cwnd", "seq", "rate"];

export interface TimeRange {
  readonly from: number;
  readonly to: number;
}

/** The shortest period a plot spans (a handshake alone still gets a readable axis). */
const MIN_SPAN = 10;

/** A connection to plot: its samples and the name the learner knows it by (`#3`). */
export interface Plotted {
  readonly id: string;
  readonly conn: ConnectionSeries;
}

function lastTime(c: ConnectionSeries): number {
  const t = (xs: readonly { t: number }[]) => xs[xs.length - 1]?.t ?? Number.NEGATIVE_INFINITY;
  return Math.max(t(c.window), t(c.sent), t(c.sacks));
}

function firstTime(c: ConnectionSeries): number {
  return Math.min(c.window[0]?.t ?? Number.POSITIVE_INFINITY, c.sent[0]?.t ?? Infinity);
}

/**
 * From the first thing the connections recorded to the last change, with a
 * little room on the right: a transfer of 0.2 s in a session of 9 s fills
 * the width instead of being a spike at its left edge.
 */
export function activePeriod(conns: readonly ConnectionSeries[], now: number): TimeRange {
  const from = Math.min(...conns.map(firstTime));
  const last = Math.max(...conns.map(lastTime));
  if (!Number.isFinite(from) || !Number.isFinite(last)) return { from: 0, to: Math.max(now, 1) };
  const span = Math.max(MIN_SPAN, last - from);
  return { from, to: Math.min(Math.max(now, from + MIN_SPAN), last + span * 0.03) };
}

/**
 * Where most of the action is, when it is a small part of `r`: the shortest
 * period holding 80% of the segments sent, if it spans under a quarter of `r`
 * (a transfer of 0.2 s followed by a few late retransmissions or probes).
 */
export function busiestPeriod(
  conns: readonly ConnectionSeries[],
  r: TimeRange,
): TimeRange | undefined {
  const ts = conns
    .flatMap((c) => c.sent.filter((s) => s.len > 0 && within(s.t, r)).map((s) => s.t))
    .sort((x, y) => x - y);
  const n = Math.ceil(ts.length * 0.8);
  if (ts.length < 10) return undefined;
  let best: TimeRange | undefined;
  for (let i = 0; i + n - 1 < ts.length; i++) {
    const from = ts[i] as number;
    const to = ts[i + n - 1] as number;
    if (best === undefined || to - from < best.to - best.from) best = { from, to };
  }
  if (best === undefined || best.to - best.from >= (r.to - r.from) / 4) return undefined;
  const pad = Math.max(MIN_SPAN / 2, (best.to - best.from) * 0.1);
  return { from: Math.max(r.from, best.from - pad), to: best.to + pad };
}

/** A moment: `1.5s`, `200ms`, or a bare number of seconds (`1.5`), as the time axis shows them. */
export function parseMoment(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?|\.\d+)(ms|s)?$/.exec(text);
  if (m === null) return undefined;
  const n = Number(m[1]);
  return m[2] === "ms" ? n : n * 1000;
}

export const RANGE_SYNTAX = "FROM..TO (1.0s..1.5s, 200ms..400ms, 2s.. or ..0.5s)";

/** `1.0s..1.5s`, `1..1.5`, `2s..`, `..0.5s`; either end may be left out. */
export function parseRange(
  text: string,
): { from?: number; to?: number } | { readonly error: string } {
  const m = /^([^.]*(?:\.\d+)?[a-z]*)\.\.(.*)$/.exec(text);
  const bad = { error: `"${text}" is not a time range ${RANGE_SYNTAX}` };
  if (m === null) return bad;
  const [a, b] = [m[1] as string, m[2] as string];
  const from = a === "" ? undefined : parseMoment(a);
  const to = b === "" ? undefined : parseMoment(b);
  if ((a !== "" && from === undefined) || (b !== "" && to === undefined)) return bad;
  if (from !== undefined && to !== undefined && to <= from) {
    return { error: `the range ${text} ends before it begins` };
  }
  return { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
}

const seconds = (t: number) => `${formatTime(instant(t))} s`;

/** The range to draw: the learner's ends, the active period for the ends left out. */
export function resolveRange(
  picked: { from?: number; to?: number },
  conns: readonly ConnectionSeries[],
  now: number,
): TimeRange | { readonly error: string } {
  const active = activePeriod(conns, now);
  const from =
    picked.from ??
    (picked.to !== undefined ? Math.min(active.from, picked.to - MIN_SPAN) : active.from);
  const to = picked.to ?? Math.max(active.to, from + MIN_SPAN);
  if (to <= from) return { error: `the range ${seconds(from)} – ${seconds(to)} is empty` };
  const first = Math.min(...conns.map(firstTime));
  if (from > now || to < first) {
    return {
      error: `nothing was recorded between ${seconds(from)} and ${seconds(to)} (recorded: ${seconds(first)} – ${seconds(now)})`,
    };
  }
  return { from, to };
}

/** The sample in force at `t` (the last one at or before it). */
export function windowAt(conn: ConnectionSeries, t: number): WindowSample | undefined {
  let found: WindowSample | undefined;
  for (const w of conn.window) {
    if (w.t > t) break;
    found = w;
  }
  return found;
}

/** Sequence space a segment takes: its data, and 1 each for SYN and FIN. */
function spaceOf(s: SentSample): number {
  return s.len + ((s.flags & Flag.SYN) !== 0 ? 1 : 0) + ((s.flags & Flag.FIN) !== 0 ? 1 : 0);
}

function within(t: number, r: TimeRange): boolean {
  return t >= r.from && t <= r.to;
}

export interface SeqPlot {
  readonly series: readonly ChartSeries[];
  /** The sequence numbers drawn (bottom, top). */
  readonly vMin: number;
  readonly vMax: number;
  /** The window edge lies above the chart (a window much larger than the data in flight). */
  readonly edgeAbove: boolean;
}

/**
 * A Stevens/tcptrace time-sequence graph of one connection, sequence
 * numbers relative to ISS: each segment a bar from its first to its last
 * byte at the time it was sent, the cumulative ACK (SND.UNA) as a
 * staircase below, the peer's window edge (SND.UNA + SND.WND) as a dashed
 * staircase above, the SACK blocks of the ACKs received, retransmissions R
 * and segments lost on the way ✕.
 */
export function seqPlot(conn: ConnectionSeries, r: TimeRange): SeqPlot {
  const occupying = conn.sent.filter((s) => spaceOf(s) > 0);
  const shown = occupying.filter((s) => within(s.t, r));
  const windowIn = conn.window.filter((w) => within(w.t, r));
  const atStart = windowAt(conn, r.from);
  const sacks = conn.sacks.filter((s) => within(s.t, r));
  const low = [
    ...shown.map((s) => s.seq),
    ...(atStart !== undefined ? [atStart.una] : []),
    ...windowIn.map((w) => w.una),
  ];
  const high = [
    ...shown.map((s) => s.seq + spaceOf(s)),
    ...(atStart !== undefined ? [atStart.una] : []),
    ...windowIn.map((w) => w.una),
    ...sacks.flatMap((s) => s.blocks.map((b) => b[1])),
  ];
  const vMin = low.length > 0 ? Math.min(...low) : 0;
  const dataTop = high.length > 0 ? Math.max(...high) : vMin + 1;
  // The window edge is drawn when it is near the data; a far edge would squash the picture.
  const edges = [atStart, ...windowIn].flatMap((w) =>
    w !== undefined && w.una > 0 ? [w.edge] : [],
  );
  const edgeTop = edges.length > 0 ? Math.max(...edges) : dataTop;
  const near = edgeTop <= dataTop + Math.max(1, dataTop - vMin) / 2;
  const vMax = Math.max(vMin + 1, near ? Math.max(dataTop, edgeTop) : dataTop);
  const bar = (s: SentSample) => ({ t: s.t, v: s.seq, v2: s.seq + spaceOf(s) });
  return {
    vMin,
    vMax,
    edgeAbove: !near,
    series: [
      {
        name: "window edge",
        style: "step",
        dashed: true,
        tone: "muted",
        // Before our SYN is acknowledged the peer's window is not known yet.
        points: established(conn).map((w) => ({ t: w.t, v: w.edge })),
      },
      {
        name: "ACK line",
        style: "step",
        tone: "good",
        points: conn.window.map((w) => ({ t: w.t, v: w.una })),
      },
      {
        name: "SACK",
        style: "bars",
        dashed: true,
        tone: "in",
        // The first block of each ACK is the one the newest arrival changed (RFC 2018 §4):
        // drawing only it keeps recovery readable, and together they show what the receiver holds.
        points: sacks.flatMap((s) => {
          const b = s.blocks[0];
          return b === undefined ? [] : [{ t: s.t, v: b[0], v2: b[1] }];
        }),
      },
      { name: "segment", style: "bars", tone: "out", points: occupying.map(bar) },
      {
        name: "sent again",
        style: "marks",
        mark: "R",
        tone: "warn",
        points: occupying.filter((s) => s.retransmission).map((s) => ({ t: s.t, v: s.seq })),
      },
      {
        name: "lost",
        style: "marks",
        mark: "✕",
        tone: "bad",
        points: occupying.filter((s) => s.lost !== undefined).map((s) => ({ t: s.t, v: s.seq })),
      },
    ],
  };
}

/** One letter per phase for the strip under the time axis. */
export const PHASE_LETTER: Readonly<Record<CongestionPhase, string>> = {
  "slow-start": "S",
  "congestion-avoidance": "A",
  recovery: "R",
  loss: "L",
};

/** The phase in a few words, for a plot's head line. */
export const PHASE_NAME: Readonly<Record<CongestionPhase, string>> = {
  "slow-start": "slow start",
  "congestion-avoidance": "avoidance",
  recovery: "fast recovery",
  loss: "after a timeout",
};

/** The phase in force during most of [t0, t1) — the last one to start before t1. */
export function phaseAt(samples: readonly WindowSample[], t1: number): CongestionPhase | undefined {
  let phase: CongestionPhase | undefined;
  for (const s of samples) {
    if (s.t >= t1) break;
    phase = s.phase;
  }
  return phase;
}

/**
 * The id written along each line of a plot of several connections, a few
 * times across: without colour, the lines are told apart by it.
 */
function labels(
  p: Plotted,
  r: TimeRange,
  index: number,
  count: number,
  value: (t: number) => number | undefined,
): ChartSeries {
  const points: { t: number; v: number }[] = [];
  const n = 4;
  for (let k = 0; k < n; k++) {
    // Staggered per connection, so two lines that meet are not labelled in the same cell.
    const t = r.from + ((k + (index + 1) / (count + 1)) / n) * (r.to - r.from);
    const v = value(t);
    if (v !== undefined && Number.isFinite(v)) points.push({ t, v });
  }
  return {
    name: p.id,
    style: "marks",
    mark: p.id.replace(/^#/, "").slice(-1),
    tone: TONES[index % TONES.length],
    noLegend: true,
    points,
  };
}

const TONES = ["accent", "warn", "good", "in"] as const;

/** The samples from the moment our SYN was acknowledged: before, cwnd means nothing yet. */
function established(conn: ConnectionSeries): readonly WindowSample[] {
  return conn.window.filter((w) => w.una > 0);
}

/** cwnd (and for one connection ssthresh) over time. */
export function cwndPlot(conns: readonly Plotted[], r: TimeRange): ChartSeries[] {
  if (conns.length === 1) {
    const w = established((conns[0] as Plotted).conn);
    return [
      {
        name: "ssthresh",
        style: "step",
        dashed: true,
        tone: "warn",
        points: w.map((s) => ({ t: s.t, v: s.ssthresh })),
      },
      {
        name: "cwnd",
        style: "step",
        tone: "accent",
        points: w.map((s) => ({ t: s.t, v: s.cwnd })),
      },
    ];
  }
  return conns.flatMap((p, i) => [
    {
      name: `${p.id} cwnd`,
      style: "step" as const,
      dashed: i % 2 === 1,
      tone: TONES[i % TONES.length],
      points: established(p.conn).map((s) => ({ t: s.t, v: s.cwnd })),
    },
    labels(p, r, i, conns.length, (t) => windowAt(p.conn, t)?.cwnd),
  ]);
}

/** Bytes acknowledged per second (× 8: bits) over [from, to): the connection's delivery rate. */
export function rateBetween(conn: ConnectionSeries, from: number, to: number): number | undefined {
  const a = windowAt(conn, from);
  const b = windowAt(conn, to);
  if (b === undefined || to <= from) return undefined;
  return (((b.una - (a?.una ?? 0)) * 8) / (to - from)) * 1000;
}

/**
 * Each connection's delivery rate over time, in `bins` steps: at each, the
 * bytes acknowledged over the last 1/16 of the range (at least one step) —
 * a cumulative ACK that jumps when a hole is filled would otherwise read as
 * a burst far above the path's rate.
 */
export function ratePlot(conns: readonly Plotted[], r: TimeRange, bins: number): ChartSeries[] {
  const width = (r.to - r.from) / bins;
  const window = Math.max(width, (r.to - r.from) / 16);
  return conns.flatMap((p, i) => {
    const points: { t: number; v: number }[] = [];
    for (let k = 0; k < bins; k++) {
      const t0 = r.from + k * width;
      const end = t0 + width;
      const rate = rateBetween(p.conn, Math.max(r.from, end - window), end);
      if (rate !== undefined) points.push({ t: t0, v: rate });
    }
    const series: ChartSeries = {
      name: `${p.id} rate`,
      style: "step",
      dashed: i % 2 === 1,
      tone: TONES[i % TONES.length],
      points,
    };
    if (conns.length === 1) return [series];
    const value = (t: number) => {
      let v: number | undefined;
      for (const q of points) if (q.t <= t) v = q.v;
      return v;
    };
    return [series, labels(p, r, i, conns.length, value)];
  });
}

/** The data segments sent again in `r` (all of them without a range). */
export function retransmissions(conn: ConnectionSeries, r?: TimeRange): SentSample[] {
  return conn.sent.filter(
    (s) => s.retransmission && spaceOf(s) > 0 && (r === undefined || within(s.t, r)),
  );
}

/** How a segment reads in messages: `1449:2897(1448) at 0.210 s`. */
export function describeSent(s: SentSample): string {
  return `${s.seq}:${s.seq + s.len}(${s.len}) at ${seconds(s.t)}${s.lost !== undefined ? ` (${s.lost})` : ""}`;
}

/** The values recorded over time that checks and questions may read at a moment. */
export const SAMPLED: Readonly<Record<string, (w: WindowSample) => number>> = {
  cwnd: (w) => w.cwnd,
  ssthresh: (w) => w.ssthresh,
  FlightSize: (w) => w.flight,
  "SND.UNA": (w) => w.una,
  "SND.WND": (w) => w.edge - w.una,
};

/** A sampled value's name as written (`flightsize` → FlightSize), or undefined. */
export function sampledNamed(name: string): string | undefined {
  const key = (s: string) => s.toLowerCase().replace(/[._]/g, "");
  return Object.keys(SAMPLED).find((k) => key(k) === key(name));
}
