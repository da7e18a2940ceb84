/**
 * SYN cookies (RFC 4987 §3.6): a full half-open set answers with a cookie
 * and keeps nothing; the ACK that brings the cookie back makes the
 * connection, with the MSS, window scale, SACK and timestamps the cookie
 * carried.
 */
import { describe, expect, test } from "bun:test";
import { EPOCH, instant, ms } from "../../src/clock/time.ts";
import type { Host } from "../../src/stack/host.ts";
import type { Listener } from "../../src/tcp/listener.ts";
import type { TcpSettings } from "../../src/tcp/settings.ts";
import { State } from "../../src/tcp/state.ts";
import {
  COOKIE_MSS,
  checkCookie,
  cookieIss,
  cookieKeys,
  decodeTsOptions,
  encodeTsOptions,
  mssIndexFor,
} from "../../src/tcp/syn-cookie.ts";
import type { Tcb } from "../../src/tcp/tcb.ts";
import { timestampOf } from "../../src/tcp/timestamps.ts";
import { parseIpv4 } from "../../src/wire/ipv4.ts";
import { buildTcpPacket } from "../../src/wire/packet.ts";
import { parseTcp } from "../../src/wire/tcp.ts";
import { Flag, type TcpSegment } from "../../src/wire/tcp-types.ts";
import { A, B, bytes, host, pump } from "../stack/util.ts";

const KEYS = cookieKeys(Uint8Array.from({ length: 16 }, (_, i) => i * 7));
const LOCAL = { addr: B, port: 80 };
const REMOTE = { addr: A, port: 40000 };

describe("the cookie", () => {
  test("carries the MSS index through and checks out for its minute and the next only", () => {
    for (let i = 0; i < COOKIE_MSS.length; i++) {
      const iss = cookieIss(KEYS, LOCAL, REMOTE, 123456, i, instant(90_000));
      expect(checkCookie(KEYS, LOCAL, REMOTE, 123456, iss, instant(90_000))).toBe(i);
      expect(checkCookie(KEYS, LOCAL, REMOTE, 123456, iss, instant(150_000))).toBe(i); // next minute
      expect(checkCookie(KEYS, LOCAL, REMOTE, 123456, iss, instant(180_000))).toBeUndefined(); // too old
    }
  });

  test("another peer, another ISN, a flipped bit or another key: rejected", () => {
    const iss = cookieIss(KEYS, LOCAL, REMOTE, 77, 3, EPOCH);
    expect(checkCookie(KEYS, LOCAL, { ...REMOTE, port: 40001 }, 77, iss, EPOCH)).toBeUndefined();
    // The peer's ISN enters linearly, as the MSS index does (Linux's layout): off by
    // a few it only names another MSS, so a forger still has to know the cookie.
    expect(checkCookie(KEYS, LOCAL, REMOTE, 77 + 1000, iss, EPOCH)).toBeUndefined();
    // Above the two bits of MSS index every bit is checked (24-bit MAC, 8-bit minute).
    for (const bit of [2, 10, 23, 24, 31]) {
      expect(checkCookie(KEYS, LOCAL, REMOTE, 77, (iss ^ (1 << bit)) >>> 0, EPOCH)).toBeUndefined();
    }
    const other = cookieKeys(new Uint8Array(16));
    expect(checkCookie(other, LOCAL, REMOTE, 77, iss, EPOCH)).toBeUndefined();
  });

  test("the MSS table: the largest entry not above the peer's MSS", () => {
    expect(mssIndexFor(undefined)).toBe(0);
    expect(COOKIE_MSS[mssIndexFor(1000)]).toBe(536);
    expect(COOKIE_MSS[mssIndexFor(1460)]).toBe(1460);
    expect(COOKIE_MSS[mssIndexFor(8960)]).toBe(1460);
  });

  test("TSval low bits: window scale (15 = none) and SACK, never above the clock", () => {
    const ts = encodeTsOptions(100_000, 7, true);
    expect(ts).toBeLessThanOrEqual(100_000);
    expect(100_000 - ts).toBeLessThan(64);
    expect(decodeTsOptions(ts)).toEqual({ wscale: 7, sack: true });
    expect(decodeTsOptions(encodeTsOptions(5, undefined, false))).toEqual({
      wscale: undefined,
      sack: false,
    });
  });
});

/** b listens on 80 with room for one half-open connection, taken by a SYN that never completes. */
function crowded(tcp: Partial<TcpSettings> = {}, client: Partial<TcpSettings> = tcp) {
  // The client ACKs at once: an RTT sample needs no timer.
  const a = host("a", {
    tcp: { delayedAck: ms(0), ...client },
    isn: { secret: new Uint8Array(16).fill(1) },
  });
  const b = host("b", { tcp, cookieSecret: new Uint8Array(16).fill(9) });
  const listener = b.listen(80, 8, { halfOpenLimit: 1 }) as Listener;
  const stray: TcpSegment = {
    srcPort: 999,
    dstPort: 80,
    seq: 1,
    ack: 0,
    flags: Flag.SYN,
    window: 1000,
    urgentPointer: 0,
    options: [{ kind: "mss", value: 1460 }],
    payload: new Uint8Array(0),
  };
  b.receive(buildTcpPacket(A, B, stray), EPOCH);
  b.takeOutput(); // its SYN-ACK is lost
  expect(listener.halfOpen.size).toBe(1);
  return { a, b, listener };
}

function segments(packets: Uint8Array[]): TcpSegment[] {
  return packets.map((p) => {
    const ip = parseIpv4(p);
    if (!ip.ok) throw new Error(ip.drop);
    const t = parseTcp(ip.value.payload, ip.value.header.src, ip.value.header.dst);
    if (!t.ok) throw new Error(t.drop);
    return t.value;
  });
}

function connectThroughCookie(a: Host, b: Host, listener: Listener) {
  const client = a.connect({ addr: B, port: 80 }, instant(10), { localPort: 40000 }) as Tcb;
  for (const p of a.takeOutput()) b.receive(p, instant(10));
  const synAck = b.takeOutput();
  expect(b.connections().length).toBe(1); // only the stray: the cookie kept nothing
  expect(b.stats().packets["tcp.syncookies-sent"]).toBe(1);
  const [sa] = segments(synAck);
  for (const p of synAck) a.receive(p, instant(20));
  for (const p of a.takeOutput()) b.receive(p, instant(20)); // the ACK with the cookie
  expect(b.stats().packets["tcp.syncookies-recv"]).toBe(1);
  const server = listener.accept() as Tcb;
  expect(server.state).toBe(State.Established);
  return { client, server, synAck: sa as TcpSegment };
}

describe("a listener whose half-open set is full", () => {
  test("answers with a cookie and keeps nothing; the returning ACK makes the connection, options and all", () => {
    const { a, b, listener } = crowded();
    const { client, server, synAck } = connectThroughCookie(a, b, listener);
    expect(client.state).toBe(State.Established);
    // Timestamps carried the peer's window scale and SACK-permitted.
    expect(server.tsEnabled).toBe(true);
    expect(server.sackEnabled).toBe(true);
    expect(server.sndWscale).toBe(client.rcvWscale);
    expect(server.rcvWscale).toBe(client.sndWscale);
    expect(server.sndMss).toBe(1460);
    expect(server.iss).toBe(synAck.seq);
    // Data both ways.
    client.setNoDelay(true);
    server.setNoDelay(true);
    client.send(bytes(5000), instant(30));
    pump(a, b, instant(30));
    expect(server.recv(10_000, instant(31))).toEqual(bytes(5000));
    server.send(bytes(3000, 2), instant(32));
    pump(a, b, instant(32));
    expect(client.recv(10_000, instant(33))).toEqual(bytes(3000, 2));
  });

  test("our TSvals go on above the cookie SYN-ACK's, and its echo is no RTT sample", () => {
    const { a, b, listener } = crowded();
    const { server, synAck } = connectThroughCookie(a, b, listener);
    expect(server.srtt).toBeUndefined();
    server.send(bytes(10), instant(40));
    const [data] = segments(b.takeOutput());
    const sent = timestampOf(data as TcpSegment)?.tsVal ?? 0;
    const cookieTs = timestampOf(synAck)?.tsVal ?? 0;
    expect(sent - cookieTs).toBeGreaterThan(0);
    for (const p of buildReplies(a, data as TcpSegment)) b.receive(p, instant(45));
    expect(server.srtt).toBeDefined();
  });

  test("without timestamps the cookie carries the MSS only: no window scaling, no SACK", () => {
    const { a, b, listener } = crowded({ timestamps: false }, { timestamps: false, mss: 1000 });
    const { client, server } = connectThroughCookie(a, b, listener);
    expect(server.tsEnabled).toBe(false);
    expect(server.sackEnabled).toBe(false);
    expect(server.sndWscale).toBe(0);
    expect(client.sndWscale).toBe(0); // our SYN-ACK offered none
    expect(server.sndMss).toBe(536); // the table's entry below 1000
  });

  test("a forged or stale cookie is refused with a reset, counted", () => {
    const { a, b } = crowded();
    a.connect({ addr: B, port: 80 }, EPOCH, { localPort: 40000 });
    for (const p of a.takeOutput()) b.receive(p, EPOCH);
    const [sa] = segments(b.takeOutput());
    const ack = (seq: number, ackNo: number) =>
      buildTcpPacket(A, B, {
        srcPort: 40000,
        dstPort: 80,
        seq,
        ack: ackNo,
        flags: Flag.ACK,
        window: 1000,
        urgentPointer: 0,
        options: [],
        payload: new Uint8Array(0),
      });
    const isn = ((sa as TcpSegment).ack - 1) >>> 0;
    b.receive(ack(isn + 1, ((sa as TcpSegment).seq + 2) >>> 0), instant(1)); // not the cookie
    expect(segments(b.takeOutput()).map((s) => s.flags)).toEqual([Flag.RST]);
    // The cookie itself, 3 minutes later (cookies were sent meanwhile, so it is checked).
    const late: TcpSegment = { ...(sa as TcpSegment), srcPort: 40001, dstPort: 80, seq: 5, ack: 0 };
    b.receive(buildTcpPacket(A, B, { ...late, flags: Flag.SYN }), instant(199_000));
    b.takeOutput();
    b.receive(ack(isn + 1, ((sa as TcpSegment).seq + 1) >>> 0), instant(200_000));
    expect(segments(b.takeOutput()).map((s) => s.flags)).toEqual([Flag.RST]);
    expect(b.stats().packets["tcp.syncookies-failed"]).toBe(2);
    expect(b.stats().packets["tcp.syncookies-recv"]).toBeUndefined();
  });

  test("synCookies off: the SYN is dropped", () => {
    const { a, b } = crowded({ synCookies: false });
    a.connect({ addr: B, port: 80 }, EPOCH);
    for (const p of a.takeOutput()) b.receive(p, EPOCH);
    expect(b.takeOutput()).toEqual([]);
    expect(b.stats().drops["tcp.listen-backlog-full"]).toBe(1);
  });
});

/** a's answer to `data` from b (its ACK). */
function buildReplies(a: Host, data: TcpSegment): Uint8Array[] {
  a.receive(buildTcpPacket(B, A, data), instant(44));
  return a.takeOutput();
}
