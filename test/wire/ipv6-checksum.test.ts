/** TCP and UDP over IPv6: RFC 8200 §8.1's pseudo-header, and UDP's mandatory checksum. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { ip } from "../../src/wire/addr.ts";
import {
  checksumAccumulate,
  checksumFinish,
  ipPseudoHeaderSum,
  pseudoHeaderSum,
  pseudoHeaderSum6,
} from "../../src/wire/checksum.ts";
import { type Ipv6Addr, ip6, writeIpv6Addr } from "../../src/wire/ipv6-addr.ts";
import { tcpSegment } from "../../src/wire/packet.ts";
import { emitTcp, parseTcp, tcpLength } from "../../src/wire/tcp.ts";
import { Flag } from "../../src/wire/tcp-types.ts";
import { emitUdp, parseUdp, UDP_HEADER_LEN } from "../../src/wire/udp.ts";
import { fcParams, hexBytes, referenceChecksum } from "./prop.ts";

const A = ip6("fd00::1");
const B = ip6("fd00::2");

/** RFC 8200 §8.1's figure, byte by byte: source, destination, 32-bit length, 3 zeros, next header. */
function pseudoHeaderBytes(src: Ipv6Addr, dst: Ipv6Addr, nh: number, length: number): Uint8Array {
  const b = new Uint8Array(40);
  writeIpv6Addr(src, b, 0);
  writeIpv6Addr(dst, b, 16);
  new DataView(b.buffer).setUint32(32, length);
  b[39] = nh;
  return b;
}

/** The checksum field a correct sender writes, computed the naive way over pseudo-header + message. */
function expectedChecksum(src: Ipv6Addr, dst: Ipv6Addr, nh: number, msg: Uint8Array): number {
  const zeroed = msg.slice();
  const at = nh === 6 ? 16 : 6;
  zeroed[at] = 0;
  zeroed[at + 1] = 0;
  const all = new Uint8Array(40 + msg.length);
  all.set(pseudoHeaderBytes(src, dst, nh, msg.length));
  all.set(zeroed, 40);
  return referenceChecksum(all);
}

describe("IPv6 pseudo-header (RFC 8200 §8.1)", () => {
  test("the sum adds both addresses, the 32-bit length and the next header", () => {
    expect(pseudoHeaderSum6(A, B, 6, 20)).toBe(0xfd00 + 1 + 0xfd00 + 2 + 20 + 6);
    // A length over 65535 (a jumbogram's) spans two 16-bit words.
    expect(pseudoHeaderSum6(A, B, 17, 0x12345)).toBe(0xfd00 + 1 + 0xfd00 + 2 + 1 + 0x2345 + 17);
  });

  test("equals the naive sum over the pseudo-header's bytes (property)", () => {
    const word = fc.integer({ min: 0, max: 0xffffffff });
    const addr = fc.tuple(word, word, word, word);
    fc.assert(
      fc.property(addr, addr, fc.nat(255), fc.nat(0xffff), (s, d, nh, len) => {
        const sum = pseudoHeaderSum6(s, d, nh, len);
        expect(checksumFinish(sum)).toBe(referenceChecksum(pseudoHeaderBytes(s, d, nh, len)));
      }),
      fcParams(),
    );
  });

  test("ipPseudoHeaderSum picks the family by the addresses; a mix is refused", () => {
    expect(ipPseudoHeaderSum(ip("10.0.0.1"), ip("10.0.0.2"), 6, 40)).toBe(
      pseudoHeaderSum(ip("10.0.0.1"), ip("10.0.0.2"), 6, 40),
    );
    expect(ipPseudoHeaderSum(A, B, 6, 40)).toBe(pseudoHeaderSum6(A, B, 6, 40));
    const v4: number = ip("10.0.0.1");
    const mixed = ipPseudoHeaderSum as (s: unknown, d: unknown, p: number, l: number) => number;
    expect(() => mixed(v4, B, 6, 40)).toThrow(RangeError);
    expect(() => mixed(A, v4, 6, 40)).toThrow(RangeError);
    const segment = new Uint8Array(20);
    segment[12] = 5 << 4; // data offset 5: the checksum is reached
    // @ts-expect-error the types refuse a pair of two families
    expect(() => parseTcp(segment, v4, B)).toThrow(RangeError);
  });
});

describe("TCP over IPv6", () => {
  const seg = tcpSegment({
    srcPort: 80,
    dstPort: 5000,
    seq: 1000,
    ack: 2000,
    flags: Flag.ACK | Flag.PSH,
    window: 65535,
    options: [{ kind: "timestamps", tsVal: 7, tsEcr: 9 }],
    payload: new TextEncoder().encode("hello"),
  });

  test("the checksum is the one-complement sum over the IPv6 pseudo-header and the segment", () => {
    const buf = new Uint8Array(tcpLength(seg));
    emitTcp(seg, A, B, buf);
    const field = (buf[16]! << 8) | buf[17]!;
    expect(field).toBe(expectedChecksum(A, B, 6, buf));
    const r = parseTcp(buf, A, B);
    if (!r.ok) throw new Error(r.drop);
    expect(r.value).toEqual(seg);
  });

  test("a segment verified against other addresses, or as IPv4, fails", () => {
    const buf = new Uint8Array(tcpLength(seg));
    emitTcp(seg, A, B, buf);
    const wrong = parseTcp(buf, A, ip6("fd00::3"));
    expect(wrong.ok ? "ok" : wrong.drop).toBe("bad-checksum");
    const asV4 = parseTcp(buf, ip("10.0.0.1"), ip("10.0.0.2"));
    expect(asV4.ok ? "ok" : asV4.drop).toBe("bad-checksum");
  });

  test("round trip over random addresses (property)", () => {
    const word = fc.integer({ min: 0, max: 0xffffffff });
    const addr = fc.tuple(word, word, word, word);
    fc.assert(
      fc.property(addr, addr, fc.uint8Array({ maxLength: 100 }), (s, d, payload) => {
        const x = { ...seg, payload };
        const buf = new Uint8Array(tcpLength(x));
        emitTcp(x, s, d, buf);
        const r = parseTcp(buf, s, d);
        expect(r.ok).toBe(true);
        const sum = checksumAccumulate(buf, pseudoHeaderSum6(s, d, 6, buf.length));
        expect(checksumFinish(sum)).toBe(0);
      }),
      fcParams(),
    );
  });
});

describe("UDP over IPv6", () => {
  const hello = hexBytes("68 65 6c 6c 6f");

  function emit(payload: Uint8Array, checksum?: "good" | "bad" | "none"): Uint8Array {
    const buf = new Uint8Array(UDP_HEADER_LEN + payload.length);
    emitUdp(
      { srcPort: 5000, dstPort: 7, payload },
      A,
      B,
      buf,
      0,
      checksum ? { checksum } : undefined,
    );
    return buf;
  }

  test("fd00::1.5000 > fd00::2.7 'hello': the checksum over the IPv6 pseudo-header", () => {
    const buf = emit(hello);
    expect([...buf.subarray(0, 6)]).toEqual([0x13, 0x88, 0x00, 0x07, 0x00, 0x0d]);
    expect((buf[6]! << 8) | buf[7]!).toBe(expectedChecksum(A, B, 17, buf));
    const r = parseUdp(buf, A, B);
    if (!r.ok) throw new Error(r.drop);
    expect(r.value.payload).toEqual(hello);
  });

  test("a zero checksum is a drop over IPv6 (RFC 8200 §8.1), still accepted over IPv4", () => {
    const buf = emit(hello, "none");
    expect((buf[6]! << 8) | buf[7]!).toBe(0);
    const r = parseUdp(buf, A, B);
    expect(r.ok ? "ok" : r.drop).toBe("udp-zero-checksum");
    expect(parseUdp(buf, ip("10.0.0.1"), ip("10.0.0.2")).ok).toBe(true);
    // With verification off (traces, tools) the datagram is read as it is.
    expect(parseUdp(buf, A, B, { verifyChecksum: false }).ok).toBe(true);
  });

  test("a computed zero is sent as ffff over IPv6 too", () => {
    // Find a payload whose checksum computes to zero: two bytes fix the sum.
    const payload = new Uint8Array(2);
    const unsummed = emit(payload, "none");
    const sum = checksumFinish(checksumAccumulate(unsummed, pseudoHeaderSum6(A, B, 17, 10)));
    // Adding `sum` as data makes the folded sum ffff, so the checksum computes to 0.
    payload[0] = sum >>> 8;
    payload[1] = sum & 0xff;
    const buf = emit(payload);
    expect((buf[6]! << 8) | buf[7]!).toBe(0xffff);
    expect(parseUdp(buf, A, B).ok).toBe(true);
  });

  test("a bad checksum is a drop", () => {
    const r = parseUdp(emit(hello, "bad"), A, B);
    expect(r.ok ? "ok" : r.drop).toBe("bad-checksum");
  });
});
