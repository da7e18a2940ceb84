/**
 * Per-packet work independent of the number of connections (issue 12): the
 * host looks only at the TCBs a packet, a timer or a user call touched, and
 * finds its next deadline in a heap — never by walking every connection.
 * The bound is counted (TCB methods called per packet), not timed.
 */
import { afterEach, describe, expect, spyOn, test } from "bun:test";
import fc from "fast-check";
import { State } from "../../src/tcp/state.ts";
import { Tcb } from "../../src/tcp/tcb.ts";
import { bytes, connected, pump } from "./util.ts";

const spies: { mockRestore(): void }[] = [];
afterEach(() => {
  for (const s of spies.splice(0)) s.mockRestore();
});

/** Counts calls of the TCB methods a scan over connections would make. */
function countVisits(): () => number {
  const drain = spyOn(Tcb.prototype, "drainOutput");
  const pollAt = spyOn(Tcb.prototype, "pollAt");
  const onTimer = spyOn(Tcb.prototype, "onTimer");
  spies.push(drain, pollAt, onTimer);
  const base = () => drain.mock.calls.length + pollAt.mock.calls.length + onTimer.mock.calls.length;
  const start = base();
  return () => base() - start;
}

describe("per-packet work does not grow with idle connections", () => {
  test("a data segment to one of 2000 idle connections visits a handful of TCBs", () => {
    const visitsWith = (n: number): number => {
      const { a, b, clients } = connected(n);
      const one = clients[n >> 1] as Tcb;
      one.send(bytes(100), 1);
      const packets = a.takeOutput();
      expect(packets.length).toBe(1);
      const visits = countVisits();
      for (const p of packets) b.receive(p, 1);
      b.takeOutput();
      b.pollAt();
      b.poll(1);
      b.takeOutput();
      const n1 = visits();
      for (const s of spies.splice(0)) s.mockRestore();
      return n1;
    };
    const few = visitsWith(2);
    const many = visitsWith(2000);
    expect(many).toBe(few);
    expect(many).toBeLessThanOrEqual(6);
  });

  test("a timer due on one connection among 2000 runs that one only", () => {
    const { b, servers } = connected(2000, { keepAliveIdle: 60_000 });
    // One connection with keep-alive: its probe is the only deadline.
    const one = servers[7] as Tcb;
    one.setKeepAlive(true, 10);
    expect(b.pollAt()).toBe(60_010);
    const visits = countVisits();
    b.poll(60_010);
    const out = b.takeOutput();
    expect(out.length).toBe(1); // the probe
    expect(visits()).toBeLessThanOrEqual(4);
    expect(one.keepAlive.probes).toBe(1);
  });

  test("the host's next deadline is always the earliest of its TCBs', whatever user calls did (seeded)", () => {
    const call = fc.record({
      conn: fc.integer({ min: 0, max: 5 }),
      side: fc.boolean(),
      what: fc.constantFrom(
        "send",
        "recv",
        "close",
        "abort",
        "keepalive",
        "nodelay",
        "deliver",
        "drop",
        "time",
      ),
      n: fc.integer({ min: 1, max: 4000 }),
    });
    fc.assert(
      fc.property(fc.array(call, { minLength: 1, maxLength: 60 }), (calls) => {
        const { a, b, clients, servers } = connected(6, { keepAliveIdle: 5_000 });
        let now = 1;
        const check = () => {
          for (const h of [a, b]) {
            let min: number | undefined;
            for (const t of h.connections()) {
              const at = t.pollAt();
              if (at !== undefined && (min === undefined || at < min)) min = at;
            }
            expect(h.pollAt()).toBe(min);
          }
        };
        for (const c of calls) {
          const tcb = (c.side ? clients : servers)[c.conn] as Tcb;
          const h = c.side ? a : b;
          switch (c.what) {
            case "send":
              tcb.send(bytes(c.n), now);
              break;
            case "recv":
              tcb.recv(c.n, now);
              break;
            case "close":
              tcb.close(now);
              break;
            case "abort":
              tcb.abort(now);
              break;
            case "keepalive":
              tcb.setKeepAlive(c.n % 2 === 0, now);
              break;
            case "nodelay":
              tcb.setNoDelay(c.n % 2 === 0, now);
              break;
            case "deliver":
              pump(a, b, now);
              break;
            case "drop":
              h.takeOutput(); // lost on the wire
              break;
            case "time": {
              now += c.n;
              for (const x of [a, b]) {
                const at = x.pollAt();
                if (at !== undefined && at <= now) x.poll(now);
              }
              break;
            }
          }
          check();
        }
        for (const t of [...clients, ...servers]) expect(t.state).not.toBe(State.Listen);
      }),
      { seed: 7, numRuns: 60 },
    );
  });
});
