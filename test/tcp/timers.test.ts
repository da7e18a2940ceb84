import { describe, expect, test } from "bun:test";
import { EPOCH, instant, ms } from "../../src/clock/time.ts";
import { State } from "../../src/tcp/state.ts";
import { Tcb } from "../../src/tcp/tcb.ts";
import { established, MSS, opts, out, seg, synReceived } from "./helpers.ts";

/** Fires every deadline until the Tcb is CLOSED or `limit` deadlines passed; returns the times. */
function runTimers(tcb: Tcb, limit = 50): number[] {
  const fired: number[] = [];
  for (let i = 0; i < limit && tcb.state !== State.Closed; i++) {
    const at = tcb.pollAt();
    if (at === undefined) break;
    fired.push(at);
    tcb.onTimer(at);
  }
  return fired;
}

describe("retransmission timer (RFC 6298)", () => {
  test("test_syn_sent_syn_retries_backoff_then_etimedout", () => {
    const tcb = Tcb.connect(opts());
    tcb.takeOutput();
    let err: string | undefined;
    tcb.events = { closed: (_t, e) => (err = e) };
    const fired = runTimers(tcb);
    // 6 retransmissions (RTO 1, 2, 4, 8, 16, 32 s), the 7th expiry (RTO capped at 60 s) gives up.
    expect(fired).toEqual([1000, 3000, 7000, 15000, 31000, 63000, 123000]);
    expect(tcb.retransmissions).toBe(6);
    expect(tcb.state).toBe(State.Closed);
    expect(err).toBe("ETIMEDOUT");
  });

  test("test_syn_received_syn_ack_retries", () => {
    const tcb = synReceived({ synRetries: 2 });
    const fired = runTimers(tcb);
    expect(fired).toEqual([1000, 3000, 7000]);
    expect(tcb.error).toBe("ETIMEDOUT");
  });

  test("test_established_rto_backoff_capped_then_gives_up", () => {
    const tcb = established({ maxRetransmissions: 6, maxRto: ms(8000) });
    tcb.send(new Uint8Array(10), EPOCH);
    expect(out(tcb)).toEqual(["PA seq=1001 ack=5001 win=65535 len=10"]);
    const fired = runTimers(tcb);
    // RTO 1 s → 2, 4, 8, 8, 8, 8 (capped at maxRto); the 7th expiry gives up.
    expect(fired).toEqual([1000, 3000, 7000, 15000, 23000, 31000, 39000]);
    expect(tcb.error).toBe("ETIMEDOUT");
    expect(tcb.retransmissions).toBe(6);
  });

  test("test_established_rto_retransmits_earliest_segment_only", () => {
    const tcb = established();
    tcb.send(new Uint8Array(3000), EPOCH);
    expect(out(tcb)).toHaveLength(2); // 1460 + 1460, the 80-byte tail waits (Nagle)
    tcb.onTimer(instant(1000));
    expect(out(tcb)).toEqual(["A seq=1001 ack=5001 win=65535 len=1460"]);
    expect(tcb.rto).toBe(ms(2000));
    // Its ACK arrives: the rest goes back-N style, from the segment after it.
    tcb.input(seg({ flags: "A", seq: 5001, ack: 2461 }), instant(1100));
    expect(out(tcb)).toEqual(["A seq=2461 ack=5001 win=65535 len=1460"]);
  });

  test("test_karn_no_rtt_sample_from_retransmitted_segment", () => {
    const tcb = established();
    expect(tcb.srtt).toBe(ms(0)); // the SYN-ACK at t=0 gave a 0 ms sample
    tcb.send(new Uint8Array(10), instant(100));
    tcb.onTimer(instant(1100));
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1011 }), instant(1150));
    expect(tcb.srtt).toBe(ms(0));
    expect(tcb.rto).toBe(ms(2000)); // the backed-off RTO stays until a valid sample
    tcb.send(new Uint8Array(10), instant(1200));
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1021 }), instant(1300));
    expect(tcb.srtt).toBe(ms(12.5)); // 7/8·0 + 1/8·100
  });

  test("test_rto_restarts_when_new_data_acked", () => {
    const tcb = established();
    tcb.setNoDelay(true);
    tcb.send(new Uint8Array(10), EPOCH);
    tcb.send(new Uint8Array(10), instant(500));
    expect(tcb.pollAt()).toBe(instant(1000));
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1011 }), instant(600));
    expect(tcb.pollAt()).toBe(instant(600 + tcb.rto));
  });

  test("test_fin_retransmission_and_give_up", () => {
    const tcb = established({ maxRetransmissions: 2 });
    tcb.close(EPOCH);
    expect(out(tcb)).toEqual(["FA seq=1001 ack=5001 win=65535 len=0"]);
    expect(runTimers(tcb)).toEqual([1000, 3000, 7000]);
    expect(tcb.error).toBe("ETIMEDOUT");
  });
});

describe("persist timer (zero window)", () => {
  test("test_zero_window_probes_back_off_and_never_give_up_while_answered", () => {
    const tcb = established({ maxRetransmissions: 3 }, 0);
    tcb.send(new Uint8Array(100), EPOCH);
    expect(out(tcb)).toEqual([]);
    expect(tcb.timers()).toEqual([{ name: "persist", deadline: instant(1000) }]);
    const times: number[] = [];
    for (let i = 0; i < 8; i++) {
      const at = tcb.pollAt()!;
      times.push(at);
      tcb.onTimer(at);
      expect(out(tcb)).toEqual(["A seq=1001 ack=5001 win=65535 len=1"]);
      tcb.input(seg({ flags: "A", seq: 5001, ack: 1001, win: 0 }), instant(at + 10)); // "still zero"
    }
    expect(times).toEqual([1000, 3000, 7000, 15000, 31000, 63000, 123000, 183000]);
    expect(tcb.state).toBe(State.Established);
    expect(tcb.retransmissions).toBe(7);
  });

  test("test_zero_window_probe_accepted_then_window_opens", () => {
    const tcb = established({}, 0);
    tcb.send(new Uint8Array(100), EPOCH);
    tcb.onTimer(instant(1000));
    expect(out(tcb)).toEqual(["A seq=1001 ack=5001 win=65535 len=1"]);
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1002, win: 4000 }), instant(1010));
    expect(out(tcb)).toEqual(["PA seq=1002 ack=5001 win=65535 len=99"]);
    expect(tcb.timers().map((t) => t.name)).toEqual(["retransmission"]);
  });

  test("test_zero_window_probes_unanswered_give_up", () => {
    const tcb = established({ maxRetransmissions: 2 }, 0);
    tcb.send(new Uint8Array(100), EPOCH);
    expect(runTimers(tcb)).toEqual([1000, 3000, 7000]);
    expect(tcb.error).toBe("ETIMEDOUT");
  });

  test("test_sws_small_window_waits_for_override", () => {
    const tcb = established();
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1001, win: 100 }), EPOCH); // window shrinks to 100
    tcb.send(new Uint8Array(4000), instant(10));
    expect(out(tcb)).toEqual([]); // 100 < MSS and < half the largest window (65535/2)
    expect(tcb.timers()).toEqual([{ name: "persist", deadline: instant(1010) }]);
    tcb.onTimer(instant(1010));
    expect(out(tcb)).toEqual(["A seq=1001 ack=5001 win=65535 len=100"]);
  });
});

describe("delayed ACK", () => {
  test("test_delayed_ack_200ms", () => {
    const tcb = established();
    tcb.input(seg({ flags: "PA", seq: 5001, ack: 1001, payload: "a" }), instant(1000));
    tcb.input(seg({ flags: "PA", seq: 5002, ack: 1001, payload: "b" }), instant(1100));
    expect(tcb.timers()).toEqual([{ name: "delayed-ack", deadline: instant(1200) }]);
    tcb.onTimer(instant(1199));
    expect(out(tcb)).toEqual([]);
    tcb.onTimer(instant(1200));
    expect(out(tcb)).toEqual(["A seq=1001 ack=5003 win=65533 len=0"]);
  });

  test("test_delayed_ack_off_acks_every_segment", () => {
    const tcb = established({ delayedAck: ms(0) });
    tcb.input(seg({ flags: "PA", seq: 5001, ack: 1001, payload: "a" }), instant(1000));
    expect(out(tcb)).toEqual(["A seq=1001 ack=5002 win=65534 len=0"]);
  });
});

describe("receive window (RFC 9293 §3.8.6.2.2)", () => {
  test("test_window_never_shrinks_and_opens_only_significantly", () => {
    const tcb = established({ rcvBuf: 4000, delayedAck: ms(0) });
    // The SYN-ACK's ACK advertised 4000.
    tcb.input(
      seg({ flags: "A", seq: 5001, ack: 1001, payload: new Uint8Array(1000) }),
      instant(10),
    );
    expect(out(tcb)).toEqual(["A seq=1001 ack=6001 win=3000 len=0"]);
    tcb.input(
      seg({ flags: "A", seq: 6001, ack: 1001, payload: new Uint8Array(3000) }),
      instant(20),
    );
    expect(out(tcb)).toEqual(["A seq=1001 ack=9001 win=0 len=0"]);
    tcb.recv(100, instant(30)); // 100 free: less than min(rcvBuf/2, MSS) = 1460 — stay shut
    expect(out(tcb)).toEqual([]);
    expect(tcb.rcvWnd).toBe(0);
    tcb.recv(1400, instant(40)); // 1500 free: window update
    expect(out(tcb)).toEqual(["A seq=1001 ack=9001 win=1500 len=0"]);
  });

  test("test_zero_window_data_is_refused_but_ack_processed", () => {
    const tcb = established({ rcvBuf: 1000, delayedAck: ms(0) });
    tcb.setNoDelay(true);
    tcb.input(
      seg({ flags: "A", seq: 5001, ack: 1001, payload: new Uint8Array(1000) }),
      instant(10),
    );
    tcb.takeOutput();
    tcb.send(new Uint8Array(10), instant(20));
    tcb.takeOutput();
    // Window is 0: this data is not taken, but its ACK of our data counts.
    tcb.input(seg({ flags: "PA", seq: 6001, ack: 1011, payload: "xyz" }), instant(30));
    expect(tcb.sndUna).toBe(1011);
    expect(tcb.recvAvailable).toBe(1000);
    expect(out(tcb)).toEqual(["A seq=1011 ack=6001 win=0 len=0"]);
  });
});

describe("MSS", () => {
  test("test_send_mss_is_min_of_peer_and_ours", () => {
    const tcb = Tcb.accept({
      ...opts({}, { mss: 1200 }),
      syn: seg({ flags: "S", seq: 5000, options: MSS }),
    });
    expect(out(tcb)).toEqual(["SA seq=1000 ack=5001 win=65535 len=0 <mss 1200>"]);
    expect(tcb.sndMss).toBe(1200);
  });
});
