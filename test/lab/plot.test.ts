import { describe, expect, test } from "bun:test";
import { lineText, tableLines } from "../../cli/lab/format.ts";
import { niceCeil, renderChart } from "../../src/lab/chart.ts";
import { PLOT_HEIGHT, PLOT_WIDTH, plotData } from "../../src/lab/cmd-plot.ts";
import { monotoneSent } from "../../src/lab/samples.ts";
import type { LabEngine } from "../../src/lab/session.ts";
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
    expect(conn.sent.some((x) => x.retransmission)).toBe(false);
    expect(monotoneSent(conn.sent)).toBe(true);
    const data = conn.sent.filter((x) => x.len > 0);
    expect(data[0]?.seq).toBe(1);
    const last = data[data.length - 1];
    expect((last?.seq ?? 0) + (last?.len ?? 0)).toBe(200_001);
    // Samples are in time order, and the acknowledged edge never goes back.
    for (let i = 1; i < conn.window.length; i++) {
      expect(conn.window[i]?.t).toBeGreaterThanOrEqual(conn.window[i - 1]?.t ?? 0);
      expect(conn.window[i]?.una).toBeGreaterThanOrEqual(conn.window[i - 1]?.una ?? 0);
    }
  });

  test("a lost segment: fast recovery lowers ssthresh, the hole is sent again (R)", async () => {
    const { s } = session();
    await transfer(s, 60_000, ["b: drop next 1 in data"]);
    const { conn } = seriesOf(s);
    expect(conn.window.some((w) => w.phase === "recovery")).toBe(true);
    const finite = conn.window.filter((w) => Number.isFinite(w.ssthresh));
    expect(finite.length).toBeGreaterThan(0);
    const retrans = conn.sent.filter((x) => x.retransmission && x.len > 0);
    expect(retrans.map((x) => x.seq)).toEqual([1]);
    expect(monotoneSent(conn.sent)).toBe(false);
    const data = plotData(conn, "seq", s.clock.now());
    expect(data.series.find((x) => x.name === "retransmitted")?.points.map((p) => p.v)).toEqual([
      1,
    ]);
    const chart = linesOf((await run(s, "plot #3 seq")).blocks[0]);
    expect(chart.some((l) => /┤.*R/.test(l) || /│.*R/.test(l))).toBe(true);
    expect(chart.join("\n")).toContain("1 data segment(s) sent again");
  });
});

describe("plot: the chart", () => {
  test("plot #ID cwnd: title, value axis with labels, time axis, phase strip, legend", async () => {
    const { s } = session();
    await transfer(s, 200_000);
    const lines = linesOf((await run(s, "plot #3")).blocks[0]);
    expect(lines[0]).toMatch(
      /^#3 10\.0\.0\.1:49152 → 10\.0\.0\.2:80 {2}cubic: cwnd \d+, ssthresh ∞, /,
    );
    expect(lines[1]?.trim()).toBe("bytes");
    const body = lines.slice(2, 2 + PLOT_HEIGHT);
    // Labelled rows (┤) at top, middle and bottom; the bottom one is 0.
    expect(body.filter((l) => l.includes("┤"))).toHaveLength(3);
    expect(body[PLOT_HEIGHT - 1]).toMatch(/^\s+0 ┤/);
    const axis = lines[2 + PLOT_HEIGHT] ?? "";
    expect(axis).toMatch(/^\s+└─+$/);
    expect(axis.trim().length).toBe(PLOT_WIDTH + 1);
    // Every row starts its plotting area at the same column.
    const start = axis.indexOf("└");
    for (const l of body) expect(l[start]).toMatch(/[┤│]/);
    // The phase strip: slow start only.
    expect(lines[3 + PLOT_HEIGHT]?.trim()).toMatch(/^S+$/);
    expect(lines[4 + PLOT_HEIGHT]).toMatch(/0\.000 s .* \d+\.\d{3} s$/);
    expect(lines[5 + PLOT_HEIGHT]).toContain("* cwnd  - ssthresh");
    // cwnd's marks climb from left to right (slow start): the first mark's row is below the last's.
    const rowOf = (col: number) => body.findIndex((l) => l[col] === "*" || l[col] === "#");
    const cols = [...Array(PLOT_WIDTH).keys()]
      .map((c) => start + 1 + c)
      .filter((c) => rowOf(c) >= 0);
    expect(rowOf(cols[0] as number)).toBeGreaterThan(rowOf(cols[cols.length - 1] as number));
    // It fits an 80-column terminal.
    for (const l of lines.slice(1, -1)) expect(Bun.stringWidth(l)).toBeLessThanOrEqual(80);
  });

  test("plot #ID seq: a clean transfer climbs monotonically across the chart", async () => {
    const { s } = session();
    await transfer(s, 100_000);
    const lines = linesOf((await run(s, "plot #3 seq")).blocks[0]);
    expect(lines[0]).toContain("sent up to 100k, acknowledged 100k (relative to ISS)");
    expect(lines[1]?.trim()).toBe("seq");
    const body = lines.slice(2, 2 + PLOT_HEIGHT);
    const start = (lines[2 + PLOT_HEIGHT] ?? "").indexOf("└");
    // Column by column, the highest "+" never moves down as time goes right.
    let last = PLOT_HEIGHT;
    for (let c = start + 1; c <= start + PLOT_WIDTH; c++) {
      const r = body.findIndex((l) => l[c] === "+");
      if (r < 0) continue;
      expect(r).toBeLessThanOrEqual(last);
      last = r;
    }
    expect(last).toBeLessThan(PLOT_HEIGHT / 2);
    expect(lines.join("\n")).not.toContain("sent again");
  });

  test("errors: no connection, nothing recorded; completion offers cwnd and seq", async () => {
    const { s } = session();
    await run(s, "b: listen 80");
    expect((await run(s, "b: plot #3")).errors[0]?.message).toBe("plot: #3 has no connection");
    expect((await run(s, "plot #9")).errors[0]?.message).toContain("no socket #9 on a");
    await run(s, "connect b 80");
    expect(s.complete("plot #3 ", 8).candidates).toEqual(["cwnd", "seq"]);
  });

  test("renderChart: a step series holds its value; points land where they are; overlap mark", () => {
    const chart = renderChart(
      [
        { name: "low", mark: "-", style: "step", points: [{ t: 0, v: 50 }] },
        {
          name: "rise",
          mark: "*",
          style: "step",
          points: [
            { t: 0, v: 50 },
            { t: 5, v: 100 },
          ],
        },
        { name: "dot", mark: "o", style: "points", points: [{ t: 10, v: 0 }] },
      ],
      {
        width: 10,
        height: 5,
        unit: "u",
        formatValue: (v) => String(v),
        formatTime: (t) => `${t}`,
        overlap: "#",
      },
    );
    expect(chart.vMax).toBe(100);
    expect(chart.lines).toEqual([
      "  u",
      "100 ┤     *****",
      "    │",
      " 50 ┤#####-----",
      "    │",
      "  0 ┤         o",
      "    └──────────",
      "     0    5  10",
    ]);
    expect([1, 7, 12, 100_001, 14_480].map(niceCeil)).toEqual([1, 8, 12, 120_000, 15_000]);
    expect([0.7, 3.3e-3, 2.9e9].map(niceCeil)).toEqual([0.8, 0.004, 3e9]);
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
