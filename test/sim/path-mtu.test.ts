/**
 * Bulk transfers through a path narrower than the hosts' links, on the
 * simulated wire and the virtual clock (seeded):
 *
 * - with a router that answers for its MTU (RFC 1191 §4: "fragmentation
 *   needed" with the next-hop MTU), path MTU discovery finds the size in
 *   one round trip and the transfer completes without a timeout and
 *   without a congestion response;
 * - with a black hole (larger packets dropped, nothing said, RFC 2923
 *   §2.1), the connection hangs — unless the packetization-layer fallback
 *   (settings.mtuProbing, RFC 4821 §7.7) lowers the MSS after repeated
 *   timeouts.
 * - over IPv6 (RFC 8201), the router answers with Packet Too Big and never
 *   fragments: the same one round trip to the 1280-byte minimum.
 */
import { instant, ms } from "../../src/clock/time.ts";
import { describe, expect, test } from "bun:test";
import { VirtualClock } from "../../src/clock/virtual-clock.ts";
import type { LinkEnd } from "../../src/link/link.ts";
import { SimWire } from "../../src/link/sim-wire.ts";
import { attach } from "../../src/runtime/attach.ts";
import { Host } from "../../src/stack/host.ts";
import type { TcpSettings } from "../../src/tcp/settings.ts";
import { State } from "../../src/tcp/state.ts";
import type { TcbView } from "../../src/tcp/view.ts";
import { Rng } from "../../src/util/rng.ts";
import { type Endpoint, ip } from "../../src/wire/addr.ts";
import { IpProto, parseIpv4 } from "../../src/wire/ipv4.ts";
import { NextHeader, parseIpv6 } from "../../src/wire/ipv6.ts";
import { ip6 } from "../../src/wire/ipv6-addr.ts";
import { streamOut } from "./stream.ts";

interface Run {
  readonly client: TcbView;
  readonly received: Uint8Array;
  readonly data: Uint8Array;
  /** Sizes of the TCP packets a sent, in order, with the time each left. */
  readonly sentSizes: readonly [number, number][];
  readonly wire: SimWire;
  readonly a: Host;
  readonly clock: VirtualClock;
}

/** Whether `p` carries TCP, over either family. */
function isTcp(p: Uint8Array): boolean {
  if (p[0]! >> 4 === 6) {
    const h = parseIpv6(p);
    return h.ok && h.value.protocol === NextHeader.TCP;
  }
  const h = parseIpv4(p);
  return h.ok && h.value.header.protocol === IpProto.TCP;
}

/** A link end that reports the size of every TCP packet sent through it. */
function sizes(inner: LinkEnd, clock: VirtualClock, out: [number, number][]): LinkEnd {
  return {
    send(p) {
      if (isTcp(p)) out.push([clock.now(), p.length]);
      inner.send(p);
    },
    onReceive: (handler) => inner.onReceive(handler),
    get mtu() {
      return inner.mtu;
    },
  };
}

/** a sends `bytes` to b through a path of `pathMtu` bytes; the hosts' MTU is 1500. */
function transfer(opts: {
  readonly seed: number;
  readonly bytes: number;
  readonly pathMtu: number;
  readonly router: boolean;
  readonly tcp?: Partial<TcpSettings>;
  readonly maxTime: number;
  /** 6: the hosts talk over IPv6 (fd00::1, fd00::2), the router is fd00::fe. */
  readonly family?: 6;
}): Run {
  const clock = new VirtualClock();
  const rng = new Rng(opts.seed);
  const wire = new SimWire(clock, rng.fork("wire"), {
    mtu: opts.pathMtu,
    ...(opts.router ? { router: ip("10.0.0.254"), router6: ip6("fd00::fe") } : {}),
    settings: { delay: ms(10), bandwidth: 20e6 },
  });
  const tcp = opts.tcp ?? {};
  const a = new Host({
    name: "a",
    addr: ip("10.0.0.1"),
    addr6: ip6("fd00::1"),
    mtu: 1500,
    tcp,
    random: () => 7,
  });
  const b = new Host({ name: "b", addr: ip("10.0.0.2"), addr6: ip6("fd00::2"), mtu: 1500, tcp });
  const sentSizes: [number, number][] = [];
  const aa = attach(a, sizes(wire.a, clock, sentSizes), clock);
  const ab = attach(b, wire.b, clock);
  const data = rng.fork("data").bytes(opts.bytes);
  const received = new Uint8Array(opts.bytes);
  let got = 0;
  const listener = b.listen(5001, 1);
  if (typeof listener === "string") throw new Error(listener);
  let server: TcbView | undefined;
  const drain = () => {
    server ??= listener.accept();
    if (server === undefined) return;
    const now = clock.now();
    while (server.recvAvailable > 0) {
      const part = server.recv(1 << 20, now);
      received.set(part, got);
      got += part.length;
    }
    if (server.peerClosed && server.state === State.CloseWait) server.close(now);
    ab.flush();
  };
  b.events.acceptable = () => {
    drain();
    server?.observe({ readable: () => clock.schedule(clock.now(), drain) });
  };
  const to: Endpoint =
    opts.family === 6
      ? { family: 6, addr: ip6("fd00::2"), port: 5001 }
      : { addr: ip("10.0.0.2"), port: 5001 };
  const client = a.connect(to, clock.now());
  if (typeof client === "string") throw new Error(client);
  streamOut(client, data, clock);
  aa.flush();
  clock.runUntilIdle({ maxTime: instant(opts.maxTime), maxEvents: 5_000_000 });
  return { client, received: received.subarray(0, got), data, sentSizes, wire, a, clock };
}

const SEEDS = [1, 2, 3];

describe("RFC 1191 through a router that says so", () => {
  for (const seed of SEEDS) {
    test(`seed ${seed}: 1 MiB through a 1006-byte hop: one round trip to learn, no timeout, no recovery`, () => {
      const r = transfer({ seed, bytes: 1 << 20, pathMtu: 1006, router: true, maxTime: 60_000 });
      expect(r.received).toEqual(r.data);
      expect([State.TimeWait, State.Closed]).toContain(r.client.state);
      expect(r.client.error).toBeUndefined();
      expect(r.client.pmtu.mtu).toBe(1006);
      expect(r.client.effSndMss).toBe(954); // 1006 − 40 − 12
      // The first flight went at 1500 bytes and drew the router's messages; nothing after
      // the first message's arrival (one way, 10 ms, plus its time on the line) was too big.
      const firstIcmpAt = (r.sentSizes.find(([, n]) => n > 1006)?.[0] ?? 0) + 10;
      const late = r.sentSizes.filter(([t, n]) => t > firstIcmpAt + 5 && n > 1006);
      expect(late).toEqual([]);
      expect(r.wire.counters("a->b").fragNeededSent).toBeGreaterThan(0);
      expect(r.a.stats().packets["tcp.icmp-pmtu-lowered"]).toBe(1);
      expect(r.client.congestion.stats.timeouts).toBe(0);
      expect(r.client.congestion.stats.recoveries).toBe(0);
    });
  }

  test("a path wider than the hosts: nothing to learn", () => {
    const r = transfer({ seed: 1, bytes: 200_000, pathMtu: 1500, router: true, maxTime: 60_000 });
    expect(r.received).toEqual(r.data);
    expect(r.client.pmtu.mtu).toBe(1500);
    expect(r.wire.counters("a->b").fragNeededSent).toBe(0);
  });
});

describe("RFC 8201 through an IPv6 router that says so", () => {
  for (const seed of SEEDS) {
    test(`seed ${seed}: 1 MiB through a 1280-byte hop: one round trip to learn, no timeout, no recovery`, () => {
      const r = transfer({
        seed,
        bytes: 1 << 20,
        pathMtu: 1280,
        router: true,
        maxTime: 60_000,
        family: 6,
      });
      expect(r.received).toEqual(r.data);
      expect([State.TimeWait, State.Closed]).toContain(r.client.state);
      expect(r.client.error).toBeUndefined();
      expect(r.client.pmtu.mtu).toBe(1280);
      expect(r.client.sndMss).toBe(1220); // PMTU − 60
      expect(r.client.effSndMss).toBe(1208); // and 12 bytes of timestamps
      const firstIcmpAt = (r.sentSizes.find(([, n]) => n > 1280)?.[0] ?? 0) + 10;
      expect(r.sentSizes.filter(([t, n]) => t > firstIcmpAt + 5 && n > 1280)).toEqual([]);
      expect(r.wire.counters("a->b").fragNeededSent).toBeGreaterThan(0);
      expect(r.wire.counters("a->b").fragmented).toBe(0); // IPv6 routers never fragment
      expect(r.a.stats().packets["tcp.icmp6-pmtu-lowered"]).toBe(1);
      expect(r.client.congestion.stats.timeouts).toBe(0);
      expect(r.client.congestion.stats.recoveries).toBe(0);
    });
  }
});

describe("RFC 2923 §2.1: a black hole, and RFC 4821 §7.7's fallback", () => {
  test("without mtuProbing the transfer never gets past the handshake", () => {
    const r = transfer({ seed: 1, bytes: 200_000, pathMtu: 1000, router: false, maxTime: 60_000 });
    expect(r.received.length).toBe(0);
    expect([State.Established, State.FinWait1]).toContain(r.client.state);
    expect(r.client.congestion.stats.timeouts).toBeGreaterThanOrEqual(5);
    expect(r.client.effSndMss).toBe(1448);
  });

  for (const seed of SEEDS) {
    test(`seed ${seed}: with mtuProbing the MSS comes down after repeated timeouts and the transfer completes`, () => {
      const r = transfer({
        seed,
        bytes: 200_000,
        pathMtu: 1000,
        router: false,
        tcp: { mtuProbing: true },
        maxTime: 120_000,
      });
      expect(r.received).toEqual(r.data);
      expect([State.TimeWait, State.Closed]).toContain(r.client.state);
      expect(r.client.error).toBeUndefined();
      // 1024 (Linux's tcp_base_mss) still does not fit 1000; half of it does.
      expect(r.client.pmtu.probedMss).toBe(552 - 40);
      expect(r.client.sndMss).toBe(512);
      expect(r.client.pmtu.loweredByProbing).toBe(2);
    });
  }
});
