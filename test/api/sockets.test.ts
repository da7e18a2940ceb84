import { describe, expect, test } from "bun:test";
import { SocketError } from "../../src/api/errors.ts";
import { type SimSocketPair, simSocketPair } from "../../src/api/hosts.ts";
import type { Fd, Sockets } from "../../src/api/sockets.ts";
import { instant, later, ms } from "../../src/clock/time.ts";

/** Lets promise continuations run (no time passes: the clock is virtual). */
const turn = () => new Promise<void>((r) => setImmediate(r));

/** Runs the virtual clock event by event until `p` settles; fails if the world goes idle first. */
async function settle<T>(world: SimSocketPair, p: Promise<T>, maxEvents = 100_000): Promise<T> {
  let done = false;
  const watched = p.finally(() => {
    done = true;
  });
  for (let i = 0; i < maxEvents; i++) {
    await turn();
    if (done) return watched;
    if (!world.clock.runToNextDeadline()) {
      await turn();
      if (done) return watched;
      throw new Error(`idle at ${world.clock.now()} ms with the call still pending`);
    }
  }
  throw new Error("event budget exhausted");
}

function ok<T>(r: T | SocketError): T {
  if (r instanceof SocketError) throw r;
  return r;
}

function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed * 7) & 0xff;
  return out;
}

function code(r: unknown): string | undefined {
  return r instanceof SocketError ? r.code : undefined;
}

/** b listens on 80, a connects; returns the fds. */
async function connected(world: SimSocketPair, port = 80) {
  const sa = world.a.sockets;
  const sb = world.b.sockets;
  const lfd = ok(sb.socket("tcp"));
  expect(sb.bind(lfd, port)).toBeUndefined();
  expect(sb.listen(lfd, 4)).toBeUndefined();
  const cfd = ok(sa.socket("tcp"));
  const accepting = sb.accept(lfd);
  expect(await settle(world, sa.connect(cfd, "10.0.0.2", port))).toBeUndefined();
  const sfd = ok(await settle(world, accepting));
  return { sa, sb, lfd, cfd, sfd };
}

async function readAll(world: SimSocketPair, s: Sockets, fd: Fd): Promise<Uint8Array> {
  const parts: number[] = [];
  for (;;) {
    const chunk = ok(await settle(world, s.recv(fd, 4096)));
    if (chunk.length === 0) return Uint8Array.from(parts);
    parts.push(...chunk);
  }
}

describe("TCP sockets between two hosts on the simulated wire", () => {
  test("connect / accept / send / recv / close, both ends reach CLOSED", async () => {
    const world = simSocketPair({ wire: { delay: ms(5) } });
    const { sa, sb, cfd, sfd } = await connected(world);
    expect(ok(sa.info(cfd)).state).toBe("ESTABLISHED");
    expect(sfd).toBe(4); // fds are handed out like file descriptors: 3 is the listener
    const data = bytes(100_000);
    expect(await settle(world, sa.send(cfd, data))).toBe(data.length);
    expect(sa.close(cfd)).toBeUndefined();
    expect(await readAll(world, sb, sfd)).toEqual(data);
    const tcbA = world.a.host.connections()[0]!;
    expect(sb.close(sfd)).toBeUndefined();
    world.clock.runUntilIdle();
    expect(world.a.host.connections()).toEqual([]);
    expect(world.b.host.connections()).toEqual([]);
    expect(tcbA.error).toBeUndefined();
    expect(code(sa.info(cfd))).toBe("EBADF");
  });

  test("ECONNREFUSED: nobody listens on the port", async () => {
    const world = simSocketPair({ wire: { delay: ms(1) } });
    const s = world.a.sockets;
    const fd = ok(s.socket("tcp"));
    expect(code(await settle(world, s.connect(fd, "10.0.0.2", 9)))).toBe("ECONNREFUSED");
    expect(world.b.host.stats().drops["tcp.no-socket"]).toBe(1);
  });

  test("ECONNRESET: the peer aborts (SO_LINGER 0), a blocked recv fails, then EOF", async () => {
    const world = simSocketPair({ wire: { delay: ms(1) } });
    const { sa, sb, cfd, sfd } = await connected(world);
    const reading = sa.recv(cfd);
    expect(sb.setsockopt(sfd, "SO_LINGER", 0)).toBeUndefined();
    sb.close(sfd);
    expect(code(await settle(world, reading))).toBe("ECONNRESET");
    // The error is reported once; afterwards the stream reads as ended, writes as broken.
    expect(ok(await sa.recv(cfd))).toEqual(new Uint8Array(0));
    expect(code(await sa.send(cfd, bytes(10)))).toBe("EPIPE");
  });

  test("closing with unread data aborts with a RST (RFC 2525 §2.17)", async () => {
    const world = simSocketPair({ wire: { delay: ms(1) } });
    const { sa, sb, cfd, sfd } = await connected(world);
    await settle(world, sb.send(sfd, bytes(100)));
    world.clock.runUntilIdle({ maxTime: later(world.clock.now(), ms(50)) });
    expect(ok(sa.poll(cfd)).readable).toBe(true);
    sa.close(cfd);
    const r = await settle(world, sb.recv(sfd));
    expect(code(r)).toBe("ECONNRESET");
  });

  test("ETIMEDOUT: the peer is unplugged (all loss) and retransmissions run out", async () => {
    const world = simSocketPair({
      wire: { delay: ms(1) },
      host: { tcp: { maxRetransmissions: 4 } },
    });
    const { sa, cfd } = await connected(world);
    world.wire.configure("both", { loss: 1 });
    expect(await settle(world, sa.send(cfd, bytes(1000)))).toBe(1000);
    expect(code(await settle(world, sa.recv(cfd)))).toBe("ETIMEDOUT");
    expect(world.a.host.connections()).toEqual([]);
  });

  test("ETIMEDOUT on connect when SYNs go unanswered", async () => {
    const world = simSocketPair({ wire: { down: true }, host: { tcp: { synRetries: 2 } } });
    const s = world.a.sockets;
    const fd = ok(s.socket("tcp"));
    expect(code(await settle(world, s.connect(fd, "10.0.0.2", 80)))).toBe("ETIMEDOUT");
  });

  test("EPIPE after shutdown(wr); the peer reads EOF and can still send back (half-close)", async () => {
    const world = simSocketPair({ wire: { delay: ms(1) } });
    const { sa, sb, cfd, sfd } = await connected(world);
    expect(sa.shutdown(cfd, "wr")).toBeUndefined();
    expect(code(await sa.send(cfd, bytes(1)))).toBe("EPIPE");
    expect(ok(await settle(world, sb.recv(sfd)))).toEqual(new Uint8Array(0));
    expect(await settle(world, sb.send(sfd, bytes(50)))).toBe(50);
    expect(ok(await settle(world, sa.recv(cfd)))).toEqual(bytes(50));
  });

  test("non-blocking: EINPROGRESS, EAGAIN on accept/recv/send, SO_ERROR", async () => {
    const world = simSocketPair({ wire: { delay: ms(2) }, host: { tcp: { sndBuf: 4096 } } });
    const sa = world.a.sockets;
    const sb = world.b.sockets;
    const lfd = ok(sb.socket("tcp"));
    sb.bind(lfd, 80);
    sb.listen(lfd);
    sb.setNonBlocking(lfd, true);
    expect(code(await sb.accept(lfd))).toBe("EAGAIN");
    const cfd = ok(sa.socket("tcp"));
    sa.setNonBlocking(cfd, true);
    expect(code(await sa.connect(cfd, "10.0.0.2", 80))).toBe("EINPROGRESS");
    expect(code(await sa.connect(cfd, "10.0.0.2", 80))).toBe("EALREADY");
    expect(ok(sa.poll(cfd)).writable).toBe(false);
    world.clock.runUntilIdle({ maxTime: instant(10) });
    expect(ok(sa.poll(cfd)).writable).toBe(true);
    expect(sa.getsockopt(cfd, "SO_ERROR")).toBeUndefined();
    expect(code(await sa.connect(cfd, "10.0.0.2", 80))).toBe("EISCONN");
    const sfd = ok(await sb.accept(lfd));
    sb.setNonBlocking(sfd, true);
    expect(code(await sb.recv(sfd))).toBe("EAGAIN");
    // Fill the 4 KiB send buffer: a partial count, then EAGAIN.
    const first = ok(await sa.send(cfd, bytes(10_000)));
    expect(first).toBe(4096);
    expect(code(await sa.send(cfd, bytes(10)))).toBe("EAGAIN");
    world.clock.runUntilIdle({ maxTime: instant(20) });
    expect(ok(await sb.recv(sfd, 65536)).length).toBeGreaterThan(0);
  });

  test("non-blocking connect refused: SO_ERROR reports ECONNREFUSED once", async () => {
    const world = simSocketPair({ wire: { delay: ms(1) } });
    const s = world.a.sockets;
    const fd = ok(s.socket("tcp"));
    s.setNonBlocking(fd, true);
    expect(code(await s.connect(fd, "10.0.0.2", 7))).toBe("EINPROGRESS");
    world.clock.runUntilIdle();
    expect(s.getsockopt(fd, "SO_ERROR")).toBe("ECONNREFUSED");
    expect(s.getsockopt(fd, "SO_ERROR")).toBeUndefined();
  });

  test("argument errors are returned, never thrown", async () => {
    const world = simSocketPair();
    const s = world.a.sockets;
    expect(code(s.socket("sctp" as "tcp"))).toBe("EINVAL");
    const fd = ok(s.socket("tcp"));
    expect(code(s.bind(fd, -1))).toBe("EINVAL");
    expect(code(s.bind(fd, 80, "10.0.0.9"))).toBe("EADDRNOTAVAIL");
    expect(code(await s.connect(fd, "not an address", 80))).toBe("EINVAL");
    expect(code(await s.connect(fd, "10.0.0.2", 0))).toBe("EINVAL");
    expect(code(await s.recv(fd, 0))).toBe("EINVAL");
    expect(code(await s.recv(fd))).toBe("ENOTCONN");
    expect(code(await s.send(fd, bytes(1)))).toBe("ENOTCONN");
    expect(code(s.shutdown(fd, "wr"))).toBe("ENOTCONN");
    expect(code(s.shutdown(fd, "sideways" as "wr"))).toBe("EINVAL");
    expect(code(await s.accept(fd))).toBe("EINVAL");
    expect(code(s.setsockopt(fd, "TCP_NODELAY", 3 as unknown as boolean))).toBe("EINVAL");
    expect(code(s.setsockopt(fd, "SO_BOGUS" as "TCP_NODELAY", true))).toBe("ENOPROTOOPT");
    expect(code(s.close(99))).toBe("EBADF");
    expect(code(await s.recv(99))).toBe("EBADF");
  });

  test("EADDRINUSE and SO_REUSEADDR", () => {
    const world = simSocketPair();
    const s = world.b.sockets;
    const l1 = ok(s.socket("tcp"));
    expect(s.bind(l1, 80)).toBeUndefined();
    expect(s.listen(l1)).toBeUndefined();
    const l2 = ok(s.socket("tcp"));
    expect(code(s.bind(l2, 80))).toBe("EADDRINUSE");
    const x = ok(s.socket("tcp"));
    const y = ok(s.socket("tcp"));
    expect(s.bind(x, 81)).toBeUndefined();
    expect(code(s.bind(y, 81))).toBe("EADDRINUSE");
    s.setsockopt(x, "SO_REUSEADDR", true);
    s.setsockopt(y, "SO_REUSEADDR", true);
    expect(s.bind(y, 81)).toBeUndefined();
  });

  test("socket options read back; TCP_NODELAY reaches the TCB", async () => {
    const world = simSocketPair({ wire: { delay: ms(1) } });
    const { sa, cfd } = await connected(world);
    expect(sa.getsockopt(cfd, "TCP_NODELAY")).toBe(false);
    expect(sa.setsockopt(cfd, "TCP_NODELAY", true)).toBeUndefined();
    expect(sa.getsockopt(cfd, "TCP_NODELAY")).toBe(true);
    expect(sa.setsockopt(cfd, "SO_RCVBUF", 8192)).toBeUndefined();
    expect(sa.getsockopt(cfd, "SO_RCVBUF")).toBe(8192);
    expect(sa.getsockopt(cfd, "SO_SNDBUF")).toBe(world.a.host.tcpSettings.sndBuf);
  });

  test("SO_RCVBUF before connect bounds the advertised window", async () => {
    const world = simSocketPair({ wire: { delay: ms(1) } });
    const sa = world.a.sockets;
    const sb = world.b.sockets;
    const lfd = ok(sb.socket("tcp"));
    sb.bind(lfd, 80);
    sb.listen(lfd);
    const fd = ok(sa.socket("tcp"));
    sa.setsockopt(fd, "SO_RCVBUF", 2000);
    await settle(world, sa.connect(fd, "10.0.0.2", 80));
    expect(sa.tcbOf(fd)!.rcvWnd).toBeLessThanOrEqual(2000);
  });
});

describe("UDP sockets", () => {
  test("sendTo / recvFrom, including a datagram that needs IP fragmentation", async () => {
    const world = simSocketPair({ wire: { delay: ms(1) } });
    const sa = world.a.sockets;
    const sb = world.b.sockets;
    const rx = ok(sb.socket("udp"));
    expect(sb.bind(rx, 53)).toBeUndefined();
    const tx = ok(sa.socket("udp"));
    const big = bytes(4000, 5);
    expect(sa.sendTo(tx, bytes(10), "10.0.0.2", 53)).toBe(10);
    expect(sa.sendTo(tx, big, "10.0.0.2", 53)).toBe(4000);
    const m1 = ok(await settle(world, sb.recvFrom(rx)));
    expect(m1.data).toEqual(bytes(10));
    expect(m1.from.addr).toBe(world.a.host.addr);
    const m2 = ok(await settle(world, sb.recvFrom(rx)));
    expect(m2.data).toEqual(big);
    expect(world.a.host.stats().packets["ip.fragments-out"]).toBe(3);
    expect(code(sa.sendTo(tx, new Uint8Array(70_000), "10.0.0.2", 53))).toBe("EMSGSIZE");
  });

  test("non-blocking recvFrom → EAGAIN; connect fixes the peer for send()", async () => {
    const world = simSocketPair();
    const s = world.b.sockets;
    const fd = ok(s.socket("udp"));
    s.bind(fd, 0);
    s.setNonBlocking(fd, true);
    expect(code(await s.recvFrom(fd))).toBe("EAGAIN");
    expect(code(await s.send(fd, bytes(3)))).toBe("EDESTADDRREQ");
    await s.connect(fd, "10.0.0.1", 9);
    expect(await s.send(fd, bytes(3))).toBe(3);
  });
});

describe("fd numbers", () => {
  test("socket() returns the lowest free fd, reusing closed ones lowest first", () => {
    const { b } = simSocketPair();
    const s = b.sockets;
    const fds = Array.from({ length: 6 }, () => ok(s.socket("tcp")));
    expect(fds).toEqual([3, 4, 5, 6, 7, 8]);
    s.close(7);
    s.close(4);
    s.close(5);
    expect([ok(s.socket("udp")), ok(s.socket("tcp")), ok(s.socket("tcp"))]).toEqual([4, 5, 7]);
    expect(ok(s.socket("tcp"))).toBe(9);
  });
});
