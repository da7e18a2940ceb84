import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { checkExpect } from "../../src/lab/lab-checks.ts";
import { parseLabFile } from "../../src/lab/lab-file.ts";
import { formatReport, runLab, startLab } from "../../src/lab/lab-runner.ts";
import { DEFAULT_LABS_DIR, type LabEngine } from "../../src/lab/session.ts";
import { linesOf, run, runAll, session } from "./helpers.ts";

/** a:#3 → b:80, accepted as b:#4, both ESTABLISHED, without timestamps (RFC 7323 would drop a bare injected SYN). */
const OPEN_WITHOUT_TIMESTAMPS = [
  "set timestamps off",
  "b: listen 80",
  "connect b 80",
  "step",
  "step",
  "step",
  "b: accept",
];

/** A fresh simulated session running a lab "t" of one step whose block holds `lines`. */
async function oneStepLab(lines: readonly string[]): Promise<LabEngine> {
  const { s } = session();
  const lab = parseLabFile(["# T", "## s", "```lab", ...lines, "```"].join("\n"), "t");
  if (!lab.ok) throw new Error(lab.error);
  await startLab(s, lab.lab);
  return s;
}

describe("what the resets, blind-attacks, backlog and keepalive labs need of the engine", () => {
  test("a SYN injected into a connection keeps the relative numbers of its real SYN", async () => {
    const { s } = session();
    await runAll(s, [
      ...OPEN_WITHOUT_TIMESTAMPS,
      "send #3 hello",
      "step",
      "step",
      // A blind attacker's SYN in b's window (RFC 5961 §4): b answers with a challenge ACK.
      "b: inject #4 < S 1000:1000(0)",
      // A SYN from an address never seen before starts a numbering of its own.
      "b: inject tcp 10.0.0.99:1000 > b:80 flags=S seq=5000",
    ]);
    const lines = linesOf((await run(s, "ladder 3")).blocks[0]);
    expect(lines[1]).toMatch(/\|-- \[49152↔80\] S 1000:1000\(0\) win 65535 \(injected\) -+>\|$/);
    // The challenge ACK acknowledges byte 6 of a's numbering, not a number counted from the SYN.
    expect(lines[2]).toMatch(/\|<-- \[49152↔80\] \. 1:1\(0\) ack 6 win 65530 -+\|$/);
    expect(lines[3]).toMatch(/\|-- \[1000↔80\] S 0:0\(0\) win 65535 \(injected\) -+>\|/);
  });

  test("a SYN put on the wire with inject > is marked injected and renumbers nothing", async () => {
    const { s } = session();
    await runAll(s, [...OPEN_WITHOUT_TIMESTAMPS, "inject #3 > S 2000:2000(0)", "step", "step"]);
    const lines = linesOf((await run(s, "ladder 2")).blocks[0]);
    expect(lines[1]).toMatch(/\|-- S 2000:2000\(0\) win 65535 \(injected\) -+>\|$/);
    expect(lines[2]).toMatch(/\|<-- \. 1:1\(0\) ack 1 win 65535 -+\|$/);
  });

  test("a segment not yet delivered: the hint says to step, not to change hosts", async () => {
    const { s } = session();
    await runAll(s, ["b: listen 80", "connect b 80"]);
    const before = checkExpect(s.checkContext(), "segment b:80 < a S 0:0(0)", 0);
    expect(before.ok).toBe(false);
    expect(before.message).toBe("b received a S 0:0(0) (a sent it; it has not arrived yet)");
    expect(before.hint).toBe("it is still on the wire: `step` delivers it");
    await run(s, "step");
    expect(checkExpect(s.checkContext(), "segment b:80 < a S 0:0(0)", 0).ok).toBe(true);
    // A segment that a fault rule dropped is not on the wire any more: the usual hint.
    await runAll(s, ["drop next 1 out SYN", "connect b 81"]);
    expect(checkExpect(s.checkContext(), "segment b:81 < a S", 0).hint).not.toContain("wire");
  });

  test("set challengeAckLimit changes the host's limit at once, for connections already open", async () => {
    const { s } = session();
    await runAll(s, OPEN_WITHOUT_TIMESTAMPS);
    const set = await run(s, "b: set challengeAckLimit 2");
    expect(set.text).toBe("b challengeAckLimit = 2 (for every connection of the host, at once)");
    // Four RSTs in b's window but not at RCV.NXT, at one instant: two challenge ACKs (RFC 5961 §7).
    for (let i = 0; i < 4; i++) await run(s, "b: inject #4 < R 1000:1000(0)");
    expect(s.world.hosts[1]?.host.challengeAcks.sent).toBe(2);
    expect(s.world.hosts[1]?.host.challengeAcks.suppressed).toBe(2);
  });

  test("a question about the segment a host sends is answered even when a fault rule drops it", async () => {
    const s = await oneStepLab([
      "ask: Which segment will a send?",
      "answer: segment a:#3 > b",
      "explain: a SYN (§3.10.1).",
      "drop next 1 out SYN",
      "connect b 80",
      "expect: segment a:#3 > b:80 S 0:0(0) dropped",
    ]);
    await run(s, "answer S 0:0(0)");
    await runAll(s, ["drop next 1 out SYN", "connect b 80"]);
    const next = await run(s, "next");
    expect(next.text).toContain("you predicted S 0:0(0): right");
    expect(next.text).toContain("lab t complete");
  });

  test("an output check reads the world's commands, never the text of a failed next", async () => {
    const s = await oneStepLab([
      "connect b 81",
      "step",
      "step",
      "sockopt #3 error",
      "expect: output ECONNREFUSED",
    ]);
    await runAll(s, ["connect b 81", "step", "step"]);
    // The failed check quotes ECONNREFUSED; the next `next` must not read that as the output.
    expect((await run(s, "next")).text).toContain('✗ the output shows "ECONNREFUSED"');
    expect((await run(s, "next")).text).toContain('✗ the output shows "ECONNREFUSED"');
    await run(s, "sockopt #3 error");
    expect((await run(s, "next")).text).toContain("lab t complete");
  });
});

/**
 * A fresh simulated session running labs/NAME.md at step `at` (1-based): the
 * steps before it done as `lab check` does them, then `next`.
 */
async function startNamed(name: string, at = 1): Promise<LabEngine> {
  const { s } = session();
  const lab = parseLabFile(readFileSync(join(DEFAULT_LABS_DIR, `${name}.md`), "utf8"), name);
  if (!lab.ok) throw new Error(lab.error);
  if (at === 1) {
    await startLab(s, lab.lab);
    return s;
  }
  const done = await runLab(s, lab.lab, { steps: at - 1, keep: true });
  if (!done.ok) throw new Error(formatReport(done));
  expect((await run(s, "next")).text).toContain(`Step ${at}/`);
  return s;
}

describe("typical mistakes: next refuses with a hint, then accepts the step done right", () => {
  test("resets: the SYN sent to the wrong port; the error not read", async () => {
    let s = await startNamed("resets");
    await runAll(s, ["answer R. 0:0(0) ack 1", "connect 10.0.0.2 80", "step"]);
    let next = await run(s, "next");
    expect(next.text).toContain("hint: it went to port 80, the step asks for port 81");
    expect(next.text).toContain("hint: b's port is 80, not 81");
    expect(s.status().lab?.step).toBe(1);
    // Done right, in a fresh world.
    s = await startNamed("resets");
    await runAll(s, ["answer R. 0:0(0) ack 1", "connect 10.0.0.2 81", "step"]);
    next = await run(s, "next");
    expect(next.text).toContain("you predicted R. 0:0(0) ack 1: right");
    expect(s.status().lab?.step).toBe(2);
    // Step 2 without `sockopt #3 error`: the state holds, the output does not.
    await runAll(s, ["answer closed", "step"]);
    next = await run(s, "next");
    expect(next.text).toContain("✓ a:#3 reported ECONNREFUSED");
    expect(next.text).toContain(
      "hint: type the step's commands; the last one's output is what is read",
    );
    await run(s, "sockopt #3 error");
    expect((await run(s, "next")).text).toContain("Step 3/12: A connection to abort");
  });

  test("blind-attacks: the challenge ACK not yet delivered to a; the reset typed on a", async () => {
    const s = await startNamed("blind-attacks", 3);
    await runAll(s, ["answer . 1:1(0) ack 6", "b: inject #4 < R 1000:1000(0)"]);
    let next = await run(s, "next");
    expect(next.text).toContain("✓ b sent a . 1:1(0) ack 6");
    expect(next.text).toContain("hint: it is still on the wire: `step` delivers it");
    await run(s, "step");
    next = await run(s, "next");
    expect(next.text).toContain("you predicted . 1:1(0) ack 6: right");
    expect(next.text).toContain("Step 4/12: Data with an ACK from the past");
    // Step 4 typed without the b: prefix: a has no socket #4, and nothing happens.
    await run(s, "answer 6");
    const typo = await run(s, "inject #4 < P. 6:11(5) ack 4294901760");
    expect(typo.errors[0]?.message).toBe("inject: #4 on a has no connection");
    next = await run(s, "next");
    expect(next.text).toContain("hint: nothing has happened in this step yet");
    await runAll(s, ["b: inject #4 < P. 6:11(5) ack 4294901760", "step"]);
    expect((await run(s, "next")).text).toContain("Step 5/12: A SYN on the connection");
  });

  test("backlog: the listener opened on a instead of b", async () => {
    const s = await startNamed("backlog");
    await runAll(s, ["b: set synRetries 3", "listen 80 2", "b: state"]);
    const next = await run(s, "next");
    expect(next.text).toContain("✗ b:#3 is LISTEN on port 80 (it is CLOSED)");
    expect(next.text).toContain(
      'hint: a\'s socket #3 is LISTEN: the step wants it on b — prefix the command with "b:"',
    );
    await runAll(s, ["b: listen 80 2", "b: state"]);
    expect((await run(s, "next")).text).toContain("Step 2/10: Three clients, room for two");
  });

  test("keepalive: SO_KEEPALIVE never turned on, then turned on", async () => {
    const s = await startNamed("keepalive");
    await runAll(s, [
      "set keepAliveIdle 10s",
      "set keepAliveInterval 5s",
      "set keepAliveCount 3",
      "b: listen 80",
      "connect 10.0.0.2 80",
      "step",
      "step",
      "step",
      "b: accept",
    ]);
    const next = await run(s, "next");
    expect(next.text).toContain("✗ a:#3 has a keepalive timer (timers: none)");
    expect(next.text).toContain(
      "hint: type the step's commands; the last one's output is what is read",
    );
    await run(s, "sockopt #3 keepalive on");
    expect((await run(s, "next")).text).toContain("Step 2/9: The first probe");
  });
});
