/**
 * `TS.Recent` as a field: checks and questions read the peer's TSval that a
 * connection's next segment echoes (RFC 7323 §4.3), as `state #ID` shows it.
 */
import { describe, expect, test } from "bun:test";
import { fieldNamed } from "../../src/lab/fields.ts";
import { checkExpect } from "../../src/lab/lab-checks.ts";
import { established, run, runAll, session } from "./helpers.ts";

describe("the TS.Recent field", () => {
  test("is the peer's last TSval, raw, and what the next ACK echoes", async () => {
    const { s } = session();
    await runAll(s, ["b: set tsValStart 5000"]);
    await established(s);
    const ok = (line: string) => checkExpect(s.checkContext(), line, 0).ok;
    // b's SYN-ACK left at 10 ms with TSval 5000; a's ACK at 20 ms with TSval 21.
    expect(ok("field a:#3 TS.Recent = 5000")).toBe(true);
    expect(ok("field b:#4 ts_recent = 21")).toBe(true);
    expect((await run(s, "state #3")).text).toContain("TS.Recent 5000");
    expect(fieldNamed("ts.recent")?.name).toBe("TS.Recent");
  });

  test("has no value without timestamps", async () => {
    const { s } = session();
    await run(s, "set timestamps off");
    await established(s);
    const r = checkExpect(s.checkContext(), "field a:#3 TS.Recent = 0", 0);
    expect(r.ok).toBe(false);
  });
});
