import { describe, expect, test } from "bun:test";
import { EPOCH, instant, ms } from "../../src/clock/time.ts";
import { HyStartPlusPlus, initialWindow, Reno } from "../../src/tcp/congestion/index.ts";
import type { TcpSettings } from "../../src/tcp/settings.ts";
import type { Tcb } from "../../src/tcp/tcb.ts";
import { established, seg, synSent } from "./helpers.ts";

// We are ISS 1000 (first data byte 1001), the peer ISS 5000; MSS 1460 both ways.
// Data segment i (0-based) of a transfer starts at 1001 + i·1460.
const SMSS = 1460;
const at = (i: number): number => 1001 + i * SMSS;

/** Data segments sent since the last call, as "seq:len". */
function sent(tcb: Tcb): string[] {
  return tcb
    .takeOutput()
    .filter((s) => s.payload.length > 0)
    .map((s) => `${s.seq}:${s.payload.length}`);
}

/** "seq:1460" for segments i..j (inclusive). */
function segs(i: number, j = i): string[] {
  const out: string[] = [];
  for (let k = i; k <= j; k++) out.push(`${at(k)}:${SMSS}`);
  return out;
}

/** An ACK from the peer. */
function ack(tcb: Tcb, a: number, now: number, win = 65535, seq = 5001): void {
  tcb.input(seg({ flags: "A", seq, ack: a, win }), instant(now));
}

function newReno(over: Partial<TcpSettings> = {}): Tcb {
  return established({ congestionControl: "newreno", ...over });
}

describe("initial window (RFC 6928) and restart after idle (RFC 5681 §4.1)", () => {
  test("IW10: the first flight is min(10·MSS, max(2·MSS, 14600)) bytes, not the peer's whole window", () => {
    const tcb = newReno();
    expect(tcb.congestion.cwnd).toBe(14600);
    expect(tcb.congestion.ssthresh).toBe(Number.POSITIVE_INFINITY);
    expect(tcb.congestion.phase).toBe("slow-start");
    tcb.send(new Uint8Array(40 * SMSS), EPOCH);
    expect(sent(tcb)).toEqual(segs(0, 9));
    expect(tcb.congestion.flightSize).toBe(14600);
  });

  test("the formula for other segment sizes: 536 → 5360 bytes, 8960 → 2 segments (17920)", () => {
    expect(initialWindow(536, 10)).toBe(5360);
    expect(initialWindow(8960, 10)).toBe(17920);
    expect(initialWindow(1460, 4)).toBe(5840);
    expect(initialWindow(1460, 1)).toBe(1460);
    // Over a real handshake: a peer without an MSS option means 536-byte segments.
    const tcb = synSent({ congestionControl: "newreno" });
    tcb.input(seg({ flags: "SA", seq: 5000, ack: 1001 }), EPOCH);
    expect(tcb.congestion.cwnd).toBe(5360);
  });

  test("the initialWindow setting: IW4", () => {
    const tcb = newReno({ initialWindow: 4 });
    tcb.send(new Uint8Array(10 * SMSS), EPOCH);
    expect(sent(tcb)).toEqual(segs(0, 3));
  });

  test("our SYN was retransmitted: the initial window is one segment (RFC 5681 §3.1)", () => {
    const tcb = synSent({ congestionControl: "newreno" });
    tcb.onTimer(instant(1000)); // the SYN again
    tcb.takeOutput();
    tcb.input(
      seg({ flags: "SA", seq: 5000, ack: 1001, options: [{ kind: "mss", value: 1460 }] }),
      instant(1050),
    );
    tcb.takeOutput();
    expect(tcb.congestion.cwnd).toBe(SMSS);
    tcb.send(new Uint8Array(5 * SMSS), instant(1050));
    expect(sent(tcb)).toEqual(segs(0));
  });

  test("idle longer than the RTO: cwnd restarts from the initial window", () => {
    for (const restart of [true, false]) {
      const tcb = newReno({ slowStartAfterIdle: restart });
      tcb.send(new Uint8Array(10 * SMSS), EPOCH);
      tcb.takeOutput();
      ack(tcb, at(10), 50); // all acknowledged: 14600 + 2·SMSS
      expect(tcb.congestion.cwnd).toBe(17520);
      tcb.send(new Uint8Array(30 * SMSS), instant(3000)); // 2950 ms idle > RTO (1 s)
      expect(sent(tcb)).toEqual(restart ? segs(10, 19) : segs(10, 21));
    }
  });
});

describe("slow start and congestion avoidance (RFC 5681 §3.1, RFC 3465)", () => {
  test("slow start, ACK by ACK: cwnd grows by the bytes acknowledged, at most 2·SMSS per ACK", () => {
    const tcb = newReno();
    tcb.send(new Uint8Array(40 * SMSS), EPOCH);
    expect(sent(tcb)).toEqual(segs(0, 9));
    const cwnds: number[] = [tcb.congestion.cwnd];
    // One segment acknowledged: +1460, so two segments go (one replaces it, one is growth).
    ack(tcb, at(1), 50);
    cwnds.push(tcb.congestion.cwnd);
    expect(sent(tcb)).toEqual(segs(10, 11));
    // Two segments (a delayed ACK): +2920, four go.
    ack(tcb, at(3), 51);
    cwnds.push(tcb.congestion.cwnd);
    expect(sent(tcb)).toEqual(segs(12, 15));
    // Three segments in one ACK: +2920 only (L = 2·SMSS), five go.
    ack(tcb, at(6), 52);
    cwnds.push(tcb.congestion.cwnd);
    expect(sent(tcb)).toEqual(segs(16, 20));
    expect(cwnds).toEqual([14600, 16060, 18980, 21900]);
    expect(tcb.congestion.flightSize).toBe(21900);
    expect(tcb.congestion.phase).toBe("slow-start");
  });

  test("congestion avoidance: +1 SMSS once a whole cwnd of bytes is acknowledged (byte counting)", () => {
    const reno = new Reno(1000, 10_000);
    reno.start(1000, 20_000);
    reno.onEnterRecovery(20_000, EPOCH, true); // ssthresh = 10000, cwnd = 13000
    reno.onExitRecovery(EPOCH); // cwnd = ssthresh
    expect([reno.cwnd, reno.ssthresh, reno.phase]).toEqual([
      10_000,
      10_000,
      "congestion-avoidance",
    ]);
    const seen: number[] = [];
    for (let i = 0; i < 21; i++) {
      reno.onAck(1000, instant(i), ms(100));
      seen.push(reno.cwnd);
    }
    // 10 ACKs of 1000 bytes = one cwnd → 11000; then 11 more → 12000.
    expect(seen.slice(0, 9).every((c) => c === 10_000)).toBe(true);
    expect(seen[9]).toBe(11_000);
    expect(seen[19]).toBe(11_000);
    expect(seen[20]).toBe(12_000);
  });

  test("slow start stops at ssthresh; the rest of that ACK counts towards congestion avoidance", () => {
    const reno = new Reno(1000, 4000);
    reno.start(1000, 4000);
    reno.onRto(12_000, EPOCH, false); // ssthresh 6000, cwnd 1000 (loss)
    reno.onExitRecovery(EPOCH);
    reno.onAck(2000, instant(1)); // 3000
    reno.onAck(2000, instant(2)); // 5000
    reno.onAck(2000, instant(3)); // 6000 (1000 to CA)
    expect([reno.cwnd, reno.phase]).toEqual([6000, "congestion-avoidance"]);
  });
});

describe("HyStart++ (RFC 9406)", () => {
  test("a rising RTT ends slow start: CSS grows at a quarter for 5 rounds, then congestion avoidance", () => {
    const reno = new Reno(1000, 10_000);
    reno.start(1000, 10_000);
    const hy = new HyStartPlusPlus();
    reno.hystart = hy;
    let una = 0;
    let now = 0;
    /** One round: 8 ACKs of 1000 bytes, each with an RTT sample of `rtt` ms. */
    const round = (rtt: number): void => {
      const nxt = una + 8001; // SND.NXT when the round began
      for (let i = 0; i < 8; i++) {
        una += 1000;
        hy.onAck(una, nxt, ms(rtt));
        reno.onAck(1000, instant(now++), ms(rtt));
      }
    };
    round(50);
    round(50); // no increase: standard slow start, +1000 per ACK
    expect([reno.cwnd, hy.inCss]).toEqual([26_000, false]);
    // Min RTT 60 ≥ 50 + clamp(50/8, 4, 16) = 56.25 after 8 samples: CSS from the 8th ACK on.
    round(60);
    expect([reno.cwnd, hy.inCss]).toEqual([26_000 + 7 * 1000 + 250, true]);
    for (let r = 0; r < 4; r++) round(60);
    expect(reno.cwnd).toBe(33_250 + 4 * 8 * 250);
    expect(reno.phase).toBe("slow-start");
    round(60); // the 5th CSS round is over: ssthresh = cwnd
    expect([reno.ssthresh, reno.phase, hy.active]).toEqual([41_250, "congestion-avoidance", false]);
  });
});

describe("fast retransmit and fast recovery (RFC 5681 §3.2, RFC 6582 NewReno, RFC 3042)", () => {
  test("limited transmit on duplicate ACKs 1 and 2; the third retransmits exactly SND.UNA's segment", () => {
    const tcb = newReno();
    tcb.send(new Uint8Array(40 * SMSS), EPOCH);
    expect(sent(tcb)).toEqual(segs(0, 9));
    // Segment 0 is lost; segments 1, 2, 3 each bring a duplicate ACK.
    ack(tcb, at(0), 50);
    expect(sent(tcb)).toEqual(segs(10)); // RFC 3042: one new segment
    ack(tcb, at(0), 51);
    expect(sent(tcb)).toEqual(segs(11));
    expect(tcb.congestion.cwnd).toBe(14600); // limited transmit leaves cwnd alone
    ack(tcb, at(0), 52);
    expect(sent(tcb)).toEqual(segs(0)); // fast retransmit, nothing else
    const cc = tcb.congestion;
    // FlightSize was 12 segments: ssthresh = 17520 / 2, cwnd = ssthresh + 3·SMSS.
    expect([cc.ssthresh, cc.cwnd, cc.phase]).toEqual([8760, 8760 + 3 * SMSS, "recovery"]);
    expect(cc.recoveryPoint).toBe(at(12));
    expect(cc.stats).toMatchObject({
      dupAcks: 3,
      recoveries: 1,
      fastRetransmits: 1,
      limitedTransmits: 2,
    });
    expect(tcb.retransmissions).toBe(1);
  });

  test("in recovery each further duplicate ACK inflates cwnd by SMSS; new data once cwnd − flight allows", () => {
    const tcb = newReno();
    tcb.send(new Uint8Array(40 * SMSS), EPOCH);
    tcb.takeOutput();
    for (let i = 0; i < 3; i++) ack(tcb, at(0), 50 + i);
    tcb.takeOutput();
    const cwnds: number[] = [];
    const outs: string[][] = [];
    for (let i = 0; i < 4; i++) {
      ack(tcb, at(0), 60 + i);
      cwnds.push(tcb.congestion.cwnd);
      outs.push(sent(tcb));
    }
    expect(cwnds).toEqual([14600, 16060, 17520, 18980]);
    expect(outs).toEqual([[], [], [], segs(12)]); // flight is 17520 until cwnd passes it
    // A full ACK (all up to the recovery point): recovery ends with cwnd = ssthresh.
    ack(tcb, at(12), 100);
    expect([tcb.congestion.cwnd, tcb.congestion.phase]).toEqual([8760, "congestion-avoidance"]);
    // Segment 12 is still out: 8760 − 1460 leaves room for five more.
    expect(sent(tcb)).toEqual(segs(13, 17));
  });

  test("NewReno partial ACK: the next hole is retransmitted at once and cwnd deflates", () => {
    const tcb = newReno();
    tcb.send(new Uint8Array(10 * SMSS), EPOCH);
    expect(sent(tcb)).toEqual(segs(0, 9));
    // Segments 0 and 4 are lost. 1, 2, 3 arrive: three duplicate ACKs.
    for (let i = 0; i < 3; i++) ack(tcb, at(0), 50 + i);
    expect(sent(tcb)).toEqual(segs(0)); // no new data to send on dup 1 and 2
    const cc = tcb.congestion;
    expect([cc.ssthresh, cc.cwnd]).toEqual([7300, 7300 + 3 * SMSS]);
    // 5..9 arrive: five more duplicates, cwnd inflates to 18980.
    for (let i = 0; i < 5; i++) ack(tcb, at(0), 53 + i);
    expect(cc.cwnd).toBe(18980);
    expect(sent(tcb)).toEqual([]);
    // The retransmitted segment 0 arrives: ACK of 0..3 — partial (below the recovery point).
    ack(tcb, at(4), 100);
    expect(sent(tcb)).toEqual(segs(4)); // exactly the next hole
    // RFC 6582 §3.2 step 5: deflate by the 4 segments acknowledged, add back one SMSS.
    expect(cc.cwnd).toBe(18980 - 4 * SMSS + SMSS);
    expect(cc.phase).toBe("recovery");
    // Segment 4 arrives: everything acknowledged — a full ACK.
    ack(tcb, at(10), 150);
    expect([cc.cwnd, cc.ssthresh, cc.phase]).toEqual([7300, 7300, "congestion-avoidance"]);
    expect(cc.stats).toMatchObject({
      recoveries: 1,
      fastRetransmits: 2,
      partialAcks: 1,
      timeouts: 0,
    });
  });

  test("limited transmit can be switched off", () => {
    const tcb = newReno({ limitedTransmit: false });
    tcb.send(new Uint8Array(40 * SMSS), EPOCH);
    tcb.takeOutput();
    ack(tcb, at(0), 50);
    ack(tcb, at(0), 51);
    expect(sent(tcb)).toEqual([]);
    ack(tcb, at(0), 52);
    expect(sent(tcb)).toEqual(segs(0));
  });

  test("only RFC 5681 §2 duplicates count: not with data, a new window, or nothing outstanding", () => {
    const tcb = newReno();
    tcb.send(new Uint8Array(10 * SMSS), EPOCH);
    tcb.takeOutput();
    tcb.input(seg({ flags: "A", seq: 5001, ack: at(0), payload: "hello" }), instant(50)); // carries data
    ack(tcb, at(0), 51, 60000, 5006); // the window changed
    expect(tcb.congestion.dupAcks).toBe(0);
    ack(tcb, at(0), 52, 60000, 5006); // same ack, same window: a duplicate
    expect(tcb.congestion.dupAcks).toBe(1);
    const idle = newReno();
    ack(idle, 1001, 10);
    ack(idle, 1001, 11);
    ack(idle, 1001, 12);
    expect(idle.congestion.dupAcks).toBe(0); // nothing outstanding
  });
});

describe("retransmission timeout (RFC 5681 §3.1, RFC 6298 §5)", () => {
  test("an RTO: cwnd = 1 SMSS, ssthresh = FlightSize / 2, only the earliest segment goes", () => {
    const tcb = newReno();
    tcb.send(new Uint8Array(10 * SMSS), EPOCH);
    expect(sent(tcb)).toEqual(segs(0, 9));
    tcb.onTimer(instant(1000));
    expect(sent(tcb)).toEqual(segs(0));
    const cc = tcb.congestion;
    expect([cc.cwnd, cc.ssthresh, cc.phase]).toEqual([SMSS, 7300, "loss"]);
    expect(cc.stats.timeouts).toBe(1);
    expect(cc.recoveryPoint).toBe(at(10));
  });

  test("after the RTO the rest is resent in slow start as ACKs come back, skipping what arrived", () => {
    const tcb = newReno();
    tcb.send(new Uint8Array(10 * SMSS), EPOCH);
    tcb.takeOutput();
    tcb.onTimer(instant(1000));
    tcb.takeOutput();
    ack(tcb, at(1), 1100); // segment 0 acknowledged: cwnd 2·SMSS (L = 1 SMSS after an RTO)
    expect(tcb.congestion.cwnd).toBe(2 * SMSS);
    expect(sent(tcb)).toEqual(segs(1, 2));
    ack(tcb, at(3), 1200);
    expect(tcb.congestion.cwnd).toBe(3 * SMSS);
    expect(sent(tcb)).toEqual(segs(3, 5));
    // The receiver held 6..9 already: one cumulative ACK covers all — loss recovery is over.
    ack(tcb, at(10), 1300);
    expect(sent(tcb)).toEqual([]);
    // Out of "loss": slow start again (L = 2·SMSS), up to ssthresh = 7300.
    expect(tcb.congestion.cwnd).toBe(7300);
    expect(tcb.congestion.phase).toBe("congestion-avoidance");
    expect(tcb.retransmissions).toBe(6); // 0 (timer) and 1..5 (slow start); never 6..9
  });

  test("a repeated RTO for the same data keeps ssthresh and backs off", () => {
    const tcb = newReno();
    tcb.send(new Uint8Array(10 * SMSS), EPOCH);
    tcb.takeOutput();
    tcb.onTimer(instant(1000));
    tcb.onTimer(instant(3000));
    expect(sent(tcb)).toEqual([...segs(0), ...segs(0)]);
    expect([tcb.congestion.cwnd, tcb.congestion.ssthresh]).toEqual([SMSS, 7300]);
    expect(tcb.congestion.stats.timeouts).toBe(2);
  });

  test("no fast retransmit for duplicate ACKs below the recovery point after an RTO (RFC 6582 §3.2 step 1)", () => {
    const tcb = newReno();
    tcb.send(new Uint8Array(10 * SMSS), EPOCH);
    tcb.takeOutput();
    tcb.onTimer(instant(1000));
    tcb.takeOutput();
    for (let i = 0; i < 4; i++) ack(tcb, at(0), 1100 + i);
    expect(sent(tcb)).toEqual([]);
    expect(tcb.congestion.phase).toBe("loss");
    expect(tcb.congestion.stats.recoveries).toBe(0);
  });
});
