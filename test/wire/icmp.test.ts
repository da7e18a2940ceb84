import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { internetChecksum } from "../../src/wire/checksum.ts";
import {
  emitIcmp,
  type IcmpMessage,
  IcmpUnreachable,
  icmpErrorQuote,
  icmpLength,
  parseIcmp,
} from "../../src/wire/icmp.ts";
import { fcParams, hexBytes } from "./prop.ts";

function emit(msg: IcmpMessage, checksum?: "good" | "bad"): Uint8Array {
  const buf = new Uint8Array(icmpLength(msg));
  expect(emitIcmp(msg, buf, 0, checksum ? { checksum } : undefined)).toBe(buf.length);
  return buf;
}

function parsed(bytes: Uint8Array): IcmpMessage {
  const r = parseIcmp(bytes);
  if (!r.ok) throw new Error(r.drop);
  return r.value;
}

describe("ICMP", () => {
  test("an echo request laid out by hand (RFC 792), field by field", () => {
    // type 8, code 0, id 7, seq 1, data "ab".
    // Sum: 0800 + 0007 + 0001 + 6162 = 696a -> checksum ~696a = 9695.
    const bytes = hexBytes("08 00 96 95 00 07 00 01 61 62");
    const msg = parsed(bytes);
    expect(msg).toEqual({ type: "echo-request", id: 7, seq: 1, data: Uint8Array.of(0x61, 0x62) });
    expect(emit(msg)).toEqual(bytes);
  });

  test("echo reply", () => {
    const msg: IcmpMessage = {
      type: "echo-reply",
      id: 0xbeef,
      seq: 65535,
      data: new Uint8Array(56),
    };
    const bytes = emit(msg);
    expect(bytes[0]).toBe(0);
    expect(internetChecksum(bytes)).toBe(0);
    expect(parsed(bytes)).toEqual(msg);
  });

  test("destination unreachable, port: quotes the original header and 8 bytes", () => {
    const original = new Uint8Array(28).fill(3);
    const msg: IcmpMessage = { type: "dest-unreachable", code: IcmpUnreachable.PORT, original };
    const bytes = emit(msg);
    expect([...bytes.subarray(0, 2)]).toEqual([3, 3]);
    expect([...bytes.subarray(4, 8)]).toEqual([0, 0, 0, 0]);
    expect(parsed(bytes)).toEqual(msg);
    expect(icmpLength(msg)).toBe(36);
  });

  test("fragmentation needed carries the next-hop MTU (RFC 1191)", () => {
    const msg: IcmpMessage = {
      type: "dest-unreachable",
      code: IcmpUnreachable.FRAG_NEEDED,
      nextHopMtu: 1400,
      original: new Uint8Array(28),
    };
    const bytes = emit(msg);
    expect((bytes[6]! << 8) | bytes[7]!).toBe(1400);
    expect(parsed(bytes)).toEqual(msg);
  });

  test("time exceeded", () => {
    const msg: IcmpMessage = {
      type: "time-exceeded",
      code: 0,
      original: new Uint8Array(28).fill(9),
    };
    expect(parsed(emit(msg))).toEqual(msg);
  });

  test("other types keep everything after the checksum", () => {
    const msg: IcmpMessage = {
      type: "other",
      icmpType: 13,
      code: 0,
      body: new Uint8Array(16).fill(5),
    };
    const bytes = emit(msg);
    expect(bytes[0]).toBe(13);
    expect(parsed(bytes)).toEqual(msg);
  });

  describe("drop reasons", () => {
    test("truncated: under 8 bytes", () => {
      const r = parseIcmp(hexBytes("08 00 f7 ff 00 00 00"));
      expect(r.ok ? "ok" : r.drop).toBe("truncated");
    });

    test("bad-checksum: a flipped data bit, or emitted bad on purpose", () => {
      const bytes = emit({ type: "echo-request", id: 1, seq: 1, data: Uint8Array.of(1, 2, 3) });
      bytes[9] = bytes[9]! ^ 4;
      const r = parseIcmp(bytes);
      expect(r.ok ? "ok" : r.drop).toBe("bad-checksum");
      expect(parseIcmp(bytes, { verifyChecksum: false }).ok).toBe(true);
      const bad = parseIcmp(
        emit({ type: "echo-reply", id: 1, seq: 1, data: new Uint8Array(0) }, "bad"),
      );
      expect(bad.ok ? "ok" : bad.drop).toBe("bad-checksum");
    });
  });

  test("icmpErrorQuote keeps the IP header and the first 8 data bytes", () => {
    const pkt = new Uint8Array(100);
    pkt[0] = 0x46; // IHL 24
    pkt[3] = 100;
    expect(icmpErrorQuote(pkt).length).toBe(32);
    expect(icmpErrorQuote(pkt, 40).length).toBe(64);
    expect(icmpErrorQuote(pkt.subarray(0, 27)).length).toBe(27);
    const short = pkt.slice();
    short[3] = 26; // total length 26: only 2 data bytes exist
    expect(icmpErrorQuote(short).length).toBe(26);
  });

  test("round trip (property)", () => {
    const u16 = fc.integer({ min: 0, max: 0xffff });
    const bytes = fc.uint8Array({ maxLength: 200 });
    const msgArb: fc.Arbitrary<IcmpMessage> = fc.oneof(
      fc.record({
        type: fc.constantFrom("echo-request" as const, "echo-reply" as const),
        id: u16,
        seq: u16,
        data: bytes,
      }),
      fc
        .record({ code: fc.integer({ min: 0, max: 255 }).filter((c) => c !== 4), original: bytes })
        .map(({ code, original }): IcmpMessage => ({ type: "dest-unreachable", code, original })),
      fc
        .record({ nextHopMtu: u16, original: bytes })
        .map((r): IcmpMessage => ({ type: "dest-unreachable", code: 4, ...r })),
      fc
        .record({ code: fc.integer({ min: 0, max: 255 }), original: bytes })
        .map((r): IcmpMessage => ({ type: "time-exceeded", ...r })),
      fc
        .record({
          icmpType: fc.integer({ min: 0, max: 255 }).filter((t) => ![0, 3, 8, 11].includes(t)),
          code: fc.integer({ min: 0, max: 255 }),
          body: fc.uint8Array({ minLength: 4, maxLength: 100 }),
        })
        .map((r): IcmpMessage => ({ type: "other", ...r })),
    );
    fc.assert(
      fc.property(msgArb, (msg) => {
        const wire = emit(msg);
        expect(internetChecksum(wire)).toBe(0);
        expect(parsed(wire)).toEqual(msg);
      }),
      fcParams(),
    );
  });
});
