import { describe, expect, test } from "bun:test";
import { EPOCH, instant } from "../../src/clock/time.ts";
import { State } from "../../src/tcp/state.ts";
import type { Tcb } from "../../src/tcp/tcb.ts";
import { ip } from "../../src/wire/addr.ts";
import { emitIcmp, type IcmpMessage, icmpLength, parseIcmp } from "../../src/wire/icmp.ts";
import { IpProto } from "../../src/wire/ipv4.ts";
import {
  buildIcmpPacket,
  buildTcpPacket,
  buildUdpPacket,
  tcpSegment,
} from "../../src/wire/packet.ts";
import { parseTcp } from "../../src/wire/tcp.ts";
import { Flag } from "../../src/wire/tcp-types.ts";
import { A, B, bytes, host, parsed, pump } from "./util.ts";

function icmpBytes(msg: IcmpMessage): Uint8Array {
  const buf = new Uint8Array(icmpLength(msg));
  emitIcmp(msg, buf);
  return buf;
}

describe("ICMP", () => {
  test("echo request → echo reply with the same id, seq and data, byte for byte", () => {
    const b = host("b");
    const data = bytes(56, 3);
    b.receive(buildIcmpPacket(A, B, { type: "echo-request", id: 0x1234, seq: 7, data }), EPOCH);
    const out = parsed(b.takeOutput());
    expect(out.length).toBe(1);
    const reply = out[0]!;
    expect(reply.header.src).toBe(B);
    expect(reply.header.dst).toBe(A);
    expect(reply.header.protocol).toBe(IpProto.ICMP);
    expect(reply.payload).toEqual(icmpBytes({ type: "echo-reply", id: 0x1234, seq: 7, data }));
    expect(b.stats().packets["icmp.echo-replies-out"]).toBe(1);
  });

  test("a 4000-byte ping is answered in fragments that reassemble to the exact reply", () => {
    const a = host("a");
    const b = host("b");
    const data = bytes(4000, 9);
    a.ping(B, 77, 1, data);
    const requestFrags = a.takeOutput();
    expect(requestFrags.length).toBe(3);
    for (const p of requestFrags) b.receive(p, EPOCH);
    const replyFrags = b.takeOutput();
    expect(replyFrags.length).toBe(3);
    const views = parsed(replyFrags);
    for (const [i, v] of views.entries()) {
      expect(replyFrags[i]!.length).toBeLessThanOrEqual(1500);
      expect(v.header.moreFragments).toBe(i < 2);
      expect(v.header.identification).toBe(views[0]!.header.identification);
    }
    // Put the reply together by offsets, independently of the host's reassembler.
    const whole: Uint8Array = new Uint8Array(8 + data.length);
    for (const v of views) whole.set(v.payload, v.header.fragmentOffset);
    expect(whole).toEqual(icmpBytes({ type: "echo-reply", id: 77, seq: 1, data }));
    // And host a reassembles it too.
    for (const p of replyFrags) a.receive(p, instant(1));
    expect(a.stats().packets["ip.reassembled"]).toBe(1);
    expect(a.stats().packets["icmp.echo-replies-in"]).toBe(1);
  });

  test("unknown transport protocol → protocol unreachable", () => {
    const b = host("b");
    const pkt = buildIcmpPacket(A, B, { type: "echo-request", id: 1, seq: 1, data: bytes(8) });
    pkt[9] = 99; // protocol
    pkt[10] = 0;
    pkt[11] = 0;
    let sum = 0;
    for (let i = 0; i < 20; i += 2) sum += (pkt[i]! << 8) | pkt[i + 1]!;
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    pkt[10] = (~sum >>> 8) & 0xff;
    pkt[11] = ~sum & 0xff;
    b.receive(pkt, EPOCH);
    const out = parsed(b.takeOutput());
    const msg = parseIcmp(out[0]!.payload);
    expect(msg.ok && msg.value.type === "dest-unreachable" && msg.value.code).toBe(2);
    expect(b.stats().drops["ip.unknown-protocol"]).toBe(1);
  });
});

describe("UDP to a closed port", () => {
  test("ICMP port unreachable quoting the original IP header + 8 bytes (RFC 1122 §3.2.2.1)", () => {
    const b = host("b");
    const original = buildUdpPacket(A, B, { srcPort: 5555, dstPort: 53, payload: bytes(100) });
    b.receive(original, EPOCH);
    const out = parsed(b.takeOutput());
    expect(out.length).toBe(1);
    expect(out[0]!.header.dst).toBe(A);
    const msg = parseIcmp(out[0]!.payload);
    if (!msg.ok || msg.value.type !== "dest-unreachable") throw new Error("expected unreachable");
    expect(msg.value.code).toBe(3);
    expect(msg.value.original).toEqual(original.subarray(0, 28));
    expect(b.stats().drops["udp.no-socket"]).toBe(1);
  });

  test("never for a broadcast, a non-unicast source, or an ICMP error", () => {
    const b = host("b");
    b.receive(
      buildUdpPacket(A, ip("255.255.255.255"), { srcPort: 1, dstPort: 53, payload: bytes(4) }),
      EPOCH,
    );
    b.receive(
      buildUdpPacket(ip("0.0.0.0"), B, { srcPort: 1, dstPort: 53, payload: bytes(4) }),
      EPOCH,
    );
    b.receive(
      buildUdpPacket(ip("224.0.0.1"), B, { srcPort: 1, dstPort: 53, payload: bytes(4) }),
      EPOCH,
    );
    // An ICMP error to us: counted, never answered.
    b.receive(
      buildIcmpPacket(A, B, { type: "dest-unreachable", code: 3, original: bytes(28) }),
      EPOCH,
    );
    expect(b.takeOutput()).toEqual([]);
    expect(b.stats().drops["udp.no-socket"]).toBe(2);
    // A multicast source is not a host at all: discarded at the IP layer (RFC 1122 §3.2.1.3).
    expect(b.stats().drops["ip.bad-source"]).toBe(1);
    expect(b.stats().packets["icmp.dest-unreachable-in"]).toBe(1);
  });
});

describe("TCP to a closed port (RFC 9293 §3.10.7.1)", () => {
  function reply(seg: Parameters<typeof tcpSegment>[0]) {
    const b = host("b");
    b.receive(buildTcpPacket(A, B, tcpSegment(seg)), EPOCH);
    const out = parsed(b.takeOutput());
    return { b, out };
  }

  test("SYN → <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>", () => {
    const { b, out } = reply({
      srcPort: 40000,
      dstPort: 81,
      seq: 0xfffffff0,
      flags: Flag.SYN,
      window: 1000,
      payload: bytes(20),
    });
    expect(out.length).toBe(1);
    const rst = parseTcp(out[0]!.payload, B, A);
    if (!rst.ok) throw new Error(rst.drop);
    // SEG.LEN = 20 data bytes + 1 for the SYN, wrapping past 2^32.
    expect(rst.value).toMatchObject({
      srcPort: 81,
      dstPort: 40000,
      seq: 0,
      ack: 0x05,
      flags: Flag.RST | Flag.ACK,
    });
    expect(rst.value.payload.length).toBe(0);
    expect(out[0]!.header.dontFragment).toBe(true);
    expect(b.stats().drops["tcp.no-socket"]).toBe(1);
    expect(b.stats().packets["tcp.rst-out"]).toBe(1);
  });

  test("ACK → <SEQ=SEG.ACK><CTL=RST>", () => {
    const { out } = reply({ srcPort: 40000, dstPort: 81, seq: 100, ack: 123456, flags: Flag.ACK });
    const rst = parseTcp(out[0]!.payload, B, A);
    if (!rst.ok) throw new Error(rst.drop);
    expect(rst.value).toMatchObject({ seq: 123456, ack: 0, flags: Flag.RST });
  });

  test("RST → nothing", () => {
    const { b, out } = reply({ srcPort: 40000, dstPort: 81, seq: 100, flags: Flag.RST });
    expect(out).toEqual([]);
    expect(b.stats().drops["tcp.no-socket"]).toBe(1);
  });
});

describe("TCP demux and ports", () => {
  test("two connections to one listening port are kept apart by the 4-tuple", () => {
    const a = host("a");
    const b = host("b");
    const listener = b.listen(80, 8);
    if (typeof listener === "string") throw new Error(listener);
    const c1 = a.connect({ addr: B, port: 80 }, EPOCH) as Tcb;
    const c2 = a.connect({ addr: B, port: 80 }, EPOCH) as Tcb;
    pump(a, b, EPOCH);
    expect(c1.state).toBe(State.Established);
    expect(c2.state).toBe(State.Established);
    const s1 = listener.accept()!;
    const s2 = listener.accept()!;
    expect(new Set([s1.remote.port, s2.remote.port])).toEqual(
      new Set([c1.local.port, c2.local.port]),
    );
    c1.send(bytes(300, 1), instant(1));
    c2.send(bytes(500, 2), instant(1));
    pump(a, b, instant(1));
    const bySrc = new Map([
      [s1.remote.port, s1],
      [s2.remote.port, s2],
    ]);
    expect(bySrc.get(c1.local.port)!.recv(10_000, instant(2))).toEqual(bytes(300, 1));
    expect(bySrc.get(c2.local.port)!.recv(10_000, instant(2))).toEqual(bytes(500, 2));
    expect(b.connections().length).toBe(2);
  });

  test("ephemeral ports: sequential from 49152, skipping 4-tuples in use and listeners, wrapping at 65535", () => {
    const a = host("a", { ephemeralStart: 65534 });
    a.listen(65535, 1);
    const p1 = (a.connect({ addr: B, port: 80 }, EPOCH) as Tcb).local.port;
    const p2 = (a.connect({ addr: B, port: 80 }, EPOCH) as Tcb).local.port;
    expect([p1, p2]).toEqual([65534, 49152]);
    // An explicit port already used with the same remote is refused; with another remote it is fine.
    expect(a.connect({ addr: B, port: 80 }, EPOCH, { localPort: 49152 })).toBe("EADDRINUSE");
    expect(typeof a.connect({ addr: B, port: 81 }, EPOCH, { localPort: 49152 })).toBe("object");
    const b = host("b");
    const q = [0, 1, 2].map(() => (b.connect({ addr: A, port: 22 }, EPOCH) as Tcb).local.port);
    expect(q).toEqual([49152, 49153, 49154]);
  });

  test("bad arguments return errors, never throw", () => {
    const a = host("a");
    expect(a.connect({ addr: B, port: 0 }, EPOCH)).toBe("EINVAL");
    expect(a.connect({ addr: B, port: 70000 }, EPOCH)).toBe("EINVAL");
    expect(a.connect({ addr: ip("255.255.255.255"), port: 80 }, EPOCH)).toBe("EADDRNOTAVAIL");
    expect(a.listen(0, 1)).toBe("EINVAL");
    expect(typeof a.listen(80, 1)).toBe("object");
    expect(a.listen(80, 1)).toBe("EADDRINUSE");
    expect(a.udpBind(-1)).toBe("EINVAL");
  });

  test("CLOSED TCBs leave the table; TIME-WAIT stays until 2×MSL", () => {
    const a = host("a");
    const b = host("b");
    const listener = b.listen(80, 1) as Exclude<ReturnType<typeof b.listen>, string>;
    const c = a.connect({ addr: B, port: 80 }, EPOCH) as Tcb;
    pump(a, b, EPOCH);
    const s = listener.accept()!;
    c.close(instant(1));
    pump(a, b, instant(1));
    s.close(instant(2));
    pump(a, b, instant(2));
    expect(s.state).toBe(State.Closed);
    expect(b.connections()).toEqual([]);
    expect(c.state).toBe(State.TimeWait);
    expect(a.connections()).toEqual([c]);
    const at = a.pollAt()!;
    expect(at).toBe(instant(2 + 2 * a.tcpSettings.msl));
    a.poll(at);
    expect(c.state).toBe(State.Closed);
    expect(a.connections()).toEqual([]);
  });

  test("MSS is derived from the MTU and announced on the SYN", () => {
    const a = host("a", { mtu: 576 });
    expect(a.tcpSettings.mss).toBe(536);
    a.connect({ addr: B, port: 80 }, EPOCH);
    const [ipPkt] = parsed(a.takeOutput());
    const syn = parseTcp(ipPkt!.payload, A, B);
    if (!syn.ok) throw new Error(syn.drop);
    expect(syn.value.flags).toBe(Flag.SYN);
    expect(syn.value.options).toContainEqual({ kind: "mss", value: 536 });
  });
});
