import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { ip6 } from "../../src/wire/ipv6-addr.ts";
import {
  emitIpv6,
  type Ipv6ExtensionRepr,
  type Ipv6Packet,
  type Ipv6Repr,
  ipv6HeaderLength,
  isIpv6Fragment,
  NextHeader,
  parseIpv6,
} from "../../src/wire/ipv6.ts";
import {
  type FragmentSpan,
  fragmentIpv6,
  IPV6_REASSEMBLY_TIMEOUT_MS,
  ipv6FragmentKey,
  placeFragment,
  reassembleIpv6,
} from "../../src/wire/ipv6-fragment.ts";
import { fcParams } from "./prop.ts";

const A = ip6("fd00::1");
const B = ip6("fd00::2");

function packet(exts: readonly Ipv6ExtensionRepr[], payload: Uint8Array, nh: number): Uint8Array {
  const repr: Ipv6Repr = { src: A, dst: B, nextHeader: nh, extensions: exts };
  const hl = ipv6HeaderLength(repr);
  const buf = new Uint8Array(hl + payload.length);
  emitIpv6(repr, payload.length, buf);
  buf.set(payload, hl);
  return buf;
}

/** A UDP-looking payload: an 8-byte header, then numbered bytes. */
function udpPayload(n: number): Uint8Array {
  const p = new Uint8Array(n);
  for (let i = 8; i < n; i++) p[i] = i & 0xff;
  p[4] = n >>> 8;
  p[5] = n & 0xff;
  return p;
}

function parse(bytes: Uint8Array): Ipv6Packet {
  const r = parseIpv6(bytes);
  if (!r.ok) throw new Error(`${r.drop}: ${r.detail}`);
  return r.value;
}

/** Puts fragments back together as a reassembler would, checking each against placeFragment. */
function reassemble(fragments: readonly Uint8Array[]): Uint8Array {
  const held: FragmentSpan[] = [];
  let total: number | undefined;
  let first: { bytes: Uint8Array; p: Ipv6Packet } | undefined;
  const data = new Uint8Array(65535);
  for (const bytes of fragments) {
    const p = parse(bytes);
    expect(isIpv6Fragment(p)).toBe(true);
    const f = p.fragment!;
    const span = { start: f.offset, end: f.offset + p.payload.length };
    expect(placeFragment(held, span.start, span.end, f.more, total)).toBe("fits");
    held.push(span);
    held.sort((x, y) => x.start - y.start);
    if (!f.more) total = span.end;
    if (f.offset === 0) first = { bytes, p };
    data.set(p.payload, f.offset);
  }
  if (first === undefined || total === undefined) throw new Error("incomplete");
  const out = reassembleIpv6(first.bytes, first.p.fragment!, data.subarray(0, total));
  if (out === undefined) throw new Error("too long");
  return out;
}

describe("fragmentIpv6 (RFC 8200 §4.5)", () => {
  test("a packet that fits is sent whole, with no atomic fragment (RFC 8021)", () => {
    const p = packet([], udpPayload(1232), NextHeader.UDP);
    const r = fragmentIpv6(p, 1280, 1);
    expect(r.ok && r.packets).toEqual([p]);
  });

  test("3000 bytes of UDP at MTU 1280: 1232-byte pieces, one Identification, M on all but the last", () => {
    const p = packet([], udpPayload(3000), NextHeader.UDP);
    const r = fragmentIpv6(p, 1280, 0xcafe0001);
    if (!r.ok) throw new Error(r.reason);
    expect(r.packets.map((f) => f.length)).toEqual([1280, 1280, 40 + 8 + 536]);
    const frags = r.packets.map((f) => parse(f).fragment!);
    expect(frags.map((f) => [f.offset, f.more])).toEqual([
      [0, true],
      [1232, true],
      [2464, false],
    ]);
    for (const f of frags) {
      expect(f.identification).toBe(0xcafe0001);
      expect(f.nextHeader).toBe(NextHeader.UDP);
    }
    expect(reassemble(r.packets)).toEqual(p);
    // Arrival order does not matter.
    expect(reassemble([...r.packets].reverse())).toEqual(p);
  });

  test("the unfragmentable part is every header through the routing header; later ones travel in the first fragment", () => {
    const exts: Ipv6ExtensionRepr[] = [
      { kind: "hop-by-hop", options: [] },
      { kind: "destination", options: [{ type: 0x1e, data: new Uint8Array(4) }] },
      { kind: "routing", routingType: 4, segmentsLeft: 0 },
      { kind: "destination", options: [{ type: 0x1f, data: new Uint8Array(12) }] },
    ];
    const p = packet(exts, udpPayload(2000), NextHeader.UDP);
    const r = fragmentIpv6(p, 1280, 9);
    if (!r.ok) throw new Error(r.reason);
    for (const f of r.packets) {
      const q = parse(f);
      expect(f.length).toBeLessThanOrEqual(1280);
      expect(q.extensions.map((e) => e.kind)).toEqual([
        "hop-by-hop",
        "destination",
        "routing",
        "fragment",
      ]);
      // The routing header now names the Fragment header, which names what followed the routing header.
      expect(f[56]).toBe(NextHeader.FRAGMENT);
      expect(q.fragment?.nextHeader).toBe(NextHeader.DESTINATION);
      expect(q.fragment?.namedAt).toBe(56);
    }
    const rebuilt = reassemble(r.packets);
    expect(rebuilt).toEqual(p);
    expect(parse(rebuilt).extensions.map((e) => e.kind)).toEqual(exts.map((e) => e.kind));
  });

  test("round trip over sizes and MTUs (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 8, max: 9000 }),
        fc.integer({ min: 64, max: 1500 }),
        fc.boolean(),
        (size, mtu, hbh) => {
          const exts: Ipv6ExtensionRepr[] = hbh ? [{ kind: "hop-by-hop", options: [] }] : [];
          const p = packet(exts, udpPayload(size), NextHeader.UDP);
          const r = fragmentIpv6(p, mtu, 77);
          if (!r.ok) {
            // Only when there is no room for the headers and 8 bytes, or the UDP header.
            expect(mtu - 40 - (hbh ? 8 : 0) - 8).toBeLessThan(8);
            return;
          }
          if (p.length <= mtu) {
            expect(r.packets).toEqual([p]);
            return;
          }
          for (const f of r.packets) expect(f.length).toBeLessThanOrEqual(mtu);
          const data = r.packets.map((f) => parse(f).payload.length);
          for (const n of data.slice(0, -1)) expect(n % 8).toBe(0);
          expect(reassemble(r.packets)).toEqual(p);
        },
      ),
      fcParams(200),
    );
  });

  test("mtu-too-small and header-chain-too-long (RFC 7112 §5: the chain goes in the first fragment)", () => {
    const p = packet([], udpPayload(200), NextHeader.UDP);
    expect(fragmentIpv6(p, 55, 1)).toEqual({ ok: false, reason: "mtu-too-small" });
    const longChain = packet(
      [{ kind: "destination", options: [{ type: 0x1e, data: new Uint8Array(200) }] }],
      udpPayload(400),
      NextHeader.UDP,
    );
    expect(fragmentIpv6(longChain, 200, 1)).toEqual({ ok: false, reason: "header-chain-too-long" });
  });

  test("refuses a fragment or a malformed packet (RangeError: our own packets only)", () => {
    const p = packet([], udpPayload(3000), NextHeader.UDP);
    const r = fragmentIpv6(p, 1280, 1);
    expect(() => fragmentIpv6(r.ok ? r.packets[0]! : p, 600, 2)).toThrow(RangeError);
    expect(() => fragmentIpv6(new Uint8Array(20), 1280, 1)).toThrow(RangeError);
    expect(() => fragmentIpv6(p.subarray(0, 1000), 600, 1)).toThrow(RangeError);
  });
});

describe("reassembly rules", () => {
  const held: FragmentSpan[] = [
    { start: 0, end: 8 },
    { start: 16, end: 24 },
  ];

  test("placeFragment: a piece in a hole fits", () => {
    expect(placeFragment(held, 8, 16, true, undefined)).toBe("fits");
    expect(placeFragment(held, 24, 40, true, undefined)).toBe("fits");
    expect(placeFragment([], 0, 8, true, undefined)).toBe("fits");
  });

  test("placeFragment: the same span may be a network duplicate; the caller compares bytes (RFC 8200 §4.5)", () => {
    expect(placeFragment(held, 16, 24, true, undefined)).toBe("same-span");
  });

  test("placeFragment: any other overlap abandons the datagram (RFC 5722)", () => {
    for (const [s, e] of [
      [4, 12],
      [12, 20],
      [0, 24],
      [18, 20],
      [0, 16],
      [16, 32],
    ] as const) {
      expect({ s, e, v: placeFragment(held, s, e, true, undefined) }).toEqual({
        s,
        e,
        v: "overlap",
      });
    }
  });

  test("placeFragment: a second, different end, or data past the end, is bad-end", () => {
    expect(placeFragment(held, 24, 32, false, 40)).toBe("bad-end");
    expect(placeFragment(held, 8, 16, false, undefined)).toBe("bad-end"); // held data past it
    expect(placeFragment(held, 32, 48, true, 40)).toBe("bad-end");
    expect(placeFragment(held, 24, 40, false, 40)).toBe("fits");
  });

  test("reassembleIpv6 refuses a payload past 65535", () => {
    // A hop-by-hop header stays in the unfragmentable part: 8 bytes of payload before the data.
    const bytes = packet(
      [
        { kind: "hop-by-hop", options: [] },
        { kind: "fragment", offset: 0, more: true, identification: 1 },
      ],
      udpPayload(8),
      NextHeader.UDP,
    );
    const f = parse(bytes).fragment!;
    expect(reassembleIpv6(bytes, f, new Uint8Array(65527))?.length).toBe(48 + 65527);
    expect(reassembleIpv6(bytes, f, new Uint8Array(65528))).toBeUndefined();
  });

  test("fragments are keyed by source, destination and Identification; 60 s to reassemble", () => {
    expect(ipv6FragmentKey(A, B, 1)).toBe(ipv6FragmentKey(A, B, 1));
    expect(ipv6FragmentKey(A, B, 1)).not.toBe(ipv6FragmentKey(B, A, 1));
    expect(ipv6FragmentKey(A, B, 1)).not.toBe(ipv6FragmentKey(A, B, 2));
    expect(IPV6_REASSEMBLY_TIMEOUT_MS).toBe(60_000);
  });
});
