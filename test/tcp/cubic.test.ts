import { describe, expect, test } from "bun:test";
import { EPOCH, instant, ms } from "../../src/clock/time.ts";
import { Cubic } from "../../src/tcp/congestion/index.ts";
import { established, seg } from "./helpers.ts";

// RFC 9438 constants, written out here rather than read from the implementation.
const C = 0.4;
const BETA = 0.7;
const ALPHA = (3 * (1 - BETA)) / (1 + BETA);
const SMSS = 1000;

/** RFC 9438 Figure 1 in segments: W_cubic(t) = C·(t − K)³ + W_max. */
const wCubic = (t: number, k: number, wMax: number): number => C * (t - k) ** 3 + wMax;

/** A controller that has just left fast recovery after a loss at `wMax` segments. */
function afterLoss(wMaxSegs: number): Cubic {
  const c = new Cubic(SMSS, 10 * SMSS);
  c.start(SMSS, wMaxSegs * SMSS);
  c.onEnterRecovery(wMaxSegs * SMSS, EPOCH, false);
  c.onExitRecovery(EPOCH);
  return c;
}

/**
 * An ACK clock: one ACK per SMSS, cwnd of them per RTT, evenly spaced, from
 * `from` until `until` (ms). Returns the time of the last ACK.
 */
function ackClock(c: Cubic, from: number, until: number, rtt: number): number {
  let now = from;
  while (now < until) {
    c.onAck(SMSS, instant(now), ms(rtt));
    now += rtt / (c.cwnd / SMSS);
  }
  return now;
}

describe("CUBIC (RFC 9438)", () => {
  test("multiplicative decrease: cwnd and ssthresh become β·cwnd; W_max is the window before", () => {
    const c = new Cubic(SMSS, 10 * SMSS);
    c.start(SMSS, 100 * SMSS);
    c.onEnterRecovery(100 * SMSS, EPOCH, false);
    expect([c.ssthresh, c.cwnd, c.wMax]).toEqual([70 * SMSS, 70 * SMSS, 100 * SMSS]);
    expect(c.phase).toBe("recovery");
    c.onExitRecovery(instant(5));
    expect([c.cwnd, c.phase]).toEqual([70 * SMSS, "congestion-avoidance"]);
  });

  test("K = ∛(W_max(1 − β)/C), and single ACKs move cwnd towards W_cubic(t + RTT)", () => {
    const c = afterLoss(100);
    const K = Math.cbrt((100 * (1 - BETA)) / C); // ≈ 4.217 s
    // The first ACK in congestion avoidance (at 1 s) starts the epoch: t = 0.
    c.onAck(SMSS, instant(1000), ms(100));
    expect(c.k).toBeCloseTo(K, 12);
    // At t = 0, W_cubic = cwnd_epoch = 70 and W_est has just grown past it:
    // the Reno-friendly region, cwnd = W_est (§4.3).
    let west = 70 + ALPHA * (1 / 70);
    expect(c.cwnd).toBe(Math.floor(west * SMSS));
    let cw = west;
    // Chosen times into the epoch: 2 s (concave), K + 1 s (convex), K + 3 s.
    for (const t of [2, K + 1, K + 3]) {
      c.onAck(SMSS, instant(1000 + t * 1000), ms(100));
      west += ALPHA * (1 / cw);
      const target = Math.min(Math.max(wCubic(t + 0.1, K, 100), cw), 1.5 * cw);
      expect(wCubic(t, K, 100)).toBeGreaterThan(west); // the cubic region
      cw += (target - cw) / cw; // one segment acknowledged
      expect(c.cwnd).toBe(Math.floor(cw * SMSS));
    }
  });

  test("with an ACK clock, cwnd follows W_cubic(t) through the concave and convex regions", () => {
    // W_max = 1000 segments at 100 ms: W_cubic stays above the Reno estimate (W_est
    // gains only α per RTT), so this is CUBIC's own curve.
    const c = afterLoss(1000);
    const K = Math.cbrt((1000 * (1 - BETA)) / C); // ≈ 9.09 s
    const rtt = 100;
    let now = 0;
    const seen: string[] = [];
    for (const t of [1, 4, K - 1, K, K + 2, K + 5]) {
      now = ackClock(c, now, t * 1000, rtt);
      const expected = wCubic(now / 1000, K, 1000);
      const got = c.cwnd / SMSS;
      expect(got).toBeGreaterThan(c.wEst / SMSS);
      if (Math.abs(got - expected) / expected > 0.01) {
        seen.push(`t=${t.toFixed(3)} s: cwnd ${got.toFixed(2)} vs W_cubic ${expected.toFixed(2)}`);
      }
    }
    expect(seen).toEqual([]);
    // Concave up to K (a plateau at W_max), then convex: probing beyond W_max.
    expect(c.cwnd / SMSS).toBeGreaterThan(1045);
  });

  test("Reno-friendly region: with a short RTT and small W_max, cwnd = W_est (α, then 1 per RTT)", () => {
    const c = afterLoss(10);
    const K = Math.cbrt((10 * (1 - BETA)) / C); // ≈ 1.96 s
    const rtt = 10;
    // Our own W_est, in segments: +α·acked/cwnd per ACK, α = 1 once W_est ≥ cwnd_prior (10).
    let west = 7;
    let now = 0;
    while (now < 500) {
      c.onAck(SMSS, instant(now), ms(rtt));
      west += (west >= 10 ? 1 : ALPHA) / west; // one segment acknowledged; cwnd = W_est here
      now += rtt / (c.cwnd / SMSS);
    }
    expect(c.cwnd / SMSS).toBeCloseTo(west, 2); // cwnd is whole bytes
    expect(wCubic(now / 1000, K, 10)).toBeLessThan(west); // below the Reno estimate
    // About 0.5 s at 10 ms per RTT: ~6 RTTs at α ≈ 0.53, then +1 per RTT.
    expect(west).toBeGreaterThan(45);
    expect(west).toBeLessThan(55);
  });

  test("fast convergence: a loss below the previous W_max lowers W_max to cwnd·(1 + β)/2", () => {
    for (const fast of [true, false]) {
      const c = afterLoss(100); // W_max 100, cwnd 70
      c.fastConvergence = fast;
      c.onAck(SMSS, EPOCH, ms(100));
      ackClock(c, 0, 1000, 100); // grows to ~87 segments, still below W_max
      const cwnd = c.cwnd;
      expect(cwnd).toBeLessThan(100 * SMSS);
      c.onEnterRecovery(cwnd, instant(1000), false);
      expect(c.wMax).toBeCloseTo(fast ? (cwnd * (1 + BETA)) / 2 : cwnd, -1);
      expect(c.ssthresh).toBeCloseTo(cwnd * BETA, -1);
    }
  });

  test("timeout: cwnd = 1 SMSS, ssthresh = β·cwnd; the next epoch starts with K = 0 and W_max = cwnd_epoch", () => {
    const c = new Cubic(SMSS, 10 * SMSS);
    c.start(SMSS, 40 * SMSS);
    c.onRto(40 * SMSS, EPOCH, false);
    expect([c.cwnd, c.ssthresh, c.phase]).toEqual([SMSS, 28 * SMSS, "loss"]);
    c.onExitRecovery(instant(10));
    // Slow start (2·SMSS per ACK of 2 segments) up to ssthresh.
    let now = 10;
    while (c.cwnd < c.ssthresh) {
      now += 10;
      c.onAck(2 * SMSS, instant(now), ms(100));
    }
    // The ACK that reached ssthresh began congestion avoidance.
    expect(c.k).toBe(0);
    expect(c.wMax).toBe(28 * SMSS);
    expect(c.epochStart).toBe(instant(now));
  });

  test("a Tcb uses CUBIC by default: a triple duplicate ACK sets ssthresh = cwnd = 0.7·cwnd", () => {
    const tcb = established();
    expect(tcb.congestion.name).toBe("cubic");
    tcb.send(new Uint8Array(10 * 1460), EPOCH);
    tcb.takeOutput();
    for (let i = 0; i < 3; i++)
      tcb.input(seg({ flags: "A", seq: 5001, ack: 1001 }), instant(50 + i));
    const out = tcb.takeOutput().filter((s) => s.payload.length > 0);
    expect(out.map((s) => s.seq)).toEqual([1001]);
    // No SACK negotiated: NewReno-style recovery with CUBIC's decrease (+3 SMSS inflation).
    expect(tcb.congestion.ssthresh).toBe(Math.floor(14600 * BETA));
    expect(tcb.congestion.cwnd).toBe(Math.floor(14600 * BETA) + 3 * 1460);
  });
});
