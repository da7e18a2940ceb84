import { describe, expect, test } from "bun:test";
import { ms } from "../../src/clock/time.ts";
import { RttEstimator } from "../../src/tcp/rtt.ts";

describe("RFC 6298 estimator", () => {
  test("test_rtt_initial_rto", () => {
    expect(new RttEstimator(ms(1000), ms(200), ms(60_000)).rto).toBe(ms(1000));
  });

  test("test_rtt_first_and_later_samples", () => {
    const e = new RttEstimator(ms(1000), ms(200), ms(60_000));
    e.sample(ms(100)); // §2.2: SRTT = R, RTTVAR = R/2, RTO = SRTT + max(G, 4·RTTVAR) = 100 + 200
    expect([e.srtt, e.rttvar, e.rto]).toEqual([ms(100), ms(50), ms(300)]);
    e.sample(ms(200)); // §2.3: RTTVAR = 3/4·50 + 1/4·|100−200| = 62.5; SRTT = 7/8·100 + 1/8·200 = 112.5
    expect([e.srtt, e.rttvar, e.rto]).toEqual([ms(112.5), ms(62.5), ms(362.5)]);
    e.sample(ms(112.5)); // RTTVAR = 3/4·62.5 + 0 = 46.875; SRTT unchanged
    expect([e.srtt, e.rttvar, e.rto]).toEqual([ms(112.5), ms(46.875), ms(300)]);
  });

  test("test_rtt_min_and_max_bounds", () => {
    const e = new RttEstimator(ms(1000), ms(1000), ms(60_000));
    e.sample(ms(10)); // 10 + 20 = 30 → clamped up to 1 s (§2.4)
    expect(e.rto).toBe(ms(1000));
    const slow = new RttEstimator(ms(1000), ms(1000), ms(60_000));
    slow.sample(ms(50_000)); // 50 s + 100 s → clamped to 60 s (§2.5)
    expect(slow.rto).toBe(ms(60_000));
  });

  test("test_rtt_backoff_doubles_to_max", () => {
    const e = new RttEstimator(ms(1000), ms(1000), ms(10_000));
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) {
      e.backoff();
      seen.push(e.rto);
    }
    expect(seen).toEqual([2000, 4000, 8000, 10_000, 10_000]);
  });

  test("test_rtt_syn_retransmitted_rto_3s", () => {
    const e = new RttEstimator(ms(1000), ms(1000), ms(60_000));
    e.afterSynRetransmitted();
    expect(e.rto).toBe(ms(3000));
  });
});
