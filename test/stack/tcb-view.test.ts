/**
 * The Host hands out connections as read-only views (src/tcp/view.ts):
 * outside src/tcp the TCB's variables can be read, never written. The
 * writes below are compile errors, which `bun run check` (tsc) enforces
 * through the @ts-expect-error markers; the test itself checks the reads.
 */
import { expect, test } from "bun:test";
import { EPOCH } from "../../src/clock/time.ts";
import { State } from "../../src/tcp/state.ts";
import type { TcbView } from "../../src/tcp/view.ts";
import { A, B, host, pump } from "./util.ts";

/** Never called: what tsc must refuse outside src/tcp. */
function writesOutsideTcp(t: TcbView): void {
  // @ts-expect-error SND.UNA is written only by segment arrival (src/tcp).
  t.sndUna = 0;
  // @ts-expect-error RCV.WND is written only by src/tcp.
  t.rcvWnd = 0;
  // @ts-expect-error the state changes only through RFC 9293's transitions.
  t.state = State.Closed;
  // @ts-expect-error congestion state is the engine's.
  t.congestion.cwnd = 0;
  // @ts-expect-error SO_KEEPALIVE goes through setKeepAlive().
  t.keepAlive.on = true;
  // @ts-expect-error the lower-level interface is the Host's, not the view's.
  t.input;
}

test("a connection from the Host reads its RFC 9293 §3.3.1 variables through the view", () => {
  expect(typeof writesOutsideTcp).toBe("function");
  const a = host("a");
  const b = host("b");
  if (typeof b.listen(80, 1) === "string") throw new Error("listen");
  const tcb = a.connect({ addr: B, port: 80 }, EPOCH);
  if (typeof tcb === "string") throw new Error(tcb);
  pump(a, b, EPOCH);
  expect(tcb.state).toBe(State.Established);
  expect(tcb.sndUna).toBe(1001);
  expect(tcb.irs).toBe(5000);
  expect(tcb.rcvNxt).toBe(5001);
  expect(a.connection(tcb.local.port, { addr: B, port: 80 })).toBe(tcb);
  expect(b.connections()[0]?.remote).toEqual({ addr: A, port: tcb.local.port });
});
