/**
 * Per-packet work independent of the number of connections (issue 12): the
 * host looks only at the TCBs a packet, a timer or a user call touched, and
 * finds its next deadline in a heap — never by walking every connection.
 * The bound is counted (TCB methods called per packet), not timed.
 */
import { afterEach, describe, expect, spyOn, test } from "bun:test";
import fc from "fast-check";
import { type Instant, instant, ms } from "../../src/clock/time.ts";
import { State } from "../../src/tcp/state.ts";
import { Tcb } from "../../src/tcp/tcb.ts";
import { B, bytes, connected, pump } from "./util.ts";

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
      one.send(bytes(100), instant(1));
      const packets = a.takeOutput();
      expect(packets.length).toBe(1);
      const visits = countVisits();
      for (const p of packets) b.receive(p, instant(1));
      b.takeOutput();
      b.pollAt();
      b.poll(instant(1));
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
    const { b, servers } = connected(2000, { keepAliveIdle: ms(60_000) });
    // One connection with keep-alive: its probe is the only deadline.
    const one = servers[7] as Tcb;
    one.setKeepAlive(true, instant(10));
    expect(b.pollAt()).toBe(instant(60_010));
    const visits = countVisits();
    b.poll(instant(60_010));
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
        const { a, b, clients, servers } = connected(6, { keepAliveIdle: ms(5_000) });
        let now = 1;
        const check = () => {
          for (const h of [a, b]) {
            let min: Instant | undefined;
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
              tcb.send(bytes(c.n), instant(now));
              break;
            case "recv":
              tcb.recv(c.n, instant(now));
              break;
            case "close":
              tcb.close(instant(now));
              break;
            case "abort":
              tcb.abort(instant(now));
              break;
            case "keepalive":
              tcb.setKeepAlive(c.n % 2 === 0, instant(now));
              break;
            case "nodelay":
              tcb.setNoDelay(c.n % 2 === 0, instant(now));
              break;
            case "deliver":
              pump(a, b, instant(now));
              break;
            case "drop":
              h.takeOutput(); // lost on the wire
              break;
            case "time": {
              now += c.n;
              for (const x of [a, b]) {
                const at = x.pollAt();
                if (at !== undefined && at <= now) x.poll(instant(now));
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

describe("TIME-WAIT and half-open entries are lean and bounded", () => {
  test("TIME-WAIT past settings.timeWaitLimit ends the oldest early, counted", () => {
    const { a, b, clients, servers } = connected(8, { timeWaitLimit: 5 });
    for (const t of clients) t.close(instant(1));
    pump(a, b, instant(1));
    // The server side closes one by one: its peers enter TIME-WAIT in that order.
    for (const t of servers) {
      t.close(instant(2));
      pump(a, b, instant(2));
    }
    const inTimeWait = a.connections().filter((t) => t.state === State.TimeWait);
    expect(inTimeWait.length).toBe(5);
    // The three closed first went first; the five latest remain.
    expect(inTimeWait).toEqual(clients.slice(3));
    expect(a.stats().packets["tcp.time-wait-reaped"]).toBe(3);
    for (const t of clients.slice(0, 3)) expect(t.state).toBe(State.Closed);
  });

  test("TIME-WAIT and SYN-RECEIVED with 1 MiB buffers hold no buffer", () => {
    const { a, b, clients } = connected(2, { rcvBuf: 1 << 20, sndBuf: 1 << 20 });
    const c = clients[0] as Tcb;
    c.send(bytes(50_000), instant(1));
    pump(a, b, instant(1));
    for (const t of b.connections()) {
      t.recv(1 << 20, instant(2));
      t.close(instant(2));
    }
    c.close(instant(2));
    pump(a, b, instant(2));
    expect(c.state).toBe(State.TimeWait);
    expect(c.sendBuf.bytes.chunkCount + c.rcvQueue.chunkCount).toBe(0);
    // A SYN to a listener with no accept() yet: a half-open entry.
    b.listen(81, 4);
    const half = a.connect({ addr: B, port: 81 }, instant(3));
    if (typeof half === "string") throw new Error(half);
    for (const p of a.takeOutput()) b.receive(p, instant(3));
    const synRcvd = b.connections().find((t) => t.state === State.SynReceived) as Tcb;
    expect(synRcvd.sendBuf.bytes.chunkCount + synRcvd.rcvQueue.chunkCount).toBe(0);
  });
});
