/**
 * `recv` counts every byte it read and prints at most the first 256: a
 * window's worth of data would otherwise fill the screen.
 */
import { expect, test } from "bun:test";
import { established, run, runAll, session } from "./helpers.ts";

test("a long read shows its first 256 bytes and its full length", async () => {
  const { s } = session();
  await established(s);
  await runAll(s, ["send #3 --bytes 2000", "step 1s"]);
  const r = await run(s, "b: recv #4");
  const [head, body] = r.text.split("\n");
  expect(head).toBe("#4 read 2000 bytes (the first 256 shown):");
  expect(body).toMatch(/^"abcdefghijklmnopqrstuvwxyz[a-z]*"…$/);
  expect(body?.length).toBe(256 + 3);
  expect((await run(s, "b: state #4")).text).toContain("receive queue 0 bytes");
});

test("a short read is shown whole", async () => {
  const { s } = session();
  await established(s);
  await runAll(s, ["send #3 --bytes 256", "step 1s"]);
  const r = await run(s, "b: recv #4");
  expect(r.text.split("\n")[0]).toBe("#4 read 256 bytes:");
  expect(r.text).not.toContain("…");
});
