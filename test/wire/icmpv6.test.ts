import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { checksumAccumulate, checksumFinish, pseudoHeaderSum6 } from "../../src/wire/checksum.ts";
import {
  emitIcmpv6,
  ICMPV6_QUOTE_MAX,
  type Icmpv6Message,
  Icmpv6ParamProblem,
  Icmpv6Type,
  Icmpv6Unreachable,
  icmpv6ErrorQuote,
  icmpv6Length,
  isIcmpv6Error,
  isNeighborDiscovery,
  parseIcmpv6,
} from "../../src/wire/icmpv6.ts";
import { NextHeader, parseIpv6Quote } from "../../src/wire/ipv6.ts";
import { type Ipv6Addr, ip6, writeIpv6Addr } from "../../src/wire/ipv6-addr.ts";
import { buildUdpPacket6 } from "../../src/wire/packet6.ts";
import { fcParams, hexBytes, referenceChecksum } from "./prop.ts";

const A = ip6("fd00::1");
const B = ip6("fd00::2");

function emit(msg: Icmpv6Message, checksum?: "good" | "bad"): Uint8Array {
  const buf = new Uint8Array(icmpv6Length(msg));
  expect(emitIcmpv6(msg, A, B, buf, 0, checksum ? { checksum } : undefined)).toBe(buf.length);
  return buf;
}

function parsed(bytes: Uint8Array, src: Ipv6Addr = A, dst: Ipv6Addr = B): Icmpv6Message {
  const r = parseIcmpv6(bytes, src, dst);
  if (!r.ok) throw new Error(r.drop);
  return r.value;
}

function dropOf(bytes: Uint8Array): string {
  const r = parseIcmpv6(bytes, A, B);
  return r.ok ? "ok" : r.drop;
}

/** The checksum field of `msg` computed the naive way: RFC 8200 §8.1's pseudo-header bytes, then the message. */
function naiveChecksum(msg: Uint8Array): number {
  const all = new Uint8Array(40 + msg.length);
  writeIpv6Addr(A, all, 0);
  writeIpv6Addr(B, all, 16);
  new DataView(all.buffer).setUint32(32, msg.length);
  all[39] = NextHeader.ICMPV6;
  all.set(msg, 40);
  all[42] = 0;
  all[43] = 0;
  return referenceChecksum(all);
}

describe("ICMPv6 (RFC 4443)", () => {
  test("an echo request laid out by hand (§4.1), with its pseudo-header checksum", () => {
    const bytes = hexBytes("80 00 0000 0007 0001 61 62");
    const sum = naiveChecksum(bytes);
    bytes[2] = sum >>> 8;
    bytes[3] = sum & 0xff;
    const msg = parsed(bytes);
    expect(msg).toEqual({ type: "echo-request", id: 7, seq: 1, data: Uint8Array.of(0x61, 0x62) });
    expect(emit(msg)).toEqual(bytes);
  });

  test("the checksum covers the addresses: the same bytes between other hosts fail", () => {
    const bytes = emit({ type: "echo-reply", id: 1, seq: 2, data: new Uint8Array(56) });
    expect(bytes[0]).toBe(Icmpv6Type.ECHO_REPLY);
    const sum = checksumAccumulate(bytes, pseudoHeaderSum6(A, B, NextHeader.ICMPV6, bytes.length));
    expect(checksumFinish(sum)).toBe(0);
    const r = parseIcmpv6(bytes, A, ip6("fd00::3"));
    expect(r.ok ? "ok" : r.drop).toBe("bad-checksum");
    expect(parseIcmpv6(bytes, A, ip6("fd00::3"), { verifyChecksum: false }).ok).toBe(true);
  });

  test("destination unreachable (§3.1): code, an unused zero word, the quote", () => {
    const original = new Uint8Array(48).fill(3);
    const msg: Icmpv6Message = { type: "dest-unreachable", code: Icmpv6Unreachable.PORT, original };
    const bytes = emit(msg);
    expect([...bytes.subarray(0, 2)]).toEqual([1, 4]);
    expect([...bytes.subarray(4, 8)]).toEqual([0, 0, 0, 0]);
    expect(parsed(bytes)).toEqual(msg);
  });

  test("packet too big (§3.2): a 32-bit MTU; the code is sent 0 and ignored on receipt", () => {
    const msg: Icmpv6Message = {
      type: "packet-too-big",
      mtu: 0x12345678,
      original: new Uint8Array(40),
    };
    const bytes = emit(msg);
    expect([...bytes.subarray(0, 2)]).toEqual([2, 0]);
    expect([...bytes.subarray(4, 8)]).toEqual([0x12, 0x34, 0x56, 0x78]);
    expect(parsed(bytes)).toEqual(msg);
    const odd = bytes.slice();
    odd[1] = 5;
    const sum = naiveChecksum(odd);
    odd[2] = sum >>> 8;
    odd[3] = sum & 0xff;
    expect(parsed(odd)).toEqual(msg);
  });

  test("time exceeded (§3.3) and parameter problem (§3.4) with a 32-bit pointer", () => {
    const te: Icmpv6Message = { type: "time-exceeded", code: 1, original: new Uint8Array(40) };
    expect(parsed(emit(te))).toEqual(te);
    const pp: Icmpv6Message = {
      type: "parameter-problem",
      code: Icmpv6ParamProblem.UNRECOGNIZED_NEXT_HEADER,
      pointer: 40,
      original: new Uint8Array(48),
    };
    const bytes = emit(pp);
    expect([...bytes.subarray(0, 2)]).toEqual([4, 1]);
    expect([...bytes.subarray(4, 8)]).toEqual([0, 0, 0, 40]);
    expect(parsed(bytes)).toEqual(pp);
  });

  test("neighbour discovery (RFC 4861) is recognised and dropped: no link layer on a TUN device", () => {
    for (let type = 133; type <= 137; type++) {
      expect(isNeighborDiscovery(type)).toBe(true);
      const bytes = emit({ type: "other", icmpType: type, code: 0, body: new Uint8Array(20) });
      expect(dropOf(bytes)).toBe("neighbor-discovery");
    }
    expect(isNeighborDiscovery(128)).toBe(false);
    expect(isNeighborDiscovery(138)).toBe(false);
  });

  test("unknown types come back as other; below 128 they are errors (§2.4(a), (b))", () => {
    const err = parsed(emit({ type: "other", icmpType: 100, code: 3, body: new Uint8Array(44) }));
    expect(err).toMatchObject({ type: "other", icmpType: 100, code: 3 });
    expect(isIcmpv6Error(100)).toBe(true);
    const info = parsed(emit({ type: "other", icmpType: 200, code: 0, body: new Uint8Array(4) }));
    expect(info).toMatchObject({ type: "other", icmpType: 200 });
    expect(isIcmpv6Error(200)).toBe(false);
    // Multicast listener discovery is informational and not ours either.
    expect(
      parsed(emit({ type: "other", icmpType: 143, code: 0, body: new Uint8Array(4) })),
    ).toMatchObject({
      icmpType: 143,
    });
  });

  test("drops: truncated under 8 bytes; bad-checksum", () => {
    expect(dropOf(new Uint8Array(7))).toBe("truncated");
    const bytes = emit({ type: "echo-request", id: 1, seq: 1, data: Uint8Array.of(1, 2, 3) });
    bytes[9] = bytes[9]! ^ 4;
    expect(dropOf(bytes)).toBe("bad-checksum");
    expect(
      dropOf(emit({ type: "echo-reply", id: 1, seq: 1, data: new Uint8Array(0) }, "bad")),
    ).toBe("bad-checksum");
  });

  test("round trip (property)", () => {
    const u16 = fc.integer({ min: 0, max: 0xffff });
    const u32 = fc.integer({ min: 0, max: 0xffffffff });
    const code = fc.integer({ min: 0, max: 255 });
    const bytes = fc.uint8Array({ maxLength: 200 });
    const msgArb: fc.Arbitrary<Icmpv6Message> = fc.oneof(
      fc.record({
        type: fc.constantFrom("echo-request" as const, "echo-reply" as const),
        id: u16,
        seq: u16,
        data: bytes,
      }),
      fc.record({
        type: fc.constantFrom("dest-unreachable" as const, "time-exceeded" as const),
        code,
        original: bytes,
      }),
      fc.record({ type: fc.constant("packet-too-big" as const), mtu: u32, original: bytes }),
      fc.record({
        type: fc.constant("parameter-problem" as const),
        code,
        pointer: u32,
        original: bytes,
      }),
      fc.record({
        type: fc.constant("other" as const),
        icmpType: code.filter(
          (t) => ![1, 2, 3, 4, 128, 129].includes(t) && !isNeighborDiscovery(t),
        ),
        code,
        body: fc.uint8Array({ minLength: 4, maxLength: 100 }),
      }),
    );
    fc.assert(
      fc.property(msgArb, (msg) => {
        const wire = emit(msg);
        expect(parsed(wire)).toEqual(msg);
      }),
      fcParams(),
    );
  });
});

describe("icmpv6ErrorQuote (§2.4(c))", () => {
  test("as much of the invoking packet as keeps the error within 1280 bytes", () => {
    expect(ICMPV6_QUOTE_MAX).toBe(1232);
    const big = buildUdpPacket6(A, B, {
      srcPort: 5000,
      dstPort: 53,
      payload: new Uint8Array(1400),
    });
    const quote = icmpv6ErrorQuote(big);
    expect(quote.length).toBe(1232);
    const msg: Icmpv6Message = { type: "dest-unreachable", code: 4, original: quote };
    expect(40 + icmpv6Length(msg)).toBe(1280);
    // The quote still names the datagram: its ports behind the header.
    const back = parsed(emit(msg));
    if (back.type !== "dest-unreachable") throw new Error(back.type);
    const q = parseIpv6Quote(back.original);
    expect(
      q.ok && [q.value.protocol, (q.value.transport[2]! << 8) | q.value.transport[3]!],
    ).toEqual([NextHeader.UDP, 53]);
  });

  test("a small packet is quoted whole; link padding past its payload length is not", () => {
    const small = buildUdpPacket6(A, B, { srcPort: 1, dstPort: 2, payload: new Uint8Array(10) });
    expect(icmpv6ErrorQuote(small)).toEqual(small);
    const padded = new Uint8Array(small.length + 6);
    padded.set(small);
    expect(icmpv6ErrorQuote(padded).length).toBe(small.length);
    expect(icmpv6ErrorQuote(small.subarray(0, 30)).length).toBe(30);
  });
});
