/**
 * Random and mutated bytes never make the IPv6 parsers or formatter throw:
 * each packet parses (and then holds together) or drops with a named
 * reason; extension-header chains, however long, are walked a bounded
 * number of steps.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { formatIpPacket, formatIpv6Packet } from "../../src/wire/format6.ts";
import { icmpv6ErrorQuote, parseIcmpv6 } from "../../src/wire/icmpv6.ts";
import {
  findUpperLayer,
  type Ipv6Parsed,
  MAX_EXTENSION_HEADERS,
  NextHeader,
  parseIpv6,
  parseIpv6Quote,
} from "../../src/wire/ipv6.ts";
import { ip6 } from "../../src/wire/ipv6-addr.ts";
import { fragmentIpv6 } from "../../src/wire/ipv6-fragment.ts";
import { tcpSegment } from "../../src/wire/packet.ts";
import { buildIcmpv6Packet, buildTcpPacket6, parsePacket6 } from "../../src/wire/packet6.ts";
import type { DropReason } from "../../src/wire/result.ts";
import { Flag } from "../../src/wire/tcp-types.ts";
import { fcParams } from "./prop.ts";

const A = ip6("fd00::1");
const B = ip6("fd00::2");

/** The reasons the IPv6 parsers may give, each a counter the stack can name. */
const IPV6_REASONS: ReadonlySet<DropReason> = new Set<DropReason>([
  "truncated",
  "bad-version",
  "bad-payload-length",
  "bad-extension-header",
  "hop-by-hop-not-first",
  "too-many-extension-headers",
  "bad-ipv6-option",
  "unrecognized-option",
  "unrecognized-routing-type",
  "fragment-bad",
  "fragment-incomplete-chain",
]);
const UPPER_REASONS: ReadonlySet<DropReason> = new Set<DropReason>([
  ...IPV6_REASONS,
  "bad-checksum",
  "bad-data-offset",
  "bad-option-length",
  "bad-length",
  "udp-zero-checksum",
  "neighbor-discovery",
]);

/** What a parse must satisfy: a named drop, or a packet whose parts add up. */
function checkParsed(bytes: Uint8Array, r: Ipv6Parsed): void {
  if (!r.ok) {
    expect(IPV6_REASONS.has(r.drop)).toBe(true);
    if (r.paramProblem !== undefined) {
      expect(r.paramProblem.pointer).toBeGreaterThanOrEqual(0);
      expect(r.paramProblem.pointer).toBeLessThan(bytes.length);
    }
    return;
  }
  const p = r.value;
  expect(p.payloadOffset + p.payload.length).toBe(40 + p.header.payloadLength);
  expect(p.extensions.length).toBeLessThanOrEqual(MAX_EXTENSION_HEADERS);
  let at = 40;
  for (const e of p.extensions) {
    expect(e.at).toBe(at);
    at += e.length;
  }
  expect(at).toBe(p.payloadOffset);
  expect(p.protocolAt).toBeLessThan(p.payloadOffset);
  expect(bytes[p.protocolAt]).toBe(p.protocol);
}

function parseEverything(bytes: Uint8Array): void {
  checkParsed(bytes, parseIpv6(bytes));
  checkParsed(bytes, parseIpv6(bytes, { maxExtensionHeaders: 2 }));
  for (const verifyChecksum of [true, false]) {
    const d = parsePacket6(bytes, { verifyChecksum });
    if (!d.ok) expect(UPPER_REASONS.has(d.drop)).toBe(true);
    const icmp = parseIcmpv6(bytes, A, B, { verifyChecksum });
    if (!icmp.ok) expect(UPPER_REASONS.has(icmp.drop)).toBe(true);
  }
  const q = parseIpv6Quote(bytes);
  if (!q.ok) expect(IPV6_REASONS.has(q.drop)).toBe(true);
  const chain = findUpperLayer(bytes, bytes[0] ?? 0, 1);
  if (chain !== undefined) expect(chain.at).toBeLessThanOrEqual(bytes.length);
  icmpv6ErrorQuote(bytes);
  const line = formatIpv6Packet(bytes);
  expect(line.startsWith("IP6 ")).toBe(true);
  expect(line).not.toContain("unformattable");
  expect(formatIpPacket(bytes)).not.toContain("unformattable");
}

/** Templates whose mutations reach deep: a chain of headers before TCP, an ICMPv6 error, a first fragment. */
const templates: Uint8Array[] = (() => {
  const syn = tcpSegment({
    srcPort: 1,
    dstPort: 2,
    flags: Flag.SYN,
    options: [{ kind: "mss", value: 1440 }, { kind: "sackPermitted" }],
    payload: new Uint8Array(8),
  });
  const chained = buildTcpPacket6(A, B, syn, {
    extensions: [
      { kind: "hop-by-hop", options: [{ type: 0x05, data: new Uint8Array(2) }] },
      { kind: "destination", options: [{ type: 0x1e, data: new Uint8Array(3) }] },
      { kind: "routing", routingType: 0, segmentsLeft: 0 },
      { kind: "fragment", offset: 0, more: false, identification: 5 },
      { kind: "destination", options: [] },
    ],
  });
  const error = buildIcmpv6Packet(B, A, {
    type: "parameter-problem",
    code: 1,
    pointer: 6,
    original: icmpv6ErrorQuote(chained),
  });
  const big = buildTcpPacket6(A, B, { ...syn, payload: new Uint8Array(1500) });
  const frags = fragmentIpv6(big, 1280, 9);
  if (!frags.ok) throw new Error(frags.reason);
  return [chained, error, frags.packets[0]!.subarray(0, 200), frags.packets[1]!.subarray(0, 120)];
})();

/** A header chain of random extension headers (and a few others) with random lengths. */
const chainArb = fc.array(
  fc.record({
    nh: fc.constantFrom(0, 43, 44, 60, 51, 6, 17, 58, 59, 253),
    len: fc.integer({ min: 0, max: 3 }),
    fill: fc.integer({ min: 0, max: 255 }),
  }),
  { minLength: 1, maxLength: 40 },
);

function chainPacket(chain: ReadonlyArray<{ nh: number; len: number; fill: number }>): Uint8Array {
  const body: number[] = [];
  for (let k = 1; k < chain.length; k++) {
    const h = chain[k]!;
    const size = (h.len + 1) * 8;
    const bytes = new Array<number>(size).fill(h.fill);
    bytes[0] = chain[k + 1]?.nh ?? NextHeader.NO_NEXT_HEADER;
    bytes[1] = h.len;
    body.push(...bytes);
  }
  const p = new Uint8Array(40 + body.length);
  p[0] = 0x60;
  p[4] = body.length >>> 8;
  p[5] = body.length & 0xff;
  p[6] = chain[1]?.nh ?? chain[0]!.nh;
  p.set(body, 40);
  return p;
}

describe("the IPv6 parsers never throw", () => {
  test("on random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 160 }), (bytes) => parseEverything(bytes)),
      fcParams(2000),
    );
  });

  test("on random bytes behind a version-6 header whose payload length matches", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 40, maxLength: 200 }), (raw) => {
        const bytes = raw.slice();
        bytes[0] = 0x60 | (bytes[0]! & 0x0f);
        const plen = bytes.length - 40;
        bytes[4] = plen >>> 8;
        bytes[5] = plen & 0xff;
        parseEverything(bytes);
      }),
      fcParams(2000),
    );
  });

  test("on valid packets with random bytes overwritten or cut short", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...templates),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.nat(),
        (template, edits, cut) => {
          const bytes = template.slice(0, cut % (template.length + 1));
          for (const [at, value] of edits) if (bytes.length > 0) bytes[at % bytes.length] = value;
          parseEverything(bytes);
          // The upper layer's own view, with the fixed header stripped.
          parseEverything(bytes.subarray(40));
        },
      ),
      fcParams(2000),
    );
  });

  test("on random extension-header chains: the walk stops at the bound", () => {
    fc.assert(
      fc.property(chainArb, (chain) => {
        const bytes = chainPacket(chain);
        parseEverything(bytes);
        const r = parseIpv6(bytes);
        if (r.ok) expect(r.value.extensions.length).toBeLessThanOrEqual(MAX_EXTENSION_HEADERS);
      }),
      fcParams(1000),
    );
  });
});
