/**
 * The options-and-paths labs (timestamps, mss) refuse the usual mistakes:
 * at a step, the mistake is refused by `next` with a hint that says what
 * went wrong, and the step done right is accepted. The steps before it are
 * typed as the lab file gives them. Simulated world, fixed seed, no sleeps.
 */
import { describe, expect, test } from "bun:test";
import { currentStep } from "../../src/lab/lab-runner.ts";
import type { LabEngine } from "../../src/lab/session.ts";
import { run, runAll, session } from "./helpers.ts";

const REFUSED = "not yet: do what the step says, then next again";

/** Some answer of the right kind: the steps before the mistake need one, right or wrong. */
const GUESS = { number: "0", state: "ESTABLISHED", segment: ". 1:1(0) ack 1 win 1" } as const;

/** Types the current step's prediction and commands as the lab gives them. */
async function doCurrent(s: LabEngine): Promise<void> {
  const step = currentStep(s);
  if (step === undefined) throw new Error("no lab step");
  if (step.question !== undefined) await run(s, `answer ${GUESS[step.question.kind]}`);
  await runAll(s, step.commands);
}

/** Starts `name` (again, in a fresh world) and does every step before step `at` right. */
async function reach(s: LabEngine, name: string, at: number): Promise<void> {
  await run(s, `lab start ${name} restart`);
  while ((s.status().lab?.step ?? at) < at) {
    await doCurrent(s);
    const n = s.status().lab?.step;
    expect((await run(s, "next")).text).not.toContain(REFUSED);
    expect(s.status().lab?.step).toBe((n ?? 0) + 1);
  }
}

/** `next` refuses and stays at step `at`; returns what it said. */
async function refused(s: LabEngine, at: number): Promise<string> {
  const r = await run(s, "next");
  expect(r.text).toContain(REFUSED);
  expect(s.status().lab?.step).toBe(at);
  return r.text;
}

async function accepted(s: LabEngine, title: string): Promise<void> {
  const r = await run(s, "next");
  expect(r.text).not.toContain(REFUSED);
  expect(r.text).toContain(title);
}

/** The timestamps lab at its PAWS step (8), the prediction given. */
async function atOldDuplicate(): Promise<LabEngine> {
  const { s } = session({ seed: 1 });
  await reach(s, "timestamps", 8);
  await run(s, "answer . 1:1(0) ack 12");
  return s;
}

describe("options-and-paths labs refuse the usual mistakes with a hint", () => {
  test("timestamps: the old duplicate injected without the Timestamps option", async () => {
    const s = await atOldDuplicate();
    // The option left out: b drops the segment silently (RFC 7323 §3.2), so no ACK comes.
    await run(s, "b: inject #4 < P. 12:17(5) ack 1");
    const text = await refused(s, 8);
    expect(text).toContain("✗ b received a P. 12:17(5) ack 1 <TS val 100 ecr 10000>");
    expect(text).toContain("hint: its options are <>");
    expect(text).toContain("✗ b sent a . 1:1(0) ack 12 <TS val * ecr 251>");
    // With the old TSval: PAWS answers with an ACK and drops it.
    await run(s, "b: inject #4 < P. 12:17(5) ack 1 <nop,nop,TS val 100 ecr 10000>");
    await accepted(s, "Step 9/10: The real segment gets through");
  });

  test("timestamps: the old duplicate given a current TSval is taken, not dropped", async () => {
    const s = await atOldDuplicate();
    await run(s, "b: inject #4 < P. 12:17(5) ack 1 <nop,nop,TS val 300 ecr 10000>");
    const text = await refused(s, 8);
    expect(text).toContain("✗ b:#4 RCV.NXT = 12 (it is 17)");
    expect(text).toContain("✗ b:#4 TS.Recent = 251 (it is 300)");
  });

  // The first step typed on the wrong host: the listener keeps the settings it was
  // opened with, so the step is then done right from a fresh world.
  const wrongHost = [
    {
      lab: "timestamps",
      what: "b's clock start set on a",
      wrong: ["set tsValStart 10000", "b: listen 80", "connect b 80", "b: set tsValStart"],
      refusedWith: [
        '✗ the output shows "b tsValStart = 10000"',
        "✗ a sent b:80 S 0:0(0) <mss 1460,sackOK,TS val 1 ecr 0,wscale 0>",
        "hint: its options are <mss 1460,wscale 0,sackOK,TS val 10000 ecr 0>",
      ],
      next: "Step 2/10: The SYN-ACK echoes the client's TSval",
    },
    {
      lab: "mss",
      what: "a's smaller MSS set on b",
      wrong: ["b: set mss 1200", "b: listen 80", "connect b 80", "step"],
      refusedWith: [
        "✗ a sent b:80 S 0:0(0) <mss 1200,sackOK,TS val 1 ecr 0,wscale 0>",
        "hint: its options are <mss 1460,wscale 0,sackOK,TS val 1 ecr 0>",
        "hint: its options are <mss 1200,wscale 0,sackOK,TS val 1 ecr 1>",
      ],
      next: "Step 2/10: What each side will send",
    },
  ];
  for (const m of wrongHost) {
    test(`${m.lab}: ${m.what}, then right from a fresh world`, async () => {
      const { s } = session({ seed: 1 });
      await reach(s, m.lab, 1);
      await runAll(s, m.wrong);
      const text = await refused(s, 1);
      for (const line of m.refusedWith) expect(text).toContain(line);
      await reach(s, m.lab, 1);
      await doCurrent(s);
      await accepted(s, m.next);
    });
  }

  test("mss: the path's MTU left out, so nothing will be dropped", async () => {
    const { s } = session({ seed: 1 });
    await reach(s, "mss", 5);
    await runAll(s, [
      "answer 1448",
      "set timestamps on",
      "set mss 1460",
      "connect b 80",
      "step",
      "step",
      "step",
      "b: accept",
      "faults",
    ]);
    const text = await refused(s, 5);
    expect(text).toContain('✗ the output shows "path MTU 576 bytes"');
    expect(text).toContain("hint: type the step's commands; the last one's output is what is read");
    await runAll(s, ["mtu 576", "faults"]);
    await accepted(s, "Step 6/10: The router says so");
  });
});
