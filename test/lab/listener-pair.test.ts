/**
 * An IPv4 listener and an IPv6-only one on the same port are two sockets
 * with two queues (RFC 3493 §5.3: IPV6_V6ONLY frees the port for AF_INET);
 * each row of the state table shows its own listener's figures.
 */
import { expect, test } from "bun:test";
import { linesOf, run, runAll, session } from "./helpers.ts";

test("listen b 80 and listen b 80 -6: each row its own backlog, accept queue and half-open count", async () => {
  const { s } = session();
  await runAll(s, ["b: listen 80 4", "b: listen 80 2 -6"]);
  // An IPv4 handshake completes: it waits in the IPv4 listener's queue.
  await runAll(s, ["connect b 80", "step", "step", "step"]);
  // An IPv6 one is under way: the IPv6 listener holds it half-open.
  await runAll(s, ["connect [fd00::2]:80", "step"]);
  const rows = linesOf((await run(s, "b: state")).blocks[0]);
  expect(rows.slice(0, 2)).toEqual([
    "#3|*:80|*|LISTEN|||||||||1/4",
    "#4|[::]:80|*|LISTEN|||||||1 half-open||0/2",
  ]);
});
