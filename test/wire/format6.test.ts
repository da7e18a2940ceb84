import { describe, expect, test } from "bun:test";
import { ip } from "../../src/wire/addr.ts";
import { formatTcp } from "../../src/wire/format.ts";
import {
  formatIcmpv6,
  formatIpPacket,
  formatIpv6Packet,
  formatTcp6,
  formatUdp6,
} from "../../src/wire/format6.ts";
import { type Icmpv6Message, icmpv6ErrorQuote } from "../../src/wire/icmpv6.ts";
import { NextHeader } from "../../src/wire/ipv6.ts";
import { fragmentIpv6 } from "../../src/wire/ipv6-fragment.ts";
import { buildTcpPacket } from "../../src/wire/packet.ts";
import { buildIcmpv6Packet, buildTcpPacket6, buildUdpPacket6 } from "../../src/wire/packet6.ts";
import { A6 as A, B6 as B, echo6 as echo, syn6 as syn } from "./packets6.ts";

function icmpLine(msg: Icmpv6Message): string {
  return formatIpv6Packet(buildIcmpv6Packet(B, A, msg));
}

describe("formatIpv6Packet (tcpdump's IP6 lines)", () => {
  test("TCP: addresses with ports, then formatTcp's text", () => {
    expect(formatIpv6Packet(buildTcpPacket6(A, B, syn))).toBe(
      "IP6 fd00::1.5000 > fd00::2.80: Flags [S], seq 1000, win 65535, options [mss 1440], length 0",
    );
    const rel = { relative: { seqBase: 1000, ackBase: 0 } };
    expect(formatIpv6Packet(buildTcpPacket6(A, B, syn), rel)).toContain("Flags [S], seq 0,");
    // The TCP text is formatTcp's, word for word.
    const v4 = formatTcp(ip("10.0.0.1"), ip("10.0.0.2"), syn);
    expect(formatTcp6(A, B, syn).split(": ")[1]).toBe(v4.split(": ")[1]);
  });

  test("UDP and ICMPv6 echo", () => {
    const udp = buildUdpPacket6(A, B, { srcPort: 5000, dstPort: 7, payload: new Uint8Array(5) });
    expect(formatIpv6Packet(udp)).toBe("IP6 fd00::1.5000 > fd00::2.7: UDP, length 5");
    expect(formatIpv6Packet(buildIcmpv6Packet(A, B, echo))).toBe(
      "IP6 fd00::1 > fd00::2: ICMP6, echo request, id 1, seq 1, length 64",
    );
    expect(formatIcmpv6(A, B, { ...echo, type: "echo-reply" }, 64)).toBe(
      "fd00::1 > fd00::2: ICMP6, echo reply, id 1, seq 1, length 64",
    );
    expect(formatUdp6(A, B, { srcPort: 1, dstPort: 2, payload: new Uint8Array(3) })).toBe(
      "fd00::1.1 > fd00::2.2: UDP, length 3",
    );
  });

  test("extension headers: addresses first, then HBH, DSTOPT, srcrt (print-ip6.c)", () => {
    const hbh = { kind: "hop-by-hop", options: [] } as const;
    expect(formatIpv6Packet(buildIcmpv6Packet(A, B, echo, { extensions: [hbh] }))).toBe(
      "IP6 fd00::1 > fd00::2: HBH ICMP6, echo request, id 1, seq 1, length 64",
    );
    const exts = [
      hbh,
      { kind: "destination", options: [] } as const,
      { kind: "routing", routingType: 4, segmentsLeft: 0 } as const,
    ];
    expect(formatIpv6Packet(buildTcpPacket6(A, B, syn, { extensions: exts }))).toBe(
      "IP6 fd00::1 > fd00::2: HBH DSTOPT srcrt (len=0, type=4, segleft=0) fd00::1.5000 > fd00::2.80: Flags [S], seq 1000, win 65535, options [mss 1440], length 0",
    );
  });

  test("fragments: frag with offset and bytes; only the first shows its upper layer (print-frag6.c)", () => {
    const big = buildUdpPacket6(A, B, { srcPort: 5000, dstPort: 7, payload: new Uint8Array(2992) });
    const r = fragmentIpv6(big, 1280, 3);
    if (!r.ok) throw new Error(r.reason);
    expect(r.packets.map((p) => formatIpv6Packet(p))).toEqual([
      "IP6 fd00::1 > fd00::2: frag (0|1232) fd00::1.5000 > fd00::2.7: UDP, length 2992",
      "IP6 fd00::1 > fd00::2: frag (1232|1232)",
      "IP6 fd00::1 > fd00::2: frag (2464|536)",
    ]);
    const atomic = buildTcpPacket6(A, B, syn, {
      extensions: [{ kind: "fragment", offset: 0, more: false, identification: 1 }],
    });
    expect(formatIpv6Packet(atomic)).toStartWith("IP6 fd00::1 > fd00::2: frag (0|");
    expect(formatIpv6Packet(atomic)).toContain("fd00::1.5000 > fd00::2.80: Flags [S]");
  });

  test("ICMPv6 errors name what they quote", () => {
    const udp = buildUdpPacket6(A, B, { srcPort: 5000, dstPort: 53, payload: new Uint8Array(10) });
    const original = icmpv6ErrorQuote(udp);
    const len = 8 + original.length;
    expect(icmpLine({ type: "dest-unreachable", code: 4, original })).toBe(
      `IP6 fd00::2 > fd00::1: ICMP6, destination unreachable, unreachable port, fd00::2 udp port 53, length ${len}`,
    );
    expect(icmpLine({ type: "dest-unreachable", code: 3, original })).toBe(
      `IP6 fd00::2 > fd00::1: ICMP6, destination unreachable, unreachable address fd00::2, length ${len}`,
    );
    expect(icmpLine({ type: "packet-too-big", mtu: 1280, original })).toBe(
      `IP6 fd00::2 > fd00::1: ICMP6, packet too big, mtu 1280, length ${len}`,
    );
    expect(icmpLine({ type: "time-exceeded", code: 0, original })).toContain(
      "ICMP6, time exceeded in-transit for fd00::2,",
    );
    expect(icmpLine({ type: "time-exceeded", code: 1, original })).toContain(
      "ICMP6, time exceeded in-transit (reassembly),",
    );
    expect(icmpLine({ type: "parameter-problem", code: 1, pointer: 6, original })).toContain(
      "ICMP6, parameter problem, next header - octet 6,",
    );
    expect(icmpLine({ type: "parameter-problem", code: 3, pointer: 0, original })).toContain(
      "parameter problem, incomplete header chain - octet 0,",
    );
  });

  test("neighbour discovery and multicast listener messages are named, though the parser drops them", () => {
    const target = new Uint8Array(20);
    target.set([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], 4);
    const other = (icmpType: number, body = target): Icmpv6Message => ({
      type: "other",
      icmpType,
      code: 0,
      body,
    });
    expect(icmpLine(other(135))).toContain(
      "ICMP6, neighbor solicitation, who has fd00::2, length 24",
    );
    expect(icmpLine(other(136))).toContain("ICMP6, neighbor advertisement, tgt is fd00::2");
    expect(icmpLine(other(133, new Uint8Array(4)))).toContain(
      "ICMP6, router solicitation, length 8",
    );
    expect(icmpLine(other(143, new Uint8Array(4)))).toContain("multicast listener report v2");
    expect(icmpLine(other(201, new Uint8Array(4)))).toContain("unknown icmp6 type (201)");
  });

  test("bad checksums are flagged; a zero UDP checksum is one of them over IPv6", () => {
    expect(formatIpv6Packet(buildTcpPacket6(A, B, syn, { checksum: "bad" }))).toEndWith(
      "[bad tcp cksum]",
    );
    const zero = buildUdpPacket6(
      A,
      B,
      { srcPort: 1, dstPort: 2, payload: new Uint8Array(1) },
      {
        checksum: "none",
      },
    );
    expect(formatIpv6Packet(zero)).toBe("IP6 fd00::1.1 > fd00::2.2: UDP, length 1 [bad udp cksum]");
    expect(formatIpv6Packet(buildIcmpv6Packet(A, B, echo, { checksum: "bad" }))).toEndWith(
      "[bad icmp6 cksum]",
    );
  });

  test("what cannot be read is shown with its drop reason", () => {
    expect(formatIpv6Packet(new Uint8Array(10).fill(0x60))).toBe(
      "IP6 truncated-ip6 (drop: truncated)",
    );
    const v4 = buildTcpPacket6(A, B, syn);
    v4[0] = 0x40;
    expect(formatIpv6Packet(v4)).toBe("IP6 bad-ip6 (drop: bad-version)");
    const routed = buildTcpPacket6(A, B, syn, {
      extensions: [{ kind: "routing", routingType: 0, segmentsLeft: 1 }],
    });
    expect(formatIpv6Packet(routed)).toBe(
      "IP6 fd00::1 > fd00::2: (drop: unrecognized-routing-type)",
    );
    const shortTcp = buildTcpPacket6(A, B, syn).subarray(0, 48);
    shortTcp[5] = 8;
    expect(formatIpv6Packet(shortTcp)).toBe("IP6 fd00::1.5000 > fd00::2.80: tcp (drop: truncated)");
    const none = buildIcmpv6Packet(A, B, echo);
    none[6] = NextHeader.NO_NEXT_HEADER;
    expect(formatIpv6Packet(none)).toBe("IP6 fd00::1 > fd00::2: no next header");
    none[6] = 253;
    expect(formatIpv6Packet(none)).toBe("IP6 fd00::1 > fd00::2: ip-proto-253 64");
  });

  test("formatIpPacket: IP6 lines for version 6, formatPacket's IP lines for the rest", () => {
    expect(formatIpPacket(buildTcpPacket6(A, B, syn))).toStartWith("IP6 fd00::1.5000 > ");
    const v4 = buildTcpPacket(ip("10.0.0.1"), ip("10.0.0.2"), syn);
    expect(formatIpPacket(v4)).toStartWith("IP 10.0.0.1.5000 > 10.0.0.2.80: Flags [S]");
    expect(formatIpPacket(new Uint8Array(0))).toStartWith("IP ");
  });
});
