/**
 * A small text chart for the terminal: series of (time, value) points drawn
 * with one character each on a grid, a labelled value axis on the left and a
 * time axis below. Marks are characters, not colours, so a chart reads the
 * same without colour (and in a test).
 *
 *       bytes
 *     bytes
 *      30k ┤                       ****
 *          │               *********
 *      15k ┤ **************
 *          │
 *        0 ┤
 *          └────────────────────────────────
 *           0.000 s        0.150 s   0.300 s
 */

export interface ChartPoint {
  readonly t: number;
  readonly v: number;
}

export interface ChartSeries {
  readonly name: string;
  /** One character drawn at each point. */
  readonly mark: string;
  readonly points: readonly ChartPoint[];
  /**
   * "step": the value holds until the next point, drawn in every column
   * (a window over time); "points": only where a point is (segments sent).
   */
  readonly style: "step" | "points";
}

export interface ChartOptions {
  /** Columns of the plotting area. */
  readonly width: number;
  /** Rows of the plotting area. */
  readonly height: number;
  /** Unit written above the value axis. */
  readonly unit: string;
  readonly formatValue: (v: number) => string;
  readonly formatTime: (t: number) => string;
  /** Time range (default: the points'). */
  readonly tMin?: number;
  readonly tMax?: number;
  /** Drawn where two series meet in one cell (default: the later series wins). */
  readonly overlap?: string;
  /** One character per column under the time axis (e.g. the congestion phase), if any. */
  readonly strip?: (t0: number, t1: number) => string;
}

export interface Chart {
  readonly lines: readonly string[];
  /** The value of the top row and the time range drawn (for tests and captions). */
  readonly vMax: number;
  readonly tMin: number;
  readonly tMax: number;
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

export function renderChart(series: readonly ChartSeries[], opts: ChartOptions): Chart {
  const { width, height } = opts;
  const finite = series.flatMap((s) => s.points.filter((p) => Number.isFinite(p.v)));
  const ts = finite.map((p) => p.t);
  const tMin = opts.tMin ?? (ts.length > 0 ? Math.min(...ts) : 0);
  let tMax = opts.tMax ?? (ts.length > 0 ? Math.max(...ts) : 1);
  if (tMax <= tMin) tMax = tMin + 1;
  const vMax = niceCeil(Math.max(0, ...finite.map((p) => p.v)));
  const grid: string[][] = Array.from({ length: height }, () => Array<string>(width).fill(" "));
  const col = (t: number) =>
    Math.min(width - 1, Math.max(0, Math.floor(((t - tMin) / (tMax - tMin)) * width)));
  const row = (v: number) =>
    height - 1 - Math.min(height - 1, Math.max(0, Math.round((v / vMax) * (height - 1))));
  // Later series are drawn over earlier ones (or meet as `overlap`).
  const draw = (r: number, c: number, mark: string) => {
    const cells = grid[r] as string[];
    const was = cells[c] as string;
    cells[c] = opts.overlap !== undefined && was !== " " && was !== mark ? opts.overlap : mark;
  };
  for (const s of series) {
    if (s.style === "points") {
      for (const p of s.points) {
        if (!Number.isFinite(p.v) || p.t < tMin || p.t > tMax) continue;
        draw(row(p.v), col(p.t), s.mark);
      }
      continue;
    }
    // Step: in each column, the value in force at the column's end (and any point inside it).
    let i = 0;
    let current: number | undefined;
    for (let c = 0; c < width; c++) {
      const end = tMin + ((c + 1) / width) * (tMax - tMin);
      const inColumn: number[] = [];
      while (i < s.points.length && (s.points[i] as ChartPoint).t < end) {
        current = (s.points[i] as ChartPoint).v;
        inColumn.push(current);
        i++;
      }
      if (c === width - 1) {
        while (i < s.points.length) {
          current = (s.points[i] as ChartPoint).v;
          inColumn.push(current);
          i++;
        }
      }
      const values = current === undefined ? [] : [...inColumn, current];
      for (const r of new Set(values.filter(Number.isFinite).map(row))) draw(r, c, s.mark);
    }
  }
  // Value axis: labels on the top, middle and bottom rows.
  const labelled = new Map<number, string>();
  for (const r of [0, Math.floor((height - 1) / 2), height - 1]) {
    labelled.set(r, opts.formatValue((vMax * (height - 1 - r)) / (height - 1)));
  }
  const lw = Math.max(...[...labelled.values()].map((l) => l.length), opts.unit.length);
  const lines: string[] = [opts.unit.padStart(lw)];
  for (let r = 0; r < height; r++) {
    const label = labelled.get(r);
    const body = (grid[r] as string[]).join("").replace(/\s+$/, "");
    lines.push(`${(label ?? "").padStart(lw)} ${label !== undefined ? "┤" : "│"}${body}`);
  }
  lines.push(`${" ".repeat(lw)} └${"─".repeat(width)}`);
  if (opts.strip !== undefined) {
    let strip = "";
    for (let c = 0; c < width; c++) {
      const t0 = tMin + (c / width) * (tMax - tMin);
      const t1 = tMin + ((c + 1) / width) * (tMax - tMin);
      strip += (opts.strip(t0, t1) || " ").slice(0, 1);
    }
    lines.push(`${" ".repeat(lw)}  ${strip.replace(/\s+$/, "")}`);
  }
  // Time axis: start, middle, end.
  const left = opts.formatTime(tMin);
  const mid = opts.formatTime((tMin + tMax) / 2);
  const right = opts.formatTime(tMax);
  const axis = Array<string>(width + 2).fill(" ");
  const put = (at: number, text: string) => {
    const from = Math.max(0, Math.min(axis.length - text.length, at));
    for (let k = 0; k < text.length; k++) axis[from + k] = text[k] as string;
  };
  put(1, left);
  if (width > left.length + mid.length + right.length + 4)
    put(1 + Math.floor(width / 2) - Math.floor(mid.length / 2), mid);
  put(width + 1 - right.length, right);
  lines.push(`${" ".repeat(lw)} ${axis.join("").replace(/\s+$/, "")}`);
  return { lines, vMax, tMin, tMax };
}
