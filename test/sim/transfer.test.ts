import { describe, expect, test } from "bun:test";
import { ms } from "../../src/clock/time.ts";
import { runSimTransfer } from "../../src/runtime/sim-transfer.ts";

const FAULTS = { delay: ms(10), loss: 0.1, reorder: 0.05, duplicate: 0.02, corrupt: 0.01 };
const SEEDS = Array.from({ length: 24 }, (_, i) => i + 1);

describe("transfers over a faulty simulated wire (loss 10%, reorder 5%, duplicate 2%, corrupt 1%)", () => {
  for (const seed of SEEDS) {
    test(`seed ${seed}: 200 KB arrive byte-identical and both ends close`, () => {
      const r = runSimTransfer({ bytes: 200_000, seed, wire: FAULTS });
      const replay = `replay: bun cli/tcplab.ts sim --bytes 200000 --loss 0.1 --reorder 0.05 --duplicate 0.02 --corrupt 0.01 --delay 10 --seed ${seed}`;
      if (!r.ok) throw new Error(`seed ${seed} failed: ${r.failure}\n${replay}`);
      expect(r.receivedSha256).toBe(r.sentSha256);
      expect(r.receivedBytes).toBe(200_000);
      expect(r.a.path.at(-2)).toBe("TIME-WAIT");
      expect(r.a.state).toBe("CLOSED");
      expect(r.b.state).toBe("CLOSED");
      // The faults really happened: something was lost and retransmitted.
      expect(r.wire["a->b"].dropped.loss).toBeGreaterThan(0);
      expect(r.retransmissions).toBeGreaterThan(0);
    });
  }

  test("an ideal wire needs no retransmission and shows no drops", () => {
    const r = runSimTransfer({ bytes: 300_000, seed: 1, wire: { delay: ms(5) } });
    expect(r.ok).toBe(true);
    expect(r.retransmissions).toBe(0);
    expect(r.stats.a.drops).toEqual({});
    expect(r.stats.b.drops).toEqual({});
  });

  test("an empty transfer still opens and closes cleanly", () => {
    const r = runSimTransfer({ bytes: 0, seed: 1, wire: { delay: ms(1) } });
    expect(r.ok).toBe(true);
  });

  test("limits stop a run that cannot finish, and it reports failure", () => {
    const r = runSimTransfer({ bytes: 10_000, seed: 1, wire: { loss: 1 }, maxSimMs: ms(5_000) });
    expect(r.ok).toBe(false);
    expect(r.simulatedMs).toBeLessThanOrEqual(5_000);
    expect(r.failure).toContain("received 0 of 10000");
  });
});
