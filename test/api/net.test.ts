import { describe, expect, test } from "bun:test";
import { SocketError } from "../../src/api/errors.ts";
import { type SimSocketPair, simSocketPair } from "../../src/api/hosts.ts";
import type { Connection } from "../../src/api/net.ts";
import { ms } from "../../src/clock/time.ts";

const turn = () => new Promise<void>((r) => setImmediate(r));

/** Drives the virtual clock until `p` settles (promise continuations run between events). */
async function settle<T>(world: SimSocketPair, p: Promise<T>): Promise<T> {
  let done = false;
  const watched = p.finally(() => {
    done = true;
  });
  for (let i = 0; i < 1_000_000; i++) {
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

function bytes(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 13 + 5) & 0xff);
}

describe("Net: promises and streams", () => {
  test("connect / write / for await / end, with a listen callback echoing", async () => {
    const world = simSocketPair({ wire: { delay: ms(3), loss: 0.05 }, seed: 3 });
    // An echo server written as application code.
    const served: Promise<void>[] = [];
    const server = world.b.net.listen(7, (conn: Connection) => {
      served.push(
        (async () => {
          for await (const chunk of conn) await conn.write(chunk);
          await conn.end();
          conn.close();
        })(),
      );
    });
    expect(server.port).toBe(7);
    const client = async () => {
      const conn = await world.a.net.connect("10.0.0.2", 7);
      expect(conn.remote?.port).toBe(7);
      const data = bytes(50_000);
      await conn.write(data);
      await conn.end();
      const echoed = await conn.readAll();
      conn.close();
      return { data, echoed };
    };
    const { data, echoed } = await settle(world, client());
    expect(echoed).toEqual(data);
    await settle(world, Promise.all(served));
    server.close();
  });

  test("connection refused rejects with SocketError ECONNREFUSED", async () => {
    const world = simSocketPair({ wire: { delay: ms(1) } });
    const err = await settle(
      world,
      world.a.net.connect("10.0.0.2", 1).catch((e: unknown) => e),
    );
    expect(err).toBeInstanceOf(SocketError);
    expect((err as SocketError).code).toBe("ECONNREFUSED");
  });

  test("listening twice on a port throws EADDRINUSE; accept() via the iterator", async () => {
    const world = simSocketPair({ wire: { delay: ms(1) } });
    const server = world.b.net.listen(80);
    expect(() => world.b.net.listen(80)).toThrow(SocketError);
    const accepted = (async () => {
      for await (const conn of server) return conn;
      return undefined;
    })();
    const conn = await settle(world, world.a.net.connect("10.0.0.2", 80));
    const peer = await settle(world, accepted);
    expect(peer?.remote?.port).toBe(conn.local?.port);
  });

  test("a Node Duplex over a connection", async () => {
    const world = simSocketPair({ wire: { delay: ms(1) } });
    const server = world.b.net.listen(80);
    const run = async () => {
      const acceptP = server.accept();
      const conn = await world.a.net.connect("10.0.0.2", 80);
      const peer = await acceptP;
      const duplex = conn.toDuplex();
      duplex.end(Buffer.from("hello over a duplex"));
      const got = await peer.readAll();
      return new TextDecoder().decode(got);
    };
    expect(await settle(world, run())).toBe("hello over a duplex");
  });
  test("end(last) sends the bytes then the FIN, in one call; more than the send buffer holds too", async () => {
    const world = simSocketPair({ wire: { delay: ms(2) }, host: { tcp: { sndBuf: 16_384 } } });
    const got: Promise<Uint8Array>[] = [];
    const server = world.b.net.listen(9, (conn) => got.push(conn.readAll()));
    const block = bytes(100_000);
    await settle(
      world,
      (async () => {
        const conn = await world.a.net.connect("10.0.0.2", 9);
        await conn.write(block.subarray(0, 10), { immutable: true });
        // Read-only views, queued without a copy; the rest and the FIN in one call.
        await conn.end(block.subarray(10), { immutable: true });
        await expect(conn.write(bytes(1))).rejects.toMatchObject({ code: "EPIPE" });
        conn.close();
      })(),
    );
    expect(got).toHaveLength(1);
    expect(await settle(world, got[0] as Promise<Uint8Array>)).toEqual(block);
    server.close();
  });
});
