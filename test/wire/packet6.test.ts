import { describe, expect, test } from "bun:test";
import { NextHeader, ParamProblemCode } from "../../src/wire/ipv6.ts";
import { ip6 } from "../../src/wire/ipv6-addr.ts";
import { fragmentIpv6 } from "../../src/wire/ipv6-fragment.ts";
import { tcpSegment } from "../../src/wire/packet.ts";
import {
  buildIcmpv6Packet,
  buildTcpPacket6,
  buildUdpPacket6,
  parsePacket6,
} from "../../src/wire/packet6.ts";
import { Flag } from "../../src/wire/tcp-types.ts";

const A = ip6("fd00::1");
const B = ip6("fd00::2");
const syn = tcpSegment({ srcPort: 5000, dstPort: 80, seq: 1, flags: Flag.SYN, window: 65535 });

function kindOf(bytes: Uint8Array, opts?: { verifyChecksum?: boolean }): string {
  const r = parsePacket6(bytes, opts);
  return r.ok ? r.value.kind : `drop ${r.drop}`;
}

describe("whole IPv6 packets", () => {
  test("TCP, UDP and ICMPv6 packets decode to their upper layer", () => {
    const tcp = parsePacket6(buildTcpPacket6(A, B, syn, { hopLimit: 9 }));
    if (!tcp.ok || tcp.value.kind !== "tcp") throw new Error("not tcp");
    expect(tcp.value.tcp).toEqual(syn);
    expect(tcp.value.ip.header.hopLimit).toBe(9);
    const udp = parsePacket6(
      buildUdpPacket6(A, B, { srcPort: 1, dstPort: 2, payload: Uint8Array.of(7) }),
    );
    expect(udp.ok && udp.value.kind === "udp" && [...udp.value.udp.payload]).toEqual([7]);
    const echo = { type: "echo-request", id: 3, seq: 4, data: new Uint8Array(8) } as const;
    const icmp = parsePacket6(buildIcmpv6Packet(A, B, echo));
    expect(icmp.ok && icmp.value.kind === "icmpv6" && icmp.value.icmpv6).toEqual(echo);
  });

  test("extension headers in front change nothing above them", () => {
    const bytes = buildTcpPacket6(A, B, syn, {
      extensions: [
        { kind: "hop-by-hop", options: [] },
        { kind: "destination", options: [] },
      ],
    });
    const r = parsePacket6(bytes);
    expect(r.ok && r.value.kind === "tcp" && r.value.tcp).toEqual(syn);
  });

  test("a fragment stays a fragment; an unknown Next Header is other, with its pointer", () => {
    const big = buildUdpPacket6(A, B, { srcPort: 1, dstPort: 2, payload: new Uint8Array(3000) });
    const frags = fragmentIpv6(big, 1280, 5);
    if (!frags.ok) throw new Error(frags.reason);
    expect(frags.packets.map((f) => kindOf(f))).toEqual(["fragment", "fragment", "fragment"]);
    const ah = buildTcpPacket6(A, B, syn);
    ah[6] = NextHeader.AH;
    const r = parsePacket6(ah);
    expect(
      r.ok && r.value.kind === "other" && [r.value.ip.protocol, r.value.ip.protocolAt],
    ).toEqual([NextHeader.AH, 6]);
  });

  test("drops: checksums, UDP's zero checksum, neighbour discovery; IPv6 drops keep their Parameter Problem", () => {
    expect(kindOf(buildTcpPacket6(A, B, syn, { checksum: "bad" }))).toBe("drop bad-checksum");
    expect(kindOf(buildTcpPacket6(A, B, syn, { checksum: "bad" }), { verifyChecksum: false })).toBe(
      "tcp",
    );
    const zero = buildUdpPacket6(
      A,
      B,
      { srcPort: 1, dstPort: 2, payload: new Uint8Array(1) },
      {
        checksum: "none",
      },
    );
    expect(kindOf(zero)).toBe("drop udp-zero-checksum");
    const ns = buildIcmpv6Packet(A, B, {
      type: "other",
      icmpType: 135,
      code: 0,
      body: new Uint8Array(20),
    });
    expect(kindOf(ns)).toBe("drop neighbor-discovery");
    const routed = buildTcpPacket6(A, B, syn, {
      extensions: [{ kind: "routing", routingType: 3, segmentsLeft: 2 }],
    });
    const r = parsePacket6(routed);
    expect(!r.ok && "paramProblem" in r && r.paramProblem).toEqual({
      code: ParamProblemCode.ERRONEOUS_FIELD,
      pointer: 42,
      evenIfMulticast: false,
    });
  });
});
