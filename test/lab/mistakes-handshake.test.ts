/**
 * The handshake lab refuses the usual mistakes with a hint, then accepts the
 * step done right.
 */
import { describe, expect, test } from "bun:test";
import { run, runAll, session } from "./helpers.ts";

async function started() {
  const { s } = session();
  await run(s, "lab start handshake");
  return s;
}

describe("handshake: typical mistakes", () => {
  test("listen typed on the wrong host", async () => {
    const s = await started();
    await run(s, "listen 80");
    const refused = await run(s, "next");
    expect(refused.text).toContain("✗ b:#3 is LISTEN on port 80 (it is CLOSED)");
    expect(refused.text).toContain(
      `hint: a's socket #3 is LISTEN: the step wants it on b — prefix the command with "b:"`,
    );
    expect(s.status().lab?.step).toBe(1);
  });

  test("connect to the wrong port, then right", async () => {
    const s = await started();
    await runAll(s, ["b: listen 80", "next", "connect 10.0.0.2 81"]);
    const refused = await run(s, "next");
    expect(refused.text).toContain("✗ a:#3 is SYN-SENT with b:80 (its peer is port 81)");
    expect(refused.text).toContain("hint: it went to port 81, the step asks for port 80");
    expect(s.status().lab?.step).toBe(2);
    // Done right on a new socket: the step names #3, so start the lab again as its hint says.
    await runAll(s, ["lab start handshake restart", "b: listen 80", "next", "connect 10.0.0.2 80"]);
    expect((await run(s, "next")).text).toContain("Step 3/7");
  });

  test("a skipped step: the SYN-ACK step without stepping the clock", async () => {
    const s = await started();
    await runAll(s, [
      "b: listen 80",
      "next",
      "connect 10.0.0.2 80",
      "next",
      "answer S. 0:0(0) ack 1",
    ]);
    const refused = await run(s, "next");
    expect(refused.text).toContain("✗ b received a S 0:0(0) (no TCP segment in this step)");
    expect(refused.text).toContain(
      "hint: nothing has happened in this step yet: type its commands first",
    );
    await run(s, "step");
    const ok = await run(s, "next");
    expect(ok.text).toContain("✓ you predicted S. 0:0(0) ack 1: right");
    expect(ok.text).toContain("Step 4/7");
  });
});
