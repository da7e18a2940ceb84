/**
 * Events after processing, not during (src/tcp/events.ts): a connection's
 * callbacks run once the segment that caused them has been processed —
 * state, sequence variables and the host's counters already updated — and
 * what they do (read, write, close) is processed on its own, after that
 * segment, never re-entering the host while it is still on it.
 */
import { describe, expect, test } from "bun:test";
import { Sockets } from "../../src/api/sockets.ts";
import { EPOCH, instant, ms } from "../../src/clock/time.ts";
import { VirtualClock } from "../../src/clock/virtual-clock.ts";
import type { LinkEnd } from "../../src/link/link.ts";
import { SimWire } from "../../src/link/sim-wire.ts";
import { attach } from "../../src/runtime/attach.ts";
import { Host } from "../../src/stack/host.ts";
import { State, stateName } from "../../src/tcp/state.ts";
import type { TcbView } from "../../src/tcp/view.ts";
import { Rng } from "../../src/util/rng.ts";
import { ip } from "../../src/wire/addr.ts";
import { parsePacket } from "../../src/wire/packet.ts";
import { seqAdd } from "../../src/wire/seq.ts";
import { Flag } from "../../src/wire/tcp-types.ts";

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

/** A link that tells `seen` what the host puts on it, then passes it on. */
function recorded(inner: LinkEnd, seen: (packet: Uint8Array) => void): LinkEnd {
  return {
    send(p) {
      seen(p);
      inner.send(p);
    },
    onReceive: (handler) => inner.onReceive(handler),
    get mtu() {
      return inner.mtu;
    },
  };
}

/** a 10.0.0.1 and b 10.0.0.2 on a wire without delay; b's packets are logged into `trace`. */
function world() {
  const clock = new VirtualClock();
  const wire = new SimWire(clock, new Rng(1).fork("wire"), { mtu: 1500 });
  // b acknowledges at once: any ACK it owes would leave as soon as its output routine runs.
  const a = new Host({ name: "a", addr: ip("10.0.0.1"), isn: { fixed: 1000 } });
  const b = new Host({
    name: "b",
    addr: ip("10.0.0.2"),
    isn: { fixed: 5000 },
    tcp: { delayedAck: ms(0) },
  });
  const trace: string[] = [];
  const aa = attach(a, wire.a, clock);
  const ab = attach(
    b,
    recorded(wire.b, (p) => {
      const r = parsePacket(p);
      if (!r.ok || r.value.kind !== "tcp") return;
      const s = r.value.tcp;
      trace.push(`> ack ${s.ack - 1001} flags ${s.flags} "${str(s.payload)}"`);
    }),
    clock,
  );
  return { clock, a, b, aa, ab, trace };
}

/** Records the calls into `host` made while it is still processing a packet. */
function reentries(host: Host): string[] {
  const seen: string[] = [];
  let receiving = 0;
  const receive = host.receive.bind(host);
  host.receive = (p, now) => {
    if (receiving > 0) seen.push("receive");
    receiving++;
    try {
      receive(p, now);
    } finally {
      receiving--;
    }
  };
  const takeOutput = host.takeOutput.bind(host);
  host.takeOutput = () => {
    if (receiving > 0) seen.push("takeOutput");
    return takeOutput();
  };
  return seen;
}

describe("events are delivered after the segment that raised them", () => {
  test("a readable callback sees the whole segment processed; its read, write and close go out after it, in order", () => {
    const { clock, a, b, aa, ab, trace } = world();
    const listener = b.listen(80, 1);
    if (typeof listener === "string") throw new Error(listener);
    const client = a.connect({ addr: ip("10.0.0.2"), port: 80 }, EPOCH);
    if (typeof client === "string") throw new Error(client);
    aa.flush();
    clock.runUntilIdle({ maxTime: instant(10) });
    const server = listener.accept() as TcbView;
    expect(server.state).toBe(State.Established);

    const reentered = reentries(b);

    const events: string[] = [];
    /** What each data callback saw: the state, RCV.NXT, the segments b counted as delivered. */
    const seen: { state: string; rcvNxt: number; delivered: number }[] = [];
    const before = b.stats().packets["tcp.delivered"] ?? 0;
    server.observe({
      stateChanged: (_t, from, to) => events.push(`${stateName(from)} → ${stateName(to)}`),
      readable: (t) => {
        events.push(`readable in ${stateName(t.state)}`);
        if (t.recvAvailable === 0) return; // the FIN: end of stream
        const delivered = (b.stats().packets["tcp.delivered"] ?? 0) - before;
        seen.push({ state: stateName(t.state), rcvNxt: t.rcvNxt, delivered });
        if (seen.length === 1) {
          trace.push(`callback reads "${str(t.recv(100, clock.now()))}"`);
          return;
        }
        trace.push(`callback reads "${str(t.recv(100, clock.now()))}"`);
        t.send(text("pong"), clock.now());
        t.close(clock.now());
        ab.flush(); // as the sockets layer does after a call: it waits for the packet's end
        trace.push("callback done");
      },
    });

    // a's "ping" waits behind its first byte (Nagle), so the FIN joins it in one segment.
    client.send(text("x"), clock.now());
    client.send(text("ping"), clock.now());
    client.close(clock.now());
    aa.flush();
    clock.runUntilIdle({ maxTime: instant(10) });
    trace.splice(0, trace.indexOf('callback reads "ping"'));

    expect(reentered).toEqual([]);
    // Each callback ran once its segment was processed: RCV.NXT past it (and
    // past the FIN that came with "ping": already CLOSE-WAIT), the segment
    // already counted by the host.
    expect(seen).toEqual([
      { state: "ESTABLISHED", rcvNxt: seqAdd(1001, 1), delivered: 1 },
      { state: "CLOSE-WAIT", rcvNxt: seqAdd(1001, 1 + 4 + 1), delivered: 2 },
    ]);
    // The callback ran before anything of b's answer left; its reply carries
    // the ACK of "ping" and the FIN, and its own FIN: one segment, after it.
    expect(trace.slice(0, 3)).toEqual([
      'callback reads "ping"',
      "callback done",
      `> ack 6 flags ${Flag.FIN | Flag.PSH | Flag.ACK} "pong"`,
    ]);
    // The events of the segment in the order raised, then the one the callback's close raised.
    expect(events).toEqual([
      "readable in ESTABLISHED", // "x"
      "readable in CLOSE-WAIT", // "ping", delivered once the FIN was processed too
      "readable in LAST-ACK", // the FIN (end of stream), after the callback closed
      "ESTABLISHED → CLOSE-WAIT",
      "CLOSE-WAIT → LAST-ACK",
      "LAST-ACK → CLOSED",
    ]);
    expect(server.state).toBe(State.Closed);
  });

  test("a blocked recv completes from the event without taking the host's output mid-packet", async () => {
    const { clock, a, b, aa, ab } = world();
    const sockets = new Sockets(b, ab);
    const lfd = sockets.socket("tcp") as number;
    sockets.bind(lfd, 80);
    sockets.listen(lfd);
    const accepting = sockets.accept(lfd);
    const client = a.connect({ addr: ip("10.0.0.2"), port: 80 }, EPOCH);
    if (typeof client === "string") throw new Error(client);
    aa.flush();
    clock.runUntilIdle({ maxTime: instant(10) });
    const fd = (await accepting) as number;

    const reentered = reentries(b);

    const reading = sockets.recv(fd);
    client.send(text("hello"), clock.now());
    aa.flush();
    clock.runUntilIdle({ maxTime: instant(10) });
    const got = await reading;
    expect(got instanceof Uint8Array ? str(got) : got).toBe("hello");
    // The read (and the flush that follows it) ran after b had processed the segment.
    expect(reentered).toEqual([]);
    expect(client.sndUna).toBe(seqAdd(1001, 5));
  });
});
