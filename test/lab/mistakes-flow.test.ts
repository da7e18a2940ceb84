/**
 * The flow-control labs refuse the usual mistakes: for each lab, a step done
 * the wrong way (a setting on the wrong host, a fault rule left out, a read
 * of the whole buffer instead of one byte, a message written in one piece)
 * is refused by `next` with a hint that says what to look at, and the same
 * step done right is accepted. Simulated world, fixed seed.
 */
import { describe, expect, test } from "bun:test";
import { run, runAll } from "./helpers.ts";
import { accepted, predict, refused, restartAt, startAt } from "./lab-steps.ts";

/** a:#3 → b:80, accepted as b:#4: step 1 of zero-window after its setting. */
const OPEN = ["b: listen 80", "connect 10.0.0.2 80", "step", "step", "step", "b: accept"];

describe("flow-control labs refuse the usual mistakes with a hint", () => {
  test("zero-window: the small buffer set on the sender, not the receiver", async () => {
    const { s } = await startAt("zero-window", 0);
    // The b: prefix forgotten on the setting: a gets the small buffer, b offers 65535.
    await runAll(s, ["set rcvBuf 8688", ...OPEN]);
    const text = await refused(s, 1);
    expect(text).toContain("✗ b sent a S. 0:0(0) ack 1 win 8688");
    expect(text).toContain("hint: its window is 65535, not 8688");
    expect(text).toContain("✗ a:#3 SND.WND = 8688 bytes (it is 65535 bytes)");
    // Done right, from a fresh world (the connection already has its window).
    await run(s, "lab start zero-window restart");
    await runAll(s, ["b: set rcvBuf 8688", ...OPEN]);
    await accepted(s, 2);
  });

  test("zero-window: the window update not dropped (the fault rule left out)", async () => {
    const { s, lab } = await startAt("zero-window", 6);
    await predict(s, lab, 6);
    await run(s, "b: recv #4");
    const text = await refused(s, 7);
    expect(text).toContain("✗ b sent a . 1:1(0) ack 8689 win 8688 dropped");
    expect(text).toContain("hint: it was not dropped");
    // The update is on its way: done right, from a fresh world.
    await restartAt(s, "zero-window", 6);
    await predict(s, lab, 6);
    await runAll(s, ["b: drop next 1 out ack", "b: recv #4"]);
    await accepted(s, 8);
  });

  test("silly-window: the whole buffer read instead of one byte", async () => {
    const { s, lab } = await startAt("silly-window", 1);
    await predict(s, lab, 1);
    // recv without a count reads everything: the window opens by 2896, not 1.
    await runAll(s, ["b: recv #4", "step", "step"]);
    const text = await refused(s, 2);
    expect(text).toContain("✗ b sent a . 1:1(0) ack 2897 win 1");
    expect(text).toContain("hint: its window is 2896, not 1");
    expect(text).toContain("✗ b:#4 rcvq = 2896 bytes (it is 3 bytes)");
    await restartAt(s, "silly-window", 1);
    await predict(s, lab, 1);
    await runAll(s, ["b: recv #4 1", "step", "step"]);
    await accepted(s, 3);
  });

  test("nagle-delayed-ack: the request written in one piece", async () => {
    const { s, lab } = await startAt("nagle-delayed-ack", 1);
    await predict(s, lab, 1);
    await run(s, 'send #3 "GET / HTTP/1.1\\r\\nHost: b\\r\\n\\r\\n"');
    const text = await refused(s, 2);
    expect(text).toContain("✗ a sent b:80 P. 1:17(16) ack 1");
    expect(text).toContain("hint: it is 1:28(27), not 1:17(16)");
    expect(text).toContain("✗ a:#3 SND.NXT = 17 (it is 28)");
    await restartAt(s, "nagle-delayed-ack", 1);
    await predict(s, lab, 1);
    await runAll(s, [
      'send #3 "GET / HTTP/1.1\\r\\n"',
      'send #3 "Host: b\\r\\n"',
      'send #3 "\\r\\n"',
    ]);
    await accepted(s, 3);
  });

  test("nagle-delayed-ack: the delayed ACK looked for before the clock moved", async () => {
    const { s } = await startAt("nagle-delayed-ack", 2);
    // `clock` alone: the request line is still on the wire, nothing is delayed yet.
    await run(s, "clock");
    const text = await refused(s, 3);
    expect(text).toContain("✗ b received a P. 1:17(16) ack 1");
    expect(text).toContain("hint: nothing has happened in this step yet");
    await runAll(s, ["step", "clock"]);
    await accepted(s, 4);
  });
});
