import { describe, expect, test } from "bun:test";
import { instant, ms } from "../../src/clock/time.ts";
import { State } from "../../src/tcp/state.ts";
import { established, out, seg } from "./helpers.ts";

// Keep-alive (RFC 9293 §3.8.4, RFC 1122 §4.2.3.6) and the user timeout
// (RFC 9293 §3.8.3). ESTABLISHED at t=0: we are at SND.NXT 1001, the peer
// at 5001. Times in ms.

const H2 = ms(2 * 60 * 60 * 1000);
const KA = { keepAlive: true, keepAliveIdle: H2, keepAliveInterval: ms(75_000), keepAliveCount: 9 };

describe("keep-alive", () => {
  test("off by default: an idle connection has no timer at all", () => {
    const tcb = established();
    expect(tcb.timers()).toEqual([]);
  });

  test("probes <SEQ=SND.NXT−1> at idle + interval×k; after the 9th goes unanswered, ETIMEDOUT", () => {
    const tcb = established(KA);
    let error: string | undefined = "open";
    tcb.events = { closed: (_t, e) => (error = e) };
    expect(tcb.timers()).toEqual([{ name: "keepalive", deadline: instant(H2) }]);
    tcb.onTimer(instant(H2 - 1));
    expect(out(tcb)).toEqual([]);
    for (let k = 0; k < 9; k++) {
      const at = H2 + 75_000 * k;
      expect(tcb.pollAt()).toBe(instant(at));
      tcb.onTimer(instant(at));
      // An old sequence number and no data: the peer must answer with an ACK.
      expect(out(tcb)).toEqual(["A seq=1000 ack=5001 win=65535 len=0"]);
    }
    expect(tcb.pollAt()).toBe(instant(H2 + 75_000 * 9));
    tcb.onTimer(instant(H2 + 75_000 * 9));
    expect(tcb.state).toBe(State.Closed);
    expect(error).toBe("ETIMEDOUT");
    expect(out(tcb)).toEqual([]);
  });

  test("the peer's answer resets the count and the idle time", () => {
    const tcb = established(KA);
    tcb.onTimer(instant(H2));
    tcb.onTimer(instant(H2 + 75_000));
    expect(out(tcb)).toHaveLength(2);
    // The peer answers the second probe.
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1001 }), instant(H2 + 75_010));
    expect(tcb.state).toBe(State.Established);
    expect(tcb.pollAt()).toBe(instant(H2 + 75_010 + H2));
    expect(tcb.keepAlive.probes).toBe(0);
  });

  test("any traffic from the peer restarts the idle time; no probe while it talks", () => {
    const tcb = established(KA);
    tcb.input(seg({ flags: "PA", seq: 5001, ack: 1001, payload: "hi" }), instant(1_000_000));
    tcb.onTimer(instant(1_000_200)); // the delayed ACK
    expect(out(tcb)).toEqual(["A seq=1001 ack=5003 win=65533 len=0"]);
    expect(tcb.pollAt()).toBe(instant(1_000_000 + H2));
    tcb.onTimer(instant(H2));
    expect(out(tcb)).toEqual([]);
  });

  test("while our data is outstanding the retransmission timer watches the peer, not keep-alive", () => {
    const tcb = established({ ...KA, keepAliveIdle: ms(500) });
    tcb.send(new Uint8Array(10), instant(100));
    expect(out(tcb)).toEqual(["PA seq=1001 ack=5001 win=65535 len=10"]);
    tcb.onTimer(instant(500)); // keep-alive due, but data is in flight: no probe
    expect(out(tcb)).toEqual([]);
    tcb.onTimer(instant(1100)); // the RTO resends the data
    expect(out(tcb)).toEqual(["PA seq=1001 ack=5001 win=65535 len=10"]);
  });

  test("SO_KEEPALIVE can be switched on for a live connection", () => {
    const tcb = established();
    tcb.setKeepAlive(true, instant(50));
    expect(tcb.timers()).toEqual([{ name: "keepalive", deadline: instant(50 + H2) }]);
    tcb.setKeepAlive(false);
    expect(tcb.timers()).toEqual([]);
  });
});

describe("user timeout (RFC 9293 §3.8.3)", () => {
  test("data unacknowledged for the user timeout: ETIMEDOUT before the retransmissions run out", () => {
    const tcb = established({ userTimeout: ms(10_000) });
    tcb.send(new Uint8Array(10), instant(100));
    expect(out(tcb)).toEqual(["PA seq=1001 ack=5001 win=65535 len=10"]);
    expect(tcb.timers()).toEqual([
      { name: "retransmission", deadline: instant(1100) },
      { name: "user-timeout", deadline: instant(10_100) },
    ]);
    for (const at of [1100, 3100, 7100]) {
      tcb.onTimer(instant(at));
      expect(out(tcb)).toEqual(["PA seq=1001 ack=5001 win=65535 len=10"]);
    }
    expect(tcb.pollAt()).toBe(instant(10_100));
    tcb.onTimer(instant(10_100));
    expect(tcb.state).toBe(State.Closed);
    expect(tcb.error).toBe("ETIMEDOUT");
    expect(tcb.retransmissions).toBe(3);
  });

  test("an acknowledgment moves the user timeout to the next unacknowledged segment", () => {
    const tcb = established({ userTimeout: ms(10_000) });
    tcb.setNoDelay(true);
    tcb.send(new Uint8Array(10), instant(100));
    tcb.send(new Uint8Array(10), instant(200));
    tcb.takeOutput();
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1011 }), instant(300));
    expect(tcb.timers().find((t) => t.name === "user-timeout")?.deadline).toBe(instant(10_200));
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1021 }), instant(400));
    expect(tcb.timers().find((t) => t.name === "user-timeout")).toBeUndefined();
    expect(tcb.state).toBe(State.Established);
  });

  test("off by default: the retransmission count decides", () => {
    const tcb = established();
    tcb.send(new Uint8Array(10), instant(100));
    expect(tcb.timers().map((t) => t.name)).toEqual(["retransmission"]);
  });
});
