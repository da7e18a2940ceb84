import { describe, expect, test } from "bun:test";
import { SocketError } from "../../src/api/errors.ts";
import { type Connection, Net } from "../../src/api/net.ts";
import { Sockets } from "../../src/api/sockets.ts";
import { VirtualClock } from "../../src/clock/virtual-clock.ts";
import { SimWire } from "../../src/link/sim-wire.ts";
import { attach } from "../../src/runtime/attach.ts";
import { startEcho } from "../../src/services/echo.ts";
import { serviceFamilies } from "../../src/services/service.ts";
import { startUdpEcho } from "../../src/services/udp-echo.ts";
import { Host } from "../../src/stack/host.ts";
import { Rng } from "../../src/util/rng.ts";
import { ip } from "../../src/wire/addr.ts";
import { ip6, ipv4MappedIpv6 } from "../../src/wire/ipv6-addr.ts";

const A6 = ip6("fd00::1");
const B6 = ip6("fd00::2");

/** Two hosts with an IPv4 and an IPv6 address each, on one simulated wire, with sockets. */
function world() {
  const clock = new VirtualClock();
  const rng = new Rng(1);
  const wire = new SimWire(clock, rng.fork("wire"), { mtu: 1500 });
  const node = (name: "a" | "b", addr: string, addr6: typeof A6) => {
    const host = new Host({
      name,
      addr: ip(addr),
      addr6,
      isn: { secret: rng.fork(name).bytes(16) },
    });
    const sockets = new Sockets(host, attach(host, name === "a" ? wire.a : wire.b, clock));
    return { host, sockets, net: new Net(sockets) };
  };
  return { clock, a: node("a", "10.0.0.1", A6), b: node("b", "10.0.0.2", B6) };
}
type World = ReturnType<typeof world>;

const turn = () => new Promise<void>((r) => setImmediate(r));

/** Runs the virtual clock until `p` settles. */
async function settle<T>(w: World, p: Promise<T>): Promise<T> {
  let done = false;
  const watched = p.finally(() => {
    done = true;
  });
  for (let i = 0; i < 100_000; i++) {
    await turn();
    if (done) return watched;
    if (!w.clock.runToNextDeadline()) {
      await turn();
      if (done) return watched;
      throw new Error("idle with the call still pending");
    }
  }
  throw new Error("event budget exhausted");
}

function ok<T>(r: T | SocketError): T {
  if (r instanceof SocketError) throw r;
  return r;
}

/** Reads to the end, then sends it all back and closes. */
function echoAll(conn: Connection): void {
  void (async () => {
    await conn.end(await conn.readAll());
  })();
}

function bytes(n: number): Uint8Array<ArrayBuffer> {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff);
}

describe("TCP over IPv6 through the socket API", () => {
  test("echo, with getsockname / getpeername in IPv6 form", async () => {
    const w = world();
    const sa = w.a.sockets;
    const sb = w.b.sockets;
    const lfd = ok(sb.socket("tcp", "AF_INET6"));
    expect(sb.bind(lfd, "[::]:7")).toBeUndefined();
    expect(sb.listen(lfd)).toBeUndefined();
    expect(sb.getsockname(lfd)).toEqual({ family: 6, addr: B6, port: 7 });
    const cfd = ok(sa.socket("tcp", "AF_INET6"));
    const accepting = sb.accept(lfd);
    expect(await settle(w, sa.connect(cfd, "fd00::2", 7))).toBeUndefined();
    const sfd = ok(await settle(w, accepting));
    const local = ok(sa.getsockname(cfd));
    expect(local).toEqual({ family: 6, addr: A6, port: local.port });
    expect(sa.getpeername(cfd)).toEqual({ family: 6, addr: B6, port: 7 });
    expect(sb.getpeername(sfd)).toEqual(local);
    expect(sb.getsockname(sfd)).toEqual({ family: 6, addr: B6, port: 7 });
    const data = bytes(20_000);
    expect(await settle(w, sa.send(cfd, data))).toBe(data.length);
    const got: number[] = [];
    while (got.length < data.length) got.push(...ok(await settle(w, sb.recv(sfd))));
    expect(await settle(w, sb.send(sfd, Uint8Array.from(got)))).toBe(data.length);
    const back: number[] = [];
    while (back.length < data.length) back.push(...ok(await settle(w, sa.recv(cfd))));
    expect(Uint8Array.from(back)).toEqual(data);
    expect(w.a.host.stats().packets["ip6.out"]).toBeGreaterThan(0);
    expect(w.a.host.stats().packets["ip.out"]).toBeUndefined();
  });

  test("echo through the Net adapter, to [addr]:port", async () => {
    const w = world();
    const server = w.b.net.listen(8080, echoAll, 128, "AF_INET6");
    const conn = await settle(w, w.a.net.connect("[fd00::2]:8080"));
    expect(conn.remote).toEqual({ family: 6, addr: B6, port: 8080 });
    await settle(w, conn.end(bytes(3000)));
    expect(await settle(w, conn.readAll())).toEqual(bytes(3000));
    conn.close();
    server.close();
  });

  test("an IPV6_V6ONLY listener refuses IPv4 peers and an AF_INET one IPv6 peers", async () => {
    const w = world();
    const sb = w.b.sockets;
    const l6 = ok(sb.socket("tcp", "AF_INET6"));
    expect(sb.setsockopt(l6, "IPV6_V6ONLY", true)).toBeUndefined();
    expect(sb.bind(l6, 80)).toBeUndefined();
    expect(sb.listen(l6)).toBeUndefined();
    const l4 = ok(sb.socket("tcp"));
    expect(sb.bind(l4, 81)).toBeUndefined();
    expect(sb.listen(l4)).toBeUndefined();
    const c4 = ok(w.a.sockets.socket("tcp"));
    const r4 = await settle(w, w.a.sockets.connect(c4, "10.0.0.2", 80));
    // The SYN is answered with a RST, as for no listener (RFC 9293 §3.10.7.1).
    expect(r4 instanceof SocketError && r4.code).toBe("ECONNREFUSED");
    expect(w.b.host.stats().packets["tcp.rst-out"]).toBe(1);
    expect(w.b.host.stats().drops["tcp.no-socket"]).toBe(1);
    const c6 = ok(w.a.sockets.socket("tcp", "AF_INET6"));
    const r6 = await settle(w, w.a.sockets.connect(c6, "[fd00::2]:81"));
    expect(r6 instanceof SocketError && r6.code).toBe("ECONNREFUSED");
  });
});

describe("AF_INET and AF_INET6 on one port", () => {
  test("two listeners share a port, each taking the peers of its family", async () => {
    const w = world();
    const sb = w.b.sockets;
    const l4 = ok(sb.socket("tcp"));
    const l6 = ok(sb.socket("tcp", "AF_INET6"));
    expect(sb.setsockopt(l6, "IPV6_V6ONLY", true)).toBeUndefined();
    expect(sb.bind(l4, 80)).toBeUndefined();
    expect(sb.bind(l6, 80)).toBeUndefined();
    expect(sb.listen(l4)).toBeUndefined();
    expect(sb.listen(l6)).toBeUndefined();
    const again = ok(sb.socket("tcp"));
    const busy = sb.bind(again, 80);
    expect(busy instanceof SocketError && busy.code).toBe("EADDRINUSE");
    const c4 = ok(w.a.sockets.socket("tcp"));
    const c6 = ok(w.a.sockets.socket("tcp", "AF_INET6"));
    expect(await settle(w, w.a.sockets.connect(c4, "10.0.0.2:80"))).toBeUndefined();
    expect(await settle(w, w.a.sockets.connect(c6, "[fd00::2]:80"))).toBeUndefined();
    const s4 = ok(await settle(w, sb.accept(l4)));
    const s6 = ok(await settle(w, sb.accept(l6)));
    expect(sb.getpeername(s4)).toEqual(ok(w.a.sockets.getsockname(c4)));
    expect(sb.getpeername(s6)).toEqual(ok(w.a.sockets.getsockname(c6)));
    expect(sb.getsockname(s4)).toEqual({ family: 4, addr: ip("10.0.0.2"), port: 80 });
    expect(sb.getsockname(s6)).toEqual({ family: 6, addr: B6, port: 80 });
    // Closing one leaves the other listening.
    sb.close(l4);
    const c4b = ok(w.a.sockets.socket("tcp"));
    const refused = await settle(w, w.a.sockets.connect(c4b, "10.0.0.2:80"));
    expect(refused instanceof SocketError && refused.code).toBe("ECONNREFUSED");
    const c6b = ok(w.a.sockets.socket("tcp", "AF_INET6"));
    expect(await settle(w, w.a.sockets.connect(c6b, "[fd00::2]:80"))).toBeUndefined();
    expect(sb.poll(l6)).toMatchObject({ readable: true });
  });

  test("Net.listen with a family, twice on one port", async () => {
    const w = world();
    const seen: (4 | 6 | undefined)[] = [];
    const onConn = (conn: Connection) => {
      seen.push(conn.remote?.family ?? 4);
      conn.close();
    };
    const s4 = w.b.net.listen(8080, onConn, 16, "AF_INET");
    const s6 = w.b.net.listen(8080, onConn, 16, "AF_INET6", { v6Only: true });
    expect(() => w.b.net.listen(8080, onConn, 16, "AF_INET6", { v6Only: true })).toThrow(
      "EADDRINUSE",
    );
    (await settle(w, w.a.net.connect("[fd00::2]:8080"))).close();
    (await settle(w, w.a.net.connect("10.0.0.2:8080"))).close();
    await settle(w, turn());
    expect(seen.sort()).toEqual([4, 6]);
    s4.close();
    s6.close();
  });
});

describe("built-in services on both families", () => {
  test("TCP echo on one port answers over IPv4 and IPv6, with one set of connections", async () => {
    const w = world();
    const echo = startEcho(w.b.net, 7);
    const over4 = await settle(w, w.a.net.connect("10.0.0.2", 7));
    const over6 = await settle(w, w.a.net.connect("fd00::2", 7));
    await settle(w, turn());
    expect(echo.stats?.().open).toBe(2);
    await settle(w, over4.end(bytes(2000)));
    await settle(w, over6.end(bytes(3000)));
    expect(await settle(w, over4.readAll())).toEqual(bytes(2000));
    expect(await settle(w, over6.readAll())).toEqual(bytes(3000));
    expect(w.b.host.stats().packets["ip6.in"]).toBeGreaterThan(0);
    expect(w.b.host.stats().packets["ip.in"]).toBeGreaterThan(0);
    echo.close();
    const after = await settle(
      w,
      w.a.net.connect("fd00::2", 7).catch((e: unknown) => e),
    );
    expect(after instanceof SocketError && after.code).toBe("ECONNREFUSED");
  });

  test("UDP echo answers over IPv4 and IPv6; an IPv4-only host binds AF_INET alone", async () => {
    const w = world();
    const echo = startUdpEcho(w.b.sockets, 7);
    const sa = w.a.sockets;
    const c4 = ok(sa.socket("udp"));
    const c6 = ok(sa.socket("udp", "AF_INET6"));
    expect(sa.sendTo(c4, bytes(40), "10.0.0.2:7")).toBe(40);
    expect(sa.sendTo(c6, bytes(60), "[fd00::2]:7")).toBe(60);
    const r4 = ok(await settle(w, sa.recvFrom(c4)));
    const r6 = ok(await settle(w, sa.recvFrom(c6)));
    expect(r4).toEqual({ data: bytes(40), from: { addr: ip("10.0.0.2"), port: 7 } });
    expect(r6).toEqual({ data: bytes(60), from: { family: 6, addr: B6, port: 7 } });
    echo.close();
    const clock = new VirtualClock();
    const v4only = new Host({ name: "c", addr: ip("10.0.0.3") });
    const s = new Sockets(v4only, attach(v4only, new SimWire(clock, new Rng(2)).a, clock));
    expect(serviceFamilies(s)).toEqual(["AF_INET"]);
    startUdpEcho(s, 7).close();
  });
});

describe("UDP over IPv6", () => {
  test("sendTo / recvFrom, both ways", async () => {
    const w = world();
    const sa = w.a.sockets;
    const sb = w.b.sockets;
    const ufd = ok(sb.socket("udp", "AF_INET6"));
    expect(sb.bind(ufd, 5353, "fd00::2")).toBeUndefined();
    const cfd = ok(sa.socket("udp", "AF_INET6"));
    expect(sa.sendTo(cfd, bytes(100), "[fd00::2]:5353")).toBe(100);
    const msg = ok(await settle(w, sb.recvFrom(ufd)));
    expect(msg.data).toEqual(bytes(100));
    const local = ok(sa.getsockname(cfd));
    expect(msg.from).toEqual({ family: 6, addr: A6, port: local.port });
    expect(sb.sendTo(ufd, bytes(3000), msg.from.addr, msg.from.port)).toBe(3000); // fragmented
    const reply = ok(await settle(w, sa.recvFrom(cfd)));
    expect(reply.data).toEqual(bytes(3000));
    expect(reply.from).toEqual({ family: 6, addr: B6, port: 5353 });
    expect(await sa.connect(cfd, "fd00::2", 5353)).toBeUndefined();
    expect(sa.getpeername(cfd)).toEqual({ family: 6, addr: B6, port: 5353 });
  });

  test("an AF_INET socket keeps the IPv4 form and takes no IPv6 datagrams", async () => {
    const w = world();
    const sb = w.b.sockets;
    const u4 = ok(sb.socket("udp"));
    expect(sb.bind(u4, 9)).toBeUndefined();
    expect(sb.getsockname(u4)).toEqual({ family: 4, addr: ip("10.0.0.2"), port: 9 });
    const c6 = ok(w.a.sockets.socket("udp", "AF_INET6"));
    expect(w.a.sockets.sendTo(c6, bytes(10), "fd00::2", 9)).toBe(10);
    const c4 = ok(w.a.sockets.socket("udp"));
    expect(w.a.sockets.sendTo(c4, bytes(20), "10.0.0.2:9")).toBe(20);
    const msg = ok(await settle(w, sb.recvFrom(u4)));
    expect(msg.data).toEqual(bytes(20));
    expect(msg.from.family).toBeUndefined();
  });

  test("a connected socket hears the peer's ICMPv6 port unreachable as ECONNREFUSED on its next recv", async () => {
    const w = world();
    const s = w.a.sockets;
    const fd = ok(s.socket("udp", "AF_INET6"));
    expect(await s.connect(fd, "fd00::2", 7)).toBeUndefined(); // nothing bound on b:7
    expect(await s.send(fd, bytes(5))).toBe(5);
    const failed = await settle(w, s.recv(fd));
    expect(failed instanceof SocketError && failed.code).toBe("ECONNREFUSED");
    expect(w.a.host.stats().packets["icmp6.dest-unreachable-in"]).toBe(1);
    expect(w.a.host.stats().packets["udp.icmp-errors"]).toBe(1);
  });
});

describe("addresses the socket cannot take", () => {
  test("bad text, the other family, a mapped address, an address not ours", () => {
    const w = world();
    const s = w.a.sockets;
    const u6 = ok(s.socket("udp", "AF_INET6"));
    const u4 = ok(s.socket("udp"));
    const bad = s.sendTo(u6, bytes(1), "fd00::zz", 7);
    expect(bad instanceof SocketError && bad.code).toBe("EINVAL");
    expect(String(bad)).toContain('address "fd00::zz" is neither IPv4');
    const badEp = s.sendTo(u6, bytes(1), "fd00::2:7");
    expect(badEp instanceof SocketError && badEp.message).toContain('endpoint "fd00::2:7"');
    const mixed = s.sendTo(u4, bytes(1), "[fd00::2]:7");
    expect(mixed instanceof SocketError && mixed.message).toContain("IPv6 address on an AF_INET");
    const mixed6 = s.sendTo(u6, bytes(1), "10.0.0.2", 7);
    expect(mixed6 instanceof SocketError && mixed6.code).toBe("EAFNOSUPPORT");
    expect(s.setsockopt(u6, "IPV6_V6ONLY", true)).toBeUndefined();
    // Linux's udpv6_sendmsg: an IPv4-mapped peer on an IPv6-only socket.
    const mapped = s.sendTo(u6, bytes(1), "::ffff:10.0.0.2", 7);
    expect(mapped instanceof SocketError && mapped.code).toBe("ENETUNREACH");
    const notOurs = s.bind(u6, 7, "fd00::2");
    expect(notOurs instanceof SocketError && notOurs.code).toBe("EADDRNOTAVAIL");
    expect(s.socket("tcp", "AF_UNIX" as "AF_INET") instanceof SocketError).toBe(true);
    expect(s.getpeername(u6) instanceof SocketError).toBe(true);
  });
});

const MAPPED_A = ipv4MappedIpv6(ip("10.0.0.1"));
const MAPPED_B = ipv4MappedIpv6(ip("10.0.0.2"));

describe("dual-stack AF_INET6 sockets (RFC 3493 §3.7, §5.3)", () => {
  test("IPV6_V6ONLY: off by default, AF_INET6 only, set before bind", () => {
    const w = world();
    const s = w.b.sockets;
    const t6 = ok(s.socket("tcp", "AF_INET6"));
    expect(s.getsockopt(t6, "IPV6_V6ONLY")).toBe(false);
    expect(s.setsockopt(t6, "IPV6_V6ONLY", true)).toBeUndefined();
    expect(s.getsockopt(t6, "IPV6_V6ONLY")).toBe(true);
    expect(s.bind(t6, 80)).toBeUndefined();
    const late = s.setsockopt(t6, "IPV6_V6ONLY", false);
    expect(late instanceof SocketError && late.code).toBe("EINVAL");
    const t4 = ok(s.socket("tcp"));
    const on4 = s.setsockopt(t4, "IPV6_V6ONLY", true);
    expect(on4 instanceof SocketError && on4.code).toBe("ENOPROTOOPT");
    const get4 = s.getsockopt(t4, "IPV6_V6ONLY");
    expect(get4 instanceof SocketError && get4.code).toBe("ENOPROTOOPT");
    const u6 = ok(s.socket("udp", "AF_INET6"));
    expect(s.sendTo(u6, bytes(1), "[fd00::1]:9")).toBe(1); // binds a port
    const lateUdp = s.setsockopt(u6, "IPV6_V6ONLY", true);
    expect(lateUdp instanceof SocketError && lateUdp.code).toBe("EINVAL");
  });

  test("a listener on :: accepts an IPv4 peer, shown as ::ffff:10.0.0.1, and an IPv6 one", async () => {
    const w = world();
    const sb = w.b.sockets;
    const lfd = ok(sb.socket("tcp", "AF_INET6"));
    expect(sb.bind(lfd, "[::]:80")).toBeUndefined();
    expect(sb.listen(lfd)).toBeUndefined();
    const c4 = ok(w.a.sockets.socket("tcp"));
    expect(await settle(w, w.a.sockets.connect(c4, "10.0.0.2", 80))).toBeUndefined();
    const s4 = ok(await settle(w, sb.accept(lfd)));
    const local4 = ok(w.a.sockets.getsockname(c4));
    expect(sb.getpeername(s4)).toEqual({ family: 6, addr: MAPPED_A, port: local4.port });
    expect(sb.getsockname(s4)).toEqual({ family: 6, addr: MAPPED_B, port: 80 });
    // On the wire it is IPv4: b sent no IPv6 packet.
    expect(w.b.host.stats().packets["ip6.out"]).toBeUndefined();
    expect(w.b.host.connection(80, { addr: ip("10.0.0.1"), port: local4.port })).toBeDefined();
    expect(await settle(w, w.a.sockets.send(c4, bytes(5000)))).toBe(5000);
    const got: number[] = [];
    while (got.length < 5000) got.push(...ok(await settle(w, sb.recv(s4))));
    expect(Uint8Array.from(got)).toEqual(bytes(5000));
    const c6 = ok(w.a.sockets.socket("tcp", "AF_INET6"));
    expect(await settle(w, w.a.sockets.connect(c6, "[fd00::2]:80"))).toBeUndefined();
    const s6 = ok(await settle(w, sb.accept(lfd)));
    expect(sb.getpeername(s6)).toEqual(ok(w.a.sockets.getsockname(c6)));
    expect(sb.getsockopt(s6, "IPV6_V6ONLY")).toBe(false);
  });

  test("bind conflicts: :: without IPV6_V6ONLY and AF_INET on one port, in either order", () => {
    const w = world();
    const s = w.b.sockets;
    const busy = (r: undefined | SocketError) => r instanceof SocketError && r.code;
    for (const type of ["tcp", "udp"] as const) {
      // AF_INET first.
      const v4 = ok(s.socket(type));
      expect(s.bind(v4, 700)).toBeUndefined();
      const dual = ok(s.socket(type, "AF_INET6"));
      expect(busy(s.bind(dual, 700))).toBe("EADDRINUSE");
      const only6 = ok(s.socket(type, "AF_INET6"));
      expect(s.setsockopt(only6, "IPV6_V6ONLY", true)).toBeUndefined();
      expect(s.bind(only6, 700)).toBeUndefined();
      // AF_INET6 on :: first.
      const dual2 = ok(s.socket(type, "AF_INET6"));
      expect(s.bind(dual2, "[::]:701")).toBeUndefined();
      const v4b = ok(s.socket(type));
      expect(busy(s.bind(v4b, 701))).toBe("EADDRINUSE");
      const only6b = ok(s.socket(type, "AF_INET6"));
      expect(s.setsockopt(only6b, "IPV6_V6ONLY", true)).toBeUndefined();
      expect(busy(s.bind(only6b, 701))).toBe("EADDRINUSE");
      // Bound to our IPv6 address, a dual-stack socket takes IPv6 peers only.
      const own6 = ok(s.socket(type, "AF_INET6"));
      expect(s.bind(own6, 702, "fd00::2")).toBeUndefined();
      const v4c = ok(s.socket(type));
      expect(s.bind(v4c, 702)).toBeUndefined();
      for (const fd of [v4, dual, only6, dual2, v4b, only6b, own6, v4c]) s.close(fd);
    }
    // A listener on :: holds the port for both families too.
    const l = ok(s.socket("tcp", "AF_INET6"));
    expect(s.bind(l, 703)).toBeUndefined();
    expect(s.listen(l)).toBeUndefined();
    expect(w.b.host.listenerOn(703, 4)).toBe(w.b.host.listenerOn(703, 6));
    expect(busy(s.bind(ok(s.socket("tcp")), 703))).toBe("EADDRINUSE");
  });

  test("Net's Connection names its ends as the socket does: mapped on AF_INET6, plain on AF_INET", async () => {
    const w = world();
    const accepted: Connection[] = [];
    const server = w.b.net.listen(8080, (c) => accepted.push(c), 16, "AF_INET6"); // dual-stack
    const over4 = await settle(w, w.a.net.connect("10.0.0.2", 8080));
    await settle(w, turn());
    const peer = accepted[0];
    if (peer === undefined) throw new Error("nothing accepted");
    // The dual-stack listener's connection to an IPv4 peer: both ends mapped (RFC 3493 §3.7).
    expect(peer.remote).toEqual({ family: 6, addr: MAPPED_A, port: over4.local?.port ?? -1 });
    expect(peer.local).toEqual({ family: 6, addr: MAPPED_B, port: 8080 });
    // The AF_INET client's: IPv4 as it is.
    expect(over4.remote).toEqual({ family: 4, addr: ip("10.0.0.2"), port: 8080 });
    expect(over4.local?.family).toBe(4);
    over4.close();
    peer.close();
    server.close();
  });

  test("connect to ::ffff:10.0.0.2 talks IPv4; IPV6_V6ONLY makes it ENETUNREACH", async () => {
    const w = world();
    const server = w.b.net.listen(80, echoAll, 16);
    const sa = w.a.sockets;
    const c = ok(sa.socket("tcp", "AF_INET6"));
    expect(await settle(w, sa.connect(c, "::ffff:10.0.0.2", 80))).toBeUndefined();
    expect(sa.getpeername(c)).toEqual({ family: 6, addr: MAPPED_B, port: 80 });
    const local = ok(sa.getsockname(c));
    expect(local).toEqual({ family: 6, addr: MAPPED_A, port: local.port });
    expect(w.a.host.stats().packets["ip6.out"]).toBeUndefined();
    expect(w.a.host.stats().packets["ip.out"]).toBeGreaterThan(0);
    // Through Net: the address picks AF_INET6, the wire stays IPv4.
    const conn = await settle(w, w.a.net.connect("[::ffff:10.0.0.2]:80"));
    // It names its ends as getsockname/getpeername do: mapped (RFC 3493 §3.7).
    expect(conn.remote).toEqual({ family: 6, addr: MAPPED_B, port: 80 });
    expect(conn.local).toEqual(ok(sa.getsockname(conn.fd)));
    expect(conn.local?.family === 6 && conn.local.addr).toEqual(MAPPED_A);
    await settle(w, conn.end(bytes(700)));
    expect(await settle(w, conn.readAll())).toEqual(bytes(700));
    const only6 = ok(sa.socket("tcp", "AF_INET6"));
    expect(sa.setsockopt(only6, "IPV6_V6ONLY", true)).toBeUndefined();
    // Linux's tcp_v6_connect: ENETUNREACH.
    const refused = await settle(w, sa.connect(only6, "::ffff:10.0.0.2", 80));
    expect(refused instanceof SocketError && refused.code).toBe("ENETUNREACH");
    // Linux's __inet6_bind: a mapped address on an IPv6-only socket is EINVAL.
    const bindMapped = sa.bind(only6, 0, "::ffff:10.0.0.1");
    expect(bindMapped instanceof SocketError && bindMapped.code).toBe("EINVAL");
    // A dual-stack socket bound to our IPv6 address cannot reach an IPv4 peer.
    const own6 = ok(sa.socket("tcp", "AF_INET6"));
    expect(sa.bind(own6, 0, "fd00::1")).toBeUndefined();
    const cross = await settle(w, sa.connect(own6, "::ffff:10.0.0.2", 80));
    expect(cross instanceof SocketError && cross.code).toBe("ENETUNREACH");
    server.close();
  });

  test("UDP: IPv4 datagrams on a dual-stack socket come from ::ffff:a.b.c.d and go back over IPv4", async () => {
    const w = world();
    const sb = w.b.sockets;
    const sa = w.a.sockets;
    const u = ok(sb.socket("udp", "AF_INET6"));
    expect(sb.bind(u, 5353)).toBeUndefined();
    const c4 = ok(sa.socket("udp"));
    expect(sa.sendTo(c4, bytes(30), "10.0.0.2:5353")).toBe(30);
    const msg = ok(await settle(w, sb.recvFrom(u)));
    const local4 = ok(sa.getsockname(c4));
    expect(msg.from).toEqual({ family: 6, addr: MAPPED_A, port: local4.port });
    expect(sb.sendTo(u, bytes(31), msg.from.addr, msg.from.port)).toBe(31);
    expect(ok(await settle(w, sa.recvFrom(c4)))).toEqual({
      data: bytes(31),
      from: { addr: ip("10.0.0.2"), port: 5353 },
    });
    expect(w.b.host.stats().packets["ip6.out"]).toBeUndefined();
    // From a dual-stack socket to a mapped address: IPv4 on the wire.
    const c6 = ok(sa.socket("udp", "AF_INET6"));
    expect(await sa.connect(c6, "[::ffff:10.0.0.2]:5353")).toBeUndefined();
    expect(sa.getpeername(c6)).toEqual({ family: 6, addr: MAPPED_B, port: 5353 });
    expect(await settle(w, sa.send(c6, bytes(12)))).toBe(12);
    const via6 = ok(await settle(w, sb.recvFrom(u)));
    expect(via6.data).toEqual(bytes(12));
    expect(via6.from.addr).toEqual(MAPPED_A);
    expect(w.a.host.stats().packets["ip6.out"]).toBeUndefined();
    // An IPv6-only socket takes no IPv4 datagram: the port is unreachable.
    const only6 = ok(sb.socket("udp", "AF_INET6"));
    expect(sb.setsockopt(only6, "IPV6_V6ONLY", true)).toBeUndefined();
    expect(sb.bind(only6, 5354)).toBeUndefined();
    expect(sa.sendTo(c4, bytes(5), "10.0.0.2:5354")).toBe(5);
    expect(sa.sendTo(c6, bytes(6), "[fd00::2]:5354")).toBe(6);
    const only = ok(await settle(w, sb.recvFrom(only6)));
    expect(only.data).toEqual(bytes(6));
    expect(w.b.host.stats().drops["udp.no-socket"]).toBe(1);
    sb.setNonBlocking(only6, true);
    const none = await sb.recvFrom(only6);
    expect(none instanceof SocketError && none.code).toBe("EAGAIN");
  });
});
