import { describe, expect, test } from "bun:test";
import { lineText, tableLines } from "../../cli/lab/format.ts";
import { runPlain } from "../../cli/lab/plain.ts";
import { BrailleCanvas } from "../../src/lab/braille.ts";
import { niceCeil, renderChart } from "../../src/lab/chart.ts";
import { PLOT_HEIGHT, PLOT_WIDTH, seqChart } from "../../src/lab/cmd-plot.ts";
import { activePeriod, parseRange, retransmissions, seqPlot } from "../../src/lab/plots.ts";
import { monotoneSent } from "../../src/lab/samples.ts";
import type { LabEngine } from "../../src/lab/session.ts";
import type { Block } from "../../src/lab/view.ts";
import { established, linesOf, run, runAll, session } from "./helpers.ts";

/** a:#3's recorded series. */
function seriesOf(s: LabEngine) {
  const a = s.hostNamed("a");
  if (a === undefined) throw new Error("no host a");
  const tcb = s.tcbById(a, 3);
  if (tcb === undefined) throw new Error("no #3");
  const conn = a.samples.series(tcb);
  if (conn === undefined) throw new Error("nothing recorded for #3");
  return { tcb, conn };
}

/** a sends `bytes` to b, which reads as it goes; the clock runs 2 s of lab time. */
async function transfer(s: LabEngine, bytes: number, faults: string[] = []): Promise<void> {
  await established(s);
  await runAll(s, [...faults, `send #3 --bytes ${bytes}`]);
  for (let i = 0; i < 400; i++) {
    await run(s, "b: recv #4 100000");
    if ((await run(s, "step")).text.includes("nothing is pending")) break;
  }
}

/** The characters of a chart block's line `i` from column `left` on (the plotting area). */
function cellText(block: Block | undefined, line: number, left: number): string {
  return [...(linesOf(block)[line] ?? "")].slice(left).join("");
}

describe("plot: the samples behind it", () => {
  test("a clean transfer: cwnd starts at the initial window and grows in slow start; seq climbs", async () => {
    const { s } = session();
    await transfer(s, 200_000);
    const { tcb, conn } = seriesOf(s);
    const mss = tcb.effSndMss;
    const open = conn.window.find((w) => w.phase === "slow-start" && w.cwnd > 0 && w.una >= 1);
    // RFC 6928: IW = min(10·MSS, max(2·MSS, 14600)).
    expect(open?.cwnd).toBe(Math.min(10 * mss, Math.max(2 * mss, 14600)));
    const cwnds = conn.window.map((w) => w.cwnd);
    expect(Math.max(...cwnds)).toBeGreaterThan(open?.cwnd ?? 0);
    // No loss: ssthresh stays ∞, nothing is sent twice, sequence numbers only go forward.
    expect(conn.window.every((w) => w.ssthresh === Number.POSITIVE_INFINITY)).toBe(true);
    expect(conn.sent.some((x) => x.retransmission || x.lost !== undefined)).toBe(false);
    expect(monotoneSent(conn.sent)).toBe(true);
    const data = conn.sent.filter((x) => x.len > 0);
    expect(data[0]?.seq).toBe(1);
    const last = data[data.length - 1];
    expect((last?.seq ?? 0) + (last?.len ?? 0)).toBe(200_001);
    // Samples are in time order, the acknowledged edge never goes back, the window edge is above it.
    for (let i = 1; i < conn.window.length; i++) {
      expect(conn.window[i]?.t).toBeGreaterThanOrEqual(conn.window[i - 1]?.t ?? 0);
      expect(conn.window[i]?.una).toBeGreaterThanOrEqual(conn.window[i - 1]?.una ?? 0);
    }
    for (const w of conn.window.filter((x) => x.una > 0)) expect(w.edge).toBeGreaterThan(w.una);
  });
});

describe("plot #ID seq: a time-sequence graph", () => {
  // Seed 42; b drops a's first data segment (1:1449) as it arrives at 0.030 s; the duplicate
  // ACKs bring a fast retransmission of it at 0.050 s. b reads everything (sink).
  async function lostFirst(): Promise<LabEngine> {
    const { s } = session();
    await established(s);
    await runAll(s, ["b: sink #4", "b: drop next 1 in data", "send #3 --bytes 60000", "step 1s"]);
    return s;
  }

  test("the retransmission at the right time and sequence number: in the data and in the picture", async () => {
    const s = await lostFirst();
    const { conn } = seriesOf(s);
    // The data: sent at 0.030 s and lost on the way, sent again at 0.050 s.
    const lost = conn.sent.filter((x) => x.lost !== undefined);
    expect(lost.map((x) => [x.t, x.seq, x.len, x.lost])).toEqual([
      [30, 1, 1448, "drop next 1 data in"],
    ]);
    expect(retransmissions(conn).map((x) => [x.t, x.seq, x.len])).toEqual([[50, 1, 1448]]);
    // The SACK blocks b sent while the hole was open: the first one covers the second segment.
    expect(conn.sacks[0]?.blocks[0]).toEqual([1449, 2897]);
    const range = activePeriod([conn], s.clock.now());
    const plot = seqPlot(conn, range);
    expect(plot.series.find((x) => x.name === "sent again")?.points).toEqual([{ t: 50, v: 1 }]);
    expect(plot.series.find((x) => x.name === "lost")?.points).toEqual([{ t: 30, v: 1 }]);
    // The picture: R and ✕ in the cells of (0.050 s, 1) and (0.030 s, 1) of the printed plot.
    const { chart } = seqChart(conn, range);
    const block = (await run(s, "plot #3 seq")).blocks[0];
    expect(block?.kind).toBe("chart");
    const at = (t: number, v: number) => {
      const c = chart.cellOf(t, v);
      return [...cellText(block, 1 + chart.top + c.row, chart.left)][c.col];
    };
    expect(at(50, 1)).toBe("R");
    expect(at(30, 1)).toBe("✕");
    // Nowhere else: one R and one ✕ in the whole plotting area, on the bottom row.
    const body = linesOf(block).slice(1 + chart.top, 1 + chart.top + PLOT_HEIGHT);
    expect(body.join("").split("R").length - 1).toBe(1);
    expect(body.join("").split("✕").length - 1).toBe(1);
    expect(body[PLOT_HEIGHT - 1]).toContain("R");
    expect(linesOf(block)[0]).toContain("1 sent again, 1 lost");
  });

  test("a clean transfer climbs across the chart; no R, no ✕", async () => {
    const { s } = session();
    await transfer(s, 100_000);
    const block = (await run(s, "plot #3 seq")).blocks[0];
    const lines = linesOf(block);
    expect(lines[0]).toContain("0 sent again, 0 lost");
    const { conn } = seriesOf(s);
    const range = activePeriod([conn], s.clock.now());
    const { chart } = seqChart(conn, range);
    const body = lines.slice(1 + chart.top, 1 + chart.top + PLOT_HEIGHT);
    expect(body.join("")).not.toMatch(/[R✕]/);
    // The first segment is drawn low at the left, the last one high at the right.
    const data = conn.sent.filter((x) => x.len > 0);
    const first = chart.cellOf(data[0]?.t ?? 0, data[0]?.seq ?? 0);
    const last = chart.cellOf(data[data.length - 1]?.t ?? 0, data[data.length - 1]?.seq ?? 0);
    expect(first.row).toBe(PLOT_HEIGHT - 1);
    expect(last.row).toBeLessThan(first.row - PLOT_HEIGHT / 2);
    expect(first.col).toBeLessThan(PLOT_WIDTH / 5);
    expect(last.col).toBeGreaterThan(first.col + PLOT_WIDTH / 8);
    const char = (c: { col: number; row: number }) => [...(body[c.row] ?? "")][chart.left + c.col];
    expect(char(first)).toMatch(/[\u2801-\u28ff]/);
    expect(char(last)).toMatch(/[\u2801-\u28ff]/);
  });
});

describe("plot: zoom", () => {
  test("the active period fills the width: a transfer after 5 s of idling is not a spike at an edge", async () => {
    const { s } = session();
    await established(s);
    await runAll(s, ["b: sink #4", "step 5s", "send #3 --bytes 100000", "step 4s"]);
    const { conn } = seriesOf(s);
    const r = activePeriod([conn], s.clock.now());
    // From the connection's first record to a little after its last change, not to the clock's 9 s.
    expect(r.from).toBe(0);
    const last = Math.max(...conn.sent.map((x) => x.t));
    expect(r.to).toBeGreaterThan(last);
    expect(r.to).toBeLessThan(last * 1.05);
    // The plot says where the segments are, and how to zoom there.
    expect((await run(s, "plot #3 seq")).text).toMatch(
      /most segments left in 5\.\d+–5\.\d+ s: plot #3 seq 5\.\d+s\.\.5\.\d+s zooms in/,
    );
    // With the data from 5 s on: `plot #3 seq 5s..` spreads it over the whole width.
    const block = (await run(s, "plot #3 seq 5s..")).blocks[0];
    const { chart } = seqChart(conn, { from: 5000, to: r.to });
    const body = linesOf(block).slice(1 + chart.top, 1 + chart.top + PLOT_HEIGHT);
    const used = (c: number) =>
      body.some((l) => ![" ", undefined].includes([...l][chart.left + c]));
    expect(used(0)).toBe(true);
    expect(used(PLOT_WIDTH - 3)).toBe(true);
    expect(linesOf(block)[0]).toContain("5.000–");
  });

  test("an explicit range: the head and the time axis say it; ticks are round", async () => {
    const { s } = session();
    await transfer(s, 200_000);
    const lines = linesOf((await run(s, "plot #3 cwnd 50ms..0.15s")).blocks[0]);
    expect(lines[0]).toBeDefined();
    const axis = lines.find((l) => l.trim().endsWith(" s")) ?? "";
    expect(axis.trim().split(/\s+/)).toEqual(
      ["0.06", "0.08", "0.1", "0.12", "0.14", "s"].map((x) => (x === "0.1" ? "0.10" : x)),
    );
    const seq = linesOf((await run(s, "plot #3 seq 0.05..0.1")).blocks[0]);
    expect(seq[0]).toContain("0.050–0.100 s");
  });

  test("a bad range is a user error with the usage", async () => {
    const { s } = session();
    await transfer(s, 20_000);
    const bad = async (line: string) => (await run(s, line)).errors[0];
    expect((await bad("plot #3 seq 2s..1s"))?.message).toBe(
      "plot: the range 2s..1s ends before it begins",
    );
    expect((await bad("plot #3 seq 2s..1s"))?.usage).toBe(
      "plot [#ID …] [cwnd|seq|rate] [FROM..TO]",
    );
    expect((await bad("plot #3 seq a..b"))?.message).toContain(
      '"a..b" is not a time range FROM..TO',
    );
    expect((await bad("plot #3 sequence"))?.message).toContain(
      '"sequence" is neither cwnd, seq nor rate',
    );
    expect((await bad("plot #3 seq 50s..60s"))?.message).toMatch(
      /^plot: nothing was recorded between 50\.000 s and 60\.000 s/,
    );
    expect(parseRange("..0.5s")).toEqual({ to: 500 });
    expect(parseRange("200ms..400ms")).toEqual({ from: 200, to: 400 });
    expect(parseRange("1..1.5")).toEqual({ from: 1000, to: 1500 });
  });
});

describe("plot: plain output", () => {
  test("piped with NO_COLOR: no escape codes, axes, a legend naming every mark", async () => {
    const { s } = session();
    await established(s);
    await runAll(s, ["b: sink #4", "b: drop next 1 in data", "send #3 --bytes 60000", "step 1s"]);
    let out = "";
    async function* lines() {
      yield "plot #3 seq";
      yield "plot #3 cwnd";
    }
    const code = await runPlain({ session: s, lines: lines(), write: (t) => (out += t) });
    expect(code).toBe(0);
    expect(out).not.toContain("\x1b");
    expect(out).toContain("⠒ ⠒ window edge  ⠒⠒ ACK line  ⠃ SACK  ⡇ segment  R sent again  ✕ lost");
    expect(out).toContain("⠒ ⠒ ssthresh  ⠒⠒ cwnd");
    expect(out).toMatch(/ 0 ┤/);
    expect(out).toMatch(/└[─┬]+\n/);
    // Braille carries the lines; the letters carry what colour would.
    expect(out).toMatch(/[\u2801-\u28ff]/);
    expect(Math.max(...out.split("\n").map((l) => Bun.stringWidth(l)))).toBeLessThanOrEqual(80);
  });

  test("the chart fits 80 columns; the cwnd plot's phase strip", async () => {
    const { s } = session();
    await transfer(s, 60_000, ["b: drop next 1 in data"]);
    const lines = linesOf((await run(s, "plot #3")).blocks[0]);
    expect(lines[0]).toMatch(
      /^#3 10\.0\.0\.1:49152 → 10\.0\.0\.2:80 {2}cubic: cwnd \d+, ssthresh /,
    );
    for (const l of lines.slice(1, 2 + PLOT_HEIGHT + 3))
      expect(Bun.stringWidth(l)).toBeLessThanOrEqual(80);
    const strip = lines[2 + PLOT_HEIGHT + 1]?.trim() ?? "";
    expect(strip).toMatch(/^S+R+A+$/);
  });
});

describe("plot: errors and completion", () => {
  test("no connection, nothing recorded, two connections in one sequence plot; completion", async () => {
    const { s } = session();
    await run(s, "b: listen 80");
    expect((await run(s, "b: plot #3")).errors[0]?.message).toBe("plot: #3 has no connection");
    expect((await run(s, "plot #9")).errors[0]?.message).toContain("no socket #9 on a");
    expect((await run(s, "plot")).errors[0]?.message).toBe(
      "plot: no connection on a has sent data yet (plot #ID names one)",
    );
    await runAll(s, ["connect b 80", "connect b 80"]);
    expect((await run(s, "plot #3 #4 seq")).errors[0]?.message).toContain(
      "a sequence plot shows one connection",
    );
    expect(s.complete("plot #3 ", 8).candidates).toEqual(["#3", "#4", "cwnd", "rate", "seq"]);
    expect(s.complete("plot #3 #4 c", 12).candidates).toEqual(["cwnd"]);
  });
});

describe("the chart and its canvas", () => {
  test("braille dots: 2 × 4 per cell, marks over them, lines with dashes", () => {
    const c = new BrailleCanvas(2, 1);
    c.set(0, 0, 0);
    c.set(1, 3, 0);
    expect(c.cell(0, 0).char).toBe("⢁");
    c.line(2, 0, 3, 0, 1);
    expect(c.cell(1, 0)).toEqual({ char: "⠉", layer: 1 });
    c.mark(1, 0, "R", 2);
    expect(c.cell(1, 0)).toEqual({ char: "R", layer: 2 });
    const d = new BrailleCanvas(4, 1);
    d.line(0, 0, 7, 0, 0, true);
    expect([0, 1, 2, 3].map((i) => d.cell(i, 0).char).join("")).toBe("⠉⠀⠉⠀".replace(/⠀/g, " "));
  });

  test("renderChart: steps hold their value, bars and marks land where they are, round ticks", () => {
    const chart = renderChart(
      [
        { name: "low", style: "step", points: [{ t: 0, v: 50 }] },
        {
          name: "rise",
          style: "step",
          points: [
            { t: 0, v: 0 },
            { t: 500, v: 100 },
          ],
        },
        { name: "x", style: "marks", mark: "x", points: [{ t: 1000, v: 0 }] },
      ],
      { width: 10, height: 4, unit: "u", formatValue: (v) => String(v), tMin: 0, tMax: 1000 },
    );
    expect(chart.vMax).toBe(100);
    expect(chart.lines.map((l) => lineText(l))).toEqual([
      "  u",
      "100 ┤     ⡏⠉⠉⠉⠉",
      "    │     ⡇",
      " 50 ┤⠉⠉⠉⠉⠉⡏⠉⠉⠉⠉",
      "  0 ┤⣀⣀⣀⣀⣀⡇   x",
      "    └┬────┬───┬",
      "     0.0 0.5 1.0 s",
    ]);
    expect(chart.cellOf(1000, 0)).toEqual({ col: 9, row: 3 });
    expect(lineText(chart.legend)).toBe("⠒⠒ low  ⠒⠒ rise  x x");
    expect([1, 7, 12, 100_001, 14_480].map(niceCeil)).toEqual([1, 8, 12, 120_000, 15_000]);
  });
});

describe("state #ID: negotiated options and congestion", () => {
  test("options both ways, timestamps with TS.Recent, SACK, cwnd, phase, recovery, SACKed ranges", async () => {
    const { s } = session();
    await established(s);
    const t = (await run(s, "state #3")).text;
    expect(t).toContain(
      "MSS           send 1460, receive 1448, peer offered 1460; 1448 data bytes per segment with timestamps",
    );
    expect(t).toContain("window scale  on: peer's windows × 2^0 (its shift 0), ours × 2^0");
    expect(t).toMatch(/timestamps {4}on: TS\.Recent 1 /);
    expect(t).toContain("SACK          on (RFC 2018): no blocks in our last ACK");
    expect(t).toContain("congestion    cubic, slow start");
    expect(t).toContain("cwnd          14480 (10.0 segments), ssthresh ∞ (no loss yet)");
    expect(t).toContain("flight        FlightSize 0, pipe 0");
    // Mid-recovery: a hole at 1, the segments above it SACKed (relative ranges).
    await runAll(s, ["b: drop next 1 in data", "send #3 --bytes 20000", "step"]);
    // The receiver holds data above the hole: its last ACK reports it in a SACK block.
    const b = (await run(s, "b: state #4")).text;
    expect(b).toMatch(/SACK {10}on \(RFC 2018\): our last ACK's blocks 1449:\d+/);
    await runAll(s, ["step", "step"]);
    const r = (await run(s, "state #3")).text;
    expect(r).toContain("congestion    cubic, fast recovery");
    expect(r).toMatch(/SACKed {8}1449:\d+/);
    // Two retransmissions in one recovery: the hole at SND.UNA, then RFC 6675's
    // rescue retransmission (NextSeg rule 4) of the highest unSACKed segment.
    expect(r).toMatch(
      /recovery {6}point \d+; \d+ duplicate ACK\(s\) in a row; 1 recoveries, 2 fast retransmits, 0 timeouts/,
    );
  });

  test("before the handshake: nothing negotiated, cwnd not set yet", async () => {
    const { s } = session();
    await runAll(s, ["b: listen 80", "connect b 80"]);
    const t = (await run(s, "state #3")).text;
    expect(t).toContain("window scale  - (not negotiated yet)");
    expect(t).toContain("congestion    cubic; cwnd is set when the connection is established");
  });

  test("without options on the peer's SYN-ACK everything is off", async () => {
    const { s } = session();
    await run(s, "connect b 80");
    await run(s, "inject #3 < S. 0:0(0) ack 1 win 1000 <mss 1000>");
    const t = (await run(s, "state #3")).text;
    expect(t).toContain("send 1000, receive");
    expect(t).toContain("window scale  off (not on both SYNs)");
    expect(t).toContain("timestamps    off (not on both SYNs)");
    expect(t).toContain("SACK          off (not on both SYNs)");
    expect(t).not.toContain("SACKed");
  });
});

describe("the state table fits 120 columns", () => {
  test("a listener with a half-open connection, two timers at once, relative numbers", async () => {
    const { s } = session();
    await established(s);
    await runAll(s, ["connect b 80", "step", "send #3 --bytes 3000", "b: send #4 hello", "step"]);
    for (const h of ["a", "b"]) {
      const block = (await run(s, `${h}: state`)).blocks[0];
      if (block?.kind !== "table") throw new Error("a table expected");
      const widths = tableLines(block).map((l) => Bun.stringWidth(lineText(l)));
      expect(Math.max(...widths)).toBeLessThanOrEqual(120);
    }
    const a = linesOf((await run(s, "state")).blocks[0]);
    expect(a[0]).toMatch(/\|rtx \d+ms dack \d+ms\|/);
    expect(linesOf((await run(s, "b: state")).blocks[0])[0]).toBe(
      "#3|*:80|*|LISTEN|||||||1 half-open||0/16",
    );
  });
});

describe("drops read without colour", () => {
  test("trace and ladder say it in words and symbols, not only in tone", async () => {
    const { s, output } = session({ trace: true });
    await runAll(s, ["b: listen 80", "drop next 1 out SYN", "connect b 80"]);
    const trace = output.filter((b) => b.kind === "packets").flatMap(linesOf);
    expect(trace[0]).toContain("✕ dropped (drop next 1 SYN out)");
    const ladder = linesOf((await run(s, "ladder")).blocks[0]);
    expect(ladder[1]).toMatch(/-- S 0:0\(0\) .* --✕ +\|$/);
  });
});
