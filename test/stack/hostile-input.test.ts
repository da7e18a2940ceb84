/**
 * A Host under hostile packets: random bytes, valid packets with mutated
 * IPv4 and transport fields, fragments that overlap, repeat or reach past
 * 65535, SYN floods, ICMP errors quoting anything — with a listener, a UDP
 * socket and an established connection in place.
 *
 * Properties, after every packet and timer: nothing throws; every packet
 * the host sends is a valid IPv4 packet with good checksums, from our
 * address to a single host (RFC 1122 §3.2.1.3), never an ICMP error about
 * an ICMP error or about a datagram from a non-unicast source, never a RST
 * answering a RST; the bounded structures stay bounded (half-open and
 * accept queues, reassembly bytes and datagrams, out-of-order bytes, UDP
 * queues). At the end of a run, once every held fragment has timed out,
 * every packet received is accounted for: the drop counters plus what was
 * delivered equal what came in.
 *
 * With an IPv6 address too, the same properties hold for IPv6 packets
 * beside IPv4 ones (RFC 4291 addresses, RFC 4443 §2.4(e) for errors).
 *
 * Seeded (test/wire/prop.ts: FC_SEED=<n> replays); HOSTILE_RUNS=<k>
 * multiplies the run counts for a soak. A failure prints the shrunk run as
 * the list of packets, each with the host's replies.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { EPOCH, instant } from "../../src/clock/time.ts";
import { State } from "../../src/tcp/state.ts";
import type { Tcb } from "../../src/tcp/tcb.ts";
import { Rng } from "../../src/util/rng.ts";
import { ip } from "../../src/wire/addr.ts";
import { icmpErrorQuote } from "../../src/wire/icmp.ts";
import { emitIpv4, IpProto } from "../../src/wire/ipv4.ts";
import { buildIcmpPacket, buildTcpPacket, tcpSegment } from "../../src/wire/packet.ts";
import { seqAdd } from "../../src/wire/seq.ts";
import { Flag } from "../../src/wire/tcp-types.ts";
import { fcParams } from "../wire/prop.ts";
import { action6Arb, actionArb, LISTEN_PORT, Run, tcpOf } from "./hostile-input.ts";
import { A, B, connected, host } from "./util.ts";

const SCALE = Math.max(1, Number(process.env.HOSTILE_RUNS ?? 1));
const runs = (n: number) => ({ ...fcParams(Math.round(n * SCALE)), includeErrorInReport: true });
/** A guard against a hang, not a speed bound: the run counts are the work (13 s on a loaded 2-core machine). */
const TIMEOUT = 120_000 * SCALE;

// ───────────────────────────── the properties ─────────────────────────────

describe("a Host under hostile packets", () => {
  test(
    "never throws, sends only valid packets, stays bounded and accounts for every packet",
    () => {
      fc.assert(
        fc.property(fc.array(actionArb, { maxLength: 40, size: "max" }), (actions) => {
          const r = new Run();
          for (const a of actions) r.act(a);
          r.finish();
        }),
        runs(2000),
      );
    },
    TIMEOUT,
  );

  test(
    "with an IPv6 address too: malformed headers, extension-header chains, tiny and overlapping fragments, ICMPv6 floods",
    () => {
      fc.assert(
        fc.property(
          fc.array(
            fc.oneof({ arbitrary: action6Arb, weight: 2 }, { arbitrary: actionArb, weight: 1 }),
            {
              maxLength: 40,
              size: "max",
            },
          ),
          (actions) => {
            const r = new Run({ ipv6: true });
            for (const a of actions) r.act(a);
            r.finish();
          },
        ),
        runs(800),
      );
    },
    TIMEOUT,
  );
});

// ───────────────────────────── findings, pinned ─────────────────────────────

function synFrom(n: number, flags: number = Flag.SYN, ack = 0): Uint8Array {
  return buildTcpPacket(
    ip(`10.0.1.${n}`),
    B,
    tcpSegment({
      srcPort: 1000 + n,
      dstPort: LISTEN_PORT,
      seq: flags & Flag.SYN ? 100 : 101,
      ack,
      flags,
      window: 65535,
    }),
  );
}

describe("hostile-input findings, as explicit packets", () => {
  test("an overlapping fragment: the fragments held before it are counted as dropped too (was: uncounted)", () => {
    const b = host("b");
    const frag = (len: number, more: boolean) => {
      const pkt = new Uint8Array(20 + len);
      const repr = { src: A, dst: B, protocol: IpProto.UDP, identification: 9 };
      emitIpv4({ ...repr, fragmentOffset: 8, moreFragments: more }, len, pkt);
      return pkt;
    };
    b.receive(frag(8, true), EPOCH); // held, waiting for offset 0
    b.receive(frag(12, false), EPOCH); // same offset, other length: the datagram is discarded
    expect(b.stats().packets["ip.in"]).toBe(2);
    expect(b.stats().drops).toEqual({ "ip.fragment-overlap": 2 });
    expect(b.reassemblyUsage()).toEqual({ datagrams: 1, bytes: 0 }); // dead until its timer
  });

  test("TCP from 0.0.0.0 or 127.0.0.1: no SYN-ACK, no reset, no connection (was: SYN-ACK to 0.0.0.0)", () => {
    const b = host("b");
    b.listen(LISTEN_PORT, 4);
    for (const src of [ip("0.0.0.0"), ip("127.0.0.1")]) {
      for (const [port, flags] of [
        [LISTEN_PORT, Flag.SYN],
        [81, Flag.ACK],
      ] as const) {
        const seg = tcpSegment({
          srcPort: 1234,
          dstPort: port,
          seq: 1,
          ack: 1,
          flags,
          window: 65535,
        });
        b.receive(buildTcpPacket(src, B, seg), EPOCH);
      }
    }
    expect(b.takeOutput()).toEqual([]);
    expect(b.connections()).toEqual([]);
    expect(b.stats().drops).toEqual({ "tcp.bad-source": 4 });
  });

  test("a SYN from our own address to our own port (a land packet) is discarded at IP (was: SYN-ACK to ourselves)", () => {
    const b = host("b");
    b.listen(LISTEN_PORT, 4);
    const seg = tcpSegment({
      srcPort: LISTEN_PORT,
      dstPort: LISTEN_PORT,
      seq: 1,
      flags: Flag.SYN,
      window: 65535,
    });
    b.receive(buildTcpPacket(B, B, seg), EPOCH);
    expect(b.takeOutput()).toEqual([]);
    expect(b.stats().drops).toEqual({ "ip.bad-source": 1 });
  });

  test("accept queue full: the ACK completing a handshake waits, the queue stays within the backlog (was: grew past it)", () => {
    const b = host("b");
    const l = b.listen(LISTEN_PORT, 2); // backlog 2, half-open limit 2
    if (typeof l === "string") throw new Error(l);
    b.receive(synFrom(1), EPOCH);
    b.receive(synFrom(1, Flag.ACK, 5001), EPOCH); // host b's ISS is 5000
    b.receive(synFrom(2), EPOCH);
    b.receive(synFrom(3), EPOCH); // two half-open, one completed
    b.receive(synFrom(2, Flag.ACK, 5001), EPOCH);
    expect(l.acceptQueue.length).toBe(2);
    b.takeOutput();
    // The third completion finds the queue full: dropped, still SYN-RECEIVED.
    b.receive(synFrom(3, Flag.ACK, 5001), EPOCH);
    expect(l.acceptQueue.length).toBe(2);
    expect(l.acceptOverflows).toBe(1);
    expect([...l.halfOpen].map((t) => t.state)).toEqual([State.SynReceived]);
    expect(b.takeOutput()).toEqual([]);
    // The application accepts one; our SYN-ACK's timer brings the peer's ACK again.
    expect(l.accept()?.remote.port).toBe(1001);
    b.poll(instant(1000));
    const [synAck] = b.takeOutput().map(tcpOf);
    expect(synAck?.flags).toBe(Flag.SYN | Flag.ACK);
    expect(synAck?.dstPort).toBe(1003);
    b.receive(synFrom(3, Flag.ACK, 5001), instant(1010));
    expect(l.acceptQueue.map((t) => t.remote.port)).toEqual([1002, 1003]);
    // Every packet accounted for: 7 in, all delivered to the listener or a connection.
    expect(b.stats().packets["tcp.delivered"]).toBe(7);
    expect(b.stats().drops).toEqual({});
  });
});

describe("forged ICMP errors in bulk (RFC 5927)", () => {
  test("20,000 forged messages about one connection: the floor holds, nothing grows, every one counted", () => {
    const { a, b, clients } = connected(1);
    const client = clients[0] as Tcb;
    client.send(new Uint8Array(20_000), instant(1));
    const sent = a.takeOutput();
    const first = sent[0] as Uint8Array;
    const rng = new Rng(9);
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const forged = first.slice();
      const view = new DataView(forged.buffer);
      const r = rng.uint32();
      // The sequence number anywhere (most out of the window), the ports sometimes wrong.
      view.setUint32(24, seqAdd(client.sndUna, r % 4 === 0 ? r % 20_000 : r));
      if (r % 7 === 0) view.setUint16(20, r & 0xffff);
      const type = r % 3 === 0 ? "time-exceeded" : "dest-unreachable";
      const msg =
        type === "time-exceeded"
          ? ({ type, code: r % 2, original: icmpErrorQuote(forged).slice() } as const)
          : ({
              type,
              code: [1, 3, 4, 4][r % 4] as number,
              nextHopMtu: r >>> 16,
              original: icmpErrorQuote(forged).slice(),
            } as const);
      const src = ip("10.7.0.0") + (r & 0xffff);
      a.receive(buildIcmpPacket(src, A, msg), instant(2));
    }
    const stats = a.stats();
    // Every message accounted for: acted on, or ignored with a reason.
    const ignored = Object.entries(stats.drops)
      .filter(([k]) => k.startsWith("icmp."))
      .reduce((sum, [, v]) => sum + v, 0);
    const acted =
      (stats.packets["icmp.dest-unreachable-in"] ?? 0) +
      (stats.packets["icmp.time-exceeded-in"] ?? 0);
    expect(ignored + acted).toBe(n);
    expect(stats.drops["icmp.out-of-window"]).toBeGreaterThan(n / 2);
    // The connection lives (soft errors never abort an established one), its path MTU at
    // or above the floor, its MSS with it; nothing was added to the host.
    expect(client.state).toBe(State.Established);
    expect(client.pmtu.mtu).toBeGreaterThanOrEqual(552);
    expect(client.effSndMss).toBeGreaterThanOrEqual(552 - 40 - 12);
    expect(a.connections()).toEqual([client]);
    // Each accepted report lowered the estimate: at most one per distinct smaller value.
    expect(stats.packets["tcp.icmp-pmtu-lowered"] ?? 0).toBeLessThan(1500 - 552);
    expect(b.connections().length).toBe(1);
  });
});
