import { describe, expect, test } from "bun:test";
import { instant, later, ms } from "../../src/clock/time.ts";
import { State } from "../../src/tcp/state.ts";
import type { Tcb } from "../../src/tcp/tcb.ts";
import { bytes, rng, settings } from "./helpers.ts";
import { Pair } from "./pair.ts";

/** Writes `data` as space allows and reads everything into `sink`; closes when all is written. */
class Stream {
  written = 0;
  readonly received: Uint8Array[] = [];
  eof = false;
  closed = false;
  constructor(
    readonly data: Uint8Array,
    readonly closeWhenDone = true,
  ) {}
  pump(tcb: Tcb | undefined, now: number): void {
    if (tcb === undefined) return;
    if (tcb.state === State.Established || tcb.state === State.CloseWait) {
      while (this.written < this.data.length && tcb.sendSpace > 0) {
        const n = tcb.send(this.data.subarray(this.written, this.written + 50_000), instant(now));
        if (typeof n !== "number" || n === 0) break;
        this.written += n;
      }
      if (this.written === this.data.length && this.closeWhenDone && !this.closed) {
        this.closed = true;
        tcb.close(instant(now));
      }
    }
    while (tcb.recvAvailable > 0) this.received.push(tcb.recv(65536, instant(now)));
    if (tcb.peerClosed) this.eof = true;
  }
  get got(): Uint8Array {
    return Buffer.concat(this.received);
  }
}

function transfer(pair: Pair, size: number, until: number) {
  const fromA = new Stream(bytes(size, 1));
  const fromB = new Stream(bytes(size, 2));
  pair.run(instant(until), (p) => {
    fromA.pump(p.a, p.now);
    fromB.pump(p.b, p.now);
  });
  return { fromA, fromB };
}

describe("two TCBs back to back", () => {
  test("test_transfer_1MB_both_directions_and_close", () => {
    const pair = new Pair(ms(10));
    const size = 1 << 20;
    const { fromA, fromB } = transfer(pair, size, 600_000);
    // a's stream arrives at b (b reads it via fromB.received) and vice versa.
    expect(Buffer.compare(fromB.got, bytes(size, 1))).toBe(0);
    expect(Buffer.compare(fromA.got, bytes(size, 2))).toBe(0);
    expect(fromA.eof && fromB.eof).toBe(true);
    // Both closed at about the same time: whoever closed first went through TIME-WAIT;
    // after 2 MSL both are CLOSED without error.
    expect(pair.a.state).toBe(State.Closed);
    expect(pair.b?.state).toBe(State.Closed);
    expect(pair.a.error).toBeUndefined();
    expect(pair.b?.error).toBeUndefined();
    expect(pair.a.retransmissions + (pair.b?.retransmissions ?? 0)).toBe(0);
  });

  test("test_close_sequence_active_closer_time_wait", () => {
    const pair = new Pair(ms(10));
    pair.run(instant(100));
    expect(pair.a.state).toBe(State.Established);
    expect(pair.b?.state).toBe(State.Established);
    pair.a.close(pair.now);
    pair.run(later(pair.now, ms(100)));
    expect(pair.a.state).toBe(State.FinWait2);
    expect(pair.b?.state).toBe(State.CloseWait);
    // Half-close: b can still send, a still receives.
    pair.b?.send(new TextEncoder().encode("still here"), pair.now);
    pair.run(later(pair.now, ms(500)));
    expect(new TextDecoder().decode(pair.a.recv(100, pair.now))).toBe("still here");
    pair.b?.close(pair.now);
    pair.run(later(pair.now, ms(100)));
    expect(pair.a.state).toBe(State.TimeWait);
    expect(pair.b?.state).toBe(State.Closed);
    pair.run(later(pair.now, ms(2 * 30_000 + 1)));
    expect(pair.a.state).toBe(State.Closed);
  });

  for (const seed of [1, 2, 3, 4, 5]) {
    test(`test_transfer_with_loss_and_reordering seed=${seed}`, () => {
      const r = rng(seed);
      const pair = new Pair(
        ms(10),
        {
          drop: () => r() < 0.05,
          jitter: () => ms(r() < 0.1 ? 25 * r() : 0),
        },
        settings(),
        settings(),
      );
      const size = 200_000;
      const { fromA, fromB } = transfer(pair, size, 3_600_000);
      const ok =
        Buffer.compare(fromB.got, bytes(size, 1)) === 0 &&
        Buffer.compare(fromA.got, bytes(size, 2)) === 0;
      if (!ok) console.error(`failing seed: ${seed}`);
      expect(ok).toBe(true);
      expect(pair.dropped).toBeGreaterThan(0);
      expect(pair.a.retransmissions + (pair.b?.retransmissions ?? 0)).toBeGreaterThan(0);
      expect([State.Closed]).toContain(pair.a.state);
    });
  }
});
