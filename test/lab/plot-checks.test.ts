import { describe, expect, test } from "bun:test";
import { checkExpect } from "../../src/lab/lab-checks.ts";
import { parseLabFile } from "../../src/lab/lab-file.ts";
import { runLab } from "../../src/lab/lab-runner.ts";
import { rateBetween } from "../../src/lab/plots.ts";
import { answerKind, judge, readAnswer, truthOf } from "../../src/lab/questions.ts";
import type { LabEngine } from "../../src/lab/session.ts";
import { established, linesOf, run, runAll, session } from "./helpers.ts";

function lab(text: string) {
  const parsed = parseLabFile(text, "t");
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.lab;
}

/**
 * Seed 42: b drops a's first data segment 1:1449 as it arrives (0.030 s); fast
 * retransmission at 0.050 s; cwnd 14480 before, 10136 in recovery; the clock ends at 1.030 s.
 */
async function lostFirst(): Promise<LabEngine> {
  const { s } = session();
  await established(s);
  await runAll(s, ["b: sink #4", "b: drop next 1 in data", "send #3 --bytes 60000", "step 1s"]);
  return s;
}

describe("checks on what the plots show", () => {
  test("retransmitted: pass, and a failure that says what was sent again", async () => {
    const s = await lostFirst();
    const check = (e: string) => checkExpect(s.checkContext(), e, 0);
    expect(check("retransmitted a:#3 1:1449 between 0.04s 0.06s")).toEqual({
      ok: true,
      message: "a:#3 sent 1:1449 again between 0.040 s and 0.060 s",
    });
    expect(check("retransmitted a:#3 1").ok).toBe(true);
    expect(check("retransmitted a:#3 1449:2897")).toEqual({
      ok: false,
      message: "a:#3 sent 1449:2897 again (it sent again: 1:1449(1448) at 0.050 s)",
      hint: "plot #3 seq shows when each segment left (R: sent again)",
    });
    expect(check("retransmitted a:#3 1:1449 between 1s 2s").message).toBe(
      "a:#3 sent 1:1449 again between 1.000 s and 2.000 s (it sent again: 1:1449(1448) at 0.050 s)",
    );
    expect(check("retransmitted b:#4 1").message).toBe("b:#4 sent 1 again (it sent nothing again)");
    expect(check("retransmitted a:#3 x:y").message).toBe(
      'bad expect "retransmitted a:#3 x:y": expected retransmitted HOST:#ID SEQ[:END] [between T1 T2]',
    );
  });

  test("cwnd at a moment: pass, fail with the value found, not yet, malformed", async () => {
    const s = await lostFirst();
    const check = (e: string) => checkExpect(s.checkContext(), e, 0);
    expect(check("cwnd a:#3 at 0.04s >= 14480")).toEqual({
      ok: true,
      message: "a:#3 cwnd at 0.040 s >= 14480",
    });
    expect(check("cwnd a:#3 at 0.06s >= 14480")).toEqual({
      ok: false,
      message: "a:#3 cwnd at 0.060 s >= 14480 (it was 10136 bytes)",
      hint: "plot #3 cwnd shows it over time",
    });
    expect(check("ssthresh a:#3 at 60ms = 10136").ok).toBe(true);
    expect(check("FlightSize a:#3 at 0.04 = 14480").ok).toBe(true);
    const later = check("cwnd a:#3 at 5s > 0");
    expect(later.ok).toBe(false);
    expect(later.message).toBe(
      "cwnd a:#3 at 5s > 0 (the clock is at 1.030 s: 5.000 s has not come yet)",
    );
    expect(check("cwnd a:#3 at 0.5s").message).toMatch(
      /^bad expect "cwnd a:#3 at 0.5s": expected NAME HOST:#ID at T OP N/,
    );
    expect(check("cwnd a:#9 at 0.5s > 1").message).toBe(
      "cwnd a:#9 at 0.5s > 1 (a:#9 has no connection)",
    );
  });

  test("rate over a period", async () => {
    const s = await lostFirst();
    const check = (e: string) => checkExpect(s.checkContext(), e, 0);
    expect(check("rate a:#3 between 0s 0.2s >= 2mbit")).toEqual({
      ok: true,
      message: "a:#3's delivery rate between 0.000 s and 0.200 s >= 2mbit",
    });
    expect(check("rate a:#3 between 0s 0.2s >= 3mbit")).toEqual({
      ok: false,
      message: "a:#3's delivery rate between 0.000 s and 0.200 s >= 3mbit (it was 2.32 Mbit/s)",
      hint: "plot #3 rate shows it over time",
    });
  });

  test("questions read the same data: number cwnd a:#3 at T, number rate …", async () => {
    const s = await lostFirst();
    const ctx = s.checkContext();
    const q = (answer: string) => ({ ask: "?", answer, kind: "number" as const, explain: [] });
    expect(answerKind("number cwnd a:#3 at 0.06s")).toBe("number");
    expect(answerKind("number rate a:#3 between 0s 0.2s ±10%")).toBe("number");
    expect(truthOf(q("number cwnd a:#3 at 0.06s"), ctx, 0)).toEqual({
      kind: "number",
      value: 10136,
      unit: "bytes",
      tol: { abs: 0 },
    });
    const rate = truthOf(q("number rate a:#3 between 0s 0.2s ±10%"), ctx, 0);
    if (!("value" in rate)) throw new Error("no rate");
    const said = readAnswer("number", "2.2mbit", ctx);
    if ("error" in said) throw new Error(said.error);
    expect("value" in said && said.value).toBe(2_200_000);
    expect(judge(said, rate, ctx)).toEqual({ right: true, truth: "2.32 Mbit/s" });
    expect(truthOf(q("number cwnd a:#3 at 9s"), ctx, 0)).toEqual({
      pending: "the clock is at 1.030 s: 9.000 s has not come yet",
    });
  });
});

describe("show: in a lab step", () => {
  const LAB = [
    "# Loss",
    "## A lost segment",
    "```lab",
    "b: listen 80",
    "connect b 80",
    "step",
    "step",
    "step",
    "b: accept",
    "b: sink #4",
    "b: drop next 1 in data",
    "send #3 --bytes 60000",
    "step 1s",
    "expect: retransmitted a:#3 1:1449 between 0.04s 0.06s",
    "expect: cwnd a:#3 at 0.06s < 14480",
    "show: plot #3 seq",
    "show: ladder 4",
    "```",
    "## Done",
    "Nothing more.",
  ].join("\n");

  test("parsed with the step; a command that changes the world is refused", () => {
    const l = lab(LAB);
    const body = l.steps[0]?.bodies.simulated;
    expect(body?.shows).toEqual(["plot #3 seq", "ladder 4"]);
    const bad = parseLabFile("# T\n## s\n```lab\nshow: step 1s\n```\n", "x");
    expect(bad).toEqual({
      ok: false,
      error:
        'x.md:4: show: runs a command that only looks (plot, ladder, state, stats, faults), not "step"',
    });
  });

  test("next shows the pictures once the checks pass; the step says it will", async () => {
    const { s } = session();
    const l = lab(LAB);
    const { startLab } = await import("../../src/lab/lab-runner.ts");
    const guide = await startLab(s, l);
    expect(linesOf(guide.stepBlock()).join("\n")).toContain("then shows: plot #3 seq; ladder 4");
    for (const c of guide.current?.commands ?? []) await run(s, c);
    const next = await run(s, "next");
    const kinds = next.blocks.map((b) => b.kind);
    expect(kinds).toEqual(["text", "chart", "ladder", "text"]);
    expect(next.text).toContain("✓ a:#3 sent 1:1449 again between 0.040 s and 0.060 s");
    expect(linesOf(next.blocks[1])[0]).toContain("1 sent again, 1 lost");
    expect(next.text).toContain("Step 2/2: Done");
  });

  test("lab check runs show: lines and fails a step whose picture cannot be drawn", async () => {
    const { s } = session();
    expect((await runLab(s, lab(LAB))).ok).toBe(true);
    const broken = await runLab(s, lab(LAB.replace("show: plot #3 seq", "show: plot #7 seq")));
    expect(broken.ok).toBe(false);
    expect(broken.steps[0]?.commands.at(-2)).toEqual({
      line: "show: plot #7 seq",
      errors: ["plot: no socket #7 on a"],
    });
  });
});

describe("two flows on one bottleneck", () => {
  /** Two connections a→b through a 10 Mbit/s bottleneck with a 20-packet queue, both sending for 5 s. */
  async function share(seed: number) {
    const { s } = session({ seed });
    await runAll(s, [
      "set sndBuf 4000000",
      "bottleneck 10mbit 20",
      "b: listen 80",
      "connect b 80",
      "connect b 80",
      "step 100ms",
      "b: accept",
      "b: accept",
      "b: sink #4",
      "b: sink #5",
      "send #3 --bytes 4000000",
      "send #4 --bytes 4000000",
      "step 5s",
    ]);
    const a = s.hostNamed("a");
    if (a === undefined) throw new Error("no a");
    const rates = [3, 4].map((id) => {
      const tcb = s.tcbById(a, id);
      const conn = tcb === undefined ? undefined : a.samples.series(tcb);
      if (conn === undefined) throw new Error(`no #${id}`);
      return { rate: rateBetween(conn, 1000, 5000) ?? 0, lost: conn.sent.filter((x) => x.lost) };
    });
    return { s, rates };
  }

  test("each gets a share; together they fill the bottleneck; queue drops are marked", async () => {
    const { s, rates } = await share(7);
    for (const r of rates) expect(r.rate).toBeGreaterThan(0.25 * 10e6);
    const total = rates.reduce((n, r) => n + r.rate, 0);
    expect(total).toBeGreaterThan(0.85 * 10e6);
    expect(total).toBeLessThanOrEqual(10e6);
    // Losses come from the full queue: marked in the log, so the trace, ladder and plots show them.
    for (const r of rates) {
      expect(r.lost.length).toBeGreaterThan(0);
      expect(new Set(r.lost.map((x) => x.lost))).toEqual(new Set(["bottleneck queue full"]));
    }
    const plot = await run(s, "plot #3 #4 rate");
    expect(plot.errors).toEqual([]);
    expect(linesOf(plot.blocks[0])[0]).toMatch(/average #3 [\d.]+ Mbit\/s, #4 [\d.]+ Mbit\/s/);
    expect(plot.text).toContain("the bottleneck sends 10 Mbit/s with a queue of 20 packets");
    // Without colour the lines are told apart by their ids, written along them.
    const body = linesOf(plot.blocks[0]).slice(2, 18).join("");
    expect(body).toContain("3");
    expect(body).toContain("4");
    expect(checkExpect(s.checkContext(), "rate a:#4 between 1s 5s >= 2.5mbit", 0).ok).toBe(true);
  });

  test("the same seed shares the same way", async () => {
    const one = await share(7);
    const two = await share(7);
    expect(two.rates.map((r) => r.rate)).toEqual(one.rates.map((r) => r.rate));
    expect(two.rates.map((r) => r.lost.length)).toEqual(one.rates.map((r) => r.lost.length));
  });

  test("bottleneck: show, set with the default queue, off; a bad rate is a user error", async () => {
    const { s } = session();
    expect((await run(s, "bottleneck")).text).toBe(
      "no bottleneck: the wire takes no time to send a packet",
    );
    const set = await run(s, "bottleneck 10mbit");
    expect(set.text).toContain(
      "bottleneck 10 Mbit/s each way, a queue of 17 packets; a 1500-byte packet takes 1.2 ms to send",
    );
    expect(set.text).toContain("one bandwidth-delay product (10 Mbit/s × 20 ms round trip)");
    expect((await run(s, "faults")).text).toContain("one-way delay 10 ms; bottleneck 10 Mbit/s");
    expect((await run(s, "bottleneck off")).text).toBe("bottleneck off");
    const bad = (await run(s, "bottleneck fast")).errors[0];
    expect(bad?.message).toBe(
      'bottleneck: RATE should be a rate of at least 1 kbit/s like 10mbit or 500kbit, got "fast"',
    );
    expect(bad?.usage).toBe("bottleneck RATE [QUEUE] | bottleneck off");
  });
});
