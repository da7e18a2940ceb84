import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { ip } from "../../src/wire/addr.ts";
import { checksumAccumulate, checksumFinish, pseudoHeaderSum } from "../../src/wire/checksum.ts";
import { parseIpv4 } from "../../src/wire/ipv4.ts";
import { tcpSegment } from "../../src/wire/packet.ts";
import {
  emitTcp,
  parseTcp,
  parseTcpOptions,
  tcpHeaderLength,
  tcpOptionsLength,
  tcpSegmentLength,
} from "../../src/wire/tcp.ts";
import { Flag, type TcpOption, type TcpSegment } from "../../src/wire/tcp-types.ts";
import { fcParams, hexBytes } from "./prop.ts";

const A = ip("10.0.0.1");
const B = ip("10.0.0.2");

/**
 * A Linux-style SYN 10.0.0.1.43512 > 10.0.0.2.80, laid out by hand from
 * RFC 791 §3.1 and RFC 9293 §3.1 (checksums computed independently):
 * options mss 1460, sackOK, TS val 1234567 ecr 0, nop, wscale 7.
 */
const LINUX_SYN = hexBytes(`
  45 00 00 3c 1c 46 40 00 40 06 0a 74 0a 00 00 01 0a 00 00 02
  a9 f8 00 50 1e 5a 3c 4d 00 00 00 00 a0 02 fa f0 5d 83 00 00
  02 04 05 b4 04 02 08 0a 00 12 d6 87 00 00 00 00 01 03 03 07`);

function tcpBytesOf(packet: Uint8Array): Uint8Array {
  const r = parseIpv4(packet);
  if (!r.ok) throw new Error(r.drop);
  return r.value.payload;
}

/** Emits `seg` and returns just the TCP bytes. */
function emit(seg: TcpSegment, opts?: { checksum?: "good" | "bad" }): Uint8Array {
  const buf = new Uint8Array(tcpHeaderLength(seg.options) + seg.payload.length);
  expect(emitTcp(seg, A, B, buf, 0, opts)).toBe(buf.length);
  return buf;
}

/** Rewrites the checksum so a hand-broken segment fails only for the reason under test. */
function fixChecksum(seg: Uint8Array): Uint8Array {
  seg[16] = 0;
  seg[17] = 0;
  const c = checksumFinish(checksumAccumulate(seg, pseudoHeaderSum(A, B, 6, seg.length)));
  seg[16] = c >> 8;
  seg[17] = c & 0xff;
  return seg;
}

function dropOf(bytes: Uint8Array, opts?: { verifyChecksum?: boolean }): string {
  const r = parseTcp(bytes, A, B, opts);
  return r.ok ? "ok" : r.drop;
}

/** A 20-byte header + `options` (already padded by the caller) with a good checksum. */
function withRawOptions(options: number[]): Uint8Array {
  const seg = new Uint8Array(20 + options.length);
  seg.set(emit(tcpSegment({ srcPort: 1, dstPort: 2 })));
  seg[12] = ((20 + options.length) / 4) << 4;
  seg.set(options, 20);
  return fixChecksum(seg);
}

describe("parseTcp", () => {
  test("a Linux SYN, field by field", () => {
    const r = parseTcp(tcpBytesOf(LINUX_SYN), A, B);
    if (!r.ok) throw new Error(r.drop);
    const s = r.value;
    expect(s.srcPort).toBe(43512);
    expect(s.dstPort).toBe(80);
    expect(s.seq).toBe(0x1e5a3c4d);
    expect(s.ack).toBe(0);
    expect(s.flags).toBe(Flag.SYN);
    expect(s.window).toBe(64240);
    expect(s.urgentPointer).toBe(0);
    expect(s.options).toEqual([
      { kind: "mss", value: 1460 },
      { kind: "sackPermitted" },
      { kind: "timestamps", tsVal: 0x0012d687, tsEcr: 0 },
      { kind: "nop" },
      { kind: "wscale", shift: 7 },
    ]);
    expect(s.payload.length).toBe(0);
    expect(tcpSegmentLength(s)).toBe(1);
  });

  test("emitting the parsed SYN reproduces the captured bytes", () => {
    const r = parseTcp(tcpBytesOf(LINUX_SYN), A, B);
    if (!r.ok) throw new Error(r.drop);
    expect(emit(r.value)).toEqual(tcpBytesOf(LINUX_SYN));
  });

  test("the checksum depends on the pseudo-header addresses", () => {
    expect(dropOf(tcpBytesOf(LINUX_SYN))).toBe("ok");
    expect(parseTcp(tcpBytesOf(LINUX_SYN), A, ip("10.0.0.3")).ok).toBe(false);
  });

  test("payload is a view after the options", () => {
    const payload = new TextEncoder().encode("hello");
    const bytes = emit(
      tcpSegment({ srcPort: 1, dstPort: 2, options: [{ kind: "mss", value: 536 }], payload }),
    );
    const r = parseTcp(bytes, A, B);
    if (!r.ok) throw new Error(r.drop);
    expect(r.value.payload).toEqual(payload);
    expect(r.value.payload.buffer).toBe(bytes.buffer);
    expect(r.value.payload.byteOffset).toBe(24);
  });

  test("EOL ends option parsing; the padding after it is not read", () => {
    const r = parseTcp(withRawOptions([1, 0, 0xff, 0xff]), A, B);
    if (!r.ok) throw new Error(r.drop);
    expect(r.value.options).toEqual([{ kind: "nop" }]);
  });

  test('eol "each": every EOL byte is reported and reading goes on, as packetdrill compares options', () => {
    const r = parseTcp(withRawOptions([2, 4, 5, 0xb4, 4, 2, 0, 0]), A, B, { eol: "each" });
    if (!r.ok) throw new Error(r.drop);
    expect(r.value.options).toEqual([
      { kind: "mss", value: 1460 },
      { kind: "sackPermitted" },
      { kind: "eol" },
      { kind: "eol" },
    ]);
  });

  test("unknown option kinds are kept byte for byte", () => {
    const r = parseTcp(withRawOptions([0xfd, 4, 0xbe, 0xef, 30, 2, 1, 1]), A, B);
    if (!r.ok) throw new Error(r.drop);
    expect(r.value.options).toEqual([
      { kind: "unknown", type: 0xfd, data: Uint8Array.of(0xbe, 0xef) },
      { kind: "unknown", type: 30, data: new Uint8Array(0) },
      { kind: "nop" },
      { kind: "nop" },
    ]);
  });

  test("SACK blocks", () => {
    const seg = tcpSegment({
      srcPort: 1,
      dstPort: 2,
      flags: Flag.ACK,
      options: [
        { kind: "nop" },
        { kind: "nop" },
        {
          kind: "sack",
          blocks: [
            [0xfffffff0, 16],
            [100, 200],
          ],
        },
      ],
    });
    const r = parseTcp(emit(seg), A, B);
    if (!r.ok) throw new Error(r.drop);
    expect(r.value.options[2]).toEqual({
      kind: "sack",
      blocks: [
        [0xfffffff0, 16],
        [100, 200],
      ],
    });
  });

  describe("drop reasons", () => {
    test("truncated: fewer than 20 bytes", () => {
      expect(dropOf(tcpBytesOf(LINUX_SYN).subarray(0, 19))).toBe("truncated");
      expect(dropOf(new Uint8Array(0))).toBe("truncated");
    });

    test("bad-data-offset: below 5 words", () => {
      const seg = emit(tcpSegment({ srcPort: 1, dstPort: 2 }));
      seg[12] = 4 << 4;
      expect(dropOf(fixChecksum(seg))).toBe("bad-data-offset");
    });

    test("bad-data-offset: beyond the bytes", () => {
      const seg = tcpBytesOf(LINUX_SYN).slice(0, 36); // header says 40
      expect(dropOf(seg, { verifyChecksum: false })).toBe("bad-data-offset");
    });

    test("bad-checksum: a flipped payload bit, or an emitted bad checksum", () => {
      const seg = emit(tcpSegment({ srcPort: 1, dstPort: 2, payload: Uint8Array.of(1, 2, 3) }));
      seg[21] = seg[21]! ^ 0x10;
      expect(dropOf(seg)).toBe("bad-checksum");
      expect(dropOf(seg, { verifyChecksum: false })).toBe("ok");
      expect(dropOf(emit(tcpSegment({ srcPort: 1, dstPort: 2 }), { checksum: "bad" }))).toBe(
        "bad-checksum",
      );
    });

    test("bad-option-length: length 0 or 1", () => {
      expect(dropOf(withRawOptions([0xfd, 0, 0, 0]))).toBe("bad-option-length");
      expect(dropOf(withRawOptions([0xfd, 1, 0, 0]))).toBe("bad-option-length");
    });

    test("bad-option-length: running past the header", () => {
      expect(dropOf(withRawOptions([1, 1, 2, 4]))).toBe("bad-option-length");
      expect(dropOf(withRawOptions([8, 10, 0, 0, 0, 0, 0, 0]))).toBe("bad-option-length");
    });

    test("bad-option-length: a kind byte with no length byte at the end", () => {
      expect(dropOf(withRawOptions([1, 1, 1, 2]))).toBe("bad-option-length");
    });

    test("bad-option-length: wrong fixed length for known kinds", () => {
      expect(dropOf(withRawOptions([2, 3, 5, 0]))).toBe("bad-option-length"); // mss needs 4
      expect(dropOf(withRawOptions([3, 4, 7, 0]))).toBe("bad-option-length"); // wscale needs 3
      expect(dropOf(withRawOptions([4, 3, 0, 0]))).toBe("bad-option-length"); // sackOK needs 2
      expect(dropOf(withRawOptions([8, 8, 0, 0, 0, 0, 0, 0]))).toBe("bad-option-length"); // TS needs 10
      expect(dropOf(withRawOptions([5, 6, 0, 0, 0, 0, 0, 0]))).toBe("bad-option-length"); // sack 2+8n
      expect(dropOf(withRawOptions([5, 2, 1, 1]))).toBe("bad-option-length"); // sack with no block
    });

    test("badOptions 'skip': a known kind of the wrong size is passed over, an unfollowable length ends the list", () => {
      const skipped: string[] = [];
      const parse = (options: number[]) => {
        const r = parseTcp(withRawOptions(options), A, B, {
          badOptions: "skip",
          onSkippedOption: (d) => skipped.push(d),
        });
        if (!r.ok) throw new Error(r.drop);
        return r.value.options;
      };
      // MSS of length 5, then wscale 7: the MSS is skipped, wscale read.
      expect(parse([2, 5, 5, 180, 0, 3, 3, 7])).toEqual([{ kind: "wscale", shift: 7 }]);
      // NOP, then length 0: the list ends there (nothing after it can be found).
      expect(parse([1, 8, 0, 1])).toEqual([{ kind: "nop" }]);
      // A length past the header: the same.
      expect(parse([3, 3, 7, 2, 9, 0, 0, 0])).toEqual([{ kind: "wscale", shift: 7 }]);
      expect(skipped).toEqual([
        "option 2 length 5",
        "option 8 length 0",
        "option 2 length 9 runs past the header",
      ]);
    });
  });
});

describe("emitTcp and lengths", () => {
  test("options are padded to a multiple of 4 with zeros", () => {
    const options: TcpOption[] = [{ kind: "wscale", shift: 7 }];
    expect(tcpOptionsLength(options)).toBe(3);
    expect(tcpHeaderLength(options)).toBe(24);
    const bytes = emit(tcpSegment({ srcPort: 1, dstPort: 2, options }));
    expect(bytes.length).toBe(24);
    expect(bytes[12]).toBe(6 << 4);
    expect([...bytes.subarray(20)]).toEqual([3, 3, 7, 0]);
  });

  test("option lengths: mss 4, wscale 3, sackOK 2, TS 10, sack 2+8n, unknown 2+data", () => {
    expect(tcpOptionsLength([{ kind: "mss", value: 1 }])).toBe(4);
    expect(tcpOptionsLength([{ kind: "sackPermitted" }])).toBe(2);
    expect(tcpOptionsLength([{ kind: "timestamps", tsVal: 1, tsEcr: 2 }])).toBe(10);
    expect(
      tcpOptionsLength([
        {
          kind: "sack",
          blocks: [
            [1, 2],
            [3, 4],
            [5, 6],
          ],
        },
      ]),
    ).toBe(26);
    expect(tcpOptionsLength([{ kind: "unknown", type: 99, data: new Uint8Array(5) }])).toBe(7);
    expect(tcpOptionsLength([{ kind: "nop" }, { kind: "eol" }])).toBe(2);
    expect(tcpHeaderLength([])).toBe(20);
  });

  test("more than 40 bytes of options is refused", () => {
    const blocks: Array<readonly [number, number]> = [
      [1, 2],
      [3, 4],
      [5, 6],
      [7, 8],
    ];
    const options: TcpOption[] = [
      { kind: "sack", blocks },
      { kind: "timestamps", tsVal: 1, tsEcr: 2 },
    ];
    expect(tcpOptionsLength(options)).toBe(44);
    const seg = tcpSegment({ srcPort: 1, dstPort: 2, options });
    expect(() => emitTcp(seg, A, B, new Uint8Array(100))).toThrow(RangeError);
  });

  test("tcpSegmentLength counts SYN and FIN (RFC 9293 §3.4)", () => {
    const payload = new Uint8Array(10);
    expect(tcpSegmentLength({ flags: Flag.SYN, payload: new Uint8Array(0) })).toBe(1);
    expect(tcpSegmentLength({ flags: Flag.ACK | Flag.FIN, payload })).toBe(11);
    expect(tcpSegmentLength({ flags: Flag.SYN | Flag.FIN, payload })).toBe(12);
    expect(tcpSegmentLength({ flags: Flag.ACK | Flag.PSH, payload })).toBe(10);
    expect(tcpSegmentLength({ flags: Flag.RST, payload: new Uint8Array(0) })).toBe(0);
  });
});

/** Options that round-trip: every kind but EOL (which ends the list when parsed). */
const optionArb: fc.Arbitrary<TcpOption> = fc.oneof(
  fc.constant<TcpOption>({ kind: "nop" }),
  fc.integer({ min: 0, max: 0xffff }).map((value): TcpOption => ({ kind: "mss", value })),
  fc.integer({ min: 0, max: 255 }).map((shift): TcpOption => ({ kind: "wscale", shift })),
  fc.constant<TcpOption>({ kind: "sackPermitted" }),
  fc
    .array(
      fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff })),
      {
        minLength: 1,
        maxLength: 4,
      },
    )
    .map((blocks): TcpOption => ({ kind: "sack", blocks })),
  fc
    .tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }))
    .map(([tsVal, tsEcr]): TcpOption => ({ kind: "timestamps", tsVal, tsEcr })),
  fc
    .tuple(
      fc.integer({ min: 2, max: 255 }).filter((t) => ![2, 3, 4, 5, 8].includes(t)),
      fc.uint8Array({ maxLength: 12 }),
    )
    .map(([type, data]): TcpOption => ({ kind: "unknown", type, data })),
);

const optionsArb = fc.array(optionArb, { maxLength: 8 }).filter((o) => tcpOptionsLength(o) <= 40);

const segmentArb: fc.Arbitrary<TcpSegment> = fc.record({
  srcPort: fc.integer({ min: 0, max: 0xffff }),
  dstPort: fc.integer({ min: 0, max: 0xffff }),
  seq: fc.integer({ min: 0, max: 0xffffffff }),
  ack: fc.integer({ min: 0, max: 0xffffffff }),
  flags: fc.integer({ min: 0, max: 0xff }),
  window: fc.integer({ min: 0, max: 0xffff }),
  urgentPointer: fc.integer({ min: 0, max: 0xffff }),
  options: optionsArb,
  payload: fc.uint8Array({ maxLength: 400 }),
});

describe("round trips (property)", () => {
  test("emit then parse gives the same segment, and re-emitting gives the same bytes", () => {
    const addr = fc.integer({ min: 0, max: 0xffffffff });
    fc.assert(
      fc.property(segmentArb, addr, addr, fc.nat(7), (seg, src, dst, pad) => {
        const len = tcpHeaderLength(seg.options) + seg.payload.length;
        const buf = new Uint8Array(pad + len);
        expect(emitTcp(seg, src, dst, buf, pad)).toBe(len);
        const bytes = buf.subarray(pad);
        const r = parseTcp(bytes, src, dst);
        if (!r.ok) throw new Error(`${r.drop} ${r.detail ?? ""}`);
        expect(r.value).toEqual(seg);
        const again = new Uint8Array(len);
        emitTcp(r.value, src, dst, again);
        expect(again).toEqual(bytes);
      }),
      fcParams(),
    );
  });

  test("parseTcpOptions never reports more bytes than it was given", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const r = parseTcpOptions(bytes);
        return !r.ok || tcpOptionsLength(r.value) <= bytes.length;
      }),
      fcParams(1000),
    );
  });
});
