/**
 * The congestion-control and window-scaling labs, taken as a learner takes
 * them, mistakes included: at a step, a usual mistake (a command on the
 * wrong host, a socket id left out, a step of the cleanup forgotten) is
 * refused by `next` with a hint that points at it, and the step done right
 * is accepted. Simulated world, fixed seed, no sleeps.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseLabFile, stepsFor } from "../../src/lab/lab-file.ts";
import { startLab } from "../../src/lab/lab-runner.ts";
import { DEFAULT_LABS_DIR, type LabEngine } from "../../src/lab/session.ts";
import { run, runAll, session } from "./helpers.ts";

/** A learner in lab `name`, with its steps as written (simulated world). */
async function learner(name: string) {
  const parsed = parseLabFile(readFileSync(join(DEFAULT_LABS_DIR, `${name}.md`), "utf8"), name);
  if (!parsed.ok) throw new Error(parsed.error);
  const lab = parsed.lab;
  const steps = stepsFor(lab, "simulated");
  const { s } = session();
  /** Answers step `i`'s question (0-based), if it has one: any number will do. */
  const predict = async (i: number) => {
    if (steps[i]?.question !== undefined) expect((await run(s, "answer 1")).errors).toEqual([]);
  };
  /** From a fresh world, does the first `n` steps as written, each accepted by `next`. */
  const doFirst = async (n: number) => {
    await startLab(s, lab);
    for (let i = 0; i < n; i++) {
      await predict(i);
      await runAll(s, [...(steps[i]?.commands ?? [])]);
      expect((await run(s, "next")).text).toContain(`Step ${i + 2}/${steps.length}`);
    }
    await predict(n);
  };
  return { s, doFirst };
}

/** `next` refuses: the lab stays at step `at` (1-based); its text says why. */
async function refused(s: LabEngine, at: number): Promise<string> {
  const r = await run(s, "next");
  expect(r.text).toContain("not yet: do what the step says, then next again");
  expect(s.status().lab?.step).toBe(at);
  return r.text;
}

/** `next` accepts step `at - 1` and moves on to step `at` (undefined: the lab is complete). */
async function accepted(s: LabEngine, at: number | undefined): Promise<string> {
  const r = await run(s, "next");
  expect(r.text).not.toContain("not yet: do what the step says");
  expect(s.status().lab?.step).toBe(at);
  return r.text;
}

describe("congestion-control labs refuse the usual mistakes with a hint", () => {
  test("slow-start: the drop rule typed on b, whose packets are only ACKs", async () => {
    const { s, doFirst } = await learner("slow-start");
    await doFirst(3);
    await runAll(s, ["b: drop next 1 out data", "step 200ms"]);
    const text = await refused(s, 4);
    expect(text).toContain("✗ a sent b:80 . 217201:218649(1448) dropped (closest: a:49152 > b:80");
    expect(text).toContain("hint: it was not dropped");
    expect(text).toContain("✗ a:#3 sent 217201:218649 again between 0.600 s and 0.700 s");
    // The world has moved on: begin again, and drop a's segment this time.
    await doFirst(3);
    await runAll(s, ["drop next 1 out data", "step 200ms"]);
    await accepted(s, 5);
  });

  test("slow-start: delayed ACKs turned off on a, the sender, instead of b", async () => {
    const { s, doFirst } = await learner("slow-start");
    await doFirst(5);
    const rest = [
      "b: listen 81",
      "connect 10.0.0.2 81",
      "step",
      "step",
      "step",
      "b: accept #5",
      "b: sink #6",
    ];
    await runAll(s, ["set delayedAck 0", ...rest, "send #4 --bytes 100000", "step 100ms"]);
    const text = await refused(s, 6);
    expect(text).toContain("✗ b sent a . 1:1(0) ack 1449");
    expect(text).toContain("not 1449");
    // Begin again, with the setting on b, where the ACKs come from.
    await doFirst(5);
    await runAll(s, ["b: set delayedAck 0", ...rest, "send #4 --bytes 100000", "step 100ms"]);
    await accepted(s, 7);
  });

  test("cubic-newreno: b's reset sockets not closed, so the new connections are #8 and #9", async () => {
    const { s, doFirst } = await learner("cubic-newreno");
    await doFirst(6);
    const open = ["connect 10.0.0.2 80", "connect 10.0.0.2 80", "step 400ms"];
    const flows = ["send #5 --bytes 8000000", "send #6 --bytes 8000000", "step 30s"];
    await runAll(s, ["abort #5", "abort #6", "step 1s", ...open, "b: accept", "b: accept"]);
    expect((await run(s, "b: sink #6")).text).toContain("#6 already reads everything");
    const text = await refused(s, 7);
    expect(text).toContain("✗ b:#6 is ESTABLISHED on port 80 (it is CLOSED)");
    expect(text).toContain(
      'hint: the connection of b:#6 is over, but the socket is still open: "b: close #6" frees the id',
    );
    // Begin again and close b's sockets before the new connections.
    await doFirst(6);
    await runAll(s, ["abort #5", "abort #6", "step 1s", "b: close #6", "b: close #7"]);
    await runAll(s, [...open, "b: accept", "b: accept", "b: sink #6", "b: sink #7", ...flows]);
    expect(await accepted(s, undefined)).toContain("lab cubic-newreno complete");
  }, 30_000);

  test("window-scaling: scaling turned off on b instead of a", async () => {
    const { s, doFirst } = await learner("window-scaling");
    await doFirst(0);
    const rest = [
      "set sndBuf 16000000",
      "b: set rcvBuf 600000",
      "delay 50",
      "bottleneck 40mbit",
      "b: listen 80",
      "connect 10.0.0.2 80",
      "step 200ms",
      "b: accept",
    ];
    await runAll(s, ["b: set windowScaling off", ...rest]);
    const text = await refused(s, 1);
    // a's SYN still offers scaling; only b's SYN-ACK leaves it out.
    expect(text).toContain("✗ a sent b:80 S 0:0(0) <mss 1460,sackOK,TS val * ecr 0>");
    expect(text).toContain("hint: its options are <mss 1460,wscale 0,sackOK,TS val 1 ecr 0>");
    await doFirst(0);
    await runAll(s, ["set windowScaling off", ...rest]);
    await accepted(s, 2);
  });
});
