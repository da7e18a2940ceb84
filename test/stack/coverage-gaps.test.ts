import { describe, expect, test } from "bun:test";
import { EPOCH, instant, ms } from "../../src/clock/time.ts";
import type { UdpSocket } from "../../src/stack/udp-socket.ts";
import { State } from "../../src/tcp/state.ts";
import type { Tcb } from "../../src/tcp/tcb.ts";
import { ip } from "../../src/wire/addr.ts";
import { emitIcmp, type IcmpMessage, icmpLength, parseIcmp } from "../../src/wire/icmp.ts";
import { IpProto, parseIpv4 } from "../../src/wire/ipv4.ts";
import {
  buildIcmpPacket,
  buildTcpPacket,
  buildUdpPacket,
  tcpSegment,
} from "../../src/wire/packet.ts";
import { parseTcp } from "../../src/wire/tcp.ts";
import { Flag } from "../../src/wire/tcp-types.ts";
import { emitUdp } from "../../src/wire/udp.ts";
import { A, B, bytes, fragments, host, parsed, pump } from "./util.ts";

// Rows of docs/rfc-coverage.md that had no honest test at the Host level.

/** Record Route (type 7, length 7, pointer 4, one empty slot) and an EOL: 8 bytes of IPv4 options. */
const IP_OPTIONS = Uint8Array.of(7, 7, 4, 0, 0, 0, 0, 0);

function icmpBytes(msg: IcmpMessage): Uint8Array {
  const buf = new Uint8Array(icmpLength(msg));
  emitIcmp(msg, buf);
  return buf;
}

describe("RFC 791 / RFC 1122 §3.2.1.8: IPv4 options are skipped", () => {
  test("a UDP datagram with IP options reaches its socket", () => {
    const b = host("b");
    const sock = b.udpBind(9) as UdpSocket;
    const pkt = buildUdpPacket(
      A,
      B,
      { srcPort: 1000, dstPort: 9, payload: bytes(30) },
      { options: IP_OPTIONS },
    );
    expect(pkt[0]).toBe(0x47); // IHL 7: 28-byte header
    b.receive(pkt, EPOCH);
    expect(sock.recvFrom()?.data).toEqual(bytes(30));
    expect(b.stats().drops).toEqual({});
  });

  test("an echo request with IP options is answered with the same id, seq and data", () => {
    const b = host("b");
    const data = bytes(16, 5);
    b.receive(
      buildIcmpPacket(A, B, { type: "echo-request", id: 3, seq: 4, data }, { options: IP_OPTIONS }),
      EPOCH,
    );
    const [reply] = parsed(b.takeOutput());
    expect(reply?.header.dst).toBe(A);
    expect(reply?.payload).toEqual(icmpBytes({ type: "echo-reply", id: 3, seq: 4, data }));
  });
});

describe("RFC 792 / RFC 1122 §3.2.2: ICMP", () => {
  test("an ICMP error about a reassembled datagram quotes its rebuilt header (no fragment bits) and 8 bytes", () => {
    const b = host("b");
    const data = bytes(3000, 2);
    const udp = new Uint8Array(8 + data.length);
    emitUdp({ srcPort: 5555, dstPort: 53, payload: data }, A, B, udp);
    const repr = { src: A, dst: B, protocol: IpProto.UDP, identification: 0x77 };
    for (const f of fragments(repr, udp, [1480, 2960])) b.receive(f, EPOCH);
    const out = parsed(b.takeOutput());
    // One error for the whole datagram, not one per fragment.
    expect(out.length).toBe(1);
    const msg = parseIcmp(out[0]!.payload);
    if (!msg.ok || msg.value.type !== "dest-unreachable") throw new Error("expected unreachable");
    expect(msg.value.code).toBe(3);
    expect(msg.value.original.length).toBe(28);
    const quoted = msg.value.original;
    expect((quoted[6]! << 8) | quoted[7]!).toBe(0); // MF = 0, offset 0
    expect((quoted[4]! << 8) | quoted[5]!).toBe(0x77); // same identification
    expect(quoted.subarray(20, 28)).toEqual(udp.subarray(0, 8)); // the UDP header: ports
  });

  test("time exceeded arriving is counted and reported to the host's listener", () => {
    const b = host("b");
    const seen: [string, number][] = [];
    b.events = { icmpError: (msg, from) => seen.push([msg.type, from]) };
    const original = buildUdpPacket(B, ip("8.8.8.8"), {
      srcPort: 1,
      dstPort: 33434,
      payload: bytes(8),
    });
    b.receive(
      buildIcmpPacket(ip("10.0.0.254"), B, {
        type: "time-exceeded",
        code: 0,
        original: original.subarray(0, 28),
      }),
      EPOCH,
    );
    expect(seen).toEqual([["time-exceeded", ip("10.0.0.254")]]);
    expect(b.stats().packets["icmp.time-exceeded-in"]).toBe(1);
    expect(b.takeOutput()).toEqual([]); // never an error about an error
  });

  test("no echo reply to a source that names no single host (0.0.0.0, loopback)", () => {
    const b = host("b");
    for (const src of [ip("0.0.0.0"), ip("127.0.0.1")]) {
      b.receive(
        buildIcmpPacket(src, B, { type: "echo-request", id: 1, seq: 1, data: bytes(8) }),
        EPOCH,
      );
    }
    expect(b.takeOutput()).toEqual([]);
    expect(b.stats().packets["icmp.echo-requests-in"]).toBe(2);
  });
});

describe("RFC 768 at the host", () => {
  test("a datagram with a zero (not computed) checksum is delivered", () => {
    const b = host("b");
    const sock = b.udpBind(9) as UdpSocket;
    b.receive(
      buildUdpPacket(A, B, { srcPort: 1, dstPort: 9, payload: bytes(12) }, { checksum: "none" }),
      EPOCH,
    );
    expect(sock.recvFrom()?.data).toEqual(bytes(12));
  });

  test("a datagram to the limited broadcast address reaches a bound socket", () => {
    const b = host("b");
    const sock = b.udpBind(67) as UdpSocket;
    b.receive(
      buildUdpPacket(A, ip("255.255.255.255"), { srcPort: 68, dstPort: 67, payload: bytes(20) }),
      EPOCH,
    );
    expect(sock.recvFrom()?.data).toEqual(bytes(20));
  });
});

describe("TCP at the host", () => {
  test("a segment with a bad TCP checksum never reaches its connection (tcp.bad-checksum)", () => {
    const a = host("a");
    const b = host("b");
    b.listen(80, 1);
    const c = a.connect({ addr: B, port: 80 }, EPOCH) as Tcb;
    pump(a, b, EPOCH);
    const s = b.connections()[0]!;
    const seg = tcpSegment({
      srcPort: c.local.port,
      dstPort: 80,
      seq: s.rcvNxt,
      ack: s.sndNxt,
      flags: Flag.RST,
    });
    b.receive(buildTcpPacket(A, B, seg, { checksum: "bad" }), instant(1));
    expect(s.state).toBe(State.Established);
    expect(b.stats().drops["tcp.bad-checksum"]).toBe(1);
  });

  test("a connection reset while waiting in the accept queue leaves the queue and the table", () => {
    const a = host("a");
    const b = host("b");
    const listener = b.listen(80, 4);
    if (typeof listener === "string") throw new Error(listener);
    const c = a.connect({ addr: B, port: 80 }, EPOCH) as Tcb;
    pump(a, b, EPOCH);
    expect(listener.acceptQueue.length).toBe(1);
    c.abort(instant(1)); // the client gives up before the server accepts: RST
    pump(a, b, instant(1));
    expect(listener.acceptQueue.length).toBe(0);
    expect(listener.accept()).toBeUndefined();
    expect(b.connections()).toEqual([]);
  });

  test("RFC 5961 §7: the challenge ACK budget is shared by all connections of a host", () => {
    const a = host("a");
    // Each connection may ask for two at once (its own limit), and the
    // host's budget is drawn as 2 + 1 (random() % 3 = 1): three.
    const b = host("b", {
      tcp: { challengeAckLimit: 3, challengeAckPerConnection: 2, challengeAckInterval: ms(1000) },
      random: () => 1,
    });
    b.listen(80, 4);
    const clients = [0, 1].map(() => a.connect({ addr: B, port: 80 }, EPOCH) as Tcb);
    pump(a, b, EPOCH);
    const servers = b.connections();
    expect(servers.length).toBe(2);
    // Blind, in-window but inexact RSTs: two per connection, at one instant.
    for (let i = 0; i < 2; i++) {
      for (const [k, c] of clients.entries()) {
        const s = servers.find((t) => t.remote.port === c.local.port)!;
        const rst = tcpSegment({
          srcPort: c.local.port,
          dstPort: 80,
          seq: s.rcvNxt + 100 + i + k,
          flags: Flag.RST,
        });
        b.receive(buildTcpPacket(A, B, rst), instant(10));
      }
    }
    const acks = b.takeOutput().map((p) => {
      const v = parseIpv4(p);
      if (!v.ok) throw new Error(v.drop);
      const t = parseTcp(v.value.payload, B, A);
      if (!t.ok) throw new Error(t.drop);
      return t.value.flags;
    });
    expect(acks).toEqual([Flag.ACK, Flag.ACK, Flag.ACK]); // 4 asked, 3 allowed per second
    expect(b.challengeAcks.suppressed).toBe(1);
    expect(servers.every((s) => s.state === State.Established)).toBe(true);
  });
});
