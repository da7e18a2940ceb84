/**
 * runtime/attach with a link that delivers in bursts (LinkEnd.onBatchEnd, as
 * the TUN device does): one output pass per burst, after every packet of it
 * has been processed — and a link without it still gets a flush per packet.
 */
import { describe, expect, test } from "bun:test";
import { EPOCH } from "../../src/clock/time.ts";
import { VirtualClock } from "../../src/clock/virtual-clock.ts";
import type { LinkEnd, PacketHandler } from "../../src/link/link.ts";
import { attach } from "../../src/runtime/attach.ts";
import { Host } from "../../src/stack/host.ts";
import { State } from "../../src/tcp/state.ts";
import type { Tcb } from "../../src/tcp/tcb.ts";
import { ip } from "../../src/wire/addr.ts";
import { parseIpv4 } from "../../src/wire/ipv4.ts";
import { parseTcp } from "../../src/wire/tcp.ts";

/** A link end whose arrivals the test delivers by hand, optionally as bursts. */
class HandLink implements LinkEnd {
  readonly mtu = 1500;
  readonly sent: Uint8Array[] = [];
  receiver: PacketHandler | undefined;
  batchEndHandler: (() => void) | undefined;
  /** Packets sent while a burst was being delivered. */
  sentDuringBurst = 0;
  private inBurst = false;
  onBatchEnd?: (handler: () => void) => void;

  constructor(batching: boolean) {
    if (batching) {
      this.onBatchEnd = (h) => {
        this.batchEndHandler = h;
      };
    }
  }
  send(packet: Uint8Array): void {
    this.sent.push(packet);
    if (this.inBurst) this.sentDuringBurst++;
  }
  onReceive(handler: PacketHandler): void {
    this.receiver = handler;
  }
  burst(packets: readonly Uint8Array[]): void {
    this.inBurst = true;
    try {
      for (const p of packets) this.receiver?.(p);
    } finally {
      this.inBurst = false;
      this.batchEndHandler?.();
    }
  }
  take(): Uint8Array[] {
    return this.sent.splice(0);
  }
}

function dataLength(p: Uint8Array): number {
  const ipp = parseIpv4(p);
  if (!ipp.ok) throw new Error(ipp.drop);
  const t = parseTcp(ipp.value.payload, ipp.value.header.src, ipp.value.header.dst);
  if (!t.ok) throw new Error(t.drop);
  return t.value.payload.length;
}

/**
 * Client host A (plain link) and server host B (the link under test), joined
 * by hand; B sends `bytes` to A. Returns B's first burst of data in flight
 * and A's ACKs for it, not yet delivered.
 */
function world(batching: boolean) {
  const clock = new VirtualClock();
  const la = new HandLink(false);
  const lb = new HandLink(batching);
  const a = new Host({ name: "a", addr: ip("10.0.0.1") });
  const b = new Host({ name: "b", addr: ip("10.0.0.2") });
  const aa = attach(a, la, clock);
  const ab = attach(b, lb, clock);
  const listener = b.listen(80, 1);
  if (typeof listener === "string") throw new Error(listener);
  const client = a.connect({ addr: ip("10.0.0.2"), port: 80 }, EPOCH);
  if (typeof client === "string") throw new Error(client);
  aa.flush();
  // Handshake, one packet at a time.
  for (let i = 0; i < 4; i++) {
    for (const p of la.take()) lb.burst([p]);
    for (const p of lb.take()) la.receiver?.(p);
  }
  expect(client.state).toBe(State.Established);
  const server = listener.accept() as Tcb;
  expect(server.state).toBe(State.Established);
  return { clock, la, lb, a, b, aa, ab, client, server };
}

describe("attach: one output pass per burst of a batching link", () => {
  test("a burst of ACKs is answered after its last packet; flushes asked for inside it wait", () => {
    const w = world(true);
    const payload = new Uint8Array(400_000);
    let queued = w.server.send(payload, w.clock.now()) as number;
    const firstWrite = queued;
    w.ab.flush();
    const flight = w.lb.take();
    expect(flight.length).toBe(10); // the initial window
    // A acknowledges them (every second segment, then the delayed ACK).
    for (const p of flight) w.la.receiver?.(p);
    w.clock.runToNextDeadline();
    const acks = w.la.take();
    expect(acks.length).toBeGreaterThanOrEqual(5);
    // While the burst is delivered, B's application refills its buffer from
    // the writable event and asks for a flush, as the sockets layer does.
    let flushesAsked = 0;
    w.server.observe({
      writable: (t) => {
        queued += t.send(payload, w.clock.now()) as number;
        flushesAsked++;
        w.ab.flush();
      },
    });
    w.lb.burst(acks);
    expect(flushesAsked).toBeGreaterThan(0);
    expect(w.lb.sentDuringBurst).toBe(0);
    const after = w.lb.take();
    // What the ACKs allow together (the ten segments acknowledged, slow
    // start's growth) went in the one pass at the end.
    expect(after.length).toBeGreaterThan(10);
    expect(after.every((p) => dataLength(p) > 0)).toBe(true);
    expect(queued).toBeGreaterThan(firstWrite); // the refills did happen
  });

  test("a link without onBatchEnd gets a flush after every packet (the simulated wire's order)", () => {
    const w = world(false);
    w.server.send(new Uint8Array(400_000), w.clock.now());
    w.ab.flush();
    for (const p of w.lb.take()) w.la.receiver?.(p);
    w.clock.runToNextDeadline();
    const acks = w.la.take();
    expect(acks.length).toBeGreaterThanOrEqual(2);
    w.lb.burst(acks);
    expect(w.lb.sentDuringBurst).toBeGreaterThan(0);
  });
});
