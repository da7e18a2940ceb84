import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { ip6 } from "../../src/wire/ipv6-addr.ts";
import {
  emitIpv6,
  findUpperLayer,
  type Ipv6ExtensionRepr,
  type Ipv6Option,
  type Ipv6Parsed,
  type Ipv6Repr,
  ipv6HeaderLength,
  isIpv6Fragment,
  MAX_EXTENSION_HEADERS,
  NextHeader,
  ParamProblemCode,
  parseIpv6,
  parseIpv6Quote,
} from "../../src/wire/ipv6.ts";
import { fcParams, hexBytes } from "./prop.ts";

const A = ip6("2001:db8::1");
const B = ip6("2001:db8::2");

/** A packet with `extensions` and `payload` after them, whose last Next Header is `nh`. */
function packet(
  extensions: readonly Ipv6ExtensionRepr[],
  payload: Uint8Array = new Uint8Array(0),
  nh: number = NextHeader.NO_NEXT_HEADER,
  extra: Partial<Ipv6Repr> = {},
): Uint8Array {
  const repr: Ipv6Repr = { src: A, dst: B, nextHeader: nh, extensions, ...extra };
  const hl = ipv6HeaderLength(repr);
  const buf = new Uint8Array(hl + payload.length);
  expect(emitIpv6(repr, payload.length, buf)).toBe(hl);
  buf.set(payload, hl);
  return buf;
}

function parsed(bytes: Uint8Array) {
  const r = parseIpv6(bytes);
  if (!r.ok) throw new Error(`${r.drop}: ${r.detail}`);
  return r.value;
}

function dropOf(r: Ipv6Parsed): { drop: string; pp?: { code: number; pointer: number } } {
  if (r.ok) return { drop: "ok" };
  const pp = r.paramProblem;
  return pp ? { drop: r.drop, pp: { code: pp.code, pointer: pp.pointer } } : { drop: r.drop };
}

const tcpHeader = new Uint8Array(20);
tcpHeader[12] = 5 << 4;

describe("IPv6 fixed header (RFC 8200 §3)", () => {
  // Version 6, traffic class 0xab, flow label 0x12345, payload 4 bytes,
  // No Next Header, hop limit 64, 2001:db8::1 > 2001:db8::2.
  const bytes = hexBytes(
    "6ab1 2345 0004 3b40" +
      "2001 0db8 0000 0000 0000 0000 0000 0001" +
      "2001 0db8 0000 0000 0000 0000 0000 0002" +
      "dead beef",
  );

  test("a hand-laid header, field by field, and the same bytes emitted", () => {
    const p = parsed(bytes);
    expect(p.header).toEqual({
      trafficClass: 0xab,
      flowLabel: 0x12345,
      payloadLength: 4,
      nextHeader: 59,
      hopLimit: 64,
      src: A,
      dst: B,
    });
    expect(p.extensions).toEqual([]);
    expect(p.protocol).toBe(NextHeader.NO_NEXT_HEADER);
    expect(p.protocolAt).toBe(6);
    expect(p.payloadOffset).toBe(40);
    expect([...p.payload]).toEqual([0xde, 0xad, 0xbe, 0xef]);
    const out = new Uint8Array(44);
    emitIpv6({ src: A, dst: B, nextHeader: 59, trafficClass: 0xab, flowLabel: 0x12345 }, 4, out);
    out.set(p.payload, 40);
    expect([...out]).toEqual([...bytes]);
  });

  test("the payload is a view; link padding past the payload length is ignored", () => {
    const padded = new Uint8Array(bytes.length + 6).fill(0xee);
    padded.set(bytes);
    const p = parsed(padded);
    expect(p.payload.length).toBe(4);
    expect(p.payload.buffer).toBe(padded.buffer);
  });

  test("defaults: hop limit 64, traffic class and flow label 0", () => {
    const p = parsed(packet([]));
    expect(p.header.hopLimit).toBe(64);
    expect(p.header.trafficClass).toBe(0);
    expect(p.header.flowLabel).toBe(0);
  });

  test("truncated: empty, shorter than 40 bytes, payload length past the bytes", () => {
    expect(dropOf(parseIpv6(new Uint8Array(0))).drop).toBe("truncated");
    expect(dropOf(parseIpv6(bytes.subarray(0, 39))).drop).toBe("truncated");
    expect(dropOf(parseIpv6(bytes.subarray(0, 43))).drop).toBe("truncated");
  });

  test("bad-version: an IPv4 packet, or any version but 6", () => {
    const v4 = bytes.slice();
    v4[0] = 0x45;
    expect(dropOf(parseIpv6(v4)).drop).toBe("bad-version");
    expect(dropOf(parseIpv6(Uint8Array.of(0x70))).drop).toBe("bad-version");
  });

  test("bad-payload-length: length 0 under a hop-by-hop header is a jumbogram (RFC 2675)", () => {
    const jumbo = packet([{ kind: "hop-by-hop", options: [] }]);
    jumbo[4] = 0;
    jumbo[5] = 0;
    expect(dropOf(parseIpv6(jumbo)).drop).toBe("bad-payload-length");
    // Length 0 without extension headers is an empty packet, fine.
    expect(parsed(packet([])).payload.length).toBe(0);
  });
});

describe("the extension-header chain (RFC 8200 §4)", () => {
  test("hop-by-hop, destination options, routing (segments left 0) and TCP, in order", () => {
    const bytes = packet(
      [
        { kind: "hop-by-hop", options: [] },
        { kind: "destination", options: [{ type: 0x1e, data: Uint8Array.of(1, 2, 3) }] },
        { kind: "routing", routingType: 4, segmentsLeft: 0 },
      ],
      tcpHeader,
      NextHeader.TCP,
    );
    const p = parsed(bytes);
    expect(p.extensions).toEqual([
      { kind: "hop-by-hop", at: 40, length: 8, options: [] },
      {
        kind: "destination",
        at: 48,
        length: 8,
        options: [{ type: 0x1e, data: Uint8Array.of(1, 2, 3) }],
      },
      { kind: "routing", at: 56, length: 8, routingType: 4, segmentsLeft: 0 },
    ]);
    expect(bytes[6]).toBe(NextHeader.HOP_BY_HOP);
    expect([bytes[40], bytes[48], bytes[56]]).toEqual([60, 43, 6]);
    expect(p.protocol).toBe(NextHeader.TCP);
    expect(p.protocolAt).toBe(56);
    expect(p.payloadOffset).toBe(64);
    expect(p.payload).toEqual(tcpHeader);
    expect(p.fragment).toBeUndefined();
  });

  test("headers we do not walk end the chain: AH, ESP, No Next Header, unknown", () => {
    for (const nh of [NextHeader.AH, NextHeader.ESP, NextHeader.NO_NEXT_HEADER, 253, 143]) {
      const p = parsed(packet([{ kind: "destination", options: [] }], new Uint8Array(8), nh));
      expect(p.protocol).toBe(nh);
      expect(p.protocolAt).toBe(40); // the pointer of a Parameter Problem code 1
      expect(p.payloadOffset).toBe(48);
    }
  });

  test("bad-extension-header: a header longer than the payload, or cut after its first byte", () => {
    const long = packet([{ kind: "destination", options: [] }]);
    long[41] = 1; // 16 bytes claimed, 8 present
    expect(dropOf(parseIpv6(long)).drop).toBe("bad-extension-header");
    const cut = packet([], Uint8Array.of(NextHeader.TCP), NextHeader.DESTINATION);
    expect(dropOf(parseIpv6(cut)).drop).toBe("bad-extension-header");
    const frag = packet([], new Uint8Array(4), NextHeader.FRAGMENT);
    expect(dropOf(parseIpv6(frag)).drop).toBe("bad-extension-header");
  });

  test("hop-by-hop-not-first: Parameter Problem code 1 at the Next Header that names it (§4.1)", () => {
    const bytes = packet([
      { kind: "destination", options: [] },
      { kind: "hop-by-hop", options: [] },
    ]);
    expect(dropOf(parseIpv6(bytes))).toEqual({
      drop: "hop-by-hop-not-first",
      pp: { code: ParamProblemCode.UNRECOGNIZED_NEXT_HEADER, pointer: 40 },
    });
  });

  test("repeated headers are accepted (§4.1) up to the bound; past it, too-many-extension-headers", () => {
    const dst = { kind: "destination", options: [] } as const;
    const ok16 = packet(new Array(MAX_EXTENSION_HEADERS).fill(dst), tcpHeader, NextHeader.TCP);
    expect(parsed(ok16).extensions.length).toBe(MAX_EXTENSION_HEADERS);
    const flood = packet(new Array(MAX_EXTENSION_HEADERS + 1).fill(dst));
    expect(dropOf(parseIpv6(flood)).drop).toBe("too-many-extension-headers");
    expect(dropOf(parseIpv6(ok16, { maxExtensionHeaders: 3 })).drop).toBe(
      "too-many-extension-headers",
    );
  });

  test("a flood of 8190 one-block headers in a 64 KiB packet is refused after the bound", () => {
    const payload = new Uint8Array(65528);
    for (let at = 0; at < payload.length; at += 8) payload[at] = NextHeader.DESTINATION;
    const bytes = packet([], payload, NextHeader.DESTINATION);
    expect(dropOf(parseIpv6(bytes)).drop).toBe("too-many-extension-headers");
    expect(findUpperLayer(bytes, NextHeader.DESTINATION, 40)).toBeUndefined();
  });
});

describe("options in hop-by-hop and destination headers (RFC 8200 §4.2)", () => {
  function withOptions(raw: number[], kind: "hop-by-hop" | "destination" = "destination") {
    // One header of raw option bytes (padded by the test to a multiple of 8).
    const body = [...raw];
    while ((body.length + 2) % 8 !== 0) body.push(0);
    const bytes = packet([{ kind, options: [] }], new Uint8Array(body.length + 2 - 8));
    bytes[41] = (body.length + 2) / 8 - 1;
    bytes.set(body, 42);
    bytes[40] = NextHeader.NO_NEXT_HEADER;
    return bytes;
  }

  test("Pad1 and PadN are skipped and not reported", () => {
    const p = parsed(withOptions([0, 1, 2, 0, 0, 0]));
    expect(p.extensions[0]).toMatchObject({ kind: "destination", options: [] });
  });

  test("an unknown option's two high bits decide (§4.2)", () => {
    // 00: skip over it.
    const skip = parsed(withOptions([0x3e, 2, 9, 9]));
    expect(skip.extensions[0]).toMatchObject({ options: [{ type: 0x3e }] });
    // 01: discard silently.
    expect(dropOf(parseIpv6(withOptions([0x7e, 0])))).toEqual({ drop: "unrecognized-option" });
    // 10: discard, Parameter Problem code 2 at the option type, even to multicast.
    const ten = parseIpv6(withOptions([1, 0, 0xbe, 0]));
    expect(dropOf(ten)).toEqual({
      drop: "unrecognized-option",
      pp: { code: ParamProblemCode.UNRECOGNIZED_OPTION, pointer: 44 },
    });
    expect(!ten.ok && ten.paramProblem?.evenIfMulticast).toBe(true);
    // 11: discard, Parameter Problem code 2 unless the destination is multicast.
    const eleven = parseIpv6(withOptions([0xc2, 4, 0, 1, 0, 0]));
    expect(dropOf(eleven)).toEqual({
      drop: "unrecognized-option",
      pp: { code: ParamProblemCode.UNRECOGNIZED_OPTION, pointer: 42 },
    });
    expect(!eleven.ok && eleven.paramProblem?.evenIfMulticast).toBe(false);
  });

  test("to a multicast destination only the 10 kind is reported", () => {
    const mc = (type: number) => {
      const bytes = withOptions([type, 0]);
      bytes.set([0xff, 0x02], 24);
      return parseIpv6(bytes);
    };
    expect(dropOf(mc(0xfe))).toEqual({ drop: "unrecognized-option" });
    expect(dropOf(mc(0xbe)).pp?.code).toBe(ParamProblemCode.UNRECOGNIZED_OPTION);
  });

  test("the same rules in a hop-by-hop header", () => {
    expect(dropOf(parseIpv6(withOptions([0x45, 0], "hop-by-hop"))).drop).toBe(
      "unrecognized-option",
    );
    expect(parsed(withOptions([0x05, 2, 0, 0], "hop-by-hop")).extensions[0]).toMatchObject({
      kind: "hop-by-hop",
      options: [{ type: 5 }], // Router Alert (RFC 2711): not ours to act on; 00 says skip
    });
  });

  test("bad-ipv6-option: lengths that cannot be followed, padding abuse, too many options", () => {
    const cases: Array<[string, number[]]> = [
      ["runs past its header", [0x3e, 9]],
      ["no length byte", [0, 0, 0, 0, 0, 0x3e]],
      ["8 Pad1 in a row", [0, 0, 0, 0, 0, 0, 0, 0, 0x3e, 0]],
      ["PadN of 8 bytes", [1, 6, 0, 0, 0, 0, 0, 0, 0x3e, 0]],
      ["Pad1 then PadN past 7", [0, 0, 1, 4, 0, 0, 0, 0, 0x3e, 0]],
      ["PadN with data", [1, 2, 0, 7]],
      ["9 options", new Array(9).fill([0x3e, 0]).flat()],
    ];
    for (const [what, raw] of cases) {
      expect({ what, ...dropOf(parseIpv6(withOptions(raw))) }).toEqual({
        what,
        drop: "bad-ipv6-option",
      });
    }
    // Exactly 7 bytes of padding and exactly 8 options are fine.
    expect(parsed(withOptions([1, 5, 0, 0, 0, 0, 0, 0x3e, 0])).extensions.length).toBe(1);
    expect(parsed(withOptions(new Array(8).fill([0x3e, 0]).flat())).extensions.length).toBe(1);
  });
});

describe("routing header (RFC 8200 §4.4)", () => {
  test("segments left 0: ignored whatever the type", () => {
    for (const routingType of [0, 2, 3, 4, 200]) {
      const p = parsed(packet([{ kind: "routing", routingType, segmentsLeft: 0 }]));
      expect(p.extensions[0]).toMatchObject({ kind: "routing", routingType, segmentsLeft: 0 });
    }
  });

  test("segments left: every type is unknown to a host (RFC 5095 for type 0) → code 0 at the type", () => {
    for (const routingType of [0, 2, 3, 4, 200]) {
      const bytes = packet([
        { kind: "destination", options: [] },
        { kind: "routing", routingType, segmentsLeft: 1 },
      ]);
      expect(dropOf(parseIpv6(bytes))).toEqual({
        drop: "unrecognized-routing-type",
        pp: { code: ParamProblemCode.ERRONEOUS_FIELD, pointer: 48 + 2 },
      });
    }
  });
});

describe("fragment header (RFC 8200 §4.5)", () => {
  const frag = (offset: number, more: boolean, identification = 0x01020304) =>
    ({ kind: "fragment", offset, more, identification }) as const;

  test("a later fragment stops the walk: its data is not a header", () => {
    const bytes = packet(
      [{ kind: "hop-by-hop", options: [] }, frag(1232, true)],
      new Uint8Array(16),
      NextHeader.UDP,
    );
    const p = parsed(bytes);
    expect(isIpv6Fragment(p)).toBe(true);
    expect(p.fragment).toEqual({
      nextHeader: NextHeader.UDP,
      offset: 1232,
      more: true,
      identification: 0x01020304,
      at: 48,
      namedAt: 40,
      atomic: false,
    });
    expect(p.protocol).toBe(NextHeader.UDP);
    expect(p.protocolAt).toBe(48);
    expect(p.payloadOffset).toBe(56);
    expect(p.payload.length).toBe(16);
    // The M flag and 13-bit offset on the wire: 1232 = 154 units.
    expect((bytes[50]! << 8) | bytes[51]!).toBe((154 << 3) | 1);
  });

  test("an atomic fragment (offset 0, M 0) is a whole packet: the walk goes on (RFC 6946)", () => {
    const p = parsed(packet([frag(0, false)], tcpHeader, NextHeader.TCP));
    expect(p.fragment?.atomic).toBe(true);
    expect(isIpv6Fragment(p)).toBe(false);
    expect(p.protocol).toBe(NextHeader.TCP);
    expect(p.payload).toEqual(tcpHeader);
  });

  test("fragment-bad: not the last and not a multiple of 8 → code 0 at the payload length", () => {
    const bytes = packet([frag(0, true)], new Uint8Array(20 + 5), NextHeader.TCP);
    bytes[48 + 12] = 5 << 4;
    expect(dropOf(parseIpv6(bytes))).toEqual({
      drop: "fragment-bad",
      pp: { code: ParamProblemCode.ERRONEOUS_FIELD, pointer: 4 },
    });
  });

  test("fragment-bad: would end past 65535 → code 0 at the fragment offset", () => {
    const bytes = packet([frag(65528, false)], new Uint8Array(16), NextHeader.UDP);
    expect(dropOf(parseIpv6(bytes))).toEqual({
      drop: "fragment-bad",
      pp: { code: ParamProblemCode.ERRONEOUS_FIELD, pointer: 40 + 2 },
    });
    // Ending exactly at 65535 (8 bytes of Fragment header count) is allowed.
    const edge = packet([frag(65520, false)], new Uint8Array(7), NextHeader.UDP);
    expect(parsed(edge).fragment?.offset).toBe(65520);
  });

  test("fragment-incomplete-chain: a first fragment without the whole header chain (RFC 7112 §5)", () => {
    // 8 bytes of a 20-byte TCP header.
    const short = packet([frag(0, true)], new Uint8Array(8), NextHeader.TCP);
    expect(dropOf(parseIpv6(short))).toEqual({
      drop: "fragment-incomplete-chain",
      pp: { code: ParamProblemCode.INCOMPLETE_CHAIN, pointer: 0 },
    });
    // A destination header that runs past the fragment's data.
    const cut = packet([frag(0, true)], new Uint8Array(16), NextHeader.DESTINATION);
    cut[49] = 3;
    expect(dropOf(parseIpv6(cut)).drop).toBe("fragment-incomplete-chain");
    // The whole chain through TCP's fixed header: fine.
    const whole = packet([frag(0, true)], new Uint8Array(24), NextHeader.TCP);
    expect(parsed(whole).fragment?.more).toBe(true);
  });
});

describe("quoted packets (RFC 4443 §2.4(c))", () => {
  test("the transport header is found behind extension headers, whatever is cut off", () => {
    const full = packet([{ kind: "destination", options: [] }], tcpHeader, NextHeader.TCP);
    const r = parseIpv6Quote(full.subarray(0, 52));
    if (!r.ok) throw new Error(r.drop);
    expect(r.value.protocol).toBe(NextHeader.TCP);
    expect(r.value.transport.length).toBe(4);
    expect(r.value.header.dst).toEqual(B);
    expect(r.value.fragmentOffset).toBeUndefined();
  });

  test("a quote of a later fragment says so; a quote cut inside the chain is truncated", () => {
    const later = packet(
      [{ kind: "fragment", offset: 8, more: false, identification: 1 }],
      new Uint8Array(8),
      17,
    );
    const r = parseIpv6Quote(later);
    expect(r.ok && r.value.fragmentOffset).toBe(8);
    const chain = packet([{ kind: "destination", options: [] }], tcpHeader, NextHeader.TCP);
    expect(dropOf(parseIpv6Quote(chain.subarray(0, 44)) as Ipv6Parsed).drop).toBe("truncated");
    expect(dropOf(parseIpv6Quote(chain.subarray(0, 30)) as Ipv6Parsed).drop).toBe("truncated");
  });

  test("findUpperLayer steps over AH by its 4-byte units (RFC 4302 §2.2)", () => {
    const bytes = new Uint8Array(24 + 8);
    bytes[0] = NextHeader.TCP;
    bytes[1] = 4; // (4 + 2) * 4 = 24 bytes
    expect(findUpperLayer(bytes, NextHeader.AH, 0)).toEqual({ protocol: NextHeader.TCP, at: 24 });
  });
});

describe("emitIpv6", () => {
  const optionArb: fc.Arbitrary<Ipv6Option> = fc.record({
    // Types an unaware receiver skips (high bits 00), not padding.
    type: fc.integer({ min: 2, max: 0x3f }),
    data: fc.uint8Array({ maxLength: 20 }),
  });
  const extArb: fc.Arbitrary<Ipv6ExtensionRepr> = fc.oneof(
    fc.record({
      kind: fc.constant("destination" as const),
      options: fc.array(optionArb, { maxLength: 4 }),
    }),
    fc.record({
      kind: fc.constant("routing" as const),
      routingType: fc.nat(255),
      segmentsLeft: fc.constant(0),
      data: fc.nat(3).map((n) => new Uint8Array(4 + 8 * n)),
    }),
    fc.constant({ kind: "fragment", offset: 0, more: false, identification: 7 } as const),
  );

  test("round trip: the chain parses back to the same headers, options and protocol (property)", () => {
    fc.assert(
      fc.property(
        fc.option(fc.array(optionArb, { maxLength: 4 }), { nil: undefined }),
        fc.array(extArb, { maxLength: 6 }),
        fc.uint8Array({ maxLength: 64 }),
        fc.integer({ min: 0, max: 255 }),
        (hbh, rest, payload, hopLimit) => {
          const exts: Ipv6ExtensionRepr[] = [
            ...(hbh === undefined ? [] : [{ kind: "hop-by-hop" as const, options: hbh }]),
            ...rest,
          ];
          const bytes = packet(exts, payload, NextHeader.NO_NEXT_HEADER, { hopLimit });
          const p = parsed(bytes);
          expect(p.header.hopLimit).toBe(hopLimit);
          expect(p.extensions.map((e) => e.kind)).toEqual(exts.map((e) => e.kind));
          p.extensions.forEach((e, i) => {
            const want = exts[i]!;
            if ("options" in e && "options" in want) expect(e.options).toEqual([...want.options]);
            expect(e.length % 8).toBe(0);
          });
          expect(p.protocol).toBe(NextHeader.NO_NEXT_HEADER);
          expect(p.payload).toEqual(payload);
          expect(p.header.payloadLength).toBe(bytes.length - 40);
        },
      ),
      fcParams(),
    );
  });

  test("refuses what cannot be encoded (RangeError): too long, too small a buffer, bad fields", () => {
    const base: Ipv6Repr = { src: A, dst: B, nextHeader: 59 };
    expect(() => emitIpv6(base, 65536, new Uint8Array(40))).toThrow(RangeError);
    expect(() => emitIpv6(base, 0, new Uint8Array(39))).toThrow(RangeError);
    const badFrag: Ipv6Repr = {
      ...base,
      extensions: [{ kind: "fragment", offset: 3, more: true, identification: 0 }],
    };
    expect(() => emitIpv6(badFrag, 0, new Uint8Array(48))).toThrow(RangeError);
    const badRouting: Ipv6Repr = {
      ...base,
      extensions: [{ kind: "routing", routingType: 0, segmentsLeft: 0, data: new Uint8Array(5) }],
    };
    expect(() => emitIpv6(badRouting, 0, new Uint8Array(64))).toThrow(RangeError);
  });
});
