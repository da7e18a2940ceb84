import { describe, expect, test } from "bun:test";
import { ip } from "../../src/wire/addr.ts";
import { checksumAccumulate, checksumFinish, pseudoHeaderSum } from "../../src/wire/checksum.ts";
import { buildTcpPacket, buildUdpPacket, tcpSegment } from "../../src/wire/packet.ts";
import { parseTcp } from "../../src/wire/tcp.ts";
import { Flag } from "../../src/wire/tcp-types.ts";

const SRC = ip("10.0.0.2");
const DST = ip("10.0.0.1");

/** A 2-byte payload that makes the TCP sum fold to 0xffff, so the right checksum is 0x0000. */
function payloadForZeroChecksum(seq: number): Uint8Array {
  const base = {
    srcPort: 80,
    dstPort: 40000,
    seq,
    ack: 1,
    flags: Flag.ACK | Flag.PSH,
    window: 512,
  };
  const probe = buildTcpPacket(SRC, DST, tcpSegment({ ...base, payload: new Uint8Array(2) }));
  const tcp = probe.subarray(20);
  tcp[16] = 0; // checksum field
  tcp[17] = 0;
  const sum = checksumAccumulate(tcp, pseudoHeaderSum(SRC, DST, 6, tcp.length));
  // Adding w to the sum gives 0xffff when w = 0xffff − sum (ones'-complement).
  const w = (0xffff - sum) & 0xffff;
  return new Uint8Array([w >>> 8, w & 0xff]);
}

describe("the two ones'-complement zeros (RFC 1624 §3)", () => {
  test("a TCP segment whose sum folds to 0xffff carries checksum 0x0000, never 0xffff", () => {
    for (let seq = 0; seq < 2000; seq += 7) {
      const payload = payloadForZeroChecksum(seq);
      const seg = tcpSegment({
        srcPort: 80,
        dstPort: 40000,
        seq,
        ack: 1,
        flags: Flag.ACK | Flag.PSH,
        window: 512,
        payload,
      });
      const pkt = buildTcpPacket(SRC, DST, seg);
      const field = (pkt[36]! << 8) | pkt[37]!;
      expect(field).toBe(0x0000);
      // And it verifies.
      expect(parseTcp(pkt.subarray(20), SRC, DST).ok).toBe(true);
    }
  });

  test("a received TCP checksum of 0xffff for a zero fold is accepted (Linux writes it so)", () => {
    const payload = payloadForZeroChecksum(123);
    const pkt = buildTcpPacket(
      SRC,
      DST,
      tcpSegment({
        srcPort: 80,
        dstPort: 40000,
        seq: 123,
        ack: 1,
        flags: Flag.ACK | Flag.PSH,
        window: 512,
        payload,
      }),
    );
    pkt[36] = 0xff;
    pkt[37] = 0xff;
    expect(parseTcp(pkt.subarray(20), SRC, DST).ok).toBe(true);
  });

  test("UDP, where 0 means 'no checksum', sends a computed 0x0000 as 0xffff (RFC 768)", () => {
    // Search a payload word that makes the UDP checksum compute to zero.
    const base = { srcPort: 5000, dstPort: 7 };
    const probe = buildUdpPacket(SRC, DST, { ...base, payload: new Uint8Array(2) });
    const udp = probe.subarray(20);
    udp[6] = 0;
    udp[7] = 0;
    const sum = checksumAccumulate(udp, pseudoHeaderSum(SRC, DST, 17, udp.length));
    const w = (0xffff - sum) & 0xffff;
    const pkt = buildUdpPacket(SRC, DST, { ...base, payload: new Uint8Array([w >>> 8, w & 0xff]) });
    expect(checksumFinish(sum + w)).toBe(0);
    expect((pkt[26]! << 8) | pkt[27]!).toBe(0xffff);
  });
});
