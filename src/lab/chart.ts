/**
 * A text chart for the terminal, drawn in braille dots (braille.ts) at 2 × 4
 * points per character cell: series of (time, value) points, a value axis
 * with round ticks on the left and a time axis with round ticks below.
 *
 *      seq
 *     60k ┤                                    ⢀⣀⣀⣠⡤⠤⠴⠒⠒⠊⠉⠉⠁
 *         │                     ⣀⣀⡠⠤⠤⠔⠒⠒⠉⠉⠁
 *     30k ┤          R⣀⡠⠤⠔⠒⠊⠉⠁
 *         │  ⣀⡠⠤⠒⠒⠉⠁
 *       0 ┤⠉⠁
 *         └──────┬─────────┬─────────┬─────────┬─────────┬──
 *               0.05      0.1      0.15       0.2      0.25 s
 *     ⠒⠒ cwnd  R retransmission
 *
 * Each series has a tone (the colour the UI gives it) and, for plain output,
 * a look of its own: solid or dashed lines, bars, or a mark — a character
 * drawn over the dots — so that the picture still reads without colour.
 */
import { BrailleCanvas } from "./braille.ts";
import { trimLine } from "./render.ts";
import type { Line, Span, Tone } from "./view.ts";

export interface ChartPoint {
  readonly t: number;
  readonly v: number;
  /** For bars: the other end of the bar (a segment's end, a SACK block's right edge). */
  readonly v2?: number;
}

export interface ChartSeries {
  readonly name: string;
  /**
   * "step": the value holds until the next point (a window over time);
   * "line": straight lines between the points (a rate);
   * "bars": a vertical bar from v to v2 at each point (segments sent, SACK blocks);
   * "marks": the series' `mark` character in the cell of each point.
   */
  readonly style: "step" | "line" | "bars" | "marks";
  readonly points: readonly ChartPoint[];
  readonly tone?: Tone;
  /** Lines and bars drawn two dots on, two off: tells two series apart without colour. */
  readonly dashed?: boolean;
  /** For "marks": the character drawn (R, ✕ …). */
  readonly mark?: string;
  /** For "step": the last value holds until this time (default: the right edge). */
  readonly until?: number;
  /** Left out of the legend. */
  readonly noLegend?: boolean;
}

export interface ChartOptions {
  /** Character cells of the plotting area. */
  readonly width: number;
  readonly height: number;
  /** Unit written above the value axis. */
  readonly unit: string;
  readonly formatValue: (v: number) => string;
  /** Time range (default: the points'). */
  readonly tMin?: number;
  readonly tMax?: number;
  /** The values to show (default: 0 to the data's largest); widened to round ticks. */
  readonly vMin?: number;
  readonly vMax?: number;
  /** One character per cell under the time axis (e.g. the congestion phase), if any. */
  readonly strip?: (t0: number, t1: number) => string;
}

export interface Chart {
  readonly lines: readonly Line[];
  /** The value range drawn (the bottom and top rows) and the time range (the edges). */
  readonly vMin: number;
  readonly vMax: number;
  readonly tMin: number;
  readonly tMax: number;
  /** Index in `lines` of the plotting area's top row, and the column of its first cell. */
  readonly top: number;
  readonly left: number;
  /** The cell (column and row of the plotting area) where (t, v) is drawn. */
  cellOf(t: number, v: number): { readonly col: number; readonly row: number };
  /** A key to the series: each one's look (in characters) and name. */
  readonly legend: Line;
}

/** Round tops for the value axis, per decade: close enough above the data to use the height. */
const NICE = [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10];

/** The smallest round number (NICE × 10^k) that is ≥ v. */
export function niceCeil(v: number): number {
  if (!(v > 0) || !Number.isFinite(v)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of NICE) {
    const top = Number((m * p).toPrecision(12)); // 1.2 × 10^k without binary fraction noise
    if (top >= v) return top;
  }
  return 10 * p;
}

/** A round tick step (1, 2, 2.5 or 5 × 10^k) giving about `count` ticks over `span`. */
export function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) {
    const step = Number((m * p).toPrecision(12));
    if (step >= raw) return step;
  }
  return 10 * p;
}

/** Multiples of `step` within [lo, hi]. */
function ticks(lo: number, hi: number, step: number): number[] {
  const out: number[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) {
    out.push(Number((k * step).toPrecision(12)));
  }
  return out;
}

/** Seconds for a time tick, with as many decimals as the step needs: 0.05, 1.5, 2. */
export function formatTick(ms: number, stepMs: number): string {
  const decimals = Math.max(0, Math.min(3, Math.ceil(-Math.log10(stepMs / 1000) - 1e-9)));
  return Number((ms / 1000).toFixed(decimals)).toFixed(decimals);
}

/** Round ticks over [lo, hi]: of the steps giving `count` to twice as many ticks, the one wasting least height. */
function valueAxis(
  lo: number,
  hi: number,
  count: number,
): { vMin: number; vMax: number; vStep: number } {
  let best: { vMin: number; vMax: number; vStep: number } | undefined;
  for (let n = count; n <= 2 * count; n++) {
    const vStep = niceStep(hi - lo, Math.max(2, n));
    const vMin = Math.floor(lo / vStep + 1e-9) * vStep;
    const vMax = Math.max(vMin + vStep, Math.ceil(hi / vStep - 1e-9) * vStep);
    if (best === undefined || vMax - vMin < best.vMax - best.vMin) best = { vMin, vMax, vStep };
  }
  return best as { vMin: number; vMax: number; vStep: number };
}

const LEGEND_SAMPLE: Readonly<Record<ChartSeries["style"], string>> = {
  step: "⠒⠒",
  line: "⠒⠒",
  bars: "⡇",
  marks: "",
};

export function renderChart(series: readonly ChartSeries[], opts: ChartOptions): Chart {
  const { width, height } = opts;
  const finite = series.flatMap((s) =>
    s.points.flatMap((p) => [p.v, p.v2 ?? p.v]).filter(Number.isFinite),
  );
  const ts = series.flatMap((s) => s.points.map((p) => p.t));
  const tMin = opts.tMin ?? (ts.length > 0 ? Math.min(...ts) : 0);
  let tMax = opts.tMax ?? (ts.length > 0 ? Math.max(...ts) : 1);
  if (tMax <= tMin) tMax = tMin + 1;
  // The value axis: round ticks, the data's range widened to whole ticks with the least waste.
  const lo = opts.vMin ?? 0;
  const hi = Math.max(opts.vMax ?? Math.max(...finite, lo), lo + 1);
  const { vMin, vMax, vStep } = valueAxis(lo, hi, Math.max(2, Math.floor(height / 4)));
  const canvas = new BrailleCanvas(width, height);
  const xOf = (t: number) => ((t - tMin) / (tMax - tMin)) * (canvas.dotsX - 1);
  const yOf = (v: number) => canvas.dotsY - 1 - ((v - vMin) / (vMax - vMin)) * (canvas.dotsY - 1);
  const inT = (t: number) => t >= tMin && t <= tMax;
  const clampY = (y: number) => Math.max(0, Math.min(canvas.dotsY - 1, y));
  const cellOf = (t: number, v: number) => ({
    col: Math.max(0, Math.min(width - 1, Math.floor(Math.round(xOf(t)) / 2))),
    row: Math.max(0, Math.min(height - 1, Math.floor(Math.round(yOf(v)) / 4))),
  });
  const inV = (v: number) => v >= vMin && v <= vMax;

  series.forEach((s, layer) => {
    const pts = s.points;
    switch (s.style) {
      case "marks":
        for (const p of pts) {
          if (!inT(p.t) || !inV(p.v)) continue;
          const c = cellOf(p.t, p.v);
          canvas.mark(c.col, c.row, s.mark ?? "*", layer);
        }
        return;
      case "bars":
        for (const p of pts) {
          if (!inT(p.t)) continue;
          const a = Math.min(p.v, p.v2 ?? p.v);
          const b = Math.max(p.v, p.v2 ?? p.v);
          if (b < vMin || a > vMax) continue;
          const x = Math.round(xOf(p.t));
          // A bar shorter than a dot still shows as one dot, at its start.
          const y0 = Math.round(clampY(yOf(a)));
          const y1 = Math.round(clampY(yOf(b)));
          canvas.line(x, y0, x, Math.min(y0, y1 + (y1 === y0 ? 0 : 1)), layer, s.dashed);
        }
        return;
      case "line": {
        let prev: { x: number; y: number } | undefined;
        for (const p of pts) {
          if (!Number.isFinite(p.v)) {
            prev = undefined;
            continue;
          }
          const cur = { x: xOf(p.t), y: yOf(p.v) };
          if (prev !== undefined && inV(p.v))
            canvas.line(prev.x, prev.y, cur.x, cur.y, layer, s.dashed);
          else if (inT(p.t) && inV(p.v)) canvas.set(cur.x, cur.y, layer);
          prev = inV(p.v) ? cur : undefined;
        }
        return;
      }
      case "step": {
        // The value in force at tMin, then each change within the range.
        let i = 0;
        let value: number | undefined;
        while (i < pts.length && (pts[i] as ChartPoint).t <= tMin)
          value = (pts[i++] as ChartPoint).v;
        let x = xOf(tMin);
        const end = Math.min(tMax, s.until ?? tMax);
        const run = (x1: number) => {
          if (value !== undefined && Number.isFinite(value) && inV(value)) {
            const y = Math.round(yOf(value));
            canvas.line(x, y, x1, y, layer, s.dashed);
          }
        };
        for (; i < pts.length && (pts[i] as ChartPoint).t <= end; i++) {
          const p = pts[i] as ChartPoint;
          const xp = xOf(p.t);
          run(xp);
          const from = value;
          value = p.v;
          // The riser between the old and the new value.
          if (from !== undefined && Number.isFinite(from) && Number.isFinite(value)) {
            const a = Math.round(clampY(yOf(from)));
            const b = Math.round(clampY(yOf(value)));
            if ((inV(from) || inV(value)) && a !== b) canvas.line(xp, a, xp, b, layer, s.dashed);
          }
          x = xp;
        }
        run(xOf(end));
        return;
      }
    }
  });

  // The value axis: a label on each tick's row.
  const labelled = new Map<number, string>();
  for (const v of ticks(vMin, vMax, vStep)) {
    const row = Math.floor(Math.round(yOf(v)) / 4);
    if (!labelled.has(row)) labelled.set(row, opts.formatValue(v));
  }
  const lw = Math.max(opts.unit.length, ...[...labelled.values()].map((l) => l.length));
  const left = lw + 2;
  const lines: Line[] = [[{ text: opts.unit.padStart(lw), tone: "muted" }]];
  const top = lines.length;
  for (let r = 0; r < height; r++) {
    const label = labelled.get(r);
    const spans: Span[] = [
      { text: `${(label ?? "").padStart(lw)} ${label !== undefined ? "┤" : "│"}`, tone: "muted" },
    ];
    let run = "";
    let runLayer = -2;
    const flush = () => {
      if (run === "") return;
      const tone = runLayer >= 0 ? series[runLayer]?.tone : undefined;
      spans.push(tone === undefined ? { text: run } : { text: run, tone });
      run = "";
    };
    for (let c = 0; c < width; c++) {
      const cell = canvas.cell(c, r);
      if (cell.layer !== runLayer) {
        flush();
        runLayer = cell.layer;
      }
      run += cell.char;
    }
    flush();
    lines.push(trimLine(spans));
  }

  // The time axis: round ticks, each label centred under its tick when there is room.
  const tStep = niceStep(tMax - tMin, Math.max(2, Math.floor(width / 12)));
  const axis = Array<string>(width).fill("─");
  const under = Array<string>(width + 4).fill(" ");
  let freeFrom = 0;
  for (const t of ticks(tMin, tMax, tStep)) {
    const col = Math.floor(Math.round(xOf(t)) / 2);
    if (col < 0 || col >= width) continue;
    axis[col] = "┬";
    const label = formatTick(t, tStep);
    const at = Math.max(0, col - Math.floor(label.length / 2));
    if (at < freeFrom || at + label.length > under.length) continue;
    for (let k = 0; k < label.length; k++) under[at + k] = label[k] as string;
    freeFrom = at + label.length + 1;
  }
  if (opts.strip !== undefined) {
    let strip = "";
    for (let c = 0; c < width; c++) {
      const t0 = tMin + (c / width) * (tMax - tMin);
      const t1 = tMin + ((c + 1) / width) * (tMax - tMin);
      strip += (opts.strip(t0, t1) || " ").slice(0, 1);
    }
    lines.push([{ text: `${" ".repeat(lw)} └${axis.join("")}`, tone: "muted" }]);
    lines.push([{ text: `${" ".repeat(left)}${strip}`.replace(/\s+$/, "") }]);
  } else {
    lines.push([{ text: `${" ".repeat(lw)} └${axis.join("")}`, tone: "muted" }]);
  }
  const timeLabels = under.join("").replace(/\s+$/, "");
  lines.push([{ text: `${" ".repeat(left)}${timeLabels} s`, tone: "muted" }]);

  const legend: Span[] = [];
  series.forEach((s) => {
    if (s.noLegend) return;
    const sample =
      s.style === "marks"
        ? (s.mark ?? "*")
        : s.dashed
          ? dashedSample(s.style)
          : LEGEND_SAMPLE[s.style];
    if (legend.length > 0) legend.push({ text: "  " });
    legend.push(s.tone === undefined ? { text: sample } : { text: sample, tone: s.tone });
    legend.push({ text: ` ${s.name}`, tone: "muted" });
  });
  return { lines, vMin, vMax, tMin, tMax, top, left, cellOf, legend };
}

function dashedSample(style: ChartSeries["style"]): string {
  return style === "bars" ? "⠃" : "⠒ ⠒";
}
