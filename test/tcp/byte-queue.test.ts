import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { instant } from "../../src/clock/time.ts";
import { ByteQueue } from "../../src/tcp/byte-queue.ts";
import { BULK_BUFFERS } from "../../src/tcp/settings.ts";
import { State } from "../../src/tcp/state.ts";
import type { Tcb } from "../../src/tcp/tcb.ts";
import { bytes, connected, pump } from "../stack/util.ts";

describe("ByteQueue: memory follows what is queued", () => {
  test.each([[false], [true]])(
    "against a plain byte list: push (copied or owned), peek, view, take, consume agree (seeded; recycle %p)",
    (recycle) => {
      const op = fc.oneof(
        fc.record({
          kind: fc.constant("push" as const),
          n: fc.integer({ min: 0, max: 3000 }),
          owned: fc.boolean(),
        }),
        fc.record({ kind: fc.constant("consume" as const), n: fc.integer({ min: 0, max: 4000 }) }),
        fc.record({ kind: fc.constant("take" as const), n: fc.integer({ min: 0, max: 4000 }) }),
        fc.record({
          kind: fc.constant("view" as const),
          at: fc.integer({ min: 0, max: 5000 }),
          n: fc.integer({ min: 0, max: 3000 }),
        }),
      );
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 8000 }),
          fc.array(op, { maxLength: 80 }),
          (cap, ops) => {
            const q = new ByteQueue(cap, recycle);
            let model: number[] = [];
            let stamp = 0;
            for (const o of ops) {
              if (o.kind === "push") {
                const data = Uint8Array.from({ length: o.n }, () => ++stamp & 0xff);
                const took = q.push(data, o.owned);
                expect(took).toBe(Math.min(o.n, cap - model.length));
                model = model.concat(Array.from(data.subarray(0, took)));
                if (!o.owned) data.fill(0); // a copied push does not depend on the caller's array
              } else if (o.kind === "consume") {
                q.consume(o.n);
                model = model.slice(Math.min(o.n, model.length));
              } else if (o.kind === "take") {
                const got = q.take(o.n);
                expect(Array.from(got)).toEqual(model.slice(0, o.n));
                model = model.slice(got.length);
              } else {
                expect(Array.from(q.view(o.at, o.n))).toEqual(model.slice(o.at, o.at + o.n));
                expect(Array.from(q.peek(o.at, o.n))).toEqual(model.slice(o.at, o.at + o.n));
              }
              expect(q.length).toBe(model.length);
              expect(q.free).toBe(cap - model.length);
              if (model.length === 0) expect(q.chunkCount).toBe(0);
            }
          },
        ),
        { seed: 3, numRuns: 400 },
      );
    },
  );

  test("a 1 MiB bound allocates nothing until bytes arrive, and lets go of them once consumed", () => {
    const q = new ByteQueue(1 << 20);
    expect(q.chunkCount).toBe(0);
    q.push(new Uint8Array(100));
    q.push(new Uint8Array(100));
    expect(q.chunkCount).toBe(1); // small pushes share a chunk
    q.consume(200);
    expect(q.chunkCount).toBe(0);
  });

  test("a recycling queue writes into a chunk it consumed whole, never into an adopted array", () => {
    const q = new ByteQueue(1 << 20, true);
    q.push(new Uint8Array(65536).fill(1));
    const first = q.view(0, 10).buffer;
    q.push(new Uint8Array(65536).fill(2));
    q.consume(65536); // the first chunk is free again
    q.push(new Uint8Array(65536).fill(3));
    expect(q.view(65536, 10).buffer).toBe(first);
    expect(q.peek(65536, 3)).toEqual(Uint8Array.of(3, 3, 3));
    const adopted = new Uint8Array(4096).fill(9);
    q.push(adopted, true);
    q.consume(q.length - 4096);
    q.consume(4096);
    q.push(new Uint8Array(4096).fill(4));
    expect(adopted[0]).toBe(9); // the caller's array was never written
    // A chunk handed out by take() is the caller's: never recycled.
    q.consume(q.length);
    q.push(new Uint8Array(65536).fill(5));
    q.push(new Uint8Array(65536).fill(6));
    const taken = q.take(65536); // the first chunk itself, the second still queued
    q.push(new Uint8Array(65536).fill(7));
    expect(taken[0]).toBe(5);
    // Emptied, the queue lets go of its spares too: nothing held.
    q.consume(q.length);
    expect(q.chunkCount).toBe(0);
    q.push(new Uint8Array(65536));
    expect(q.view(0, 1).buffer).not.toBe(first);
  });

  test("a stream of one-byte pushes shares chunks: no per-byte overhead", () => {
    const q = new ByteQueue(1 << 20);
    for (let i = 0; i < 100_000; i++) q.push(Uint8Array.of(i & 0xff), true);
    expect(q.length).toBe(100_000);
    expect(q.chunkCount).toBeLessThanOrEqual(100_000 / 1024 + 1);
    expect(q.peek(99_999, 1)[0]).toBe(99_999 & 0xff);
  });
});

describe("lazy buffers in the Tcb", () => {
  test("an idle ESTABLISHED connection with 1 MiB buffers holds no buffer, before and after traffic", () => {
    const { a, b, clients, servers } = connected(3, { ...BULK_BUFFERS });
    const client = clients[0] as Tcb;
    const server = servers[0] as Tcb;
    const held = (t: Tcb) => t.sendBuf.bytes.chunkCount + t.rcvQueue.chunkCount;
    expect(client.state).toBe(State.Established);
    expect(held(client) + held(server)).toBe(0);
    client.setNoDelay(true);
    client.send(bytes(300_000), instant(1));
    pump(a, b, instant(1));
    expect(held(server)).toBeGreaterThan(0); // received, not read yet
    expect(server.recv(1 << 20, instant(2)).length).toBe(300_000);
    pump(a, b, instant(2));
    expect(held(client) + held(server)).toBe(0);
  });
});
