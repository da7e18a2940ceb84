/**
 * The connection-management labs refuse the usual mistakes: for each lab, a
 * step done the wrong way (the wrong host, port or socket, or a command
 * left out) is refused by `next` with a hint that says what to look at, and
 * the same step done right is accepted. Simulated world, fixed seed.
 */
import { describe, expect, test } from "bun:test";
import { run, runAll } from "./helpers.ts";
import { accepted, doStepCommands, doSteps, predict, refused, startAt } from "./lab-steps.ts";

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
