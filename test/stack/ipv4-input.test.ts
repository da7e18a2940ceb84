import { describe, expect, test } from "bun:test";
import { EPOCH, instant } from "../../src/clock/time.ts";
import type { UdpSocket } from "../../src/stack/udp-socket.ts";
import { ip } from "../../src/wire/addr.ts";
import { emitIpv4, IpProto } from "../../src/wire/ipv4.ts";
import { buildUdpPacket } from "../../src/wire/packet.ts";
import { emitUdp } from "../../src/wire/udp.ts";
import { A, B, bytes, fragments, host } from "./util.ts";

function udpBytes(srcPort: number, dstPort: number, data: Uint8Array): Uint8Array {
  const buf = new Uint8Array(8 + data.length);
  emitUdp({ srcPort, dstPort, payload: data }, A, B, buf);
  return buf;
}

function setByte(p: Uint8Array, i: number, v: number): Uint8Array {
  p[i] = v;
  return p;
}

function boundB(port = 9) {
  const b = host("b");
  const sock = b.udpBind(port) as UdpSocket;
  expect(typeof sock).toBe("object");
  return { b, sock };
}

describe("IPv4 input validation", () => {
  const good = () => buildUdpPacket(A, B, { srcPort: 1000, dstPort: 9, payload: bytes(20) });

  test("a valid datagram reaches the bound socket", () => {
    const { b, sock } = boundB();
    b.receive(good(), EPOCH);
    expect(sock.recvFrom()?.data).toEqual(bytes(20));
    expect(b.stats().drops).toEqual({});
  });

  const cases: [string, (p: Uint8Array) => Uint8Array, string][] = [
    ["bad header checksum", (p) => setByte(p, 10, p[10]! ^ 0x01), "ip.bad-checksum"],
    ["version 6", (p) => setByte(p, 0, 0x65), "ip.bad-version"],
    ["IHL below 5", (p) => setByte(p, 0, 0x44), "ip.bad-header-length"],
    ["shorter than a header", (p) => p.subarray(0, 12), "ip.truncated"],
    ["total length past the bytes", (p) => p.subarray(0, p.length - 4), "ip.truncated"],
    ["empty", () => new Uint8Array(0), "ip.truncated"],
  ];
  for (const [name, mangle, key] of cases) {
    test(`${name} → dropped as ${key}`, () => {
      const { b, sock } = boundB();
      b.receive(mangle(good()), EPOCH);
      expect(sock.queued).toBe(0);
      expect(b.stats().drops).toEqual({ [key]: 1 });
      expect(b.takeOutput()).toEqual([]);
    });
  }

  test("another destination → not-for-us, no reply", () => {
    const { b, sock } = boundB();
    b.receive(
      buildUdpPacket(A, ip("10.0.0.3"), { srcPort: 1, dstPort: 9, payload: bytes(4) }),
      EPOCH,
    );
    expect(sock.queued).toBe(0);
    expect(b.stats().drops).toEqual({ "ip.not-for-us": 1 });
    expect(b.takeOutput()).toEqual([]);
  });

  test("a bad UDP checksum is counted under udp", () => {
    const { b, sock } = boundB();
    b.receive(
      buildUdpPacket(A, B, { srcPort: 1, dstPort: 9, payload: bytes(4) }, { checksum: "bad" }),
      EPOCH,
    );
    expect(sock.queued).toBe(0);
    expect(b.stats().drops).toEqual({ "udp.bad-checksum": 1 });
  });

  test("UDP queue bound: datagrams past the limit are dropped as udp.queue-full", () => {
    const b = host("b");
    const sock = b.udpBind(9, 100) as UdpSocket;
    for (let i = 0; i < 4; i++) {
      b.receive(buildUdpPacket(A, B, { srcPort: 1, dstPort: 9, payload: bytes(40, i) }), EPOCH);
    }
    expect(sock.queued).toBe(2);
    expect(b.stats().drops).toEqual({ "udp.queue-full": 2 });
    expect(sock.recvFrom()?.data).toEqual(bytes(40, 0));
    expect(sock.recvFrom()?.data).toEqual(bytes(40, 1));
  });
});

describe("UDP queue bounded in datagrams as well as bytes", () => {
  test("a flood of tiny datagrams stops at udpQueueDatagrams, counted as udp.queue-full", () => {
    const b = host("b", { udpQueueDatagrams: 50 });
    const sock = b.udpBind(9) as UdpSocket;
    for (let i = 0; i < 1000; i++) {
      b.receive(buildUdpPacket(A, B, { srcPort: 1, dstPort: 9, payload: bytes(1, i) }), EPOCH);
    }
    expect(sock.queued).toBe(50);
    expect(sock.queuedBytes).toBe(50);
    expect(b.stats().drops).toEqual({ "udp.queue-full": 950 });
  });
});

describe("IPv4 fragment reassembly", () => {
  const data = bytes(3000, 7);
  const repr = { src: A, dst: B, protocol: IpProto.UDP, identification: 0x4242 };
  const udp = udpBytes(1000, 9, data);
  const frags = () => fragments(repr, udp, [1480, 2960]);

  function deliver(order: number[], extra: (fs: Uint8Array[]) => Uint8Array[] = (f) => f) {
    const { b, sock } = boundB();
    const fs = extra(frags());
    for (const i of order) b.receive(fs[i]!, instant(10));
    return { b, sock };
  }

  test("in order", () => {
    const { b, sock } = deliver([0, 1, 2]);
    expect(sock.recvFrom()?.data).toEqual(data);
    expect(b.stats().packets["ip.reassembled"]).toBe(1);
    expect(b.reassemblyUsage()).toEqual({ datagrams: 0, bytes: 0 });
  });

  test("reversed", () => {
    const { sock } = deliver([2, 1, 0]);
    expect(sock.recvFrom()?.data).toEqual(data);
    expect(sock.queued).toBe(0);
  });

  test("duplicated fragments: delivered once, duplicates counted", () => {
    const { b, sock } = deliver([1, 1, 0, 1, 2]);
    expect(sock.recvFrom()?.data).toEqual(data);
    expect(sock.queued).toBe(0);
    expect(b.stats().drops["ip.fragment-duplicate"]).toBe(2);
  });

  test("overlapping fragment discards the whole datagram (RFC 5722 policy)", () => {
    // A forged fragment at offset 1472 overlaps the first (0..1480) with other bytes.
    const { b, sock } = boundB();
    const fs = frags();
    const evil = fragments(
      repr,
      udp.map((x) => x ^ 0xff),
      [1472, 2960],
    )[1]!;
    b.receive(fs[0]!, EPOCH);
    b.receive(evil, EPOCH);
    b.receive(fs[1]!, EPOCH);
    b.receive(fs[2]!, EPOCH);
    expect(sock.queued).toBe(0);
    // Every fragment counted once: the first one (held, discarded with the
    // datagram), the forged one, and the two that arrive for a dead datagram.
    expect(b.stats().drops["ip.fragment-overlap"]).toBe(4);
    // The datagram is dead until its timer runs out; then the id may be used again.
    b.poll(instant(30_000));
    for (const f of frags()) b.receive(f, instant(30_001));
    expect(sock.recvFrom()?.data).toEqual(data);
  });

  test("missing piece: pollAt is 30 s after the first fragment, then fragment-timeout", () => {
    const { b, sock } = boundB();
    const fs = frags();
    b.receive(fs[0]!, instant(1000));
    b.receive(fs[2]!, instant(5000));
    expect(b.pollAt()).toBe(instant(31_000));
    b.poll(instant(30_999));
    expect(b.stats().drops["ip.fragment-timeout"]).toBeUndefined();
    b.poll(instant(31_000));
    expect(b.stats().drops["ip.fragment-timeout"]).toBe(2);
    expect(b.reassemblyUsage()).toEqual({ datagrams: 0, bytes: 0 });
    expect(b.pollAt()).toBeUndefined();
    b.receive(fs[1]!, instant(31_001)); // the late piece starts a new, incomplete datagram
    expect(sock.queued).toBe(0);
  });

  test("memory bound: held bytes never exceed the cap; oldest datagrams are evicted", () => {
    const b = host("b", { reassembly: { maxBytes: 4000, maxDatagrams: 3 } });
    const sock = b.udpBind(9) as UdpSocket;
    // Ten datagrams, each missing its last fragment.
    for (let id = 0; id < 10; id++) {
      const fs = fragments({ ...repr, identification: id }, udp, [1480, 2960]);
      b.receive(fs[0]!, instant(id));
      expect(b.reassemblyUsage().bytes).toBeLessThanOrEqual(4000);
      expect(b.reassemblyUsage().datagrams).toBeLessThanOrEqual(3);
    }
    expect(b.stats().drops["ip.fragment-memory"]).toBeGreaterThanOrEqual(7);
    // Fresh traffic still gets through.
    for (const f of fragments({ ...repr, identification: 99 }, udp, [1480, 2960]))
      b.receive(f, instant(20));
    expect(sock.recvFrom()?.data).toEqual(data);
  });

  test("a non-final fragment whose length is not a multiple of 8 is bad", () => {
    const { b, sock } = boundB();
    const piece = udp.subarray(0, 1001);
    const pkt = new Uint8Array(20 + piece.length);
    emitIpv4({ ...repr, moreFragments: true }, piece.length, pkt);
    pkt.set(piece, 20);
    b.receive(pkt, EPOCH);
    expect(sock.queued).toBe(0);
    expect(b.stats().drops["ip.fragment-bad"]).toBe(1);
  });
});
