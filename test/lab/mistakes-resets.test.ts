import { describe, expect, test } from "bun:test";
import { linesOf, run, runAll, session } from "./helpers.ts";

describe("what the resets, blind-attacks, backlog and keepalive labs need of the engine", () => {
  test("a SYN injected into a connection keeps the relative numbers of its real SYN", async () => {
    const { s } = session();
    await runAll(s, [
      "set timestamps off",
      "b: listen 80",
      "connect b 80",
      "step",
      "step",
      "step",
      "b: accept",
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
});
