import { expect, test } from "bun:test";
import { SocketError } from "../../src/api/errors.ts";
import { type SimSocketPair, simSocketPair } from "../../src/api/hosts.ts";
import { instant, ms } from "../../src/clock/time.ts";
import { State } from "../../src/tcp/state.ts";

// SO_KEEPALIVE end to end on the simulated wire (RFC 1122 §4.2.3.6): the
// peer answers the probes while it is there; unplugged, it is given up on.

const turn = () => new Promise<void>((r) => setImmediate(r));

function ok<T>(r: T | SocketError): T {
  if (r instanceof SocketError) throw r;
  return r;
}

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

test("SO_KEEPALIVE: answered probes keep an idle connection; an unplugged peer is dropped with ETIMEDOUT", async () => {
  const tcp = { keepAliveIdle: ms(10_000), keepAliveInterval: ms(1000), keepAliveCount: 3 };
  const world = simSocketPair({ wire: { delay: ms(1) }, host: { tcp } });
  const sa = world.a.sockets;
  const sb = world.b.sockets;
  const lfd = ok(sb.socket("tcp"));
  sb.bind(lfd, 80);
  sb.listen(lfd);
  const fd = ok(sa.socket("tcp"));
  expect(sa.getsockopt(fd, "SO_KEEPALIVE")).toBe(false);
  const accepting = sb.accept(lfd);
  expect(await settle(world, sa.connect(fd, "10.0.0.2", 80))).toBeUndefined();
  ok(await settle(world, accepting));
  expect(sa.setsockopt(fd, "SO_KEEPALIVE", true)).toBeUndefined();
  expect(sa.getsockopt(fd, "SO_KEEPALIVE")).toBe(true);
  const tcb = sa.tcbOf(fd);
  expect(tcb?.keepAlive.on).toBe(true);

  // A minute of silence from the applications: probes go out and are answered.
  world.clock.advanceTo(instant(60_000));
  await turn();
  expect(tcb?.state).toBe(State.Established);
  expect(tcb?.keepAlive.probes).toBe(0);

  // Unplugged: within idle + 3 intervals (+ the last idle start) the connection is given up.
  world.wire.configure("both", { loss: 1 });
  const failed = await settle(world, sa.recv(fd));
  expect(failed instanceof SocketError ? failed.code : failed).toBe("ETIMEDOUT");
  expect(world.clock.now()).toBeLessThanOrEqual(60_000 + 10_000 + 3 * 1000);
});
