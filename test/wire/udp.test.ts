import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { ip } from "../../src/wire/addr.ts";
import { checksumAccumulate, checksumFinish, pseudoHeaderSum } from "../../src/wire/checksum.ts";
import { emitUdp, parseUdp, UDP_HEADER_LEN } from "../../src/wire/udp.ts";
import { fcParams, hexBytes } from "./prop.ts";

const A = ip("10.0.0.1");
const B = ip("10.0.0.2");

function emit(payload: Uint8Array, checksum?: "good" | "bad" | "none"): Uint8Array {
  const buf = new Uint8Array(UDP_HEADER_LEN + payload.length);
  const n = emitUdp(
    { srcPort: 5000, dstPort: 7, payload },
    A,
    B,
    buf,
    0,
    checksum ? { checksum } : undefined,
  );
  expect(n).toBe(buf.length);
  return buf;
}

function dropOf(bytes: Uint8Array, opts?: { verifyChecksum?: boolean }): string {
  const r = parseUdp(bytes, A, B, opts);
  return r.ok ? "ok" : r.drop;
}

describe("UDP", () => {
  test("a hand-laid datagram 10.0.0.1.5000 > 10.0.0.2.7 'hello', field by field", () => {
    // RFC 768 layout; checksum 0x9470 computed independently over the pseudo-header.
    const bytes = hexBytes("13 88 00 07 00 0d 94 70 68 65 6c 6c 6f");
    const r = parseUdp(bytes, A, B);
    if (!r.ok) throw new Error(r.drop);
    expect(r.value.srcPort).toBe(5000);
    expect(r.value.dstPort).toBe(7);
    expect(r.value.checksum).toBe(0x9470);
    expect(new TextDecoder().decode(r.value.payload)).toBe("hello");
    expect(emit(r.value.payload)).toEqual(bytes);
  });

  test("a zero checksum means 'not computed' and is accepted", () => {
    const bytes = emit(Uint8Array.of(1, 2, 3), "none");
    expect(bytes[6]).toBe(0);
    expect(bytes[7]).toBe(0);
    expect(dropOf(bytes)).toBe("ok");
  });

  test("a computed checksum of zero is sent as ffff (RFC 768)", () => {
    // Choose 2 payload bytes that make the one's complement sum come out all ones.
    const head = new Uint8Array(UDP_HEADER_LEN + 2);
    emitUdp({ srcPort: 5000, dstPort: 7, payload: new Uint8Array(2) }, A, B, head, 0, {
      checksum: "none",
    });
    const partial = checksumAccumulate(head, pseudoHeaderSum(A, B, 17, head.length));
    const word = 0xffff - partial;
    const bytes = emit(Uint8Array.of(word >> 8, word & 0xff));
    const zeroed = bytes.slice();
    zeroed[6] = 0;
    zeroed[7] = 0;
    expect(
      checksumFinish(checksumAccumulate(zeroed, pseudoHeaderSum(A, B, 17, zeroed.length))),
    ).toBe(0);
    expect((bytes[6]! << 8) | bytes[7]!).toBe(0xffff);
    expect(dropOf(bytes)).toBe("ok");
  });

  test("bytes past the UDP length are ignored", () => {
    const bytes = new Uint8Array(20);
    bytes.set(emit(Uint8Array.of(9, 9)));
    bytes.fill(0x77, 10);
    const r = parseUdp(bytes, A, B);
    if (!r.ok) throw new Error(r.drop);
    expect(r.value.payload).toEqual(Uint8Array.of(9, 9));
  });

  describe("drop reasons", () => {
    test("truncated: fewer than 8 bytes", () => {
      expect(dropOf(emit(new Uint8Array(4)).subarray(0, 7))).toBe("truncated");
    });

    test("bad-length: length field above the bytes, or below 8", () => {
      const long = emit(new Uint8Array(4));
      long[5] = 13;
      expect(dropOf(long)).toBe("bad-length");
      const short = emit(new Uint8Array(4));
      short[5] = 7;
      expect(dropOf(short)).toBe("bad-length");
    });

    test("bad-checksum: corrupted data, or emitted bad on purpose", () => {
      const bytes = emit(Uint8Array.of(1, 2, 3, 4));
      bytes[9] = bytes[9]! ^ 1;
      expect(dropOf(bytes)).toBe("bad-checksum");
      expect(dropOf(bytes, { verifyChecksum: false })).toBe("ok");
      expect(dropOf(emit(Uint8Array.of(1), "bad"))).toBe("bad-checksum");
    });
  });

  test("round trip (property)", () => {
    const port = fc.integer({ min: 0, max: 0xffff });
    fc.assert(
      fc.property(port, port, fc.uint8Array({ maxLength: 600 }), (srcPort, dstPort, payload) => {
        const buf = new Uint8Array(UDP_HEADER_LEN + payload.length);
        emitUdp({ srcPort, dstPort, payload }, A, B, buf);
        const r = parseUdp(buf, A, B);
        if (!r.ok) throw new Error(r.drop);
        expect(r.value.srcPort).toBe(srcPort);
        expect(r.value.dstPort).toBe(dstPort);
        expect(r.value.checksum).not.toBe(0);
        expect(r.value.payload).toEqual(payload);
      }),
      fcParams(),
    );
  });
});
