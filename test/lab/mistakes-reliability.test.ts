/**
 * The reliable-delivery labs refuse the usual mistakes: for each lab, a step
 * done the wrong way (the wrong socket, a setting left out, a step too short)
 * is refused by `next` with a hint that says what to look at, and the same
 * step done right is accepted. Simulated world, fixed seed.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type LabFile, parseLabFile, stepsFor } from "../../src/lab/lab-file.ts";
import { startLab } from "../../src/lab/lab-runner.ts";
import { DEFAULT_LABS_DIR, type LabEngine } from "../../src/lab/session.ts";
import { run, runAll, session } from "./helpers.ts";

function load(name: string): LabFile {
  const parsed = parseLabFile(readFileSync(join(DEFAULT_LABS_DIR, `${name}.md`), "utf8"), name);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.lab;
}

/** Starts `name` and does its first `n` steps as written, each accepted by `next`. */
async function startAt(name: string, n: number): Promise<{ s: LabEngine; lab: LabFile }> {
  const { s } = session();
  const lab = load(name);
  await startLab(s, lab);
  await doSteps(s, lab, 0, n);
  return { s, lab };
}

/** Does steps `from` to `to` − 1 (0-based) as written, each accepted by `next`. */
async function doSteps(s: LabEngine, lab: LabFile, from: number, to: number): Promise<void> {
  const steps = stepsFor(lab, "simulated");
  for (let i = from; i < to; i++) {
    await predict(s, lab, i);
    await runAll(s, steps[i]?.commands ?? []);
    const r = await run(s, "next");
    expect({ step: i + 1, next: r.text }).toEqual({
      step: i + 1,
      next: expect.stringContaining(`Step ${i + 2}/${steps.length}`),
    });
  }
}

/** Answers step `i`'s question, if it asks one, with some answer of the right kind. */
async function predict(s: LabEngine, lab: LabFile, i: number): Promise<void> {
  const kind = stepsFor(lab, "simulated")[i]?.question?.kind;
  if (kind === undefined) return;
  const guess = { number: "1", state: "ESTABLISHED", segment: "." }[kind];
  expect((await run(s, `answer ${guess}`)).errors).toEqual([]);
}

/** `next` refuses: the lab stays at step `at`, and the output says why. */
async function refused(s: LabEngine, at: number): Promise<string> {
  const r = await run(s, "next");
  expect(r.text).toContain("not yet: do what the step says, then next again");
  expect(s.status().lab?.step).toBe(at);
  return r.text;
}

/** `next` accepts: the lab moves on to step `to`. */
async function accepted(s: LabEngine, to: number): Promise<void> {
  const r = await run(s, "next");
  expect(r.text).not.toContain("not yet: do what the step says");
  expect(s.status().lab?.step).toBe(to);
}

/** Step `i`'s commands as written, with `edit` applied to each line. */
function commandsOf(lab: LabFile, i: number, edit: (line: string) => string = (l) => l): string[] {
  return (stepsFor(lab, "simulated")[i]?.commands ?? []).map(edit);
}

describe("reliable-delivery labs refuse the usual mistakes with a hint", () => {
  test("rto: the second sample taken on the first connection instead of #4", async () => {
    const { s, lab } = await startAt("rto", 2);
    await predict(s, lab, 2);
    // Step 3 sends on #4 (the 10 ms floor); the learner sends on #3, the first connection.
    await runAll(
      s,
      commandsOf(lab, 2, (l) => l.replace("send #4", "send #3")),
    );
    const text = await refused(s, 3);
    expect(text).toContain("✗ a sent b:80 P. 1:6(5)");
    expect(text).toContain("hint: it belongs to another connection than socket #4's");
    expect(text).toContain("✗ a:#4 RTTVAR = 12.5 ms (it is 10 ms)");
    // Done right: #4 sends, and its ACK gives the sample.
    await runAll(s, ["send #4 hello", "step", "step"]);
    await accepted(s, 4);
  });

  test("rto: the backoff step without its fault rule", async () => {
    const { s, lab } = await startAt("rto", 7);
    await predict(s, lab, 7);
    await runAll(
      s,
      commandsOf(lab, 7).filter((l) => !l.startsWith("drop next")),
    );
    const text = await refused(s, 8);
    expect(text).toContain("✗ a sent b:80 P. 1:6(5) dropped times 3");
    expect(text).toContain("hint: it was not dropped");
    expect(text).toContain("✗ a:#3 RTO = 8000 ms (it is 1000 ms)");
    // The copy got through: done right, from a fresh world.
    await run(s, "lab start rto restart");
    await doSteps(s, lab, 0, 7);
    await predict(s, lab, 7);
    await runAll(s, commandsOf(lab, 7));
    await accepted(s, 9);
  });

  test("sack: the sender keeps its timestamps", async () => {
    const { s, lab } = await startAt("sack", 0);
    await runAll(
      s,
      commandsOf(lab, 0).filter((l) => l !== "set timestamps off"),
    );
    const text = await refused(s, 1);
    expect(text).toContain("✗ a sent b:80 S 0:0(0) <mss 1460,wscale 0,sackOK>");
    expect(text).toContain("hint: its options are <mss 1460,wscale 0,sackOK,TS val 1 ecr 0>");
    // The connection carries timestamps for good: done right, from a fresh world.
    await run(s, "lab start sack restart");
    await runAll(s, commandsOf(lab, 0));
    await accepted(s, 2);
  });

  test("sack: two arrivals in one step", async () => {
    const { s } = await startAt("sack", 1);
    await run(s, "answer . ack 1 <sack 4381:5841>");
    await run(s, "step 20ms");
    const text = await refused(s, 2);
    expect(text).toContain("✓ b sent a . 1:1(0) ack 1 <sack 4381:5841>");
    expect(text).toContain("✗ b sent a . times 1 (seen 2 times)");
    // Segment 2 has arrived too: resume replays step 1 in a fresh world.
    await run(s, "lab start sack resume");
    await run(s, "answer . ack 1 <sack 4381:5841>");
    await run(s, "step");
    const r = await run(s, "next");
    expect(r.text).toContain("✓ you predicted . ack 1 <sack 4381:5841>: right");
    expect(s.status().lab?.step).toBe(3);
  });

  test("fast-recovery: a plain step stops before the duplicate ACKs reach the sender", async () => {
    const { s, lab } = await startAt("fast-recovery", 1);
    await predict(s, lab, 1);
    await run(s, "step");
    const text = await refused(s, 2);
    expect(text).toContain(
      "✗ a received b:80 . 1:1(0) ack 1 times 2 (b sent it; it has not arrived yet)",
    );
    expect(text).toContain("hint: it is still on the wire: `step` delivers it");
    expect(text).toContain("✗ a:#3 dupacks = 2 (it is 0)");
    // b's ACK came closest, but it is not a's segment typed on b: no "a:" prefix suggested.
    expect(text).not.toContain("prefix the command");
    // Stepped off the lab's clock: resume replays step 1, then the step as written.
    await run(s, "lab start fast-recovery resume");
    await predict(s, lab, 1);
    await runAll(s, commandsOf(lab, 1));
    await accepted(s, 3);
  });

  test("fast-recovery: limited transmit left on in the small-window step", async () => {
    const { s, lab } = await startAt("fast-recovery", 6);
    await predict(s, lab, 6);
    await runAll(
      s,
      commandsOf(lab, 6).filter((l) => l !== "set limitedTransmit off"),
    );
    const text = await refused(s, 7);
    expect(text).toMatch(
      /✗ a:#6 sent 1:1461 again between 2\.700 s and 2\.800 s \(it sent again: 1:1461\(1460\) at 1\.8\d\d s\)/,
    );
    expect(text).toContain("hint: plot #6 seq shows when each segment left");
    await run(s, "lab start fast-recovery resume");
    await predict(s, lab, 6);
    await runAll(s, commandsOf(lab, 6));
    await accepted(s, 8);
  });
});
