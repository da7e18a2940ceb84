import { describe, expect, test } from "bun:test";
import { ip } from "../../src/wire/addr.ts";
import { emitIpv4, IpProto } from "../../src/wire/ipv4.ts";
import {
  buildIcmpPacket,
  buildTcpPacket,
  buildUdpPacket,
  parsePacket,
  tcpSegment,
} from "../../src/wire/packet.ts";
import { Flag } from "../../src/wire/tcp-types.ts";

const A = ip("10.0.0.1");
const B = ip("10.0.0.2");

describe("packet builders and parsePacket", () => {
  test("tcpSegment fills the documented defaults", () => {
    expect(tcpSegment({ srcPort: 1, dstPort: 2 })).toEqual({
      srcPort: 1,
      dstPort: 2,
      seq: 0,
      ack: 0,
      flags: 0,
      window: 0,
      urgentPointer: 0,
      options: [],
      payload: new Uint8Array(0),
    });
    expect(tcpSegment({ srcPort: 1, dstPort: 2, seq: 9, flags: Flag.SYN }).seq).toBe(9);
  });

  test("buildTcpPacket makes a whole valid IPv4 packet with the requested IP fields", () => {
    const s = tcpSegment({
      srcPort: 1000,
      dstPort: 80,
      flags: Flag.SYN,
      seq: 42,
      options: [{ kind: "mss", value: 1460 }],
    });
    const pkt = buildTcpPacket(A, B, s, { ttl: 3, identification: 77, dontFragment: true });
    expect(pkt.length).toBe(20 + 24);
    const r = parsePacket(pkt);
    if (!r.ok) throw new Error(r.drop);
    expect(r.value.kind).toBe("tcp");
    expect(r.value.ip.header.ttl).toBe(3);
    expect(r.value.ip.header.identification).toBe(77);
    expect(r.value.ip.header.dontFragment).toBe(true);
    expect(r.value.ip.header.protocol).toBe(IpProto.TCP);
    if (r.value.kind === "tcp") expect(r.value.tcp).toEqual(s);
  });

  test("a bad transport checksum survives the IP layer and is dropped at TCP", () => {
    const pkt = buildTcpPacket(A, B, tcpSegment({ srcPort: 1, dstPort: 2 }), { checksum: "bad" });
    const r = parsePacket(pkt);
    expect(r.ok ? "ok" : r.drop).toBe("bad-checksum");
    expect(parsePacket(pkt, { verifyChecksum: false }).ok).toBe(true);
  });

  test("UDP and ICMP", () => {
    const u = parsePacket(
      buildUdpPacket(A, B, { srcPort: 5, dstPort: 6, payload: Uint8Array.of(1) }),
    );
    expect(u.ok && u.value.kind === "udp" && u.value.udp.dstPort).toBe(6);
    const none = parsePacket(
      buildUdpPacket(
        A,
        B,
        { srcPort: 5, dstPort: 6, payload: Uint8Array.of(1) },
        { checksum: "none" },
      ),
    );
    expect(none.ok && none.value.kind === "udp" && none.value.udp.checksum).toBe(0);
    const badUdp = parsePacket(
      buildUdpPacket(
        A,
        B,
        { srcPort: 5, dstPort: 6, payload: Uint8Array.of(1) },
        { checksum: "bad" },
      ),
    );
    expect(badUdp.ok ? "ok" : badUdp.drop).toBe("bad-checksum");
    const i = parsePacket(
      buildIcmpPacket(A, B, { type: "echo-request", id: 1, seq: 2, data: new Uint8Array(3) }),
    );
    expect(i.ok && i.value.kind === "icmp" && i.value.icmp.type).toBe("echo-request");
  });

  test("fragments and other protocols are not decoded further", () => {
    const frag = new Uint8Array(28);
    emitIpv4({ src: A, dst: B, protocol: IpProto.TCP, moreFragments: true }, 8, frag);
    const f = parsePacket(frag);
    expect(f.ok && f.value.kind).toBe("fragment");
    const other = new Uint8Array(24);
    emitIpv4({ src: A, dst: B, protocol: 47 }, 4, other);
    const o = parsePacket(other);
    expect(o.ok && o.value.kind).toBe("other");
  });
});
