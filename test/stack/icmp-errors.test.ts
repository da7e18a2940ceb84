/**
 * ICMP errors reaching TCP and UDP (RFC 9293 §3.9.2.2, RFC 1122 §4.2.3.9,
 * §4.1.3.3, RFC 5927) and IPv4 path MTU discovery (RFC 1191), host by host
 * at explicit times: the segments a host sends are taken, the ICMP messages
 * a router would send are forged from them, and what the connection does
 * next is read from its output.
 */
import { describe, expect, test } from "bun:test";
import { instant } from "../../src/clock/time.ts";
import { State } from "../../src/tcp/state.ts";
import type { Tcb } from "../../src/tcp/tcb.ts";
import { ip } from "../../src/wire/addr.ts";
import { type IcmpMessage, icmpErrorQuote, parseIcmp } from "../../src/wire/icmp.ts";
import { IpProto, parseIpv4 } from "../../src/wire/ipv4.ts";
import { buildIcmpPacket, buildUdpPacket } from "../../src/wire/packet.ts";
import { seqAdd } from "../../src/wire/seq.ts";
import { tcpOf } from "./hostile-input.ts";
import { A, B, bytes, connected, fragments, host, loseUntilClosed, pump, settle } from "./util.ts";

const ROUTER = ip("10.0.0.254");

/** ICMP "fragmentation needed" from the router about `packet` (RFC 1191 §4). */
function fragNeeded(packet: Uint8Array, nextHopMtu: number): Uint8Array {
  return icmpAbout(packet, { code: 4, nextHopMtu });
}

/** A Destination Unreachable (or another error) from the router, quoting `packet` as RFC 792 asks. */
function icmpAbout(
  packet: Uint8Array,
  msg: { code: number; nextHopMtu?: number; type?: "dest-unreachable" | "time-exceeded" },
  from = ROUTER,
): Uint8Array {
  const original = icmpErrorQuote(packet).slice();
  const m: IcmpMessage =
    msg.type === "time-exceeded"
      ? { type: "time-exceeded", code: msg.code, original }
      : {
          type: "dest-unreachable",
          code: msg.code,
          original,
          ...(msg.nextHopMtu !== undefined ? { nextHopMtu: msg.nextHopMtu } : {}),
        };
  const dst = parseIpv4(packet, { verifyChecksum: false });
  if (!dst.ok) throw new Error("not a packet");
  return buildIcmpPacket(from, dst.value.header.src, m);
}

/** The data segments in `packets`: [relative seq, length, IP length, DF]. */
function dataSegments(tcb: Tcb, packets: Uint8Array[]): [number, number, number, boolean][] {
  const out: [number, number, number, boolean][] = [];
  for (const p of packets) {
    const s = tcpOf(p);
    const h = parseIpv4(p);
    if (s === undefined || !h.ok || s.payload.length === 0) continue;
    out.push([seqAdd(s.seq, -tcb.iss), s.payload.length, p.length, h.value.header.dontFragment]);
  }
  return out;
}

/** a (10.0.0.1) connected to b:80, with `n` bytes written and sent by a at t=10 (and not delivered). */
function sentData(n: number, tcp = {}) {
  const w = connected(1, tcp);
  const client = w.clients[0] as Tcb;
  client.send(bytes(n), instant(10));
  return { ...w, client, server: w.servers[0] as Tcb, sent: w.a.takeOutput() };
}

describe("RFC 1191: fragmentation needed lowers the segment size", () => {
  test("an in-window report lowers the MSS, and the lost data goes again at once in smaller segments, cwnd intact", () => {
    const { a, b, client, server, sent } = sentData(4000);
    // Two full segments (1448 data + 12 timestamps + 40 headers = 1500 bytes); Nagle holds the rest.
    expect(dataSegments(client, sent)).toEqual([
      [1, 1448, 1500, true],
      [1449, 1448, 1500, true],
    ]);
    const cwnd = client.congestion.cwnd;
    // A router whose next hop carries 1000 bytes refuses both.
    a.receive(fragNeeded(sent[0] as Uint8Array, 1000), instant(15));
    expect(client.pmtu.mtu).toBe(1000);
    expect(client.sndMss).toBe(960);
    expect(client.effSndMss).toBe(948); // 1000 − 40 − 12 of timestamps
    const again = a.takeOutput();
    // RFC 1191 §6.5: both segments' bytes again, cut to fit, before any new data; no packet over 1000.
    expect(dataSegments(client, again)).toEqual([
      [1, 948, 1000, true],
      [949, 948, 1000, true],
      [1897, 948, 1000, true],
      [2845, 52, 104, true],
      [2897, 948, 1000, true],
    ]);
    // Not congestion (RFC 5681 has no response to it): cwnd keeps its bytes, no recovery, no timeout.
    expect(client.congestion.cwnd).toBe(cwnd);
    expect(client.congestion.stats.recoveries).toBe(0);
    expect(client.congestion.phase).toBe("slow-start");
    expect(client.congestion.controller.smss).toBe(948);
    expect(a.stats().packets["tcp.icmp-pmtu-lowered"]).toBe(1);
    expect(a.stats().packets["icmp.dest-unreachable-in"]).toBe(1);
    // The second message, about the second segment, says nothing new: ignored and counted.
    a.receive(fragNeeded(sent[1] as Uint8Array, 1000), instant(16));
    expect(a.takeOutput()).toEqual([]);
    expect(a.stats().drops["icmp.pmtu-not-lower"]).toBe(1);
    // Everything arrives, in order, through a path of 1000 bytes.
    for (const p of again) b.receive(p, instant(20));
    settle(a, b, 20);
    const got = server.recv(10_000, instant(21));
    expect(got).toEqual(bytes(4000));
    expect(client.sndUna).toBe(client.sndNxt);
    expect(client.congestion.stats.recoveries).toBe(0);
  });

  test("a FIN that rode on a refused segment goes again on the last piece", () => {
    const w = connected(1);
    const client = w.clients[0] as Tcb;
    const data = bytes(1500);
    client.send(data.subarray(0, 100), instant(10)); // goes at once
    client.send(data.subarray(100), instant(10)); // Nagle holds it …
    client.close(instant(10)); // … until the FIN may follow: 1400 bytes and the FIN in one segment
    const sent = w.a.takeOutput();
    expect(dataSegments(client, sent).map(([seq, len]) => [seq, len])).toEqual([
      [1, 100],
      [101, 1400],
    ]);
    w.b.receive(sent[0] as Uint8Array, instant(12)); // the small one crosses
    w.a.receive(fragNeeded(sent[1] as Uint8Array, 1000), instant(15));
    const again = w.a.takeOutput().map((p) => tcpOf(p));
    expect(
      again.map((t) => [seqAdd(t?.seq ?? 0, -client.iss), t?.payload.length, t?.flags]),
    ).toEqual([
      [101, 948, 0x10],
      [1049, 452, 0x19], // FIN, PSH, ACK
    ]);
    settle(w.a, w.b, 20);
    const server = w.servers[0] as Tcb;
    expect(server.recv(4000, instant(30))).toEqual(data);
    expect(server.state).toBe(State.CloseWait);
  });

  test("a report quoting a sequence number outside SND.UNA..SND.NXT is ignored and counted (RFC 5927 §4.1)", () => {
    const { a, client, sent } = sentData(2000);
    const first = sent[0] as Uint8Array;
    // The same message with the quoted sequence number moved past SND.NXT, then below SND.UNA.
    for (const delta of [client.sndNxt - client.sndUna, -1, 100_000]) {
      const forged = first.slice();
      const seqAt = 20 + 4;
      const view = new DataView(forged.buffer);
      view.setUint32(seqAt, seqAdd(view.getUint32(seqAt), delta));
      a.receive(fragNeeded(forged, 576), instant(15));
    }
    expect(a.takeOutput()).toEqual([]);
    expect(client.pmtu.mtu).toBe(1500);
    expect(client.effSndMss).toBe(1448);
    expect(a.stats().drops["icmp.out-of-window"]).toBe(3);
    expect(a.stats().packets["icmp.dest-unreachable-in"]).toBeUndefined();
  });

  test("a forged tiny next-hop MTU is raised to the floor (min_pmtu 552), and segments then go without DF", () => {
    const { a, client, sent } = sentData(3000);
    a.receive(fragNeeded(sent[0] as Uint8Array, 68), instant(15));
    expect(client.pmtu.mtu).toBe(552);
    expect(client.pmtu.clamped).toBe(true);
    expect(client.effSndMss).toBe(500);
    const again = dataSegments(client, a.takeOutput());
    expect(again.length).toBeGreaterThan(0);
    // A router on a path really that narrow may now fragment them (Linux's locked route MTU).
    for (const [, len, size, df] of again) {
      expect(len).toBeLessThanOrEqual(500);
      expect(size).toBeLessThanOrEqual(552);
      expect(df).toBe(false);
    }
  });

  test("the floor is a setting, and minMss still bounds the MSS below it", () => {
    const low = sentData(3000, { minPmtu: 68, minMss: 216 });
    low.a.receive(fragNeeded(low.sent[0] as Uint8Array, 100), instant(15));
    expect(low.client.pmtu.mtu).toBe(100);
    expect(low.client.sndMss).toBe(216); // 100 − 40 = 60, under minMss
  });

  test("next-hop MTU 0 (an old router): the RFC 1191 §7 plateau below the refused datagram", () => {
    const { a, client, sent } = sentData(3000);
    a.receive(fragNeeded(sent[0] as Uint8Array, 0), instant(15));
    expect(client.pmtu.mtu).toBe(1492); // the plateau below 1500
    const after = a.takeOutput();
    expect(after[0]?.length).toBe(1492);
    a.receive(fragNeeded(after[0] as Uint8Array, 0), instant(16));
    expect(client.pmtu.mtu).toBe(1006); // and the one below that
  });

  test("a report in SYN-SENT bounds the MSS the handshake then settles, and moves no timer", () => {
    const a = host("a");
    const b = host("b");
    b.listen(80, 1);
    const client = a.connect({ addr: B, port: 80 }, instant(0)) as Tcb;
    const syn = a.takeOutput()[0] as Uint8Array;
    const rtxAt = client.rtxAt;
    a.receive(fragNeeded(syn, 1000), instant(5));
    expect(a.takeOutput()).toEqual([]);
    expect(client.rtxAt).toBe(rtxAt);
    expect(client.pmtu.mtu).toBe(1000);
    b.receive(syn, instant(10));
    pump(a, b, instant(10));
    expect(client.state).toBe(State.Established);
    expect(client.sndMss).toBe(960); // b offered 1460
  });

  test("never raised by ICMP: a larger next-hop MTU is ignored", () => {
    const { a, client, sent } = sentData(3000);
    a.receive(fragNeeded(sent[0] as Uint8Array, 1200), instant(15));
    const after = a.takeOutput();
    a.receive(fragNeeded(after[0] as Uint8Array, 1400), instant(16));
    expect(client.pmtu.mtu).toBe(1200);
    expect(a.stats().drops["icmp.pmtu-not-lower"]).toBe(1);
  });

  test("pmtuDiscovery off: reports are ignored and segments carry no DF", () => {
    const { a, client, sent } = sentData(3000, { pmtuDiscovery: false });
    expect(dataSegments(client, sent).every(([, , , df]) => !df)).toBe(true);
    a.receive(fragNeeded(sent[0] as Uint8Array, 1000), instant(15));
    expect(client.pmtu.mtu).toBe(1500);
    expect(a.stats().drops["icmp.pmtu-off"]).toBe(1);
  });

  test("a new connection to that destination starts from the path MTU learned; after 10 minutes it is forgotten (RFC 1191 §6.3)", () => {
    const { a, b, client, sent } = sentData(3000);
    a.receive(fragNeeded(sent[0] as Uint8Array, 1000), instant(15));
    pump(a, b, instant(20));
    const listener = b.listenerOn(80);
    const second = a.connect({ addr: B, port: 80 }, instant(30)) as Tcb;
    pump(a, b, instant(30));
    listener?.accept();
    expect(second.state).toBe(State.Established);
    expect(second.pmtu.mtu).toBe(1000);
    expect(second.effSndMss).toBe(948);
    // Ten minutes after the report the estimate ages out: the first connection's next event
    // brings its MSS back, and a new connection starts at the first hop's MTU.
    const later = 15 + 600_000;
    client.send(bytes(10), instant(later));
    pump(a, b, instant(later));
    expect(client.pmtu.mtu).toBe(1500);
    expect(client.effSndMss).toBe(1448);
    const third = a.connect({ addr: B, port: 80 }, instant(later)) as Tcb;
    pump(a, b, instant(later));
    expect(third.effSndMss).toBe(1448);
  });
});

describe("RFC 1122 §4.2.3.9: hard and soft errors", () => {
  function synSent(tcp = {}) {
    const a = host("a", { tcp });
    const tcb = a.connect({ addr: B, port: 80 }, instant(0)) as Tcb;
    const syn = a.takeOutput()[0] as Uint8Array;
    return { a, tcb, syn };
  }

  test("a port unreachable in SYN-SENT ends the connection with ECONNREFUSED", () => {
    const { a, tcb, syn } = synSent();
    const events: string[] = [];
    tcb.events = { closed: (_t, error) => events.push(`closed ${error}`) };
    a.receive(icmpAbout(syn, { code: 3 }, B), instant(5));
    expect(tcb.state).toBe(State.Closed);
    expect(tcb.error).toBe("ECONNREFUSED");
    expect(events).toEqual(["closed ECONNREFUSED"]);
    expect(a.connections()).toEqual([]);
    expect(a.stats().packets["tcp.icmp-aborted"]).toBe(1);
    expect(a.takeOutput()).toEqual([]); // no reset to a peer that has no port
  });

  test("protocol unreachable in SYN-SENT: ENOPROTOOPT (as Linux and FreeBSD name it)", () => {
    const { a, tcb, syn } = synSent();
    a.receive(icmpAbout(syn, { code: 2 }, B), instant(5));
    expect(tcb.error).toBe("ENOPROTOOPT");
  });

  test("a port unreachable on an established connection is only a soft error (RFC 5461 §4.1)", () => {
    const { a, client, sent } = sentData(100);
    a.receive(icmpAbout(sent[0] as Uint8Array, { code: 3 }, B), instant(15));
    expect(client.state).toBe(State.Established);
    expect(client.softError).toEqual({ error: "ECONNREFUSED", at: instant(15) });
    expect(a.stats().packets["tcp.icmp-soft-error"]).toBe(1);
  });

  test("a soft error (host unreachable) is what the connection reports when it later times out", () => {
    const { a, client, sent } = sentData(100, { maxRetransmissions: 2 });
    a.receive(icmpAbout(sent[0] as Uint8Array, { code: 1 }), instant(500));
    expect(client.state).toBe(State.Established); // RFC 1122 §4.2.3.9: MUST NOT abort
    loseUntilClosed(a, client);
    expect(client.error).toBe("EHOSTUNREACH");
  });

  test("heard from the peer after the error: the timeout is ETIMEDOUT again", () => {
    const { a, b, client, sent } = sentData(100, { maxRetransmissions: 2 });
    a.receive(icmpAbout(sent[0] as Uint8Array, { code: 1 }), instant(500));
    for (const p of sent) b.receive(p, instant(600));
    settle(a, b, 600); // the (delayed) ACK arrives: the path works
    expect(client.sndUna).toBe(client.sndNxt);
    client.send(bytes(100), instant(800));
    a.takeOutput(); // lost from here on
    loseUntilClosed(a, client);
    expect(client.error).toBe("ETIMEDOUT");
  });

  test("in SYN-SENT a soft error waits for the SYN's retries, then names the failure", () => {
    const { a, tcb, syn } = synSent({ synRetries: 1 });
    a.receive(icmpAbout(syn, { code: 1 }), instant(5));
    expect(tcb.state).toBe(State.SynSent);
    loseUntilClosed(a, tcb);
    expect(tcb.error).toBe("EHOSTUNREACH");
  });

  test("time exceeded in transit is a soft error too", () => {
    const { a, client, sent } = sentData(100);
    a.receive(icmpAbout(sent[0] as Uint8Array, { code: 0, type: "time-exceeded" }), instant(15));
    expect(client.softError?.error).toBe("EHOSTUNREACH");
    expect(a.stats().packets["icmp.time-exceeded-in"]).toBe(1);
  });

  test("unmatched errors are ignored and counted by reason", () => {
    const { a, sent } = sentData(100);
    const seg = sent[0] as Uint8Array;
    // Another port pair, another source, a quote cut short, not IPv4.
    const otherPort = seg.slice();
    otherPort[20] = 0x12;
    a.receive(icmpAbout(otherPort, { code: 3 }), instant(15));
    const notOurs = seg.slice();
    notOurs.set([10, 9, 9, 9], 12);
    a.receive(
      buildIcmpPacket(ROUTER, A, {
        type: "dest-unreachable",
        code: 3,
        original: icmpErrorQuote(notOurs).slice(),
      }),
      instant(15),
    );
    const short = buildIcmpPacket(ROUTER, A, {
      type: "dest-unreachable",
      code: 1,
      original: seg.slice(0, 24),
    });
    a.receive(short, instant(15));
    a.receive(
      buildIcmpPacket(ROUTER, A, { type: "dest-unreachable", code: 1, original: bytes(28) }),
      instant(15),
    );
    expect(a.stats().drops).toEqual({
      "icmp.no-connection": 1,
      "icmp.quote-not-ours": 1,
      "icmp.quote-truncated": 1,
      "icmp.quote-bad": 1,
    });
    expect(a.takeOutput()).toEqual([]);
  });
});

describe("RFC 1122 §4.1.3.3: UDP hears of ICMP errors", () => {
  test("a port unreachable reaches the socket that sent the datagram", () => {
    const a = host("a");
    const b = host("b");
    const sock = a.udpBind(5000);
    if (typeof sock === "string") throw new Error(sock);
    const seen: string[] = [];
    sock.onError = (_s, e) => seen.push(`${e.errno} ${e.hard} ${e.to.port}`);
    sock.sendTo({ addr: B, port: 7 }, bytes(10));
    pump(a, b, instant(0)); // b has no socket on 7: port unreachable back
    expect(seen).toEqual(["ECONNREFUSED true 7"]);
    expect(a.stats().packets["udp.icmp-errors"]).toBe(1);
  });

  test("no socket on the quoted port: ignored and counted", () => {
    const a = host("a");
    const dg = buildUdpPacket(A, B, { srcPort: 5000, dstPort: 7, payload: bytes(4) });
    a.receive(icmpAbout(dg, { code: 3 }, B), instant(0));
    expect(a.stats().drops["icmp.no-socket"]).toBe(1);
  });
});

describe("RFC 792, RFC 1122 §3.3.2: reassembly timeout", () => {
  const repr = { src: A, dst: B, protocol: IpProto.UDP, identification: 77 };

  test("Time Exceeded, code 1, quoting the first fragment, when it had arrived", () => {
    const b = host("b");
    const [first] = fragments(repr, bytes(3000), [1480]);
    b.receive(first as Uint8Array, instant(0));
    b.poll(instant(30_000));
    const out = b.takeOutput();
    expect(out.length).toBe(1);
    const ipp = parseIpv4(out[0] as Uint8Array);
    if (!ipp.ok) throw new Error("bad packet");
    expect(ipp.value.header.dst).toBe(A);
    const msg = parseIcmp(ipp.value.payload);
    if (!msg.ok || msg.value.type !== "time-exceeded") throw new Error("expected time exceeded");
    expect(msg.value.code).toBe(1);
    // The first fragment's header, MF set, and its first 8 data bytes.
    expect(msg.value.original.length).toBe(28);
    expect(msg.value.original.subarray(20)).toEqual(bytes(3000).subarray(0, 8));
    expect((msg.value.original[6] as number) & 0x20).toBe(0x20);
    expect(b.stats().packets["icmp.time-exceeded-out"]).toBe(1);
    expect(b.stats().drops["ip.fragment-timeout"]).toBe(1);
  });

  test("nothing without fragment zero", () => {
    const b = host("b");
    const [, last] = fragments(repr, bytes(3000), [1480]);
    b.receive(last as Uint8Array, instant(0));
    b.poll(instant(30_000));
    expect(b.takeOutput()).toEqual([]);
    expect(b.stats().drops["ip.fragment-timeout"]).toBe(1);
  });
});
