import { describe, expect, test } from "bun:test";
import { EPOCH, type Instant, instant, later, max, ms } from "../../src/clock/time.ts";
import type { Host } from "../../src/stack/host.ts";
import type { Listener } from "../../src/tcp/listener.ts";
import { State } from "../../src/tcp/state.ts";
import type { TcbView } from "../../src/tcp/view.ts";
import { parseIcmpv6 } from "../../src/wire/icmpv6.ts";
import { emitIpv6, NextHeader, parseIpv6 } from "../../src/wire/ipv6.ts";
import { ip6 } from "../../src/wire/ipv6-addr.ts";
import { buildUdpPacket } from "../../src/wire/packet.ts";
import { buildIcmpv6Packet, buildUdpPacket6, parsePacket6 } from "../../src/wire/packet6.ts";
import { A, B, bytes, host, pump } from "./util.ts";

const A6 = ip6("fd00::1");
const B6 = ip6("fd00::2");

function pair(opts: Parameters<typeof host>[1] = {}): { a: Host; b: Host } {
  return { a: host("a", { addr6: A6, ...opts }), b: host("b", { addr6: B6, ...opts }) };
}

/**
 * Exchanges packets from `now` and runs both hosts' timers due within the
 * next second (delayed ACKs, Nagle's waits); returns the time reached.
 */
function run(a: Host, b: Host, now: Instant): Instant {
  pump(a, b, now);
  const until = later(now, ms(1000));
  for (let i = 0; i < 100; i++) {
    const at = [a.pollAt(), b.pollAt()].filter((t) => t !== undefined).sort((x, y) => x - y)[0];
    if (at === undefined || at > until) break;
    now = max(now, at);
    a.poll(now);
    b.poll(now);
    pump(a, b, now);
  }
  return until;
}

/** The ICMPv6 messages in `packets` (whole packets only). */
function icmp6Of(packets: Uint8Array[]) {
  return packets.map((p) => {
    const r = parsePacket6(p);
    if (!r.ok || r.value.kind !== "icmpv6") throw new Error("not an ICMPv6 packet");
    return { ip: r.value.ip, msg: r.value.icmpv6 };
  });
}

describe("TCP over IPv6", () => {
  test("handshake, data both ways and close", () => {
    const { a, b } = pair();
    const listener = b.listen(80, 4) as Listener;
    const client = a.connect({ family: 6, addr: B6, port: 80 }, EPOCH) as TcbView;
    expect(typeof client).toBe("object");
    const syn = a.takeOutput();
    expect(syn.length).toBe(1);
    const synIp = parseIpv6(syn[0]!);
    expect(synIp.ok && synIp.value.header.hopLimit).toBe(64);
    expect(synIp.ok && synIp.value.header.flowLabel).toBe(0);
    for (const p of syn) b.receive(p, EPOCH);
    pump(a, b, EPOCH);
    const server = listener.accept() as TcbView;
    expect(client.state).toBe(State.Established);
    expect(server.state).toBe(State.Established);
    expect(server.remote).toEqual({ family: 6, addr: A6, port: client.local.port });
    // MSS over IPv6 at MTU 1500: 1440 (RFC 8200 §3: a 40-byte header).
    const big = bytes(5000, 4);
    client.send(big, EPOCH);
    let now = run(a, b, EPOCH);
    expect(server.recv(10_000, now)).toEqual(big);
    server.send(bytes(300, 5), now);
    now = run(a, b, now);
    expect(client.recv(1000, now)).toEqual(bytes(300, 5));
    client.close(now);
    now = run(a, b, now);
    server.close(now);
    run(a, b, now);
    expect(server.state).toBe(State.Closed);
    expect(client.state).toBe(State.TimeWait);
    expect(a.stats().packets["ip6.out"]).toBeGreaterThan(0);
    expect(a.stats().packets["ip.out"]).toBeUndefined();
    expect(b.stats().drops).toEqual({});
  });

  test("a SYN to a closed port is answered with a reset over IPv6", () => {
    const { a, b } = pair();
    a.connect({ family: 6, addr: B6, port: 81 }, EPOCH);
    for (const p of a.takeOutput()) b.receive(p, EPOCH);
    const out = b.takeOutput();
    expect(out.length).toBe(1);
    const r = parsePacket6(out[0]!);
    expect(r.ok && r.value.kind === "tcp" && r.value.ip.header.dst).toEqual(A6);
    expect(b.stats().drops["tcp.no-socket"]).toBe(1);
  });

  test("without an IPv6 address: connect EADDRNOTAVAIL, UDP send EINVAL", () => {
    const a = host("a");
    expect(a.connect({ family: 6, addr: B6, port: 80 }, EPOCH)).toBe("EADDRNOTAVAIL");
    const sock = a.udpBind(0);
    if (typeof sock === "string") throw new Error(sock);
    expect(sock.sendTo({ family: 6, addr: B6, port: 7 }, bytes(4))).toBe("EINVAL");
  });
});

describe("UDP over IPv6", () => {
  test("echo", () => {
    const { a, b } = pair();
    const server = b.udpBind(7);
    const client = a.udpBind(0);
    if (typeof server === "string" || typeof client === "string") throw new Error("bind");
    expect(client.sendTo({ family: 6, addr: B6, port: 7 }, bytes(100, 2))).toBe(100);
    pump(a, b, EPOCH);
    const got = server.recvFrom();
    expect(got?.from).toEqual({ family: 6, addr: A6, port: client.port });
    server.sendTo(got!.from, got!.data);
    pump(a, b, EPOCH);
    expect(client.recvFrom()?.data).toEqual(bytes(100, 2));
  });

  test("a datagram larger than the MTU goes in fragments with one 32-bit Identification", () => {
    const { a, b } = pair();
    const server = b.udpBind(7);
    const client = a.udpBind(0);
    if (typeof server === "string" || typeof client === "string") throw new Error("bind");
    client.sendTo({ family: 6, addr: B6, port: 7 }, bytes(4000, 6));
    const frags = a.takeOutput();
    expect(frags.length).toBe(3);
    const ids = frags.map((p) => {
      const r = parseIpv6(p);
      if (!r.ok || r.value.fragment === undefined) throw new Error("not a fragment");
      expect(p.length).toBeLessThanOrEqual(1500);
      return r.value.fragment.identification;
    });
    expect(new Set(ids).size).toBe(1);
    for (const p of frags) b.receive(p, EPOCH);
    expect(server.recvFrom()?.data).toEqual(bytes(4000, 6));
    expect(b.stats().packets["ip6.reassembled"]).toBe(1);
  });

  test("a closed port: ICMPv6 port unreachable (code 4) quoting the datagram", () => {
    const { b } = pair();
    const pkt = buildUdpPacket6(A6, B6, { srcPort: 5000, dstPort: 9, payload: bytes(20) });
    b.receive(pkt, EPOCH);
    const [err] = icmp6Of(b.takeOutput());
    expect(err?.msg).toMatchObject({ type: "dest-unreachable", code: 4 });
    expect(err?.msg.type === "dest-unreachable" && err.msg.original).toEqual(pkt);
    expect(b.stats().drops["udp.no-socket"]).toBe(1);
    expect(b.stats().packets["icmp6.port-unreachable-out"]).toBe(1);
  });

  test("a zero checksum is dropped (RFC 8200 §8.1)", () => {
    const { b } = pair();
    b.udpBind(9);
    const pkt = buildUdpPacket6(
      A6,
      B6,
      { srcPort: 5000, dstPort: 9, payload: bytes(8) },
      {
        checksum: "none",
      },
    );
    b.receive(pkt, EPOCH);
    expect(b.stats().drops["udp.udp-zero-checksum"]).toBe(1);
    expect(b.takeOutput()).toEqual([]);
  });
});

describe("ICMPv6", () => {
  test("ping: echo request and reply, fragmented both ways", () => {
    const { a, b } = pair();
    const data = bytes(3000, 8);
    a.ping6(B6, 9, 1, data);
    const request = a.takeOutput();
    expect(request.length).toBe(3);
    for (const p of request) b.receive(p, EPOCH);
    const reply = b.takeOutput();
    expect(reply.length).toBe(3);
    for (const p of reply) a.receive(p, EPOCH);
    expect(b.stats().packets["icmp6.echo-replies-out"]).toBe(1);
    expect(a.stats().packets["icmp6.echo-replies-in"]).toBe(1);
    expect(a.stats().packets["ip6.reassembled"]).toBe(1);
  });

  test("a small ping is answered with the same id, seq and data", () => {
    const { b } = pair();
    const data = bytes(56, 1);
    b.receive(buildIcmpv6Packet(A6, B6, { type: "echo-request", id: 3, seq: 4, data }), EPOCH);
    const [reply] = icmp6Of(b.takeOutput());
    expect(reply?.msg).toEqual({ type: "echo-reply", id: 3, seq: 4, data });
    expect(reply?.ip.header.dst).toEqual(A6);
  });

  test("neighbour discovery and unknown informational types are counted and dropped", () => {
    const { b } = pair();
    const ns = buildIcmpv6Packet(A6, B6, {
      type: "other",
      icmpType: 135,
      code: 0,
      body: new Uint8Array(20),
    });
    const unknown = buildIcmpv6Packet(A6, B6, {
      type: "other",
      icmpType: 200,
      code: 0,
      body: new Uint8Array(4),
    });
    b.receive(ns, EPOCH);
    b.receive(unknown, EPOCH);
    expect(b.takeOutput()).toEqual([]);
    expect(b.stats().drops["icmp6.neighbor-discovery"]).toBe(1);
    expect(b.stats().drops["icmp6.unknown-informational"]).toBe(1);
  });

  test("an error arriving is reported to the host's events, never answered", () => {
    const { b } = pair();
    const seen: string[] = [];
    b.events = { icmp6Error: (msg) => seen.push(msg.type) };
    const quote = buildUdpPacket6(B6, A6, { srcPort: 1, dstPort: 2, payload: bytes(4) });
    b.receive(
      buildIcmpv6Packet(A6, B6, { type: "packet-too-big", mtu: 1280, original: quote }),
      EPOCH,
    );
    expect(seen).toEqual(["packet-too-big"]);
    expect(b.takeOutput()).toEqual([]);
  });

  test("an unknown upper layer: Parameter Problem code 1 at its Next Header", () => {
    const { b } = pair();
    const pkt = buildIcmpv6Packet(A6, B6, { type: "echo-request", id: 1, seq: 1, data: bytes(8) });
    pkt[6] = 99;
    b.receive(pkt, EPOCH);
    const [pp] = icmp6Of(b.takeOutput());
    expect(pp?.msg).toMatchObject({ type: "parameter-problem", code: 1, pointer: 6 });
    expect(b.stats().drops["ip6.unknown-protocol"]).toBe(1);
  });

  test("a bad extension-header chain: Parameter Problem at the routing type", () => {
    const { b } = pair();
    const pkt = buildUdpPacket6(
      A6,
      B6,
      { srcPort: 1, dstPort: 2, payload: bytes(8) },
      { extensions: [{ kind: "routing", routingType: 0, segmentsLeft: 1 }] },
    );
    b.receive(pkt, EPOCH);
    const [pp] = icmp6Of(b.takeOutput());
    expect(pp?.msg).toMatchObject({ type: "parameter-problem", code: 0, pointer: 42 });
    expect(b.stats().drops["ip6.unrecognized-routing-type"]).toBe(1);
  });

  test("never about an ICMPv6 error, a multicast destination or a multicast source", () => {
    const { b } = pair();
    const toGroup = buildUdpPacket6(A6, ip6("ff02::1"), {
      srcPort: 1,
      dstPort: 9,
      payload: bytes(4),
    });
    const fromGroup = buildUdpPacket6(ip6("ff02::1"), B6, {
      srcPort: 1,
      dstPort: 9,
      payload: bytes(4),
    });
    // A bad routing header would be answered with a Parameter Problem, but this packet is an error.
    const routed = buildIcmpv6Packet(
      A6,
      B6,
      { type: "time-exceeded", code: 0, original: new Uint8Array(48) },
      { extensions: [{ kind: "routing", routingType: 0, segmentsLeft: 1 }] },
    );
    for (const p of [toGroup, fromGroup, routed]) b.receive(p, EPOCH);
    expect(b.takeOutput()).toEqual([]);
    expect(b.stats().drops["ip6.not-for-us"]).toBe(1);
    expect(b.stats().drops["ip6.bad-source"]).toBe(1);
    expect(b.stats().drops["ip6.unrecognized-routing-type"]).toBe(1);
  });

  test("errors share IPv4's rate limit (RFC 4443 §2.4(f))", () => {
    const { b } = pair({ icmpErrors: { perSecond: 1, burst: 3 } });
    const probe = (port: number) =>
      buildUdpPacket6(A6, B6, { srcPort: 1000, dstPort: port, payload: bytes(4) });
    for (let i = 0; i < 10; i++) b.receive(probe(100 + i), EPOCH);
    expect(b.takeOutput().length).toBe(3);
    expect(b.stats().packets["icmp6.errors-rate-limited"]).toBe(7);
    // One budget for both families: an IPv4 error now finds none left either.
    b.receive(buildUdpPacket(A, B, { srcPort: 1000, dstPort: 200, payload: bytes(4) }), EPOCH);
    expect(b.takeOutput()).toEqual([]);
    expect(b.stats().packets["icmp.errors-rate-limited"]).toBe(1);
    // A second later the bucket has a token again.
    b.receive(probe(300), instant(1000));
    expect(b.takeOutput().length).toBe(1);
  });
});

describe("IPv6 fragments", () => {
  /** One fragment of a UDP datagram, cut by hand (independent of the host's fragmenter). */
  function fragment6(id: number, offset: number, more: boolean, data: Uint8Array): Uint8Array {
    const repr = {
      src: A6,
      dst: B6,
      nextHeader: NextHeader.UDP,
      extensions: [{ kind: "fragment", offset, more, identification: id }] as const,
    };
    const pkt = new Uint8Array(48 + data.length);
    emitIpv6(repr, data.length, pkt, 0);
    pkt.set(data, 48);
    return pkt;
  }
  const udp = buildUdpPacket6(A6, B6, { srcPort: 1, dstPort: 9, payload: bytes(40) }).subarray(40);

  test("overlapping fragments drop the whole datagram (RFC 5722)", () => {
    const { b } = pair();
    b.udpBind(9);
    b.receive(fragment6(7, 0, true, udp.subarray(0, 24)), EPOCH);
    b.receive(fragment6(7, 16, true, udp.subarray(16, 32)), EPOCH);
    b.receive(fragment6(7, 32, false, udp.subarray(32)), EPOCH);
    expect(b.stats().drops["ip6.fragment-overlap"]).toBe(3);
    expect(b.stats().packets["udp.in"]).toBeUndefined();
    expect(b.reassemblyUsage().bytes).toBe(0);
    expect(b.takeOutput()).toEqual([]);
  });

  test("a first fragment alone times out: Time Exceeded code 1 after 60 s", () => {
    const { b } = pair();
    const first = fragment6(8, 0, true, udp.subarray(0, 24));
    b.receive(first, EPOCH);
    expect(b.pollAt()).toBe(instant(60_000));
    b.poll(instant(60_000));
    const [te] = icmp6Of(b.takeOutput());
    expect(te?.msg).toMatchObject({ type: "time-exceeded", code: 1 });
    expect(te?.msg.type === "time-exceeded" && te.msg.original).toEqual(first);
    expect(b.stats().drops["ip6.fragment-timeout"]).toBe(1);
  });
});

test("ICMPv6 checksum of what we send verifies", () => {
  const { a } = pair();
  a.ping6(B6, 1, 1, bytes(10));
  const [p] = a.takeOutput();
  const r = parseIpv6(p!);
  if (!r.ok) throw new Error(r.drop);
  expect(parseIcmpv6(r.value.payload, A6, B6).ok).toBe(true);
});
