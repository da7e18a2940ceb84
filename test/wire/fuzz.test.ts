/** Random and mutated bytes must never make a parser or the formatter throw. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { ip } from "../../src/wire/addr.ts";
import { formatPacket } from "../../src/wire/format.ts";
import { parseIcmp } from "../../src/wire/icmp.ts";
import { parseIpv4, parseIpv4Quote } from "../../src/wire/ipv4.ts";
import { buildTcpPacket, parsePacket, tcpSegment } from "../../src/wire/packet.ts";
import { parseTcp } from "../../src/wire/tcp.ts";
import { Flag } from "../../src/wire/tcp-types.ts";
import { parseUdp } from "../../src/wire/udp.ts";
import { fcParams } from "./prop.ts";

const A = ip("10.0.0.1");
const B = ip("10.0.0.2");

function parseEverything(bytes: Uint8Array): void {
  for (const verifyChecksum of [true, false]) {
    const opts = { verifyChecksum };
    parseIpv4(bytes, opts);
    parseTcp(bytes, A, B, opts);
    parseUdp(bytes, A, B, opts);
    parseIcmp(bytes, opts);
    parsePacket(bytes, opts);
  }
  parseIpv4Quote(bytes);
  const line = formatPacket(bytes);
  expect(line.startsWith("IP ")).toBe(true);
  expect(line).not.toContain("unformattable");
}

/** A valid SYN with options, so mutations reach deep into the parsers. */
const template = buildTcpPacket(
  A,
  B,
  tcpSegment({
    srcPort: 1,
    dstPort: 2,
    flags: Flag.SYN,
    options: [
      { kind: "mss", value: 1460 },
      { kind: "sackPermitted" },
      { kind: "timestamps", tsVal: 1, tsEcr: 0 },
      { kind: "nop" },
      { kind: "wscale", shift: 7 },
    ],
    payload: new Uint8Array(8),
  }),
);

describe("parsers never throw", () => {
  test("on random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
        parseEverything(bytes);
      }),
      fcParams(2000),
    );
  });

  test("on random bytes behind a plausible IPv4 first byte", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0x45, max: 0x4f }),
        fc.uint8Array({ maxLength: 120 }),
        (b0, rest) => {
          parseEverything(Uint8Array.of(b0, ...rest));
        },
      ),
      fcParams(2000),
    );
  });

  test("on a valid packet with random bytes overwritten or cut short", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(template.length - 1), fc.integer({ min: 0, max: 255 })), {
          maxLength: 6,
        }),
        fc.nat(template.length),
        (edits, cut) => {
          const bytes = template.slice(0, cut);
          for (const [at, value] of edits) if (at < bytes.length) bytes[at] = value;
          parseEverything(bytes);
          // TCP's own view, with the IP header stripped, hits the option parser hardest.
          parseEverything(bytes.subarray(20));
        },
      ),
      fcParams(2000),
    );
  });
});
