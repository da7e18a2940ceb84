/**
 * The software form of TUN offloads (src/wire/offload.ts): a TCP
 * super-segment cut as Linux's tcp_gso_segment cuts it, and partial
 * checksums completed — what the taps record and what a link without the
 * offload sends.
 */
import { describe, expect, test } from "bun:test";
import { ip } from "../../src/wire/addr.ts";
import { emitIpv4, IpProto, parseIpv4 } from "../../src/wire/ipv4.ts";
import { checksumFinish, pseudoHeaderSum6 } from "../../src/wire/checksum.ts";
import { NextHeader } from "../../src/wire/ipv6.ts";
import { ip6 } from "../../src/wire/ipv6-addr.ts";
import {
  CHECKSUM_PARTIAL,
  CHECKSUM_VALID,
  completeChecksum6,
  partialChecksum,
  softwareSegments,
  tcpGso,
} from "../../src/wire/offload.ts";
import { emitTcp, parseTcp } from "../../src/wire/tcp.ts";
import { Flag, type TcpSegment } from "../../src/wire/tcp-types.ts";
import { buildTcpPacket6, buildUdpPacket6 } from "../../src/wire/packet6.ts";
import { emitUdp, parseUdp } from "../../src/wire/udp.ts";

const SRC = ip("10.0.0.2");
const DST = ip("10.0.0.1");

/** An IPv4 TCP packet of `payload` with a partial checksum, IP ID `id`. */
function tcpPacket(seg: Omit<TcpSegment, "payload">, payload: Uint8Array, id = 7): Uint8Array {
  const s: TcpSegment = { ...seg, payload };
  const hdr = 20 + 20 + (seg.options.length > 0 ? 12 : 0);
  const packet = new Uint8Array(hdr + payload.length);
  emitIpv4(
    { src: SRC, dst: DST, protocol: IpProto.TCP, identification: id, dontFragment: true },
    packet.length - 20,
    packet,
  );
  emitTcp(s, SRC, DST, packet, 20, { checksum: "partial" });
  return packet;
}

const SEG = {
  srcPort: 80,
  dstPort: 40000,
  seq: 0xfffff000, // the cut wraps the sequence space
  ack: 1234,
  window: 512,
  urgentPointer: 0,
  options: [
    { kind: "nop" },
    { kind: "nop" },
    { kind: "timestamps", tsVal: 99, tsEcr: 42 },
  ] as TcpSegment["options"],
};

function payloadOf(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff);
}

describe("softwareSegments", () => {
  test("a super-segment becomes gsoSize segments: sequence numbers, IDs, lengths, checksums", () => {
    const payload = payloadOf(3 * 1448 + 500);
    const flags = Flag.ACK | Flag.PSH | Flag.FIN | Flag.CWR;
    const packet = tcpPacket({ ...SEG, flags }, payload, 0xfffe);
    const segs = softwareSegments(packet, tcpGso(1448));
    expect(segs.map((p) => p.length)).toEqual([1500, 1500, 1500, 552]);
    let at = 0;
    segs.forEach((p, i) => {
      const ipp = parseIpv4(p); // verifies the header checksum
      expect(ipp.ok).toBe(true);
      if (!ipp.ok) return;
      expect(ipp.value.header.totalLength).toBe(p.length);
      expect(ipp.value.header.identification).toBe((0xfffe + i) & 0xffff);
      const t = parseTcp(ipp.value.payload, SRC, DST); // verifies the full checksum
      expect(t.ok).toBe(true);
      if (!t.ok) return;
      expect(t.value.seq).toBe((SEG.seq + at) >>> 0);
      expect(t.value.ack).toBe(SEG.ack);
      expect(t.value.options).toEqual(SEG.options);
      expect([...t.value.payload]).toEqual([...payload.subarray(at, at + t.value.payload.length)]);
      at += t.value.payload.length;
      // PSH and FIN on the last segment only, CWR on the first only (tcp_gso_segment).
      const last = i === segs.length - 1;
      expect(t.value.flags).toBe(
        Flag.ACK | (last ? Flag.PSH | Flag.FIN : 0) | (i === 0 ? Flag.CWR : 0),
      );
    });
    expect(at).toBe(payload.length);
  });

  test("a packet that fits one segment is only checksummed", () => {
    const packet = tcpPacket({ ...SEG, flags: Flag.ACK }, payloadOf(100));
    const [one, ...rest] = softwareSegments(packet, tcpGso(1448));
    expect(rest).toEqual([]);
    expect(one).not.toBe(packet); // a copy: the original keeps its partial checksum
    const ipp = parseIpv4(one as Uint8Array);
    if (!ipp.ok) throw new Error(ipp.drop);
    expect(parseTcp(ipp.value.payload, SRC, DST).ok).toBe(true);
    // The partial checksum alone does not verify; it is the pseudo-header sum.
    const raw = parseIpv4(packet);
    if (!raw.ok) throw new Error(raw.drop);
    expect(parseTcp(raw.value.payload, SRC, DST).ok).toBe(false);
    expect((packet[36]! << 8) | packet[37]!).toBe(
      partialChecksum(SRC, DST, IpProto.TCP, packet.length - 20),
    );
  });

  test("a UDP datagram with a partial checksum is completed; a valid one passes as it is", () => {
    const dgram = new Uint8Array(8 + 33);
    emitUdp({ srcPort: 7, dstPort: 9, payload: payloadOf(33) }, SRC, DST, dgram, 0);
    dgram[6] = 0;
    dgram[7] = 0;
    const partial = partialChecksum(SRC, DST, IpProto.UDP, dgram.length);
    dgram[6] = partial >>> 8;
    dgram[7] = partial & 0xff;
    const packet = new Uint8Array(20 + dgram.length);
    emitIpv4({ src: SRC, dst: DST, protocol: IpProto.UDP }, dgram.length, packet);
    packet.set(dgram, 20);
    const [done] = softwareSegments(packet, CHECKSUM_PARTIAL);
    const ipp = parseIpv4(done as Uint8Array);
    if (!ipp.ok) throw new Error(ipp.drop);
    expect(parseUdp(ipp.value.payload, SRC, DST).ok).toBe(true);
    expect(softwareSegments(packet, CHECKSUM_VALID)[0]).toBe(packet);
    expect(softwareSegments(packet, undefined)[0]).toBe(packet);
  });
});

describe("completeChecksum6: an IPv6 checksum the device left partial", () => {
  const src = ip6("fd00::1");
  const dst = ip6("fd00::2");
  const payload = new Uint8Array(1001).map((_, i) => (i * 37) & 0xff);
  const seg: TcpSegment = {
    srcPort: 40000,
    dstPort: 80,
    seq: 123456,
    ack: 7890,
    flags: Flag.ACK | Flag.PSH,
    window: 512,
    urgentPointer: 0,
    options: [],
    payload,
  };

  /** `good` with its checksum field at `at` holding what a partial one holds: the pseudo-header sum. */
  function partialOf(good: Uint8Array, at: number, protocol: number, upper: number): Uint8Array {
    const p = good.slice();
    const partial =
      ~checksumFinish(pseudoHeaderSum6(src, dst, protocol, p.length - upper)) & 0xffff;
    p[at] = partial >>> 8;
    p[at + 1] = partial & 0xff;
    return p;
  }

  test("TCP and UDP, with and without an extension header: the full checksum, as a sender computes it", () => {
    const hbh = { extensions: [{ kind: "hop-by-hop", options: [] }] } as const;
    const cases = [
      { good: buildTcpPacket6(src, dst, seg), upper: 40, field: 16, protocol: NextHeader.TCP },
      { good: buildTcpPacket6(src, dst, seg, hbh), upper: 48, field: 16, protocol: NextHeader.TCP },
      {
        good: buildUdpPacket6(src, dst, { srcPort: 5000, dstPort: 7, payload }),
        upper: 40,
        field: 6,
        protocol: NextHeader.UDP,
      },
    ];
    for (const { good, upper, field, protocol } of cases) {
      const p = partialOf(good, upper + field, protocol, upper);
      expect(p).not.toEqual(good);
      expect(completeChecksum6(p)).toBe(true);
      expect(p).toEqual(good);
    }
  });

  test("a later fragment, a cut header, or IPv4: false, and the bytes untouched", () => {
    const later = buildUdpPacket6(
      src,
      dst,
      { srcPort: 5000, dstPort: 7, payload },
      { extensions: [{ kind: "fragment", offset: 1448, more: false, identification: 9 }] },
    );
    const v4 = tcpPacket(seg, payload);
    for (const p of [later, v4, later.subarray(0, 39)]) {
      const before = p.slice();
      expect(completeChecksum6(p)).toBe(false);
      expect(p).toEqual(before);
    }
  });
});
