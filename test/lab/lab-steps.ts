/**
 * Walking a guided lab in a test, as a learner would: its steps done as
 * written, a question answered with some value of the right kind, and
 * `next` seen to refuse or accept. The mistake tests (mistakes-*.test.ts)
 * use these to reach a step, get it wrong, and then get it right.
 */
import { expect } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type LabFile, parseLabFile, stepsFor } from "../../src/lab/lab-file.ts";
import { startLab } from "../../src/lab/lab-runner.ts";
import { DEFAULT_LABS_DIR, type LabEngine } from "../../src/lab/session.ts";
import { run, runAll, session } from "./helpers.ts";

/** The lab `name` from labs/. */
export function load(name: string): LabFile {
  const parsed = parseLabFile(readFileSync(join(DEFAULT_LABS_DIR, `${name}.md`), "utf8"), name);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.lab;
}

/** Starts `name` in a simulated world and does its first `n` steps as written, each accepted by `next`. */
export async function startAt(name: string, n: number): Promise<{ s: LabEngine; lab: LabFile }> {
  const { s } = session();
  const lab = load(name);
  await startLab(s, lab);
  await doSteps(s, lab, n);
  return { s, lab };
}

/** Begins `name` again in a fresh world (`lab start NAME restart`) and does its first `n` steps. */
export async function restartAt(s: LabEngine, name: string, n: number): Promise<LabFile> {
  const lab = load(name);
  await run(s, `lab start ${name} restart`);
  await doSteps(s, lab, n);
  return lab;
}

/** Does the first `n` steps of the lab in progress as written; `next` accepts each. */
export async function doSteps(s: LabEngine, lab: LabFile, n: number): Promise<void> {
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

/** Types step `i`'s commands as written (without `next`). */
export async function doStepCommands(s: LabEngine, lab: LabFile, i: number): Promise<void> {
  await runAll(s, stepsFor(lab, "simulated")[i]?.commands ?? []);
}

/** Answers step `i`'s question, if it asks one, with some answer of the right kind. */
export async function predict(s: LabEngine, lab: LabFile, i: number): Promise<void> {
  const kind = stepsFor(lab, "simulated")[i]?.question?.kind;
  if (kind === undefined) return;
  const guess = { number: "1", state: "ESTABLISHED", segment: ". 1:1(0) ack 1 win 1 <sack 1:2>" }[
    kind
  ];
  expect((await run(s, `answer ${guess}`)).errors).toEqual([]);
}

/** `next` refuses: the lab stays at step `at`, and the output says why. */
export async function refused(s: LabEngine, at: number): Promise<string> {
  const r = await run(s, "next");
  expect(r.text).toContain("not yet: do what the step says, then next again");
  expect(s.status().lab?.step).toBe(at);
  return r.text;
}

/** `next` accepts: the lab moves on to step `to`. */
export async function accepted(s: LabEngine, to: number): Promise<void> {
  const r = await run(s, "next");
  expect(r.text).not.toContain("not yet: do what the step says");
  expect(s.status().lab?.step).toBe(to);
}
