/**
 * A Host against scans and side channels: IP IDs that leak nothing about
 * other peers, rate-limited ICMP errors, port 0, malformed IP and TCP
 * options, and the challenge-ACK side channel replayed at the host.
 */
import { describe, expect, test } from "bun:test";
import { EPOCH, instant, later, ms } from "../../src/clock/time.ts";
import type { Host } from "../../src/stack/host.ts";
import type { Tcb } from "../../src/tcp/tcb.ts";
import { ip } from "../../src/wire/addr.ts";
import { IpProto, parseIpv4 } from "../../src/wire/ipv4.ts";
import {
  buildIcmpPacket,
  buildTcpPacket,
  buildUdpPacket,
  tcpSegment,
} from "../../src/wire/packet.ts";
import { parseTcp } from "../../src/wire/tcp.ts";
import { Flag, type TcpSegment } from "../../src/wire/tcp-types.ts";
import { A, B, host, pump } from "./util.ts";

const C = ip("10.0.0.3");

/** The IP ID of b's echo reply to a ping from `from`. */
function pingId(b: Host, from: number, seq: number, now: number): number {
  b.receive(
    buildIcmpPacket(from, B, { type: "echo-request", id: 7, seq, data: new Uint8Array(8) }),
    instant(now),
  );
  const reply = b.takeOutput()[0];
  if (reply === undefined) throw new Error("no echo reply");
  const p = parseIpv4(reply);
  if (!p.ok) throw new Error(p.drop);
  return p.value.header.identification;
}

function tcpOut(packets: Uint8Array[]): TcpSegment[] {
  return packets.flatMap((pkt) => {
    const p = parseIpv4(pkt);
    if (!p.ok || p.value.header.protocol !== IpProto.TCP) return [];
    const t = parseTcp(p.value.payload, p.value.header.src, p.value.header.dst);
    return t.ok ? [t.value] : [];
  });
}

describe("IP identification (RFC 6864, RFC 7739)", () => {
  test("traffic to other hosts does not move the IDs one peer sees (no idle scan)", () => {
    const b = host("b");
    const first = pingId(b, A, 1, 0);
    // b sends 50 datagrams to C in between (echo replies here; any protocol would do).
    for (let i = 0; i < 50; i++) pingId(b, C, i, 1);
    const second = pingId(b, A, 2, 2);
    expect(second).toBe((first + 1) & 0xffff);
  });

  test("IDs start at a keyed, per-destination place (not 0, 1, 2 … host-wide)", () => {
    const b = host("b");
    const toA = pingId(b, A, 1, 0);
    const toC = pingId(b, C, 1, 0);
    expect(toC).not.toBe((toA + 1) & 0xffff);
  });
});

describe("ICMP errors are rate-limited (RFC 1812 §4.3.2.8, RFC 1122 §3.2.2)", () => {
  test("a UDP scan of 1024 closed ports gets a burst of answers, then the token rate", () => {
    const b = host("b", { icmpErrors: { perSecond: 100, burst: 20 } });
    const probe = (port: number) =>
      buildUdpPacket(A, B, { srcPort: 40000, dstPort: port, payload: new Uint8Array(0) });
    for (let port = 1; port <= 1024; port++) b.receive(probe(port), EPOCH);
    expect(b.takeOutput()).toHaveLength(20);
    expect(b.stats().packets["icmp.errors-rate-limited"]).toBe(1004);
    // Half a second later the bucket holds 50 tokens, capped at the burst: 20.
    for (let port = 1; port <= 1024; port++) b.receive(probe(port), instant(500));
    expect(b.takeOutput()).toHaveLength(20);
    // 10 ms later: one token.
    for (let port = 1; port <= 10; port++) b.receive(probe(port), instant(510));
    expect(b.takeOutput()).toHaveLength(1);
    expect(b.stats().drops["udp.no-socket"]).toBe(2058); // every probe still counted as input
  });

  test("the default budget is Linux's: a burst of 50, then 1000 a second", () => {
    const b = host("b");
    for (let port = 1; port <= 1024; port++) {
      b.receive(
        buildUdpPacket(A, B, { srcPort: 4000, dstPort: port, payload: new Uint8Array(0) }),
        EPOCH,
      );
    }
    expect(b.takeOutput()).toHaveLength(50);
  });
});

describe("port 0, malformed IP options, malformed TCP options", () => {
  test("a SYN from port 0 is dropped and counted, not answered (RFC 6335 §6)", () => {
    const b = host("b");
    b.listen(80, 4);
    const syn = tcpSegment({ srcPort: 0, dstPort: 80, seq: 100, flags: Flag.SYN, window: 65535 });
    b.receive(buildTcpPacket(A, B, syn), EPOCH);
    expect(b.takeOutput()).toEqual([]);
    expect(b.connections()).toHaveLength(0);
    expect(b.stats().drops["tcp.bad-port"]).toBe(1);
    // To port 0: no reset either.
    b.receive(buildTcpPacket(A, B, { ...syn, srcPort: 1234, dstPort: 0 }), EPOCH);
    expect(b.takeOutput()).toEqual([]);
    expect(b.stats().drops["tcp.bad-port"]).toBe(2);
  });

  test("an IP option whose length cannot be followed drops the packet, counted", () => {
    const b = host("b");
    const cases = [
      [0x83, 0x09, 0x04, 0x00], // loose source route claiming 9 bytes of 4
      [0x44, 0x01, 0x00, 0x00], // timestamp with length 1
      [0x01, 0x01, 0x01, 0x82], // NOPs, then an option with no length byte
    ];
    for (const options of cases) {
      const pkt = buildIcmpPacket(
        A,
        B,
        { type: "echo-request", id: 1, seq: 1, data: new Uint8Array(4) },
        { options: new Uint8Array(options) },
      );
      b.receive(pkt, EPOCH);
    }
    expect(b.takeOutput()).toEqual([]);
    expect(b.stats().drops["ip.bad-ip-option"]).toBe(3);
    // Well-formed options are still accepted (and ignored): NOP, NOP, NOP, EOL.
    b.receive(
      buildIcmpPacket(
        A,
        B,
        { type: "echo-request", id: 1, seq: 2, data: new Uint8Array(4) },
        { options: new Uint8Array([1, 1, 1, 0]) },
      ),
      EPOCH,
    );
    expect(b.takeOutput()).toHaveLength(1);
  });

  /** A data segment on an open connection with an MSS option 5 bytes long. */
  function badOptionData(server: Tcb, client: Tcb): Uint8Array {
    const seg = tcpSegment({
      srcPort: client.local.port,
      dstPort: 80,
      seq: server.rcvNxt,
      ack: server.sndNxt,
      flags: Flag.ACK | Flag.PSH,
      window: 65535,
      options: [
        { kind: "unknown", type: 2, data: new Uint8Array([5, 180, 0]) },
        { kind: "timestamps", tsVal: server.tsRecent + 1, tsEcr: 0 },
      ],
      payload: new TextEncoder().encode("hello"),
    });
    return buildTcpPacket(A, B, seg);
  }

  function openPair(badOptionLength?: "skip" | "drop") {
    const a = host("a");
    const b = host("b", badOptionLength === undefined ? {} : { tcp: { badOptionLength } });
    b.listen(80, 4);
    const client = a.connect({ addr: B, port: 80 }, EPOCH) as Tcb;
    pump(a, b, EPOCH);
    const server = b.connections()[0] as Tcb;
    return { b, client, server };
  }

  test("a TCP option with a bad length is skipped and the segment processed, as Linux and FreeBSD do", () => {
    const { b, client, server } = openPair();
    b.receive(badOptionData(server, client), instant(10));
    expect(server.recvAvailable).toBe(5);
    expect(b.stats().packets["tcp.bad-option-skipped"]).toBe(1);
  });

  test("with badOptionLength 'drop' the whole segment is dropped and counted", () => {
    const { b, client, server } = openPair("drop");
    b.receive(badOptionData(server, client), instant(10));
    expect(server.recvAvailable).toBe(0);
    expect(b.stats().drops["tcp.bad-option-length"]).toBe(1);
  });
});

describe("the challenge-ACK side channel (CVE-2016-5696), replayed at the host", () => {
  /**
   * An off-path attacker with its own connection to b, and a victim
   * connection whose 4-tuple it knows. Each second it sends spoofed RSTs
   * (in the victim's window when `hit`), then 20 inexact RSTs on its own
   * connection, and counts the challenge ACKs it gets back.
   */
  function attackerCounts(hit: boolean): number[] {
    const a = host("a");
    const b = host("b", { tcp: { challengeAckLimit: 10 } });
    b.listen(80, 4);
    const victim = a.connect({ addr: B, port: 80 }, EPOCH) as Tcb;
    const attacker = a.connect({ addr: B, port: 80 }, EPOCH) as Tcb;
    pump(a, b, EPOCH);
    const server = (t: Tcb) => b.connections().find((s) => s.remote.port === t.local.port) as Tcb;
    const rst = (t: Tcb, seq: number) =>
      buildTcpPacket(
        A,
        B,
        tcpSegment({ srcPort: t.local.port, dstPort: 80, seq, flags: Flag.RST }),
      );
    const counts: number[] = [];
    for (let second = 1; second <= 10; second++) {
      const now = second * 1000;
      const v = server(victim);
      b.receive(rst(victim, hit ? v.rcvNxt + 1000 : v.rcvNxt + 10_000_000), instant(now));
      b.takeOutput();
      const s = server(attacker);
      for (let i = 0; i < 20; i++)
        b.receive(rst(attacker, s.rcvNxt + 100 + i), later(instant(now), ms(1)));
      counts.push(tcpOut(b.takeOutput()).filter((t) => t.dstPort === attacker.local.port).length);
    }
    return counts;
  }

  test("what the attacker's own connection gets no longer depends on the victim", () => {
    expect(attackerCounts(true)).toEqual(attackerCounts(false));
  });
});
