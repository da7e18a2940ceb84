import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { Reassembly } from "../../src/tcp/reassembly.ts";
import { seqAdd } from "../../src/wire/seq.ts";
import { fcParams } from "../wire/prop.ts";

describe("Reassembly", () => {
  test("test_reassembly_holds_and_splices_runs", () => {
    const r = new Reassembly(100);
    const base = 0xfffffff0; // across the 2^32 wrap
    expect(r.insert(base, seqAdd(base, 10), new Uint8Array([10, 11, 12]))).toBe(3);
    expect(r.insert(base, seqAdd(base, 11), new Uint8Array([11, 12, 13, 14]))).toBe(2); // overlap
    expect(r.take(base)).toEqual([]); // the gap is open
    const got = r.take(seqAdd(base, 10));
    expect(Buffer.concat(got)).toEqual(Buffer.from([10, 11, 12, 13, 14]));
    expect(r.bytes).toBe(0);
  });

  test("test_reassembly_respects_memory_bound", () => {
    const r = new Reassembly(8);
    expect(r.insert(0, 10, new Uint8Array(5))).toBe(5);
    expect(r.insert(0, 20, new Uint8Array(5))).toBe(3);
    expect(r.bytes).toBe(8);
    expect(r.insert(0, 30, new Uint8Array(5))).toBe(0);
  });

  test("property: segmentation + permutation + duplicates reassemble, within the bound", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 2000 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 1, max: 1500 }),
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 50 }),
        fc.integer(),
        (data, isn, limit, cuts, seed) => {
          // Segment the string (with some overlap) and shuffle, with duplicates.
          const segs: Array<[number, Uint8Array]> = [];
          let off = 0;
          let i = 0;
          while (off < data.length) {
            const len = cuts[i++ % cuts.length]!;
            const start = Math.max(0, off - (len % 7));
            segs.push([start, data.subarray(start, Math.min(data.length, off + len))]);
            off += len;
          }
          let x = seed >>> 0 || 1;
          const rand = (n: number) => {
            x ^= x << 13;
            x ^= x >>> 17;
            x ^= x << 5;
            return (x >>> 0) % n;
          };
          const r = new Reassembly(limit);
          let rcvNxt = isn;
          const out: Uint8Array[] = [];
          // Rounds of "retransmission": every round sends every segment not yet
          // delivered, in a random order with duplicates, until all is through.
          for (
            let round = 0;
            round < 10_000 && out.reduce((n, b) => n + b.length, 0) < data.length;
            round++
          ) {
            const order = [...segs, ...segs.filter(() => rand(3) === 0)];
            for (let k = order.length - 1; k > 0; k--) {
              const j = rand(k + 1);
              [order[k], order[j]] = [order[j]!, order[k]!];
            }
            for (const [start, bytes] of order) {
              const seq = seqAdd(isn, start);
              const delivered = (rcvNxt - isn) >>> 0;
              if (start <= delivered && start + bytes.length > delivered) {
                // In order: take it directly (as the Tcb does), then splice.
                const fresh = bytes.subarray(delivered - start);
                out.push(fresh);
                rcvNxt = seqAdd(rcvNxt, fresh.length);
                for (const c of r.take(rcvNxt)) {
                  out.push(c);
                  rcvNxt = seqAdd(rcvNxt, c.length);
                }
              } else if (start > delivered) {
                r.insert(rcvNxt, seq, bytes);
              }
              if (r.bytes > limit) return false;
            }
          }
          return Buffer.compare(Buffer.concat(out), Buffer.from(data)) === 0;
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("Reassembly runs against a bitmap model", () => {
  test("property: the runs are the merged held bytes, within both bounds, whatever the order", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.array(fc.tuple(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 12 })), {
          maxLength: 200,
        }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 50, max: 400 }),
        (rcvNxt, inserts, holeLimit, limit) => {
          const r = new Reassembly(limit, holeLimit);
          const held = new Uint8Array(320);
          for (const [off, len] of inserts) {
            r.insert(rcvNxt, seqAdd(rcvNxt, off), new Uint8Array(len).fill(off & 0xff));
            // The model: what the runs say is held, byte by byte.
            held.fill(0);
            for (const [s, e] of r.ranges()) {
              for (let x = (s - rcvNxt) >>> 0; x !== (e - rcvNxt) >>> 0; x++) held[x] = 1;
            }
            const runs = r.ranges();
            expect(runs.length).toBeLessThanOrEqual(holeLimit);
            expect(held.reduce((n, b) => n + b, 0)).toBe(r.bytes);
            expect(r.bytes).toBeLessThanOrEqual(limit);
            // Sorted, disjoint and never touching: one run per hole.
            for (let i = 1; i < runs.length; i++) {
              const gap = (runs[i]![0] - runs[i - 1]![1]) >>> 0;
              expect(gap).toBeGreaterThan(0);
              expect(gap).toBeLessThan(320);
            }
          }
        },
      ),
      fcParams(300),
    );
  });
});
