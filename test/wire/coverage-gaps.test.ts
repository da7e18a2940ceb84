import { describe, expect, test } from "bun:test";
import { ip } from "../../src/wire/addr.ts";
import { checksumAccumulate, checksumFinish, pseudoHeaderSum } from "../../src/wire/checksum.ts";
import { emitIpv4, IpProto, isFragment, parseIpv4 } from "../../src/wire/ipv4.ts";
import { tcpSegment } from "../../src/wire/packet.ts";
import { emitTcp, parseTcp, tcpHeaderLength } from "../../src/wire/tcp.ts";
import { Flag } from "../../src/wire/tcp-types.ts";

// Rows of docs/rfc-coverage.md whose codec behaviour had no field-level test.

const A = ip("10.0.0.1");
const B = ip("10.0.0.2");

function tcpBytes(flags: number): Uint8Array {
  const seg = tcpSegment({ srcPort: 1, dstPort: 2, flags });
  const buf = new Uint8Array(tcpHeaderLength(seg.options));
  emitTcp(seg, A, B, buf);
  return buf;
}

function fixTcpChecksum(seg: Uint8Array): Uint8Array {
  seg[16] = 0;
  seg[17] = 0;
  const c = checksumFinish(checksumAccumulate(seg, pseudoHeaderSum(A, B, 6, seg.length)));
  seg[16] = c >> 8;
  seg[17] = c & 0xff;
  return seg;
}

describe("RFC 9293 §3.1 / RFC 3168: TCP control bits", () => {
  test("CWR and ECE are the two high bits of byte 13, above URG ACK PSH RST SYN FIN", () => {
    const all = tcpBytes(0xff);
    expect(all[13]).toBe(0xff);
    expect(tcpBytes(Flag.CWR)[13]).toBe(0b1000_0000);
    expect(tcpBytes(Flag.ECE)[13]).toBe(0b0100_0000);
    expect(tcpBytes(Flag.URG | Flag.FIN)[13]).toBe(0b0010_0001);
    const r = parseTcp(tcpBytes(Flag.SYN | Flag.ECE | Flag.CWR), A, B);
    if (!r.ok) throw new Error(r.drop);
    expect(r.value.flags).toBe(Flag.SYN | Flag.ECE | Flag.CWR);
  });

  test("reserved bits are zero when sent and ignored when received", () => {
    const bytes = tcpBytes(Flag.ACK);
    expect(bytes[12]! & 0x0f).toBe(0);
    bytes[12] = bytes[12]! | 0x0f; // set all four reserved bits (the last is RFC 9768's AE)
    const r = parseTcp(fixTcpChecksum(bytes), A, B);
    if (!r.ok) throw new Error(r.drop);
    expect(r.value.flags).toBe(Flag.ACK);
    expect(r.value.payload.length).toBe(0);
  });
});

describe("RFC 791 §3.1: IPv4 flags and fragment offset", () => {
  test("MF and a fragment offset, field by field (offset counted in 8-byte units)", () => {
    const pkt = new Uint8Array(20 + 8);
    emitIpv4(
      {
        src: A,
        dst: B,
        protocol: IpProto.UDP,
        identification: 0xbeef,
        fragmentOffset: 1480,
        moreFragments: true,
      },
      8,
      pkt,
    );
    // Flags are the top 3 bits of bytes 6–7 (reserved, DF, MF); the offset is the other 13.
    expect((pkt[6]! << 8) | pkt[7]!).toBe(0x2000 | (1480 / 8));
    const r = parseIpv4(pkt);
    if (!r.ok) throw new Error(r.drop);
    expect(r.value.header).toMatchObject({
      identification: 0xbeef,
      dontFragment: false,
      moreFragments: true,
      fragmentOffset: 1480,
    });
    expect(isFragment(r.value.header)).toBe(true);
  });

  test("DF alone is not a fragment; a last fragment (MF = 0, offset > 0) is", () => {
    const df = new Uint8Array(20);
    emitIpv4({ src: A, dst: B, protocol: IpProto.TCP, dontFragment: true }, 0, df);
    expect((df[6]! << 8) | df[7]!).toBe(0x4000);
    const p = parseIpv4(df);
    if (!p.ok) throw new Error(p.drop);
    expect(isFragment(p.value.header)).toBe(false);
    const last = new Uint8Array(20 + 8);
    emitIpv4({ src: A, dst: B, protocol: IpProto.UDP, fragmentOffset: 8 }, 8, last);
    const q = parseIpv4(last);
    if (!q.ok) throw new Error(q.drop);
    expect(isFragment(q.value.header)).toBe(true);
  });
});
