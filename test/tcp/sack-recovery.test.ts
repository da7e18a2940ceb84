import { describe, expect, test } from "bun:test";
import { EPOCH, instant, ms } from "../../src/clock/time.ts";
import type { TcpSettings } from "../../src/tcp/settings.ts";
import { State } from "../../src/tcp/state.ts";
import type { Tcb } from "../../src/tcp/tcb.ts";
import { seqAdd, seqDiff } from "../../src/wire/seq.ts";
import type { TcpOption, TcpSegment } from "../../src/wire/tcp-types.ts";
import { bytes, rng, seg, settings, synSent } from "./helpers.ts";
import { Pair } from "./pair.ts";

// We are ISS 1000 (first data byte 1001), the peer ISS 5000; MSS 1460, no timestamps.
const SMSS = 1460;
const at = (i: number): number => 1001 + i * SMSS;

/** ESTABLISHED with SACK-permitted on both SYNs (RFC 2018 §2). */
function establishedSack(over: Partial<TcpSettings> = {}): Tcb {
  const tcb = synSent({ congestionControl: "newreno", ...over });
  const options: TcpOption[] = [{ kind: "mss", value: SMSS }, { kind: "sackPermitted" }];
  tcb.input(seg({ flags: "SA", seq: 5000, ack: 1001, options }), EPOCH);
  tcb.takeOutput();
  return tcb;
}

/** An ACK from the peer with SACK blocks given as segment index ranges [from, to). */
function sackAck(tcb: Tcb, ackIdx: number, blocks: Array<[number, number]>, now: number): void {
  const options: TcpOption[] =
    blocks.length > 0
      ? [{ kind: "sack", blocks: blocks.map(([l, r]) => [at(l), at(r)] as const) }]
      : [];
  tcb.input(seg({ flags: "A", seq: 5001, ack: at(ackIdx), options }), instant(now));
}

/** Data segments sent since the last call, by segment index. */
function sentIdx(tcb: Tcb): number[] {
  return tcb
    .takeOutput()
    .filter((s) => s.payload.length > 0)
    .map((s) => (s.seq - 1001) / SMSS);
}

describe("SACK-based loss recovery (RFC 6675)", () => {
  test("of 10 segments, 3 and 6 lost: exactly 3 then 6 are retransmitted, each when IsLost says so", () => {
    const tcb = establishedSack();
    expect(tcb.sackEnabled).toBe(true);
    tcb.send(new Uint8Array(10 * SMSS), EPOCH);
    expect(sentIdx(tcb)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Segment n (1-based) has index n − 1: "3" is index 2 and "6" is index 5.
    sackAck(tcb, 1, [], 50); // segment 1
    sackAck(tcb, 2, [], 51); // segment 2
    sackAck(tcb, 2, [[3, 4]], 52); // 4: duplicate ACK 1
    sackAck(tcb, 2, [[3, 5]], 53); // 5: duplicate ACK 2
    expect(sentIdx(tcb)).toEqual([]);
    sackAck(
      tcb,
      2,
      [
        [6, 7],
        [3, 5],
      ],
      54,
    ); // 7: the third — three segments SACKed above "3"
    expect(sentIdx(tcb)).toEqual([2]);
    const cc = tcb.congestion;
    expect([cc.phase, cc.ssthresh, cc.cwnd]).toEqual(["recovery", 5840, 5840]); // no inflation with SACK
    expect(cc.pipe).toBe(5 * SMSS); // "3" again, "6", 8, 9, 10
    sackAck(
      tcb,
      2,
      [
        [6, 8],
        [3, 5],
      ],
      55,
    ); // 8: "6" has two SACKed above — not lost yet
    expect(sentIdx(tcb)).toEqual([]);
    sackAck(
      tcb,
      2,
      [
        [6, 9],
        [3, 5],
      ],
      56,
    ); // 9: three above — "6" is lost
    // "6" by rule 1; then nothing is lost and no new data waits, so NextSeg()
    // rule 4 sends the rescue retransmission: the highest unSACKed segment, 10.
    expect(sentIdx(tcb)).toEqual([5, 9]);
    expect(cc.sackedRanges).toEqual([
      [at(3), at(5)],
      [at(6), at(9)],
    ]);
    sackAck(
      tcb,
      2,
      [
        [6, 10],
        [3, 5],
      ],
      57,
    ); // 10: nothing left to resend (one rescue per episode)
    expect(sentIdx(tcb)).toEqual([]);
    sackAck(tcb, 5, [[6, 10]], 100); // "3" arrived: a partial ACK
    expect(sentIdx(tcb)).toEqual([]);
    sackAck(tcb, 10, [], 101); // "6" arrived: recovery is over
    expect(sentIdx(tcb)).toEqual([]);
    expect([cc.phase, cc.cwnd]).toEqual(["congestion-avoidance", 5840]);
    expect(cc.stats).toMatchObject({ recoveries: 1, fastRetransmits: 3, timeouts: 0 });
    expect(tcb.retransmissions).toBe(3);
  });

  test("the last segment lost too: the rescue retransmission (NextSeg rule 4) resends it within the episode, once", () => {
    const tcb = establishedSack();
    tcb.send(new Uint8Array(10 * SMSS), EPOCH);
    tcb.takeOutput();
    // Segments 3 and 10 (indices 2 and 9) are lost; 4..9 arrive one by one.
    // Nothing follows 10, so no SACK can ever make it IsLost.
    sackAck(tcb, 1, [], 50);
    sackAck(tcb, 2, [], 51);
    const resent: Array<[number, number[]]> = [];
    for (let top = 4; top <= 9; top++) {
      sackAck(tcb, 2, [[3, top]], 50 + top);
      const out = sentIdx(tcb);
      if (out.length > 0) resent.push([top, out]);
    }
    // 3 on the third duplicate; 10 as soon as cwnd − pipe allows (cwnd = 5 segments,
    // pipe = the resent 3 plus 10 plus what is still unSACKed below it).
    expect(resent).toEqual([
      [6, [2]],
      [8, [9]],
    ]);
    expect(tcb.congestion.stats).toMatchObject({ recoveries: 1, fastRetransmits: 2, timeouts: 0 });
    // The rescue is counted once in pipe (HighRxt is not moved): 3 resent + 10.
    expect(tcb.congestion.pipe).toBe(2 * SMSS);
    // Both repairs arrive: all acknowledged before the retransmission timer (1 s).
    sackAck(tcb, 9, [[9, 10]], 120);
    sackAck(tcb, 10, [], 121);
    expect(sentIdx(tcb)).toEqual([]);
    expect(tcb.sndUna).toBe(at(10));
    expect(tcb.congestion.phase).toBe("congestion-avoidance");
    expect(tcb.congestion.stats.timeouts).toBe(0);
    expect(tcb.retransmissions).toBe(2);
  });

  test("no rescue while new data can still be sent: the tail is then SACK-detectable", () => {
    const tcb = establishedSack();
    tcb.send(new Uint8Array(30 * SMSS), EPOCH);
    expect(sentIdx(tcb)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]); // IW 10
    // The first segment is lost; 2..10 arrive. Sending continues with new data
    // (rule 2), so segment 10 is never rescued: later segments SACK past it.
    const out: number[] = [];
    for (let top = 2; top <= 10; top++) {
      sackAck(tcb, 0, [[1, top]], 50 + top);
      out.push(...sentIdx(tcb));
    }
    expect(out.filter((i) => i < 10)).toEqual([0]);
    expect(out.filter((i) => i >= 10).length).toBeGreaterThan(0);
    expect(tcb.retransmissions).toBe(1);
  });

  test("recovery starts on the first ACK that makes SND.UNA IsLost, before three duplicates", () => {
    const tcb = establishedSack();
    tcb.send(new Uint8Array(10 * SMSS), EPOCH);
    tcb.takeOutput();
    sackAck(tcb, 0, [[1, 4]], 50); // one ACK SACKing three segments above the first
    expect(tcb.congestion.dupAcks).toBe(1);
    expect(sentIdx(tcb)).toEqual([0]);
    expect(tcb.congestion.phase).toBe("recovery");
  });

  test("a D-SACK block (below SND.UNA) marks nothing and is no duplicate ACK; bogus blocks are ignored", () => {
    const tcb = establishedSack();
    tcb.send(new Uint8Array(10 * SMSS), EPOCH);
    tcb.takeOutput();
    sackAck(tcb, 2, [], 50);
    tcb.input(
      seg({
        flags: "A",
        seq: 5001,
        ack: at(2),
        options: [{ kind: "sack", blocks: [[at(0), at(1)]] }],
      }),
      instant(51),
    );
    tcb.input(
      seg({
        flags: "A",
        seq: 5001,
        ack: at(2),
        options: [{ kind: "sack", blocks: [[at(12), at(14)]] }],
      }),
      instant(52),
    );
    expect(tcb.congestion.dupAcks).toBe(0);
    expect(tcb.congestion.sackedRanges).toEqual([]);
  });

  test("a timeout drops the SACK marks (RFC 2018 §8); the resending skips what is SACKed again", () => {
    const tcb = establishedSack();
    tcb.send(new Uint8Array(10 * SMSS), EPOCH);
    tcb.takeOutput();
    sackAck(tcb, 0, [[1, 2]], 50);
    expect(tcb.congestion.sackedRanges).toEqual([[at(1), at(2)]]);
    tcb.onTimer(instant(1000));
    expect(sentIdx(tcb)).toEqual([0]);
    expect(tcb.congestion.sackedRanges).toEqual([]);
    expect([tcb.congestion.phase, tcb.congestion.cwnd]).toEqual(["loss", SMSS]);
    // "0" arrives; the receiver SACKs 2..5: slow start resends 1 and 6, not 2..5.
    sackAck(tcb, 1, [[2, 6]], 1100);
    expect(sentIdx(tcb)).toEqual([1, 6]);
  });

  test("a timeout during fast recovery keeps the recovery's ssthresh: SACKed data is not counted as in flight", () => {
    const tcb = establishedSack({ initialWindow: 20 });
    tcb.send(new Uint8Array(60 * SMSS), EPOCH);
    expect(sentIdx(tcb)).toHaveLength(20);
    // Segment 0 is lost; 1.. arrive and are SACKed: three duplicates, recovery, ssthresh from FlightSize.
    sackAck(tcb, 0, [[1, 2]], 50);
    sackAck(tcb, 0, [[1, 3]], 51);
    sackAck(tcb, 0, [[1, 4]], 52);
    expect(tcb.congestion.phase).toBe("recovery");
    const ssthresh = tcb.congestion.ssthresh;
    // FlightSize / 2 (RFC 5681 equation 4): 22 segments out with the two of limited transmit.
    expect(ssthresh).toBe(11 * SMSS);
    // The rest keeps arriving and being SACKed, so pipe falls and new data goes out (RFC 6675):
    // SND.NXT climbs while the retransmission of 0 is lost too.
    for (let i = 5, t = 60; i <= 40; i++, t++) sackAck(tcb, 0, [[1, i]], t);
    tcb.takeOutput();
    expect(tcb.congestion.flightSize).toBeGreaterThan(30 * SMSS);
    tcb.onTimer(instant(2000));
    expect(tcb.congestion.stats.timeouts).toBe(1);
    // Halving that FlightSize — mostly data that has arrived — would set ssthresh far above
    // what the path carried; the recovery's value stands (as Linux keeps it).
    expect(tcb.congestion.ssthresh).toBe(ssthresh);
    expect([tcb.congestion.phase, tcb.congestion.cwnd]).toEqual(["loss", SMSS]);
  });
});

// ---- two hosts ------------------------------------------------------------

/** Streams `size` bytes from a to b; returns what b read. */
function oneWay(pair: Pair, size: number, until: number): Uint8Array {
  const data = bytes(size, 7);
  let written = 0;
  const got: Uint8Array[] = [];
  pair.run(instant(until), (p) => {
    if (p.a.state === State.Established) {
      while (written < size) {
        const n = p.a.send(data.subarray(written, written + 65536), p.now);
        if (typeof n !== "number" || n === 0) break;
        written += n;
      }
    }
    while (p.b !== undefined && p.b.recvAvailable > 0) got.push(p.b.recv(1 << 20, p.now));
  });
  return Buffer.concat(got);
}

const isData = (s: TcpSegment): boolean => s.payload.length > 0;

describe("two hosts: loss recovered without timeouts", () => {
  for (const cc of ["newreno", "cubic"] as const) {
    for (const sack of [true, false]) {
      test(`${cc}, ${sack ? "SACK (RFC 6675)" : "no SACK (NewReno partial ACKs)"}: the 3rd and 6th segments lost → exactly they are resent`, () => {
        const firstSent: number[] = [];
        const resent: number[] = [];
        const s = settings({ congestionControl: cc, sack });
        const pair = new Pair(
          ms(10),
          {
            drop: (seg, from) => {
              if (from !== "a" || !isData(seg)) return false;
              if (firstSent.includes(seg.seq)) {
                resent.push(seg.seq);
                return false;
              }
              firstSent.push(seg.seq);
              return firstSent.length === 3 || firstSent.length === 6;
            },
          },
          s,
          s,
        );
        const got = oneWay(pair, 40 * 1448, 60_000);
        expect(Buffer.compare(got, bytes(40 * 1448, 7))).toBe(0);
        expect(pair.a.sackEnabled).toBe(sack);
        // Sequence numbers wrap past 2³² here (ISS 0xfffff000): compare modulo.
        expect(resent).toEqual([firstSent[2]!, firstSent[5]!]);
        expect(pair.a.congestion.stats.timeouts).toBe(0);
        expect(pair.a.congestion.stats.recoveries).toBe(1);
        expect(seqDiff(pair.a.sndUna, seqAdd(0xfffff001, 40 * 1448))).toBe(0);
      });
    }
  }

  for (const seed of [1, 2, 3, 4, 5]) {
    test(`2% random loss both ways, seed ${seed}: 1 MB arrives; losses are repaired by fast recovery, rarely by the timer`, () => {
      const r = rng(seed);
      let dataDropped = 0;
      const pair = new Pair(
        ms(10),
        {
          drop: (seg) => {
            const d = r() < 0.02;
            if (d && isData(seg)) dataDropped++;
            return d;
          },
        },
        settings(),
        settings(),
      );
      const size = 1 << 20;
      const got = oneWay(pair, size, 600_000);
      const ok = Buffer.compare(got, bytes(size, 7)) === 0;
      if (!ok) console.error(`failing seed: ${seed}`);
      expect(ok).toBe(true);
      const st = pair.a.congestion.stats;
      // Before congestion control every loss waited for the retransmission
      // timer (≥ 1 s) and resent everything after it (go-back-N).
      expect(st.recoveries).toBeGreaterThan(0);
      expect(st.timeouts * 4).toBeLessThan(dataDropped);
      expect(st.timeouts).toBeLessThan(st.recoveries);
    });
  }
});
