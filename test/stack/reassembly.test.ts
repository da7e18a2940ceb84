import { expect, test } from "bun:test";
import fc from "fast-check";
import { EPOCH, instant } from "../../src/clock/time.ts";
import { Reassembler } from "../../src/stack/reassembly.ts";

test("property: any 8-aligned cutting, any order, any exact duplicates → the original bytes, once", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 3000 }),
      fc.array(fc.nat({ max: 400 }), { maxLength: 12 }),
      fc.array(fc.nat(), { maxLength: 40 }),
      (payload, rawCuts, order) => {
        const cuts = [
          ...new Set(rawCuts.map((c) => c * 8).filter((c) => c > 0 && c < payload.length)),
        ].sort((x, y) => x - y);
        const starts = [0, ...cuts];
        const frags = starts.map((start, i) => {
          const end = starts[i + 1] ?? payload.length;
          return { start, end };
        });
        // Every fragment once in a shuffled order, plus duplicates drawn from `order`.
        const seq = frags.map((_, i) => i);
        for (let i = seq.length - 1; i > 0; i--) {
          const j = (order[i] ?? i) % (i + 1);
          [seq[i], seq[j]] = [seq[j]!, seq[i]!];
        }
        for (const o of order.slice(0, 5)) seq.splice(o % (seq.length + 1), 0, o % frags.length);
        const r = new Reassembler<string>();
        const completed: Uint8Array[] = [];
        for (const i of seq) {
          const f = frags[i]!;
          const res = r.input(
            {
              src: 1,
              dst: 2,
              protocol: 17,
              identification: 9,
              offset: f.start,
              moreFragments: f.end < payload.length,
              payload: payload.slice(f.start, f.end),
              header: "h",
            },
            20,
            EPOCH,
          );
          if (res.kind === "complete") completed.push(res.payload);
          if (res.kind === "drop") expect(res.reason).toBe("fragment-duplicate");
        }
        // Duplicates after completion start a new datagram; they never complete one by themselves
        // unless a whole copy was resent — the first completion is the original.
        expect(completed.length).toBeGreaterThanOrEqual(1);
        expect(completed[0]).toEqual(payload);
      },
    ),
    { numRuns: 300, seed: 42 },
  );
});

test("a second, different last fragment poisons the datagram", () => {
  const r = new Reassembler<null>();
  const frag = (offset: number, len: number, more: boolean) =>
    r.input(
      {
        src: 1,
        dst: 2,
        protocol: 17,
        identification: 1,
        offset,
        moreFragments: more,
        payload: new Uint8Array(len),
        header: null,
      },
      20,
      EPOCH,
    );
  expect(frag(0, 16, true).kind).toBe("pending");
  expect(frag(24, 8, false).kind).toBe("pending");
  expect(frag(16, 24, false)).toEqual({ kind: "drop", reason: "fragment-overlap" });
  expect(frag(0, 16, true)).toEqual({ kind: "drop", reason: "fragment-overlap" });
  expect(r.bytesHeld).toBe(0);
  r.expire(instant(30_000));
  expect(r.datagramsHeld).toBe(0);
});

test("past 65535 bytes is a bad fragment", () => {
  const r = new Reassembler<null>();
  const res = r.input(
    {
      src: 1,
      dst: 2,
      protocol: 17,
      identification: 1,
      offset: 65528,
      moreFragments: false,
      payload: new Uint8Array(16),
      header: null,
    },
    20,
    EPOCH,
  );
  expect(res).toEqual({ kind: "drop", reason: "fragment-bad" });
});
