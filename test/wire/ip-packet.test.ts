import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { ip } from "../../src/wire/addr.ts";
import { formatIpAddr } from "../../src/wire/ip-addr.ts";
import { parseIpPacket } from "../../src/wire/ip-packet.ts";
import { IpProto } from "../../src/wire/ipv4.ts";
import { NextHeader } from "../../src/wire/ipv6.ts";
import { ip6 } from "../../src/wire/ipv6-addr.ts";
import { fragmentIpv6 } from "../../src/wire/ipv6-fragment.ts";
import {
  buildIcmpPacket,
  buildTcpPacket,
  buildUdpPacket,
  parsePacket,
  tcpSegment,
} from "../../src/wire/packet.ts";
import { buildIcmpv6Packet, buildTcpPacket6, buildUdpPacket6 } from "../../src/wire/packet6.ts";
import { Flag } from "../../src/wire/tcp-types.ts";
import { fcParams } from "./prop.ts";

const A4 = ip("10.0.0.1");
const B4 = ip("10.0.0.2");
const A6 = ip6("fd00::1");
const B6 = ip6("fd00::2");
const syn = tcpSegment({ srcPort: 5000, dstPort: 80, seq: 7, flags: Flag.SYN, window: 65535 });
const echo = { type: "echo-request", id: 1, seq: 2, data: new Uint8Array(8) } as const;

function summary(bytes: Uint8Array, opts?: { verifyChecksum?: boolean }): string {
  const r = parseIpPacket(bytes, opts);
  if (!r.ok) return `drop ${r.drop}`;
  const p = r.value;
  return `${p.family} ${formatIpAddr(p.src)} > ${formatIpAddr(p.dst)} ${p.kind} ${p.protocol}`;
}

describe("parseIpPacket: either family by the version field", () => {
  test("IPv4: parsePacket's record, with tagged addresses and the protocol", () => {
    const bytes = buildTcpPacket(A4, B4, syn);
    const r = parseIpPacket(bytes);
    const v4 = parsePacket(bytes);
    if (!r.ok || !v4.ok || r.value.family !== 4 || r.value.kind !== "tcp") throw new Error("tcp");
    expect(r.value.tcp).toEqual(syn);
    expect(r.value.ip).toEqual(v4.value.ip);
    expect(r.value.src).toEqual({ family: 4, addr: A4 });
    expect(
      summary(buildUdpPacket(A4, B4, { srcPort: 1, dstPort: 2, payload: new Uint8Array(1) })),
    ).toBe("4 10.0.0.1 > 10.0.0.2 udp 17");
    expect(summary(buildIcmpPacket(B4, A4, echo))).toBe("4 10.0.0.2 > 10.0.0.1 icmp 1");
    const frag = buildTcpPacket(A4, B4, syn, { moreFragments: true });
    expect(summary(frag)).toBe(`4 10.0.0.1 > 10.0.0.2 fragment ${IpProto.TCP}`);
  });

  test("IPv6: parsePacket6's record, with tagged addresses and the upper layer's Next Header", () => {
    const r = parseIpPacket(buildTcpPacket6(A6, B6, syn, { hopLimit: 9 }));
    if (!r.ok || r.value.family !== 6 || r.value.kind !== "tcp") throw new Error("tcp");
    expect(r.value.tcp).toEqual(syn);
    expect(r.value.ip.header.hopLimit).toBe(9);
    const udp = buildUdpPacket6(A6, B6, { srcPort: 1, dstPort: 2, payload: new Uint8Array(1) });
    expect(summary(udp)).toBe("6 fd00::1 > fd00::2 udp 17");
    expect(summary(buildIcmpv6Packet(B6, A6, echo))).toBe("6 fd00::2 > fd00::1 icmpv6 58");
    // Behind extension headers, `protocol` is where the chain ended.
    const hbh = buildTcpPacket6(A6, B6, syn, { extensions: [{ kind: "hop-by-hop", options: [] }] });
    expect(summary(hbh)).toBe("6 fd00::1 > fd00::2 tcp 6");
    const big = buildUdpPacket6(A6, B6, { srcPort: 1, dstPort: 2, payload: new Uint8Array(3000) });
    const frags = fragmentIpv6(big, 1280, 5);
    if (!frags.ok) throw new Error(frags.reason);
    expect(frags.packets.map((f) => summary(f))).toEqual(
      Array(3).fill(`6 fd00::1 > fd00::2 fragment ${NextHeader.UDP}`),
    );
  });

  test("bad packets are the family parser's named drops", () => {
    expect(summary(new Uint8Array(0))).toBe("drop truncated");
    expect(summary(Uint8Array.of(0x50, 0, 0, 20))).toBe("drop bad-version");
    expect(summary(Uint8Array.of(0x60, 0, 0, 0))).toBe("drop truncated");
    const bad6 = buildTcpPacket6(A6, B6, syn, { checksum: "bad" });
    expect(summary(bad6)).toBe("drop bad-checksum");
    expect(summary(bad6, { verifyChecksum: false })).toBe("6 fd00::1 > fd00::2 tcp 6");
    const bad4 = buildTcpPacket(A4, B4, syn, { checksum: "bad" });
    expect(summary(bad4)).toBe("drop bad-checksum");
    expect(summary(bad4, { verifyChecksum: false })).toBe("4 10.0.0.1 > 10.0.0.2 tcp 6");
  });

  test("never throws on random bytes, of either version", () => {
    const version = fc.constantFrom(0x45, 0x46, 0x60, 0x6f, 0x00, 0xff);
    fc.assert(
      fc.property(version, fc.uint8Array({ maxLength: 200 }), fc.boolean(), (v, rest, verify) => {
        const bytes = Uint8Array.of(v, ...rest);
        const r = parseIpPacket(bytes, { verifyChecksum: verify });
        expect(typeof r.ok).toBe("boolean");
        if (r.ok) expect(r.value.family).toBe(v >> 4 === 6 ? 6 : 4);
      }),
      fcParams(2000),
    );
  });
});
