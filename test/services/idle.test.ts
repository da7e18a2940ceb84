/**
 * No connection lives forever without a peer: the built-in services close a
 * connection whose peer has sent nothing for their idle timeout (echo,
 * discard, chargen) or keep-alive timeout (HTTP). On the virtual clock.
 */
import { describe, expect, test } from "bun:test";
import { type SimSocketPair, simSocketPair } from "../../src/api/hosts.ts";
import { instant, ms } from "../../src/clock/time.ts";
import { startEcho } from "../../src/services/echo.ts";
import { startHttp } from "../../src/services/http.ts";
import { startServices } from "../../src/services/index.ts";

const turn = () => new Promise<void>((r) => setImmediate(r));

/** Runs the clock event by event (yielding to promises) up to `until` ms, or until `done()`. */
async function run(world: SimSocketPair, until: number, done: () => boolean = () => false) {
  for (let i = 0; i < 100_000; i++) {
    await turn();
    if (done()) return;
    const next = world.clock.nextDeadline();
    if (next === undefined || next > until) break;
    world.clock.runToNextDeadline();
  }
  await turn();
}

/** `p`'s value, the clock running until it settles. */
async function settle<T>(world: SimSocketPair, p: Promise<T>): Promise<T> {
  let done = false;
  const watched = p.finally(() => {
    done = true;
  });
  await run(world, Number.POSITIVE_INFINITY, () => done);
  return watched;
}

const enc = new TextEncoder();

describe("idle timeouts of the built-in services", () => {
  test("echo closes a connection idle for its timeout; one that talks stays", async () => {
    const world = simSocketPair();
    const echo = startEcho(world.b.net, 7, { idleTimeout: ms(10_000) });
    const quiet = await settle(world, world.a.net.connect("10.0.0.2", 7));
    const chatty = await settle(world, world.a.net.connect("10.0.0.2", 7));
    let quietEnded: number | undefined;
    void quiet.read().then((r) => {
      if (r === null) quietEnded = world.clock.now();
    });
    for (let t = 4000; t <= 24_000; t += 4000) {
      await run(world, t);
      world.clock.advanceTo(instant(t));
      await settle(world, chatty.write(enc.encode("ping")));
      expect(await settle(world, chatty.read())).toEqual(enc.encode("ping"));
    }
    await run(world, 30_000);
    // The quiet one was closed by the server (its FIN: end of stream) at about 10 s.
    expect(quietEnded).toBeGreaterThanOrEqual(10_000);
    expect(quietEnded).toBeLessThan(12_000);
    expect(echo.stats?.()).toEqual({ open: 1, idleClosed: 1 });
    echo.close();
  });

  test("HTTP closes a persistent connection after its keep-alive timeout", async () => {
    const world = simSocketPair();
    const http = startHttp(world.b.net, 80, { idleTimeout: ms(5000) });
    const conn = await settle(world, world.a.net.connect("10.0.0.2", 80));
    await settle(world, conn.write(enc.encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n")));
    let ended: number | undefined;
    void (async () => {
      while ((await conn.read()) !== null) {
        // the page
      }
      ended = world.clock.now();
    })();
    await run(world, 20_000, () => ended !== undefined);
    expect(ended).toBeGreaterThanOrEqual(5000);
    expect(ended).toBeLessThan(7000);
    expect(http.stats?.().idleClosed).toBe(1);
    http.close();
  });

  test("startServices: idle timeouts by default (echo 300 s, HTTP 15 s), 0 turns them off", async () => {
    const world = simSocketPair();
    const services = startServices(world.b.net, world.b.sockets);
    const echo = await settle(world, world.a.net.connect("10.0.0.2", 7));
    let closedAt: number | undefined;
    void echo.read().then(() => {
      closedAt = world.clock.now();
    });
    await run(world, 400_000, () => closedAt !== undefined);
    expect(closedAt).toBeGreaterThanOrEqual(300_000);
    services.close();

    const never = simSocketPair();
    const off = startServices(never.b.net, never.b.sockets, { idleTimeout: ms(0) });
    await settle(never, never.a.net.connect("10.0.0.2", 7));
    await run(never, 1_000_000);
    expect(off.list.find((s) => s.name === "echo")?.stats?.()).toEqual({ open: 1, idleClosed: 0 });
    off.close();
  });
});
