/**
 * A failed segment check suggests the "HOST:" prefix only when the closest
 * segment is the one the step asks for, sent by another host — not when it
 * is another host's segment that merely came closest.
 */
import { describe, expect, test } from "bun:test";
import { checkExpect } from "../../src/lab/lab-checks.ts";
import { established, runAll, session } from "./helpers.ts";

/** The hint of `check` over what `step` (a list of commands) did, on an open a→b connection. */
async function hintAfter(before: string[], step: string[], check: string): Promise<string> {
  const { s } = session();
  await established(s);
  await runAll(s, before);
  const mark = s.world.log.length;
  await runAll(s, step);
  const r = checkExpect(s.checkContext(), check, mark);
  expect(r.ok).toBe(false);
  return r.hint ?? "";
}

describe("the wrong-host hint of a segment check", () => {
  test("the same segment from the other host: prefix the command", async () => {
    const hint = await hintAfter([], ["b: send #4 hello"], "segment a:#3 > b:80 P. 1:6(5)");
    expect(hint).toContain("it was sent by b, not a");
    expect(hint).toContain('run it on a: prefix the command with "a:"');
  });

  test("other data at the other host came closest: no prefix suggested", async () => {
    // The step wants a's next segment; all it sees is the last one arriving at b.
    const hint = await hintAfter(["send #3 hello"], ["step"], "segment a:#3 > b:80 P. 6:11(5)");
    expect(hint).toContain("it was received by b, not a");
    expect(hint).toContain("it is 1:6(5), not 6:11(5)");
    expect(hint).not.toContain("prefix the command");
  });
});
