import { describe, expect, test } from "bun:test";
import { established, linesOf, run, runAll, session } from "./helpers.ts";

describe("ladder", () => {
  test("the exact diagram of a three-way handshake", async () => {
    const { s } = session();
    await established(s);
    const r = await run(s, "ladder");
    expect(r.blocks[0]?.kind).toBe("ladder");
    // The tcplab personality: window scaling (shift 0 for a 64 KiB buffer), SACK-permitted and
    // timestamps offered and echoed; each side's TSval is 1 when its connection opens, then +1/ms.
    expect(linesOf(r.blocks[0])).toEqual([
      "    time              a 10.0.0.1.49152                                                    b 10.0.0.2.80",
      "   0.000     SYN-SENT |-- S 0:0(0) win 65535 <mss 1460,wscale 0,sackOK,TS val 1 ecr 0> -------------->|",
      "   0.010              |<-- S. 0:0(0) ack 1 win 65535 <mss 1460,wscale 0,sackOK,TS val 1 ecr 1> -------| SYN-RECEIVED",
      "   0.020  ESTABLISHED |-- . 1:1(0) ack 1 win 65535 <TS val 21 ecr 1> -------------------------------->|",
      "   0.030              |                                                                               | ESTABLISHED",
    ]);
  });

  test("a dropped segment ends in ✕; the retransmission follows one RTO later", async () => {
    const { s } = session();
    await runAll(s, ["b: listen 80", "drop next 1 SYN", "connect b 80", "step"]);
    const lines = linesOf((await run(s, "ladder")).blocks[0]);
    // The copy sent one RTO later carries a TSval 1000 ticks on: the clock runs from the open.
    expect(lines[1]).toBe(
      "   0.000     SYN-SENT |-- S 0:0(0) win 65535 <mss 1460,wscale 0,sackOK,TS val 1 ecr 0> --✕        |",
    );
    expect(lines[2]).toBe(
      "   1.000              |-- S 0:0(0) win 65535 <mss 1460,wscale 0,sackOK,TS val 1001 ecr 0> ------->|",
    );
  });

  test("a segment dropped on arrival is drawn as lost too; data lengths and acks are relative", async () => {
    const { s } = session();
    await established(s);
    await runAll(s, ["b: drop next 1 in data", "send #3 hello", "step"]);
    const lines = linesOf((await run(s, "ladder 1")).blocks[0]);
    expect(lines.slice(1)).toEqual([
      "   0.030              |-- P. 1:6(5) ack 1 win 65535 <TS val 31 ecr 1> --✕     |",
    ]);
  });

  test("ladder N keeps the last N segments; an empty world says so", async () => {
    const { s } = session();
    expect(linesOf((await run(s, "ladder")).blocks[0])).toEqual(["no segments yet"]);
    await established(s);
    const lines = linesOf((await run(s, "ladder 2")).blocks[0]);
    expect(lines).toHaveLength(4); // header, S., ., and b's ESTABLISHED
    expect(lines[1]).toContain("S. 0:0(0)");
    expect((await run(s, "ladder 0")).errors[0]?.usage).toBe("ladder [N]");
  });

  test("injected segments appear from the other side, marked", async () => {
    const { s } = session();
    await run(s, "connect b 80");
    await run(s, "inject #3 < S. 0:0(0) ack 1 win 1000");
    const lines = linesOf((await run(s, "ladder")).blocks[0]);
    // The injected SYN-ACK offers no options: nothing is negotiated, so the ACK carries none.
    expect(lines[2]).toMatch(/\|<-- S\. 0:0\(0\) ack 1 win 1000 \(injected\) -+\|$/);
    expect(lines[3]).toMatch(/ESTABLISHED \|-- \. 1:1\(0\) ack 1 win 65535 -+>\|$/);
  });

  test("two changes in one instant: the earlier on a row of its own, the later on the segment it caused", async () => {
    const { s } = session();
    await established(s);
    // b enters ESTABLISHED at 0.030 and, in the same instant, closes: FIN-WAIT-1 sends the FIN.
    await runAll(s, ["b: close #4", "step"]);
    const lines = linesOf((await run(s, "ladder 3")).blocks[0]);
    expect(lines.slice(2)).toEqual([
      "   0.030              |                                                        | ESTABLISHED",
      "   0.030              |<-- F. 1:1(0) ack 1 win 65535 <TS val 21 ecr 21> -------| FIN-WAIT-1",
      "   0.040   CLOSE-WAIT |-- . 1:1(0) ack 2 win 65535 <TS val 41 ecr 21> -------->|",
    ]);
  });
});
