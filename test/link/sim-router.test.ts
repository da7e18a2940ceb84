/**
 * The simulated path's router (src/link/sim-router.ts) and the wire that
 * uses it: a packet over the path MTU with DF draws "fragmentation needed"
 * (RFC 1191 §4), one without DF is fragmented (RFC 791 §3.2), and without
 * a router the wire drops it silently, as before.
 */
import { ms } from "../../src/clock/time.ts";
import { describe, expect, test } from "bun:test";
import { VirtualClock } from "../../src/clock/virtual-clock.ts";
import { SimWire } from "../../src/link/sim-wire.ts";
import { tooBigForPath, tooBigForPath6 } from "../../src/link/sim-router.ts";
import { Host } from "../../src/stack/host.ts";
import { Rng } from "../../src/util/rng.ts";
import { ip } from "../../src/wire/addr.ts";
import { icmpErrorQuote, parseIcmp } from "../../src/wire/icmp.ts";
import { parseIpv4 } from "../../src/wire/ipv4.ts";
import { ip6 } from "../../src/wire/ipv6-addr.ts";
import { buildIcmpv6Packet, buildUdpPacket6, parsePacket6 } from "../../src/wire/packet6.ts";
import {
  buildIcmpPacket,
  buildTcpPacket,
  buildUdpPacket,
  tcpSegment,
} from "../../src/wire/packet.ts";

const A = ip("10.0.0.1");
const B = ip("10.0.0.2");
const R = ip("10.0.0.254");
const A6 = ip6("fd00::1");
const B6 = ip6("fd00::2");
const R6 = ip6("fd00::fe");

function payload(n: number): Uint8Array {
  return new Uint8Array(n).map((_, i) => (i * 7) & 0xff);
}

describe("the router of the simulated path", () => {
  test("DF set: fragmentation needed with the next-hop MTU, quoting the header and 8 bytes", () => {
    const seg = buildTcpPacket(
      A,
      B,
      tcpSegment({ srcPort: 4000, dstPort: 80, seq: 7, flags: 0x10, payload: payload(1460) }),
      { dontFragment: true },
    );
    const r = tooBigForPath(seg, 1000, R);
    if (r.kind !== "reply") throw new Error(`expected a reply, got ${r.kind}`);
    const ipp = parseIpv4(r.icmp);
    if (!ipp.ok) throw new Error("bad packet");
    expect(ipp.value.header.src).toBe(R);
    expect(ipp.value.header.dst).toBe(A);
    const msg = parseIcmp(ipp.value.payload);
    if (!msg.ok || msg.value.type !== "dest-unreachable") throw new Error("not unreachable");
    expect(msg.value.code).toBe(4);
    expect(msg.value.nextHopMtu).toBe(1000);
    expect(msg.value.original).toEqual(icmpErrorQuote(seg));
    expect(msg.value.original.length).toBe(28);
  });

  test("DF clear: fragments of at most the MTU, a fragment cut again keeping its offset and MF", () => {
    const dg = buildUdpPacket(A, B, { srcPort: 1, dstPort: 2, payload: payload(3000) });
    const r = tooBigForPath(dg, 1000, R);
    if (r.kind !== "fragments") throw new Error(`expected fragments, got ${r.kind}`);
    const heads = r.packets.map((p) => {
      const h = parseIpv4(p);
      if (!h.ok) throw new Error("bad fragment");
      return [p.length, h.value.header.fragmentOffset, h.value.header.moreFragments];
    });
    expect(heads).toEqual([
      [996, 0, true],
      [996, 976, true],
      [996, 1952, true],
      [100, 2928, false], // 8 bytes of UDP header + 3000 of data
    ]);
    // The second piece, over a narrower hop still: its pieces start at 976, all with MF.
    const again = tooBigForPath(r.packets[1] as Uint8Array, 600, R);
    if (again.kind !== "fragments") throw new Error("expected fragments");
    expect(
      again.packets.map((p) => {
        const h = parseIpv4(p);
        return h.ok ? [h.value.header.fragmentOffset, h.value.header.moreFragments] : [];
      }),
    ).toEqual([
      [976, true],
      [1552, true],
    ]);
  });

  test("no error about an ICMP error, nor about a later fragment", () => {
    const err = buildIcmpPacket(
      B,
      A,
      { type: "dest-unreachable", code: 3, original: payload(1200) },
      { dontFragment: true },
    );
    expect(tooBigForPath(err, 576, R).kind).toBe("drop");
  });

  test("IPv6: Packet Too Big with the next-hop MTU, quoting as much as fits; never about an ICMPv6 error", () => {
    const dg = buildUdpPacket6(A6, B6, { srcPort: 1, dstPort: 2, payload: payload(1400) });
    const r = tooBigForPath6(dg, 1280, R6);
    if (r.kind !== "reply") throw new Error(r.kind);
    const got = parsePacket6(r.icmp);
    if (!got.ok || got.value.kind !== "icmpv6") throw new Error("not ICMPv6");
    expect(got.value.ip.header.src).toEqual(R6);
    expect(got.value.ip.header.dst).toEqual(A6);
    const msg = got.value.icmpv6;
    expect(msg.type).toBe("packet-too-big");
    if (msg.type !== "packet-too-big") return;
    expect(msg.mtu).toBe(1280);
    expect(msg.original).toEqual(dg.subarray(0, 1280 - 48)); // RFC 4443 §2.4(c)
    expect(r.icmp.length).toBe(1280);
    const err = buildIcmpv6Packet(B6, A6, { type: "dest-unreachable", code: 4, original: dg });
    expect(tooBigForPath6(err, 1280, R6).kind).toBe("drop");
  });
});

describe("SimWire with a router", () => {
  test("a host learns the path MTU from it; a UDP datagram crosses in fragments", () => {
    const clock = new VirtualClock();
    const wire = new SimWire(clock, new Rng(1), {
      mtu: 800,
      router: R,
      settings: { delay: ms(5) },
    });
    const a = new Host({ name: "a", addr: A });
    const b = new Host({ name: "b", addr: B });
    const got: number[] = [];
    wire.b.onReceive((p) => {
      const h = parseIpv4(p);
      if (h.ok) got.push(p.length);
      b.receive(p, clock.now());
    });
    wire.a.onReceive((p) => a.receive(p, clock.now()));
    const sock = b.udpBind(9);
    if (typeof sock === "string") throw new Error(sock);
    const from = a.udpBind(0);
    if (typeof from === "string") throw new Error(from);
    from.sendTo({ addr: B, port: 9 }, payload(1400));
    for (const p of a.takeOutput()) wire.a.send(p);
    clock.runUntilIdle();
    expect(got.every((n) => n <= 800)).toBe(true);
    expect(sock.recvFrom()?.data).toEqual(payload(1400));
    expect(wire.counters("a->b").fragmented).toBe(1);
    expect(wire.counters("a->b").dropped.mtu).toBe(0);
    // A DF packet: dropped, and the router's message reaches a.
    const seg = buildTcpPacket(
      A,
      B,
      tcpSegment({ srcPort: 1, dstPort: 2, payload: payload(1000) }),
      {
        dontFragment: true,
      },
    );
    wire.a.send(seg);
    clock.runUntilIdle();
    expect(wire.counters("a->b").dropped.mtu).toBe(1);
    expect(wire.counters("a->b").fragNeededSent).toBe(1);
    expect(a.stats().drops["icmp.no-connection"]).toBe(1); // no connection sent it: ignored
  });

  test("the router's 1280-byte Packet Too Big reaches its sender over a narrower hop: it goes back on the sender's side", () => {
    const clock = new VirtualClock();
    const wire = new SimWire(clock, new Rng(1), { mtu: 1200, router6: R6 });
    const back: Uint8Array[] = [];
    wire.a.onReceive((p) => back.push(p.slice()));
    wire.b.onReceive(() => {});
    wire.a.send(buildUdpPacket6(A6, B6, { srcPort: 1, dstPort: 2, payload: payload(1400) }));
    clock.runUntilIdle();
    expect(back.map((p) => p.length)).toEqual([1280]); // RFC 4443 §2.4(c): as much as fits in 1280
    const got = parsePacket6(back[0] as Uint8Array);
    expect(got.ok && got.value.kind === "icmpv6" && got.value.icmpv6.type).toBe("packet-too-big");
    expect(wire.counters("b->a").dropped.mtu).toBe(0);
  });

  test("without a router a larger packet is just dropped", () => {
    const clock = new VirtualClock();
    const wire = new SimWire(clock, new Rng(1), { mtu: 800 });
    let arrived = 0;
    wire.a.onReceive(() => arrived++);
    wire.b.onReceive(() => arrived++);
    wire.a.send(buildUdpPacket(A, B, { srcPort: 1, dstPort: 2, payload: payload(1400) }));
    clock.runUntilIdle();
    expect(arrived).toBe(0);
    expect(wire.counters("a->b").dropped.mtu).toBe(1);
  });
});
