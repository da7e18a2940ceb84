/**
 * The connection-management labs refuse the usual mistakes: for each lab, a
 * step done the wrong way (the wrong host, port or socket, or a command
 * left out) is refused by `next` with a hint that says what to look at, and
 * the same step done right is accepted. Simulated world, fixed seed.
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
  await doSteps(s, lab, n);
  return { s, lab };
}

async function doSteps(s: LabEngine, lab: LabFile, n: number): Promise<void> {
  const steps = stepsFor(lab, "simulated");
  for (let i = 0; i < n; i++) {
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

describe("connection-management labs refuse the usual mistakes with a hint", () => {
  test("close: the FIN sent from the wrong host", async () => {
    const { s, lab } = await startAt("close", 1);
    await predict(s, lab, 1);
    // Step 2 asks a to close; the learner forgets that the prompt is on b.
    await run(s, "b: close #4");
    const text = await refused(s, 2);
    expect(text).toContain("✗ a:#3 is FIN-WAIT-1 (it is ESTABLISHED)");
    expect(text).toContain("nothing in this step moved it — check the command for a:#3");
    expect(text).toContain("it was sent by b, not a");
    expect(text).toContain('run it on a: prefix the command with "a:"');
    await run(s, "close #3");
    await accepted(s, 3);
  });

  test("simultaneous-open: b connects without binding the port a calls", async () => {
    const { s, lab } = await startAt("simultaneous-open", 0);
    await runAll(s, ["connect b 7000 --port 7001", "b: connect a 7001"]);
    const text = await refused(s, 1);
    expect(text).toContain("✗ b:#3 is SYN-SENT on port 7000 with a:7001 (it is on port 49152)");
    expect(text).toContain("hint: check the port in the command you typed");
    // Done right, from a fresh world.
    await run(s, "lab start simultaneous-open restart");
    await runAll(s, ["connect b 7000 --port 7001", "b: connect a 7001 --port 7000"]);
    await accepted(s, 2);
    // And the next step without its `step`: nothing has happened yet.
    await predict(s, lab, 1);
    expect(await refused(s, 2)).toContain("hint: nothing has happened in this step yet");
    await doStepCommands(s, lab, 1);
    await accepted(s, 3);
  });

  test("simultaneous-close: only one side closes", async () => {
    const { s } = await startAt("simultaneous-close", 1);
    await run(s, "close #3");
    const text = await refused(s, 2);
    expect(text).toContain("✗ b:#4 is FIN-WAIT-1 (it is ESTABLISHED)");
    expect(text).toContain("nothing in this step moved it — check the command for b:#4");
    await run(s, "b: close #4");
    await accepted(s, 3);
  });

  test("half-close: the server half-closes instead of the client", async () => {
    const { s } = await startAt("half-close", 1);
    await run(s, "b: shutdown #4 wr");
    const text = await refused(s, 2);
    expect(text).toContain("✗ a:#3 is FIN-WAIT-1 (it is ESTABLISHED)");
    expect(text).toContain('run it on a: prefix the command with "a:"');
    await runAll(s, ["shutdown #3 wr", "recv #3"]);
    await accepted(s, 3);
  });

  test("time-wait: the last ACK not dropped (the fault rule left out)", async () => {
    const { s, lab } = await startAt("time-wait", 2);
    await predict(s, lab, 2);
    await run(s, "step");
    const text = await refused(s, 3);
    expect(text).toContain("✗ a sent b:80 . 2:2(0) ack 7 dropped");
    expect(text).toContain("hint: it was not dropped");
    // The ACK is gone: done right, from a fresh world.
    await run(s, "lab start time-wait restart");
    await doSteps(s, lab, 2);
    await predict(s, lab, 2);
    await runAll(s, ["drop next 1 out ack", "step"]);
    await accepted(s, 4);
  });
});

/** Types step `i`'s commands as written (without `next`). */
async function doStepCommands(s: LabEngine, lab: LabFile, i: number): Promise<void> {
  await runAll(s, stepsFor(lab, "simulated")[i]?.commands ?? []);
}
