/**
 * ICMPv6 errors reaching TCP and UDP (RFC 4443 §2.4(d), RFC 5927, RFC 1122
 * §4.2.3.9, RFC 5461) and IPv6 path MTU discovery (RFC 8201), host by host
 * at explicit times: the packets a host sends are taken, the messages a
 * router or the peer would send are forged from them, and what the
 * connection does next is read from its output.
 */
import { describe, expect, test } from "bun:test";
import { EPOCH, instant } from "../../src/clock/time.ts";
import type { Host } from "../../src/stack/host.ts";
import type { Listener } from "../../src/tcp/listener.ts";
import { State } from "../../src/tcp/state.ts";
import type { Tcb } from "../../src/tcp/tcb.ts";
import type { TcbView } from "../../src/tcp/view.ts";
import { Rng } from "../../src/util/rng.ts";
import { type Icmpv6Message, icmpv6ErrorQuote } from "../../src/wire/icmpv6.ts";
import { NextHeader, parseIpv6 } from "../../src/wire/ipv6.ts";
import { type Ipv6Addr, ip6, readIpv6Addr } from "../../src/wire/ipv6-addr.ts";
import { buildIcmpv6Packet, buildUdpPacket6, parsePacket6 } from "../../src/wire/packet6.ts";
import { seqAdd } from "../../src/wire/seq.ts";
import { bytes, host, loseUntilClosed, pump, settle } from "./util.ts";

const A6 = ip6("fd00::1");
const B6 = ip6("fd00::2");
const ROUTER6 = ip6("fd00::fe");

function pair(tcp = {}): { a: Host; b: Host } {
  return { a: host("a", { addr6: A6, tcp }), b: host("b", { addr6: B6, tcp }) };
}

type ErrorBody =
  | { type: "packet-too-big"; mtu: number }
  | { type: "dest-unreachable" | "time-exceeded"; code: number }
  | { type: "parameter-problem"; code: number; pointer: number };

/** An ICMPv6 error from `from` about `packet` (one of ours), quoting it as RFC 4443 §2.4(c) asks. */
function icmp6About(packet: Uint8Array, body: ErrorBody, from: Ipv6Addr = ROUTER6): Uint8Array {
  const msg = { ...body, original: icmpv6ErrorQuote(packet).slice() } as Icmpv6Message;
  return buildIcmpv6Packet(from, readIpv6Addr(packet, 8), msg);
}

const tooBig = (packet: Uint8Array, mtu: number) =>
  icmp6About(packet, { type: "packet-too-big", mtu });

/** The data segments in `packets`: [relative seq, data length, packet length]. */
function dataSegments(tcb: TcbView, packets: Uint8Array[]): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (const p of packets) {
    const r = parsePacket6(p);
    if (!r.ok || r.value.kind !== "tcp" || r.value.tcp.payload.length === 0) continue;
    out.push([seqAdd(r.value.tcp.seq, -tcb.iss), r.value.tcp.payload.length, p.length]);
  }
  return out;
}

/** a (fd00::1) connected to [fd00::2]:80 over IPv6. */
function connected6(tcp = {}) {
  const { a, b } = pair(tcp);
  const listener = b.listen(80, 4) as Listener;
  const client = a.connect({ family: 6, addr: B6, port: 80 }, EPOCH) as TcbView;
  pump(a, b, EPOCH);
  const server = listener.accept() as TcbView;
  expect(client.state).toBe(State.Established);
  return { a, b, client, server, listener };
}

/** As connected6, with `n` bytes written and sent by a at t=10 (and not delivered). */
function sentData(n: number, tcp = {}) {
  const w = connected6(tcp);
  w.client.send(bytes(n), instant(10));
  return { ...w, sent: w.a.takeOutput() };
}

/** a in SYN-SENT towards [fd00::2]:80, its SYN taken. */
function synSent(tcp = {}) {
  const a = host("a", { addr6: A6, tcp });
  const tcb = a.connect({ family: 6, addr: B6, port: 80 }, EPOCH) as Tcb;
  const syn = a.takeOutput()[0] as Uint8Array;
  return { a, tcb, syn };
}

describe("RFC 8201: Packet Too Big lowers the segment size", () => {
  test("an in-window report: MSS = PMTU − 60, the lost data goes again at once in smaller segments, and the transfer completes", () => {
    const { a, b, client, server, sent } = sentData(4000);
    // Two full segments: 1428 data + 12 of timestamps + 60 of headers = 1500 bytes.
    expect(dataSegments(client, sent)).toEqual([
      [1, 1428, 1500],
      [1429, 1428, 1500],
    ]);
    const cwnd = client.congestion.cwnd;
    // A hop of 1280 bytes refused both; its router says so about the first.
    a.receive(tooBig(sent[0] as Uint8Array, 1280), instant(15));
    expect(client.pmtu.mtu).toBe(1280);
    expect(client.sndMss).toBe(1220);
    expect(client.effSndMss).toBe(1208);
    const again = a.takeOutput();
    expect(dataSegments(client, again)).toEqual([
      [1, 1208, 1280],
      [1209, 1208, 1280],
      [2417, 440, 512],
    ]);
    expect(client.congestion.cwnd).toBe(cwnd);
    expect(client.congestion.stats.recoveries).toBe(0);
    expect(a.stats().packets["icmp6.packet-too-big-in"]).toBe(1);
    expect(a.stats().packets["tcp.icmp6-pmtu-lowered"]).toBe(1);
    // The report about the second segment says nothing new.
    a.receive(tooBig(sent[1] as Uint8Array, 1280), instant(16));
    expect(a.takeOutput()).toEqual([]);
    expect(a.stats().drops["icmp6.pmtu-not-lower"]).toBe(1);
    for (const p of again) b.receive(p, instant(20));
    settle(a, b, 20);
    expect(server.recv(10_000, instant(21))).toEqual(bytes(4000));
    expect(client.sndUna).toBe(client.sndNxt);
  });

  test("a report quoting a sequence number outside SND.UNA..SND.NXT is ignored and counted (RFC 5927 §4.1)", () => {
    const { a, client, sent } = sentData(2000);
    const first = sent[0] as Uint8Array;
    for (const delta of [client.sndNxt - client.sndUna, -1, 100_000]) {
      const forged = first.slice();
      const view = new DataView(forged.buffer);
      const seqAt = 40 + 4;
      view.setUint32(seqAt, seqAdd(view.getUint32(seqAt), delta));
      a.receive(tooBig(forged, 1280), instant(15));
    }
    expect(a.takeOutput()).toEqual([]);
    expect(client.pmtu.mtu).toBe(1500);
    expect(client.effSndMss).toBe(1428);
    expect(a.stats().drops["icmp6.out-of-window"]).toBe(3);
    expect(a.stats().packets["icmp6.packet-too-big-in"]).toBeUndefined();
  });

  test("a report below 1280 is discarded, not clamped (RFC 8201 §4, no atomic fragments: RFC 8021)", () => {
    const { a, client, sent } = sentData(2000);
    for (const mtu of [1279, 576, 68, 0])
      a.receive(tooBig(sent[0] as Uint8Array, mtu), instant(15));
    expect(a.takeOutput()).toEqual([]);
    expect(client.pmtu.mtu).toBe(1500);
    expect(client.pmtu.clamped).toBe(false);
    expect(a.stats().drops["icmp6.ptb-below-minimum"]).toBe(4);
  });

  test("never raised by a report: a larger MTU is ignored", () => {
    const { a, client, sent } = sentData(3000);
    a.receive(tooBig(sent[0] as Uint8Array, 1400), instant(15));
    const after = a.takeOutput();
    expect(after[0]?.length).toBe(1400);
    a.receive(tooBig(after[0] as Uint8Array, 1450), instant(16));
    expect(client.pmtu.mtu).toBe(1400);
    expect(a.stats().drops["icmp6.pmtu-not-lower"]).toBe(1);
  });

  test("a new connection to that destination starts from the learned PMTU; after 10 minutes a larger one is tried again (RFC 8201 §5.3)", () => {
    const { a, b, client, sent, listener } = sentData(3000);
    a.receive(tooBig(sent[0] as Uint8Array, 1280), instant(15));
    settle(a, b, 15);
    const second = a.connect({ family: 6, addr: B6, port: 80 }, instant(30)) as TcbView;
    pump(a, b, instant(30));
    listener.accept();
    expect(second.state).toBe(State.Established);
    expect(second.pmtu.mtu).toBe(1280);
    expect(second.effSndMss).toBe(1208);
    // Just before the ten minutes the estimate holds …
    const expiry = 15 + 600_000;
    client.send(bytes(3000), instant(expiry - 1));
    const before = a.takeOutput();
    expect(Math.max(...before.map((p) => p.length))).toBe(1280);
    settle(a, b, expiry - 1, 100);
    // … then the connection sends full-sized segments again, and a new one starts at the link's size.
    client.send(bytes(3000), instant(expiry));
    const after = a.takeOutput();
    expect(client.pmtu.mtu).toBe(1500);
    expect(Math.max(...after.map((p) => p.length))).toBe(1500);
    pump(a, b, instant(expiry));
    const third = a.connect({ family: 6, addr: B6, port: 80 }, instant(expiry)) as TcbView;
    pump(a, b, instant(expiry));
    expect(third.effSndMss).toBe(1428);
  });
});

describe("RFC 1122 §4.2.3.9, RFC 5461: hard and soft ICMPv6 errors", () => {
  test("a port unreachable (code 4) in SYN-SENT ends the connection with ECONNREFUSED", () => {
    const { a, tcb, syn } = synSent();
    const events: string[] = [];
    tcb.events = { closed: (_t, error) => events.push(`closed ${error}`) };
    a.receive(icmp6About(syn, { type: "dest-unreachable", code: 4 }, B6), instant(5));
    expect(tcb.state).toBe(State.Closed);
    expect(tcb.error).toBe("ECONNREFUSED");
    expect(events).toEqual(["closed ECONNREFUSED"]);
    expect(a.connections()).toEqual([]);
    expect(a.stats().packets["tcp.icmp6-aborted"]).toBe(1);
    expect(a.stats().packets["icmp6.dest-unreachable-in"]).toBe(1);
    expect(a.takeOutput()).toEqual([]);
  });

  test("administratively prohibited (code 1) in SYN-SENT is hard, as IPv4's prohibited codes", () => {
    const { a, tcb, syn } = synSent();
    a.receive(icmp6About(syn, { type: "dest-unreachable", code: 1 }), instant(5));
    expect(tcb.state).toBe(State.Closed);
    expect(tcb.error).toBe("EHOSTUNREACH");
  });

  test("Parameter Problem code 1 at our TCP header's Next Header: ENOPROTOOPT, like protocol unreachable", () => {
    const { a, tcb, syn } = synSent();
    a.receive(icmp6About(syn, { type: "parameter-problem", code: 1, pointer: 6 }, B6), instant(5));
    expect(tcb.state).toBe(State.Closed);
    expect(tcb.error).toBe("ENOPROTOOPT");
  });

  test("a Parameter Problem pointing elsewhere is only soft", () => {
    const { a, tcb, syn } = synSent();
    a.receive(icmp6About(syn, { type: "parameter-problem", code: 1, pointer: 40 }, B6), instant(5));
    a.receive(icmp6About(syn, { type: "parameter-problem", code: 0, pointer: 6 }, B6), instant(5));
    expect(tcb.state).toBe(State.SynSent);
    expect(tcb.softError?.error).toBe("EHOSTUNREACH");
    expect(a.stats().packets["tcp.icmp6-soft-error"]).toBe(2);
  });

  test("a port unreachable on an established connection is only a soft error (RFC 5461 §4.1)", () => {
    const { a, client, sent } = sentData(100);
    a.receive(
      icmp6About(sent[0] as Uint8Array, { type: "dest-unreachable", code: 4 }, B6),
      instant(15),
    );
    expect(client.state).toBe(State.Established);
    expect(client.softError).toEqual({ error: "ECONNREFUSED", at: instant(15) });
  });

  test("a soft error (no route, code 0) is what the connection reports when it later times out", () => {
    const { a, client, sent } = sentData(100, { maxRetransmissions: 2 });
    a.receive(
      icmp6About(sent[0] as Uint8Array, { type: "dest-unreachable", code: 0 }),
      instant(500),
    );
    expect(client.state).toBe(State.Established); // RFC 1122 §4.2.3.9: MUST NOT abort
    loseUntilClosed(a, client);
    expect(client.error).toBe("ENETUNREACH");
  });

  test("in SYN-SENT an address unreachable (code 3) waits for the SYN's retries, then names the failure", () => {
    const { a, tcb, syn } = synSent({ synRetries: 1 });
    a.receive(icmp6About(syn, { type: "dest-unreachable", code: 3 }), instant(5));
    expect(tcb.state).toBe(State.SynSent);
    loseUntilClosed(a, tcb);
    expect(tcb.error).toBe("EHOSTUNREACH");
  });

  test("hop limit exceeded in transit is soft, and counted", () => {
    const { a, client, sent } = sentData(100);
    a.receive(icmp6About(sent[0] as Uint8Array, { type: "time-exceeded", code: 0 }), instant(15));
    expect(client.softError?.error).toBe("EHOSTUNREACH");
    expect(a.stats().packets["icmp6.time-exceeded-in"]).toBe(1);
  });

  test("unmatched errors are ignored and counted by reason", () => {
    const { a, sent } = sentData(100);
    const seg = sent[0] as Uint8Array;
    const unreachable = { type: "dest-unreachable", code: 4 } as const;
    const otherPort = seg.slice();
    otherPort[40] = 0x12; // another source port: no such connection
    a.receive(icmp6About(otherPort, unreachable), instant(15));
    const notOurs = seg.slice();
    notOurs[8 + 15] = 0x99; // another source address
    const quote = icmpv6ErrorQuote(notOurs).slice();
    a.receive(buildIcmpv6Packet(ROUTER6, A6, { ...unreachable, original: quote }), instant(15));
    const short = buildIcmpv6Packet(ROUTER6, A6, { ...unreachable, original: seg.slice(0, 44) });
    a.receive(short, instant(15));
    const notIpv6 = buildIcmpv6Packet(ROUTER6, A6, { ...unreachable, original: bytes(48) });
    a.receive(notIpv6, instant(15));
    expect(a.stats().drops).toEqual({
      "icmp6.no-connection": 1,
      "icmp6.quote-not-ours": 1,
      "icmp6.quote-truncated": 1,
      "icmp6.quote-bad": 1,
    });
    expect(a.takeOutput()).toEqual([]);
  });
});

describe("forged ICMPv6 errors in bulk (RFC 5927, RFC 8201 §4)", () => {
  test("5,000 forged errors about one connection: it lives, the 1280 floor holds, every one counted", () => {
    const { a, b, client, server, sent } = sentData(20_000);
    const first = sent[0] as Uint8Array;
    const rng = new Rng(6);
    const n = 5_000;
    const bodies = (r: number): ErrorBody[] => [
      { type: "packet-too-big", mtu: r >>> 16 },
      { type: "dest-unreachable", code: [0, 1, 3, 4][r % 4] as number },
      { type: "time-exceeded", code: r % 2 },
      { type: "parameter-problem", code: r % 3, pointer: [6, 40, r >>> 20][r % 3] as number },
    ];
    for (let i = 0; i < n; i++) {
      const r = rng.uint32();
      const forged = first.slice();
      const view = new DataView(forged.buffer);
      // The sequence number anywhere (mostly out of the window), the source port sometimes wrong.
      view.setUint32(44, seqAdd(client.sndUna, r % 4 === 0 ? r % 20_000 : r));
      if (r % 7 === 0) view.setUint16(40, r & 0xffff);
      const from = ip6(`fd07::${(r & 0xffff).toString(16)}`);
      a.receive(icmp6About(forged, bodies(r)[(r >>> 8) % 4] as ErrorBody, from), instant(12));
    }
    const stats = a.stats();
    const ignored = Object.entries(stats.drops)
      .filter(([k]) => k.startsWith("icmp6."))
      .reduce((sum, [, v]) => sum + v, 0);
    const taken = ["packet-too-big", "dest-unreachable", "time-exceeded", "parameter-problem"]
      .map((t) => stats.packets[`icmp6.${t}-in`] ?? 0)
      .reduce((x, y) => x + y, 0);
    expect(ignored + taken).toBe(n);
    expect(stats.drops["icmp6.out-of-window"]).toBeGreaterThan(n / 2);
    expect(stats.drops["icmp6.ptb-below-minimum"]).toBeGreaterThan(0);
    expect(client.state).toBe(State.Established);
    expect(client.pmtu.mtu).toBeGreaterThanOrEqual(1280);
    expect(client.effSndMss).toBeGreaterThanOrEqual(1280 - 60 - 12);
    expect(a.connections()).toEqual([client]);
    // And the data still gets through.
    settle(a, b, 20);
    expect(server.recv(30_000, instant(21)).length).toBe(20_000);
  });
});

describe("RFC 1122 §4.1.3.3 over IPv6: UDP hears of ICMPv6 errors", () => {
  test("the peer's port unreachable reaches the socket that sent the datagram, as a hard ECONNREFUSED", () => {
    const { a, b } = pair();
    const sock = a.udpBind(5000);
    if (typeof sock === "string") throw new Error(sock);
    const seen: string[] = [];
    sock.onError = (_s, e) => seen.push(`${e.errno} ${e.hard} ${e.to.family} ${e.to.port}`);
    sock.sendTo({ family: 6, addr: B6, port: 7 }, bytes(10));
    pump(a, b, EPOCH); // b has no socket on 7: port unreachable back
    expect(b.stats().packets["icmp6.port-unreachable-out"]).toBe(1);
    expect(seen).toEqual(["ECONNREFUSED true 6 7"]);
    expect(a.stats().packets["udp.icmp-errors"]).toBe(1);
    expect(a.stats().packets["icmp6.dest-unreachable-in"]).toBe(1);
  });

  test("a Packet Too Big: a soft EMSGSIZE, and later datagrams to that peer are fragmented to fit", () => {
    const { a } = pair();
    const sock = a.udpBind(5000);
    if (typeof sock === "string") throw new Error(sock);
    const seen: string[] = [];
    sock.onError = (_s, e) => seen.push(`${e.errno} ${e.hard}`);
    sock.sendTo({ family: 6, addr: B6, port: 7 }, bytes(1400));
    const [big] = a.takeOutput();
    expect(big?.length).toBe(1448);
    a.receive(tooBig(big as Uint8Array, 1280), instant(5));
    expect(seen).toEqual(["EMSGSIZE false"]);
    sock.sendTo({ family: 6, addr: B6, port: 7 }, bytes(1400));
    const pieces = a.takeOutput();
    expect(pieces.length).toBe(2);
    for (const p of pieces) expect(p.length).toBeLessThanOrEqual(1280);
  });

  test("no socket on the quoted port: ignored and counted", () => {
    const { a } = pair();
    const dg = buildUdpPacket6(A6, B6, { srcPort: 5000, dstPort: 7, payload: bytes(4) });
    a.receive(icmp6About(dg, { type: "dest-unreachable", code: 4 }, B6), instant(0));
    expect(a.stats().drops["icmp6.no-socket"]).toBe(1);
  });

  test("an error about our own ping is counted, not passed on", () => {
    const { a } = pair();
    a.ping6(B6, 1, 1, bytes(8));
    const [echo] = a.takeOutput();
    const p = parseIpv6(echo as Uint8Array);
    expect(p.ok && p.value.protocol).toBe(NextHeader.ICMPV6);
    a.receive(icmp6About(echo as Uint8Array, { type: "dest-unreachable", code: 3 }), instant(0));
    expect(a.stats().packets["icmp6.dest-unreachable-in"]).toBe(1);
    expect(a.stats().drops).toEqual({});
  });
});
