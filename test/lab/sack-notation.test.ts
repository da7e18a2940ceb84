/**
 * SACK blocks in the lab's notation are relative, like the ACK field they
 * accompany: the ladder draws them so, segment patterns match them so, and
 * `inject` reads them so.
 */
import { describe, expect, test } from "bun:test";
import { checkExpect } from "../../src/lab/lab-checks.ts";
import { established, linesOf, run, runAll, session } from "./helpers.ts";

describe("SACK blocks relative to the ISN", () => {
  test("the ladder and a segment check name the out-of-order bytes as the data's sender counts them", async () => {
    const { s } = session();
    await established(s);
    // The first of two segments is held back: the second arrives first.
    await runAll(s, ["reorder next 1 out data", "send #3 --bytes 2896", "step"]);
    const lines = linesOf((await run(s, "ladder 1")).blocks[0]);
    expect(lines[1]).toContain("|<-- . 1:1(0) ack 1 win 65535 <TS val 31 ecr 21,sack 1449:2897>");
    const ctx = s.checkContext();
    expect(checkExpect(ctx, "segment b:#4 > a . 1:1(0) ack 1 <sack 1449:2897,...>", 0).ok).toBe(
      true,
    );
    const wrong = checkExpect(ctx, "segment b:#4 > a . 1:1(0) ack 1 <sack 1:1461,...>", 0);
    expect(wrong.ok).toBe(false);
    expect(wrong.message + (wrong.hint ?? "")).toContain(
      "its options are <TS val 31 ecr 21,sack 1449:2897>",
    );
  });

  test("inject takes SACK blocks relative to the host's own ISN, as the ladder shows them", async () => {
    const { s } = session();
    // Without timestamps, so that the crafted ACK needs no TS option to be taken.
    await run(s, "set timestamps off");
    await established(s);
    await runAll(s, ["b: drop next 2 in data", "send #3 --bytes 2920"]);
    await run(s, "inject #3 < . 1:1(0) ack 1 <sack 1461:2921>");
    const tcb = s.world.hosts[0]?.sockets.tcbOf(3);
    const iss = tcb?.iss ?? 0;
    expect(tcb?.congestion.sackedRanges).toEqual([[(iss + 1461) >>> 0, (iss + 2921) >>> 0]]);
    expect((await run(s, "ladder 1")).text).toContain("<sack 1461:2921>");
  });
});
