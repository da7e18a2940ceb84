/**
 * `accept` without #ID takes the first listener with a completed connection,
 * as an application waiting on all its listeners would; with none ready, the
 * first listener, whose empty queue it reports.
 */
import { expect, test } from "bun:test";
import { run, runAll, session } from "./helpers.ts";

test("a second listener's connection is accepted without naming the listener", async () => {
  const { s } = session();
  await runAll(s, ["b: listen 80", "b: listen 81"]);
  const early = await run(s, "b: accept");
  expect(early.text).toContain("nothing to accept yet: the accept queue of #3 is empty");
  await runAll(s, ["connect 10.0.0.2 81", "step", "step", "step"]);
  const r = await run(s, "b: accept");
  expect(r.text).toContain("#5 accepted on #4: 10.0.0.2:81 ← 10.0.0.1:49152 ESTABLISHED");
});
