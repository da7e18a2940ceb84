/**
 * Segment sizes by IP version (RFC 9293 §3.7.1): the MSS is the MTU less 40
 * bytes of headers over IPv4 and 60 over IPv6 (RFC 8200 §3's 40-byte
 * header), and a peer that sends no MSS option gets 536 over IPv4 and 1220
 * over IPv6 (RFC 8200 §5: every link carries 1280). A Tcb takes its family
 * from its endpoints.
 */
import { describe, expect, test } from "bun:test";
import { EPOCH } from "../../src/clock/time.ts";
import {
  COOKIE_MSS6,
  cookieKeys,
  cookieSynAck,
  mssIndexFor,
  synFromCookie,
} from "../../src/tcp/syn-cookie.ts";
import {
  defaultSendMss,
  mssForMtu,
  settingsForFamily,
  type TcpSettings,
} from "../../src/tcp/settings.ts";
import { Tcb } from "../../src/tcp/tcb.ts";
import type { Endpoint } from "../../src/wire/addr.ts";
import { ip6 } from "../../src/wire/ipv6-addr.ts";
import type { TcpOption } from "../../src/wire/tcp-types.ts";
import { LOCAL, MSS, opts, REMOTE, seg, settings } from "./helpers.ts";

const LOCAL6: Endpoint = { family: 6, addr: ip6("fd00::1"), port: LOCAL.port };
const REMOTE6: Endpoint = { family: 6, addr: ip6("fd00::2"), port: REMOTE.port };
const V6 = { local: LOCAL6, remote: REMOTE6 };
/** What the host derives at MTU 1500 (mssForMtu). */
const AT_1500: Partial<TcpSettings> = { mss: 1460 };

const mssOption = (options: readonly TcpOption[]) => options.find((o) => o.kind === "mss")?.value;

describe("the numbers", () => {
  test("MSS from the MTU: 1460 over IPv4, 1440 over IPv6 at 1500", () => {
    expect(mssForMtu(1500)).toBe(1460);
    expect(mssForMtu(1500, 4)).toBe(1460);
    expect(mssForMtu(1500, 6)).toBe(1440);
    expect(mssForMtu(1280, 6)).toBe(1220);
    expect(mssForMtu(9000, 6)).toBe(8940);
  });

  test("default send MSS without an MSS option: 536 over IPv4, 1220 over IPv6", () => {
    expect(defaultSendMss(4)).toBe(536);
    expect(defaultSendMss(6)).toBe(1220);
  });

  test("an IPv6 connection's settings: the same link's MSS, 20 bytes less; IPv4's untouched", () => {
    const s = settings(AT_1500);
    expect(settingsForFamily(s, 4)).toBe(s);
    expect(settingsForFamily(s, 6)).toEqual({ ...s, mss: 1440 });
  });
});

describe("a Tcb sizes its segments by its endpoints' family", () => {
  test("IPv6: the SYN offers MTU − 60; before the SYN-ACK the send MSS is 1220", () => {
    const tcb = Tcb.connect(opts(V6, AT_1500));
    expect(tcb.family).toBe(6);
    expect(tcb.settings.mss).toBe(1440);
    expect(mssOption(tcb.takeOutput()[0]?.options ?? [])).toBe(1440);
    expect(tcb.sndMss).toBe(1220);
  });

  test("IPv4 unchanged: the SYN offers MTU − 40, send MSS 536 before the SYN-ACK", () => {
    const tcb = Tcb.connect(opts({}, AT_1500));
    expect(tcb.family).toBe(4);
    expect(mssOption(tcb.takeOutput()[0]?.options ?? [])).toBe(1460);
    expect(tcb.sndMss).toBe(536);
  });

  test("a SYN-ACK without an MSS option: 1220 over IPv6, 536 over IPv4", () => {
    for (const [ends, want] of [
      [V6, 1220],
      [{}, 536],
    ] as const) {
      const tcb = Tcb.connect(opts(ends, AT_1500));
      tcb.takeOutput();
      tcb.input(seg({ flags: "SA", seq: 5000, ack: 1001 }), EPOCH);
      expect({ ends, sndMss: tcb.sndMss }).toEqual({ ends, sndMss: want });
    }
  });

  test("an announced MSS is bounded by the family's own: 1460 offered, 1440 used over IPv6", () => {
    const tcb = Tcb.connect(opts(V6, AT_1500));
    tcb.takeOutput();
    tcb.input(seg({ flags: "SA", seq: 5000, ack: 1001, options: MSS }), EPOCH);
    expect(tcb.sndMss).toBe(1440);
  });

  test("passive open over IPv6: the SYN-ACK offers 1440; no MSS option means 1220", () => {
    const tcb = Tcb.accept({ ...opts(V6, AT_1500), syn: seg({ flags: "S", seq: 5000 }) });
    expect(mssOption(tcb.takeOutput()[0]?.options ?? [])).toBe(1440);
    expect(tcb.sndMss).toBe(1220);
  });

  test("a cookie SYN-ACK over IPv6 offers what the Tcb will: 1440", () => {
    const keys = cookieKeys(new Uint8Array(16).fill(3));
    const syn = seg({ flags: "S", seq: 5000, options: MSS });
    const v6 = cookieSynAck(settings(AT_1500), keys, syn, LOCAL6, REMOTE6, EPOCH);
    const v4 = cookieSynAck(settings(AT_1500), keys, syn, LOCAL, REMOTE, EPOCH);
    expect(mssOption(v6.options)).toBe(1440);
    expect(mssOption(v4.options)).toBe(1460);
  });

  test("a cookie over IPv6 names an MSS from IPv6's table: 1220 for a SYN without one", () => {
    expect(COOKIE_MSS6[mssIndexFor(undefined, 6)]).toBe(1220);
    expect(COOKIE_MSS6[mssIndexFor(1440, 6)]).toBe(1440);
    expect(COOKIE_MSS6[mssIndexFor(1400, 6)]).toBe(1220);
    expect(COOKIE_MSS6[mssIndexFor(9000, 6)]).toBe(8940);
    const keys = cookieKeys(new Uint8Array(16).fill(3));
    for (const [options, want] of [
      [[], 1220],
      [MSS, 1440],
    ] as const) {
      const syn = seg({ flags: "S", seq: 5000, options: [...options] });
      const synAck = cookieSynAck(settings(AT_1500), keys, syn, LOCAL6, REMOTE6, EPOCH);
      const ack = seg({ flags: "A", seq: 5001, ack: (synAck.seq + 1) >>> 0 });
      const back = synFromCookie(keys, ack, LOCAL6, REMOTE6, EPOCH);
      if (back === undefined) throw new Error("the cookie did not check out");
      expect(mssOption(back.syn.options)).toBe(want);
      const tcb = Tcb.fromCookie({ ...opts(V6, AT_1500), ...back });
      expect(tcb.sndMss).toBe(want);
    }
  });
});
