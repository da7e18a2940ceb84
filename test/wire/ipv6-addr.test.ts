import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { type Endpoint, formatEndpoint, ip } from "../../src/wire/addr.ts";
import {
  formatIpEndpoint,
  formatTraceEndpoint,
  fromEndpoint,
  type IpEndpoint,
  ipAddrEqual,
  ipEndpointEqual,
  ipEndpointKey,
  parseIpAddr,
  parseIpEndpoint,
  unmapIpAddr,
} from "../../src/wire/ip-addr.ts";
import {
  formatIpv6Addr,
  type Ipv6Addr,
  ip6,
  ipv4FromMapped,
  ipv4MappedIpv6,
  ipv6Equal,
  ipv6Key,
  isIpv6LinkLocal,
  isIpv6Loopback,
  isIpv6Multicast,
  isIpv6Unspecified,
  parseIpv6Addr,
  readIpv6Addr,
  writeIpv6Addr,
} from "../../src/wire/ipv6-addr.ts";
import { fcParams } from "./prop.ts";

const word = fc.integer({ min: 0, max: 0xffffffff });
/** Addresses with many zero groups, so "::" placement gets exercised. */
const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
const addrArb: fc.Arbitrary<Ipv6Addr> = fc.oneof(
  fc.tuple(word, word, word, word),
  fc
    .array(group, { minLength: 8, maxLength: 8 })
    .map((g): Ipv6Addr => [0, 2, 4, 6].map((i) => ((g[i]! << 16) | g[i + 1]!) >>> 0) as never),
);

function canonical(text: string): string {
  const a = parseIpv6Addr(text);
  if (a === undefined) throw new Error(`did not parse: ${text}`);
  return formatIpv6Addr(a);
}

describe("IPv6 address text", () => {
  test("RFC 4291 §2.2 examples parse to the right groups", () => {
    expect(ip6("ABCD:EF01:2345:6789:ABCD:EF01:2345:6789")).toEqual([
      0xabcdef01, 0x23456789, 0xabcdef01, 0x23456789,
    ]);
    expect(ip6("2001:DB8:0:0:8:800:200C:417A")).toEqual([0x20010db8, 0, 0x00080800, 0x200c417a]);
    expect(ip6("2001:DB8::8:800:200C:417A")).toEqual(ip6("2001:DB8:0:0:8:800:200C:417A"));
    expect(ip6("FF01::101")).toEqual([0xff010000, 0, 0, 0x101]);
    expect(ip6("::1")).toEqual([0, 0, 0, 1]);
    expect(ip6("::")).toEqual([0, 0, 0, 0]);
    expect(ip6("0:0:0:0:0:0:13.1.68.3")).toEqual([0, 0, 0, 0x0d014403]);
    expect(ip6("::13.1.68.3")).toEqual([0, 0, 0, 0x0d014403]);
    expect(ip6("0:0:0:0:0:FFFF:129.144.52.38")).toEqual([0, 0, 0xffff, 0x81903426]);
    expect(ip6("::FFFF:129.144.52.38")).toEqual([0, 0, 0xffff, 0x81903426]);
  });

  test("RFC 5952 §2.1: eight spellings of one address, one canonical form", () => {
    for (const t of [
      "2001:db8:0:0:1:0:0:1",
      "2001:0db8:0:0:1:0:0:1",
      "2001:db8::1:0:0:1",
      "2001:db8::0:1:0:0:1",
      "2001:0db8::1:0:0:1",
      "2001:db8:0:0:1::1",
      "2001:db8:0000:0:1::1",
      "2001:DB8:0:0:1::1",
    ]) {
      expect(canonical(t)).toBe("2001:db8::1:0:0:1");
    }
  });

  test("RFC 5952 §4: no leading zeros, '::' as long as possible, first longest run, lowercase", () => {
    expect(canonical("2001:0db8::0001")).toBe("2001:db8::1"); // §4.1
    expect(canonical("2001:db8:0:0:0:0:2:1")).toBe("2001:db8::2:1"); // §4.2.1
    expect(canonical("2001:db8::0:1")).toBe("2001:db8::1"); // §4.2.1
    expect(canonical("2001:db8:0:1:1:1:1:1")).toBe("2001:db8:0:1:1:1:1:1"); // §4.2.2
    expect(canonical("2001:0:0:1:0:0:0:1")).toBe("2001:0:0:1::1"); // §4.2.3, longest
    expect(canonical("2001:db8:0:0:1:0:0:1")).toBe("2001:db8::1:0:0:1"); // §4.2.3, first
    expect(canonical("2001:DB8::ABCD")).toBe("2001:db8::abcd"); // §4.3
    expect(canonical("0:0:0:0:0:0:0:0")).toBe("::");
    expect(canonical("1:0:0:0:0:0:0:0")).toBe("1::");
    expect(canonical("0:0:0:0:0:0:0:1")).toBe("::1");
    expect(canonical("1:2:3:4:5:6:7::")).toBe("1:2:3:4:5:6:7:0");
    expect(canonical("fd00::1")).toBe("fd00::1");
  });

  test("RFC 5952 §5: an IPv4-mapped address ends in dotted decimal", () => {
    expect(canonical("::ffff:c000:0201")).toBe("::ffff:192.0.2.1");
    expect(formatIpv6Addr(ipv4MappedIpv6(ip("10.0.0.1")))).toBe("::ffff:10.0.0.1");
    // Other embeddings are plain hex: RFC 4291 §2.5.5.1 deprecates the IPv4-compatible form.
    expect(canonical("::13.1.68.3")).toBe("::d01:4403");
  });

  test("malformed text is refused", () => {
    for (const t of [
      "",
      ":",
      ":::",
      "1::2::3",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8::",
      "::1:2:3:4:5:6:7:8",
      "12345::",
      "g::1",
      ":1::",
      "1::2:",
      "1:2:3:4:5:6:7:1.2.3.4",
      "::1.2.3",
      "::1.2.3.256",
      "1.2.3.4",
      "1.2.3.4::",
      ":1.2.3.4",
      "::ffff:1.2.3.4:5",
      "fe80::1%eth0",
      "fd00::/64",
      " ::1",
      `${"1:".repeat(30)}1`,
    ]) {
      expect({ t, a: parseIpv6Addr(t) }).toEqual({ t, a: undefined });
    }
    expect(() => ip6("nope")).toThrow("not an IPv6 address");
  });

  test("format then parse gives the address back; the text is canonical (property)", () => {
    fc.assert(
      fc.property(addrArb, (a) => {
        const text = formatIpv6Addr(a);
        expect(parseIpv6Addr(text)).toEqual([...a]);
        expect(text).toBe(text.toLowerCase());
        expect(text).not.toMatch(/(^|:)0[0-9a-f]/); // no leading zeros
        expect(text.split("::").length).toBeLessThanOrEqual(2);
        if (text.includes(".")) return; // IPv4-mapped, §5
        // §4.2: "::" replaces the first of the longest runs of two or more zero groups.
        const g = a.flatMap((w) => [w >>> 16, w & 0xffff]);
        let best = { at: -1, len: 1 };
        for (let i = 0; i < 8; i++) {
          let j = i;
          while (j < 8 && g[j] === 0) j++;
          if (j - i > best.len) best = { at: i, len: j - i };
        }
        const [before, after] = text.split("::");
        if (best.at < 0) {
          expect(after).toBeUndefined();
          return;
        }
        const count = (s: string) => (s === "" ? 0 : s.split(":").length);
        expect(count(before!)).toBe(best.at);
        expect(8 - count(before!) - count(after!)).toBe(best.len);
      }),
      fcParams(),
    );
  });

  test("bytes in and out, field order most significant first", () => {
    const buf = new Uint8Array(20);
    writeIpv6Addr(ip6("2001:db8::8:800:200c:417a"), buf, 2);
    expect([...buf.subarray(2, 18)]).toEqual([
      0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0x08, 0x08, 0, 0x20, 0x0c, 0x41, 0x7a,
    ]);
    expect(readIpv6Addr(buf, 2)).toEqual(ip6("2001:db8::8:800:200c:417a"));
  });

  test("key and equality: equal addresses, equal keys; different, different (property)", () => {
    expect(ipv6Key(ip6("fd00::1")).length).toBe(8);
    fc.assert(
      fc.property(addrArb, addrArb, (a, b) => {
        expect(ipv6Key(a) === ipv6Key(b)).toBe(ipv6Equal(a, b));
        expect(ipv6Equal(a, [...a] as unknown as Ipv6Addr)).toBe(true);
      }),
      fcParams(),
    );
  });

  test("address classes (RFC 4291 §2.4)", () => {
    expect(isIpv6Multicast(ip6("ff02::1"))).toBe(true);
    expect(isIpv6Multicast(ip6("fe80::1"))).toBe(false);
    expect(isIpv6LinkLocal(ip6("fe80::1"))).toBe(true);
    expect(isIpv6LinkLocal(ip6("febf::1"))).toBe(true);
    expect(isIpv6LinkLocal(ip6("fec0::1"))).toBe(false);
    expect(isIpv6Unspecified(ip6("::"))).toBe(true);
    expect(isIpv6Loopback(ip6("::1"))).toBe(true);
    expect(isIpv6Loopback(ip6("::2"))).toBe(false);
    expect(ipv4FromMapped(ip6("::ffff:10.0.0.2"))).toBe(ip("10.0.0.2"));
    expect(ipv4FromMapped(ip6("::10.0.0.2"))).toBeUndefined();
  });
});

describe("family-tagged addresses and endpoints", () => {
  const v4: IpEndpoint = { family: 4, addr: ip("10.0.0.1"), port: 80 };
  const v6: IpEndpoint = { family: 6, addr: ip6("fd00::1"), port: 80 };

  test("parse either family", () => {
    expect(parseIpAddr("10.0.0.1")).toEqual({ family: 4, addr: ip("10.0.0.1") });
    expect(parseIpAddr("fd00::1")).toEqual({ family: 6, addr: ip6("fd00::1") });
    expect(parseIpAddr("fd00::1::")).toBeUndefined();
  });

  test("endpoints: [fd00::1]:80 (RFC 5952 §6) for people, fd00::1.80 for traces", () => {
    expect(formatIpEndpoint(v4)).toBe("10.0.0.1:80");
    expect(formatIpEndpoint(v6)).toBe("[fd00::1]:80");
    expect(formatTraceEndpoint(v4)).toBe("10.0.0.1.80");
    expect(formatTraceEndpoint(v6)).toBe("fd00::1.80");
    expect(parseIpEndpoint("[fd00::1]:80")).toEqual(v6);
    expect(parseIpEndpoint("10.0.0.1:80")).toEqual(v4);
    for (const bad of ["fd00::1:80", "[fd00::1]", "[fd00::1]:65536", "10.0.0.1", "[10.0.0.1]:80"]) {
      expect({ bad, ep: parseIpEndpoint(bad) }).toEqual({ bad, ep: undefined });
    }
  });

  test("keys: IPv4 keeps ConnectionTable's number, IPv6 a string; no collisions", () => {
    expect(ipEndpointKey(v4)).toBe(ip("10.0.0.1") * 65536 + 80);
    expect(typeof ipEndpointKey(v6)).toBe("string");
    expect(ipEndpointKey(v6)).not.toBe(ipEndpointKey({ ...v6, port: 81 }));
    fc.assert(
      fc.property(addrArb, addrArb, fc.nat(0xffff), fc.nat(0xffff), (a, b, p, q) => {
        const ka = ipEndpointKey({ family: 6, addr: a, port: p });
        const kb = ipEndpointKey({ family: 6, addr: b, port: q });
        expect(ka === kb).toBe(ipv6Equal(a, b) && p === q);
      }),
      fcParams(),
    );
  });

  test("equality across families, and an IPv4-mapped peer unmapped to IPv4", () => {
    expect(ipEndpointEqual(v4, { ...v4 })).toBe(true);
    expect(ipEndpointEqual(v4, { ...v4, port: 81 })).toBe(false);
    expect(ipAddrEqual(v4, v6)).toBe(false);
    expect(ipAddrEqual(v6, v4)).toBe(false);
    const mapped = { family: 6 as const, addr: ip6("::ffff:10.0.0.1") };
    expect(unmapIpAddr(mapped)).toEqual({ family: 4, addr: ip("10.0.0.1") });
    expect(unmapIpAddr(v6)).toBe(v6);
    expect(fromEndpoint({ addr: ip("10.0.0.1"), port: 80 })).toEqual(v4);
  });

  test("an Endpoint without a family is IPv4; one of family 6 holds an IPv6 address", () => {
    const bare: Endpoint = { addr: ip("10.0.0.1"), port: 80 };
    const six: Endpoint = v6;
    expect(ipEndpointKey(bare)).toBe(ipEndpointKey(v4));
    expect(formatIpEndpoint(bare)).toBe("10.0.0.1:80");
    expect(formatEndpoint(bare)).toBe("10.0.0.1.80");
    expect(formatEndpoint(six)).toBe("fd00::1.80");
    expect(fromEndpoint(six)).toBe(v6);
  });
});
