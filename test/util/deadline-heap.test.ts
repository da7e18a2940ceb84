import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { DeadlineHeap } from "../../src/util/deadline-heap.ts";

describe("DeadlineHeap", () => {
  test("set inserts, moves and removes; peek is the earliest; ties go by rank", () => {
    const h = new DeadlineHeap<string>();
    h.set("a", 30, 1);
    h.set("b", 10, 2);
    h.set("c", 10, 0);
    expect(h.peek()).toBe(10);
    expect(h.first()?.item).toBe("c");
    h.set("b", 40); // later: moves down, keeps its rank
    h.set("a", undefined);
    expect(h.size).toBe(2);
    expect(h.get("a")).toBeUndefined();
    expect(h.popDue(35)).toEqual(["c"]);
    expect(h.popDue(100)).toEqual(["b"]);
    expect(h.peek()).toBeUndefined();
  });

  test("against a plain list: any sequence of set/delete/popDue agrees (seeded)", () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant("set" as const),
        item: fc.integer({ min: 0, max: 15 }),
        at: fc.option(fc.integer({ min: 0, max: 50 }), { nil: undefined }),
      }),
      fc.record({ kind: fc.constant("pop" as const), now: fc.integer({ min: 0, max: 50 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const heap = new DeadlineHeap<number>();
        const model = new Map<number, { at: number; rank: number }>();
        for (const o of ops) {
          if (o.kind === "set") {
            heap.set(o.item, o.at, o.item);
            if (o.at === undefined) model.delete(o.item);
            else model.set(o.item, { at: o.at, rank: o.item });
          } else {
            const due = [...model.entries()]
              .filter(([, v]) => v.at <= o.now)
              .sort(([, x], [, y]) => x.at - y.at || x.rank - y.rank)
              .map(([k]) => k);
            for (const k of due) model.delete(k);
            expect(heap.popDue(o.now)).toEqual(due);
          }
          const min = Math.min(...[...model.values()].map((v) => v.at));
          expect(heap.peek()).toBe(model.size === 0 ? undefined : min);
          expect(heap.size).toBe(model.size);
        }
      }),
      { seed: 12, numRuns: 300 },
    );
  });
});
