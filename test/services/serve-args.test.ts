import { expect, test } from "bun:test";
import { parseServeArgs } from "../../cli/serve.ts";
import { ms } from "../../src/clock/time.ts";

test("serve: idle timeouts default on, keep-alive off; seconds given become milliseconds; bad values are usage errors", () => {
  const d = parseServeArgs([]);
  if (d === "help") throw new Error("help");
  expect([d.idleTimeout, d.httpKeepAlive, d.keepAlive]).toEqual([
    ms(300_000),
    ms(15_000),
    undefined,
  ]);
  const v = parseServeArgs(["--idle-timeout", "30", "--http-keepalive", "0", "--keepalive", "2.5"]);
  if (v === "help") throw new Error("help");
  expect([v.idleTimeout, v.httpKeepAlive, v.keepAlive]).toEqual([ms(30_000), ms(0), ms(2500)]);
  expect(() => parseServeArgs(["--idle-timeout", "soon"])).toThrow(/--idle-timeout/);
  expect(() => parseServeArgs(["--keepalive", "0.5"])).toThrow(/at least 1 second/);
});
