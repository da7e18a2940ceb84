/**
 * ISNs (RFC 6528) and SYN cookies (RFC 4987 §3.6) over IPv6 4-tuples: every
 * address bit counts, the families never share a value, and IPv4 tuples
 * keep the values they had before endpoints had a family.
 */
import { describe, expect, test } from "bun:test";
import { EPOCH, instant } from "../../src/clock/time.ts";
import { IsnGenerator } from "../../src/tcp/isn.ts";
import { COOKIE_MSS, checkCookie, cookieIss, cookieKeys } from "../../src/tcp/syn-cookie.ts";
import { type Endpoint, ip } from "../../src/wire/addr.ts";
import { ip6, ipv4MappedIpv6 } from "../../src/wire/ipv6-addr.ts";

const SECRET = Uint8Array.from({ length: 16 }, (_, i) => i * 7);
const KEYS = cookieKeys(SECRET);
const LOCAL4: Endpoint = { addr: ip("10.0.0.2"), port: 80 };
const REMOTE4: Endpoint = { addr: ip("10.0.0.1"), port: 40000 };
const LOCAL6: Endpoint = { family: 6, addr: ip6("fd00::2"), port: 80 };
const REMOTE6: Endpoint = { family: 6, addr: ip6("fd00::1"), port: 40000 };

/** `ep`'s address with word `w` changed in its lowest bit. */
function flipWord(ep: Endpoint, w: number): Endpoint {
  if (ep.family !== 6) throw new Error("an IPv6 endpoint expected");
  const [a, b, c, d] = ep.addr;
  const words: [number, number, number, number] = [a, b, c, d];
  words[w] = ((words[w] as number) ^ 1) >>> 0;
  return { family: 6, addr: words, port: ep.port };
}

describe("ISN of an IPv6 4-tuple (RFC 6528 §3)", () => {
  test("IPv4 tuples keep the values of the IPv4-only generator", () => {
    const g = new IsnGenerator({ secret: SECRET });
    expect(g.next(LOCAL4, REMOTE4, EPOCH)).toBe(3316954863);
    expect(g.next(LOCAL4, REMOTE4, instant(1234.5))).toBe(3317263488);
    expect(g.next(REMOTE4, LOCAL4, EPOCH)).toBe(3980094750);
    // An explicit family 4 is the same endpoint.
    expect(g.next({ ...LOCAL4, family: 4 }, { ...REMOTE4, family: 4 }, EPOCH)).toBe(3316954863);
  });

  test("every word of either address and either port gives another ISN", () => {
    const g = new IsnGenerator({ secret: SECRET });
    const base = g.next(LOCAL6, REMOTE6, EPOCH);
    const others = [
      g.next(REMOTE6, LOCAL6, EPOCH),
      g.next(LOCAL6, { ...REMOTE6, port: 40001 }, EPOCH),
      g.next({ ...LOCAL6, port: 81 }, REMOTE6, EPOCH),
      ...[0, 1, 2, 3].map((w) => g.next(flipWord(LOCAL6, w), REMOTE6, EPOCH)),
      ...[0, 1, 2, 3].map((w) => g.next(LOCAL6, flipWord(REMOTE6, w), EPOCH)),
    ];
    expect(new Set([base, ...others]).size).toBe(others.length + 1);
  });

  test("an IPv6 tuple never hashes like an IPv4 one, mapped addresses included", () => {
    const g = new IsnGenerator({ secret: SECRET });
    const mapped = (ep: Endpoint): Endpoint =>
      ep.family === 6 ? ep : { family: 6, addr: ipv4MappedIpv6(ep.addr), port: ep.port };
    expect(g.next(mapped(LOCAL4), mapped(REMOTE4), EPOCH)).not.toBe(g.next(LOCAL4, REMOTE4, EPOCH));
  });

  test("one IPv6 tuple's ISNs advance with the 4 µs clock; the secret keys them", () => {
    const g = new IsnGenerator({ secret: SECRET });
    const a0 = g.next(LOCAL6, REMOTE6, EPOCH);
    expect(g.next(LOCAL6, REMOTE6, instant(1))).toBe((a0 + 250) >>> 0);
    expect(new IsnGenerator({ secret: SECRET }).next(LOCAL6, REMOTE6, EPOCH)).toBe(a0);
    expect(new IsnGenerator({ secret: new Uint8Array(16) }).next(LOCAL6, REMOTE6, EPOCH)).not.toBe(
      a0,
    );
  });
});

describe("SYN cookies over IPv6 (RFC 4987 §3.6)", () => {
  test("IPv4 tuples keep the cookies of the IPv4-only encoding", () => {
    expect(cookieIss(KEYS, LOCAL4, REMOTE4, 123456, 2, instant(90_000))).toBe(2932236661);
    expect(cookieIss(KEYS, LOCAL4, REMOTE4, 0, 0, EPOCH)).toBe(2912733630);
  });

  test("a cookie for an IPv6 tuple checks out with its MSS index, for two minutes", () => {
    for (let i = 0; i < COOKIE_MSS.length; i++) {
      const iss = cookieIss(KEYS, LOCAL6, REMOTE6, 123456, i, instant(90_000));
      expect(checkCookie(KEYS, LOCAL6, REMOTE6, 123456, iss, instant(90_000))).toBe(i);
      expect(checkCookie(KEYS, LOCAL6, REMOTE6, 123456, iss, instant(150_000))).toBe(i);
      expect(checkCookie(KEYS, LOCAL6, REMOTE6, 123456, iss, instant(180_000))).toBeUndefined();
    }
  });

  test("another word of either address, another port or the other family: rejected", () => {
    const iss = cookieIss(KEYS, LOCAL6, REMOTE6, 77, 3, EPOCH);
    for (let w = 0; w < 4; w++) {
      expect(checkCookie(KEYS, LOCAL6, flipWord(REMOTE6, w), 77, iss, EPOCH)).toBeUndefined();
      expect(checkCookie(KEYS, flipWord(LOCAL6, w), REMOTE6, 77, iss, EPOCH)).toBeUndefined();
    }
    expect(checkCookie(KEYS, LOCAL6, { ...REMOTE6, port: 40001 }, 77, iss, EPOCH)).toBeUndefined();
    // The IPv4 tuple whose addresses are the IPv6 ones' last words.
    const v4 = (ep: Endpoint): Endpoint =>
      ep.family === 6 ? { addr: ep.addr[3], port: ep.port } : ep;
    expect(checkCookie(KEYS, v4(LOCAL6), v4(REMOTE6), 77, iss, EPOCH)).toBeUndefined();
  });

  test("distinct IPv6 tuples get distinct cookies", () => {
    const of = (l: Endpoint, r: Endpoint) => cookieIss(KEYS, l, r, 77, 3, EPOCH);
    const all = [
      of(LOCAL6, REMOTE6),
      of(REMOTE6, LOCAL6),
      of(LOCAL6, { ...REMOTE6, port: 40001 }),
      ...[0, 1, 2, 3].map((w) => of(LOCAL6, flipWord(REMOTE6, w))),
      ...[0, 1, 2, 3].map((w) => of(flipWord(LOCAL6, w), REMOTE6)),
    ];
    expect(new Set(all).size).toBe(all.length);
  });
});
