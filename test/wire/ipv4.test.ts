import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { ip } from "../../src/wire/addr.ts";
import { internetChecksum } from "../../src/wire/checksum.ts";
import {
  emitIpv4,
  IPV4_HEADER_LEN,
  IpProto,
  type Ipv4Repr,
  isFragment,
  parseIpv4,
  parseIpv4Quote,
} from "../../src/wire/ipv4.ts";
import { fcParams, hexBytes } from "./prop.ts";

/** A real header (192.168.0.1 > 192.168.0.199, UDP, DF) followed by 95 payload bytes. */
function realPacket(): Uint8Array {
  const header = hexBytes("4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7");
  const pkt = new Uint8Array(0x73);
  pkt.set(header);
  for (let i = 20; i < pkt.length; i++) pkt[i] = i & 0xff;
  return pkt;
}

function expectDrop(bytes: Uint8Array, reason: string, opts?: { verifyChecksum?: boolean }) {
  const r = parseIpv4(bytes, opts);
  expect(r.ok).toBe(false);
  if (!r.ok) expect(r.drop).toBe(reason as typeof r.drop);
}

describe("parseIpv4", () => {
  test("a real header, field by field", () => {
    const r = parseIpv4(realPacket());
    if (!r.ok) throw new Error(r.drop);
    const h = r.value.header;
    expect(h.headerLength).toBe(20);
    expect(h.tos).toBe(0);
    expect(h.totalLength).toBe(0x73);
    expect(h.identification).toBe(0);
    expect(h.dontFragment).toBe(true);
    expect(h.moreFragments).toBe(false);
    expect(h.fragmentOffset).toBe(0);
    expect(h.ttl).toBe(64);
    expect(h.protocol).toBe(IpProto.UDP);
    expect(h.checksum).toBe(0xb861);
    expect(h.src).toBe(ip("192.168.0.1"));
    expect(h.dst).toBe(ip("192.168.0.199"));
    expect(h.options.length).toBe(0);
    expect(r.value.payload.length).toBe(0x73 - 20);
    expect(r.value.payload[0]).toBe(20);
  });

  test("payload is a view into the input, not a copy", () => {
    const pkt = realPacket();
    const r = parseIpv4(pkt);
    if (!r.ok) throw new Error(r.drop);
    expect(r.value.payload.buffer).toBe(pkt.buffer);
    expect(r.value.payload.byteOffset).toBe(20);
  });

  test("link padding past the total length is ignored", () => {
    const pkt = new Uint8Array(0x73 + 6);
    pkt.set(realPacket());
    pkt.fill(0xee, 0x73);
    const r = parseIpv4(pkt);
    if (!r.ok) throw new Error(r.drop);
    expect(r.value.payload.length).toBe(0x73 - 20);
  });

  test("options are skipped and kept as bytes", () => {
    // Record Route-ish option bytes (type 7) plus NOP/EOL padding: 8 bytes of options.
    const options = hexBytes("07 07 04 00 00 00 00 00");
    const buf = new Uint8Array(28 + 4);
    emitIpv4({ src: ip("10.0.0.1"), dst: ip("10.0.0.2"), protocol: IpProto.UDP, options }, 4, buf);
    buf.set([1, 2, 3, 4], 28);
    const r = parseIpv4(buf);
    if (!r.ok) throw new Error(r.drop);
    expect(r.value.header.headerLength).toBe(28);
    expect(r.value.header.options).toEqual(options);
    expect(r.value.payload).toEqual(Uint8Array.of(1, 2, 3, 4));
  });

  describe("drop reasons", () => {
    test("truncated: empty, shorter than 20 bytes, IHL past the end, total length past the end", () => {
      expectDrop(new Uint8Array(0), "truncated");
      expectDrop(realPacket().subarray(0, 19), "truncated");
      const ihl = realPacket().subarray(0, 22);
      ihl[0] = 0x46; // IHL 6 = 24 bytes, only 22 present
      expectDrop(ihl, "truncated", { verifyChecksum: false });
      expectDrop(realPacket().subarray(0, 0x72), "truncated");
    });

    test("bad-version: an IPv6 packet", () => {
      const pkt = realPacket();
      pkt[0] = 0x60;
      expectDrop(pkt, "bad-version");
      expectDrop(Uint8Array.of(0x60), "bad-version");
    });

    test("bad-header-length: IHL below 5", () => {
      const pkt = realPacket();
      pkt[0] = 0x44;
      expectDrop(pkt, "bad-header-length");
    });

    test("bad-total-length: total length smaller than the header", () => {
      const pkt = realPacket();
      pkt[2] = 0;
      pkt[3] = 19;
      expectDrop(pkt, "bad-total-length", { verifyChecksum: false });
    });

    test("bad-checksum: one flipped bit in the header", () => {
      const pkt = realPacket();
      pkt[8] = pkt[8]! ^ 0x01; // TTL 64 -> 65
      expectDrop(pkt, "bad-checksum");
      expect(parseIpv4(pkt, { verifyChecksum: false }).ok).toBe(true);
    });

    test("a flipped payload bit is not the IP checksum's business", () => {
      const pkt = realPacket();
      pkt[40] = pkt[40]! ^ 0xff;
      expect(parseIpv4(pkt).ok).toBe(true);
    });
  });
});

describe("emitIpv4", () => {
  test("writes a 20-byte header with defaults and a valid checksum", () => {
    const buf = new Uint8Array(30);
    const n = emitIpv4(
      { src: ip("10.0.0.1"), dst: ip("10.0.0.2"), protocol: IpProto.TCP },
      10,
      buf,
    );
    expect(n).toBe(IPV4_HEADER_LEN);
    expect(buf[0]).toBe(0x45);
    expect((buf[2]! << 8) | buf[3]!).toBe(30);
    expect(buf[8]).toBe(64);
    expect(buf[9]).toBe(6);
    expect(buf[6]).toBe(0);
    expect(internetChecksum(buf.subarray(0, 20))).toBe(0);
  });

  test("reproduces the real header byte for byte", () => {
    const buf = new Uint8Array(0x73);
    emitIpv4(
      {
        src: ip("192.168.0.1"),
        dst: ip("192.168.0.199"),
        protocol: IpProto.UDP,
        dontFragment: true,
      },
      0x73 - 20,
      buf,
    );
    expect([...buf.subarray(0, 20)]).toEqual([...realPacket().subarray(0, 20)]);
  });

  test("writes at an offset and leaves the rest alone", () => {
    const buf = new Uint8Array(40).fill(0xaa);
    emitIpv4({ src: 1, dst: 2, protocol: 17 }, 0, buf, 10);
    expect(buf[9]).toBe(0xaa);
    expect(buf[10]).toBe(0x45);
    expect(buf[30]).toBe(0xaa);
  });

  test("rejects unencodable reprs", () => {
    const buf = new Uint8Array(60);
    const base = { src: 1, dst: 2, protocol: 6 };
    expect(() => emitIpv4({ ...base, fragmentOffset: 12 }, 0, buf)).toThrow(RangeError);
    expect(() => emitIpv4(base, 70000, buf)).toThrow(RangeError);
    expect(() => emitIpv4({ ...base, options: new Uint8Array(3) }, 0, buf)).toThrow(RangeError);
    expect(() => emitIpv4(base, 0, new Uint8Array(10))).toThrow(RangeError);
  });

  /** Option lists a parser must accept (RFC 791 §3.1): NOPs and type-length-value options, EOL padding. */
  const wellFormedOptions = fc
    .array(
      fc.oneof(
        fc.constant([1]),
        fc
          .tuple(fc.integer({ min: 2, max: 255 }), fc.uint8Array({ maxLength: 6 }))
          .map(([type, data]) => [type, data.length + 2, ...data]),
      ),
      { maxLength: 8 },
    )
    .map((opts) => {
      const bytes: number[] = [];
      for (const o of opts) if (bytes.length + o.length <= 40) bytes.push(...o);
      while (bytes.length % 4 !== 0) bytes.push(0); // EOL, then padding
      return new Uint8Array(bytes);
    });

  test("round trip: random headers parse back to what was emitted", () => {
    const repr = fc.record({
      src: fc.integer({ min: 0, max: 0xffffffff }),
      dst: fc.integer({ min: 0, max: 0xffffffff }),
      protocol: fc.integer({ min: 0, max: 255 }),
      ttl: fc.integer({ min: 0, max: 255 }),
      tos: fc.integer({ min: 0, max: 255 }),
      identification: fc.integer({ min: 0, max: 0xffff }),
      dontFragment: fc.boolean(),
      moreFragments: fc.boolean(),
      fragmentOffset: fc.integer({ min: 0, max: 0x1fff }).map((u) => u * 8),
      options: wellFormedOptions,
    });
    fc.assert(
      fc.property(repr, fc.uint8Array({ maxLength: 300 }), (r: Ipv4Repr, payload) => {
        const hl = 20 + (r.options?.length ?? 0);
        const buf = new Uint8Array(hl + payload.length);
        expect(emitIpv4(r, payload.length, buf)).toBe(hl);
        buf.set(payload, hl);
        const parsed = parseIpv4(buf);
        if (!parsed.ok) throw new Error(parsed.drop);
        const h = parsed.value.header;
        expect({
          src: h.src,
          dst: h.dst,
          protocol: h.protocol,
          ttl: h.ttl,
          tos: h.tos,
          identification: h.identification,
          dontFragment: h.dontFragment,
          moreFragments: h.moreFragments,
          fragmentOffset: h.fragmentOffset,
          options: h.options,
        } as unknown).toEqual({ ...r, options: r.options ?? new Uint8Array(0) });
        expect(h.headerLength).toBe(hl);
        expect(h.totalLength).toBe(buf.length);
        expect(parsed.value.payload).toEqual(payload);
        expect(isFragment(h)).toBe(r.moreFragments === true || r.fragmentOffset !== 0);
      }),
      fcParams(),
    );
  });
});

describe("parseIpv4Quote (the header inside an ICMP error)", () => {
  test("accepts a header whose total length exceeds the quoted bytes", () => {
    const quote = realPacket().subarray(0, 28);
    const r = parseIpv4Quote(quote);
    if (!r.ok) throw new Error(r.drop);
    expect(r.value.header.dst).toBe(ip("192.168.0.199"));
    expect(r.value.transport.length).toBe(8);
  });

  test("still rejects what is not IPv4", () => {
    const r = parseIpv4Quote(Uint8Array.of(0x60, 0, 0, 0));
    expect(r.ok ? "ok" : r.drop).toBe("bad-version");
  });
});
