/**
 * A peer that bends the rules to make us work or leak: each test pins one
 * defence of the TCP engine (reassembly bounds, the MSS floor, the burst
 * bound, challenge-ACK limits, keep-alive, partial SACK blocks, the ECN SYN).
 */
import { describe, expect, test } from "bun:test";
import { EPOCH, instant, ms } from "../../src/clock/time.ts";
import { ChallengeAckLimiter } from "../../src/tcp/challenge.ts";
import { hostSettingsFor, personalityNamed } from "../../src/tcp/personality.ts";
import { Reassembly } from "../../src/tcp/reassembly.ts";
import { Scoreboard } from "../../src/tcp/scoreboard.ts";
import type { SentSegment } from "../../src/tcp/send-buffer.ts";
import type { TcpSettings } from "../../src/tcp/settings.ts";
import { State } from "../../src/tcp/state.ts";
import type { Tcb } from "../../src/tcp/tcb.ts";
import { seqAdd } from "../../src/wire/seq.ts";
import { Flag, type TcpOption } from "../../src/wire/tcp-types.ts";
import { bytes, established, fmt, seg, synReceived, synSent } from "./helpers.ts";

/** ESTABLISHED (ISS 1000, peer ISS 5000) after a SYN-ACK carrying `options`. */
function establishedWith(options: TcpOption[], s: Partial<TcpSettings> = {}): Tcb {
  const tcb = synSent(s);
  tcb.input(seg({ flags: "SA", seq: 5000, ack: 1001, options }), EPOCH);
  tcb.takeOutput();
  return tcb;
}

const establishedWithPeerMss = (mss: number, s: Partial<TcpSettings> = {}): Tcb =>
  establishedWith([{ kind: "mss", value: mss }], s);

function personality(name: string): Partial<TcpSettings> {
  const p = personalityNamed(name);
  if (p === undefined) throw new Error(name);
  return hostSettingsFor(p);
}

describe("out-of-order reassembly: merged runs and a bound on holes", () => {
  test("runs that touch merge into one: the list has one entry per hole", () => {
    const r = new Reassembly(1000);
    r.insert(0, 10, new Uint8Array([10]));
    r.insert(0, 12, new Uint8Array([12]));
    r.insert(0, 11, new Uint8Array([11]));
    r.insert(0, 14, new Uint8Array([14, 15]));
    expect(r.ranges()).toEqual([
      [10, 13],
      [14, 16],
    ]);
    r.insert(0, 13, new Uint8Array([13]));
    expect(r.ranges()).toEqual([[10, 16]]);
    expect(r.holes).toBe(1);
    expect([...r.take(10)].flatMap((c) => [...c])).toEqual([10, 11, 12, 13, 14, 15]);
  });

  test("a peer sending every other byte opens at most oooHoleLimit holes; the rest is dropped", () => {
    const tcb = established({ oooHoleLimit: 100 });
    for (let i = 0; i < 1000; i++) {
      tcb.input(seg({ flags: "A", seq: 5001 + 1 + 2 * i, ack: 1001, payload: "x" }), instant(1));
    }
    expect(tcb.reassembly.ranges()).toHaveLength(100);
    expect(tcb.reassembly.bytes).toBe(100);
    expect(tcb.reassembly.holeLimitDrops).toBe(900);
    // A byte that joins a held run opens no hole: it is still taken.
    tcb.input(seg({ flags: "A", seq: 5001 + 2, ack: 1001, payload: "y" }), instant(2));
    expect(tcb.reassembly.bytes).toBe(101);
    expect(tcb.reassembly.ranges()).toHaveLength(99);
    // Filling the first hole delivers everything that is contiguous.
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1001, payload: "z" }), instant(3));
    expect(new TextDecoder().decode(tcb.recv(100, instant(3)))).toBe("zxyx"); // 5001..5004
  });

  test("SACK blocks come from the most recently touched holes, whatever their number", () => {
    const tcb = establishedWith([{ kind: "mss", value: 1460 }, { kind: "sackPermitted" }]);
    for (let i = 0; i < 500; i++) {
      tcb.input(
        seg({ flags: "A", seq: 5001 + 10 * (i + 1), ack: 1001, payload: "ab" }),
        instant(1),
      );
    }
    const last = tcb.takeOutput().at(-1);
    const sack = last?.options.find((o) => o.kind === "sack");
    // The latest segment's block first, then the ones before it (RFC 2018 §4).
    expect(sack?.kind === "sack" ? sack.blocks : []).toEqual([
      [5001 + 5000, 5001 + 5002],
      [5001 + 4990, 5001 + 4992],
      [5001 + 4980, 5001 + 4982],
      [5001 + 4970, 5001 + 4972],
    ]);
  });
});

describe("the MSS floor (CVE-2019-11479) and the burst bound", () => {
  test("a peer's MSS of 1 (or 0) is raised to settings.minMss: 48 bytes, not one", () => {
    for (const mss of [0, 1, 20]) {
      const tcb = establishedWithPeerMss(mss, { nagle: false });
      expect(tcb.sndMss).toBe(48);
      tcb.send(bytes(480), instant(1));
      const sizes = tcb.takeOutput().map((s) => s.payload.length);
      expect(sizes).toEqual(Array(10).fill(48));
    }
  });

  test("each personality sets its own floor: FreeBSD's net.inet.tcp.minmss is 216", () => {
    expect(establishedWithPeerMss(1, personality("freebsd")).sndMss).toBe(216);
    expect(establishedWithPeerMss(1, personality("linux")).sndMss).toBe(48);
    // Our own MSS stays the ceiling: a floor above it does not raise it.
    expect(establishedWithPeerMss(1, { mss: 40 }).sndMss).toBe(40);
  });

  test("one event sends at most settings.maxBurst segments; the ACKs of a burst release the next", () => {
    const tcb = establishedWithPeerMss(48, { initialWindow: 2000, maxBurst: 64 });
    tcb.send(bytes(60_000), instant(1));
    const first = tcb.takeOutput();
    expect(first).toHaveLength(64);
    const last = first.at(-1);
    if (last === undefined) throw new Error("no output");
    tcb.input(
      seg({ flags: "A", seq: 5001, ack: seqAdd(last.seq, last.payload.length) }),
      instant(2),
    );
    expect(tcb.takeOutput()).toHaveLength(64);
  });
});

describe("challenge ACKs leak nothing about other connections (CVE-2016-5696)", () => {
  test("each second's host-wide budget is drawn at random around the limit", () => {
    const budgets = new Set<number>();
    let x = 7;
    const host = new ChallengeAckLimiter(10, () => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return x;
    });
    for (let second = 0; second < 40; second++) {
      let n = 0;
      while (host.allow(instant(second * 1000))) n++;
      expect(n).toBeGreaterThanOrEqual(5);
      expect(n).toBeLessThan(15);
      budgets.add(n);
    }
    expect(budgets.size).toBeGreaterThan(3);
  });
});

describe("keep-alive counts only acceptable segments (RFC 9293 §3.10.7.4)", () => {
  const KEEPALIVE: Partial<TcpSettings> = {
    keepAlive: true,
    keepAliveIdle: ms(5000),
    keepAliveInterval: ms(1000),
    keepAliveCount: 3,
    timestamps: true,
  };

  test("blind junk (out of window, PAWS-old, inexact RST, ACK of unsent data) keeps no dead peer alive", () => {
    const tcb = establishedWith(
      [
        { kind: "mss", value: 1460 },
        { kind: "timestamps", tsVal: 1000, tsEcr: 1 },
      ],
      KEEPALIVE,
    );
    const ts = (tsVal: number) => [{ kind: "timestamps" as const, tsVal, tsEcr: 0 }];
    const junk = [
      seg({ flags: "A", seq: 5001 + 1_000_000, ack: 1001, options: ts(2000) }), // out of window
      seg({ flags: "A", seq: 5001, ack: 1001, options: ts(1) }), // PAWS: older than TS.Recent
      seg({ flags: "R", seq: 5001 + 100, options: ts(2000) }), // in window, not RCV.NXT
      seg({ flags: "A", seq: 5001, ack: 9_000_000, options: ts(2000) }), // acknowledges the unsent
    ];
    let closedAt: number | undefined;
    for (let t = 250; t <= 20_000 && closedAt === undefined; t += 250) {
      const due = tcb.pollAt();
      if (due !== undefined && due <= t) tcb.onTimer(instant(t));
      if (tcb.state === State.Closed) closedAt = t;
      else tcb.input(junk[(t / 250) % junk.length]!, instant(t));
      tcb.takeOutput();
    }
    // Idle 5 s, then three probes a second apart, unanswered: ETIMEDOUT at 8 s.
    expect(tcb.error).toBe("ETIMEDOUT");
    expect(closedAt).toBe(8000);
  });

  test("an acceptable segment still restarts the idle time", () => {
    const tcb = established({ ...KEEPALIVE, timestamps: false });
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1001 }), instant(4000));
    expect(tcb.pollAt()).toBe(instant(9000));
  });
});

describe("SACK blocks that cover part of a segment (RFC 6675 counts octets)", () => {
  function records(n: number, len: number): SentSegment[] {
    return Array.from({ length: n }, (_, i) => ({
      seq: 1000 + i * len,
      len,
      syn: false,
      fin: false,
      probe: false,
      firstSentAt: EPOCH,
      lastSentAt: EPOCH,
      transmissions: 1,
    }));
  }

  test("the covered part counts in pipe and in IsLost's byte rule", () => {
    const recs = records(5, 1000); // 1000..6000
    const board = new Scoreboard();
    // A middlebox cut our segments in two: the peer SACKs the second half of segments 1..4.
    const blocks = [1, 2, 3, 4].map((i) => [1000 + i * 1000 + 500, 1000 + (i + 1) * 1000] as const);
    expect(board.update(recs, 1000, 6000, blocks)).toBe(2000);
    const scan = board.scan(recs, 1000, true);
    // 2000 octets SACKed above segment 0, not more than 2·SMSS: not lost yet;
    // pipe is what is not SACKed: 5000 − 2000.
    expect(scan.pipe).toBe(3000);
    expect(scan.firstLost).toBe(false);
    // The other half of segment 1 completes it (SACKed whole), and 2500
    // octets above segment 0 are more than (DupThresh − 1)·SMSS: it is lost.
    expect(board.update(recs, 1000, 6000, [[2000, 2500]])).toBe(500);
    expect(recs[1]?.sacked).toBe(true);
    expect(board.scan(recs, 1000, true).firstLost).toBe(true);
  });

  test("repeating a partial block counts its bytes once", () => {
    const recs = records(2, 1000);
    const board = new Scoreboard();
    expect(board.update(recs, 1000, 3000, [[2200, 2700]])).toBe(500);
    expect(board.update(recs, 1000, 3000, [[2200, 2700]])).toBe(0);
    expect(board.update(recs, 1000, 3000, [[2600, 2800]])).toBe(100);
  });
});

describe("the opening SYN again, with ECN bits (RFC 3168 §6.1.1)", () => {
  test("a retransmitted SYN carrying ECE and CWR in SYN-RECEIVED gets the SYN-ACK, not a challenge ACK", () => {
    const tcb = synReceived();
    const syn = seg({ flags: "S", seq: 5000, options: [{ kind: "mss", value: 1460 }] });
    tcb.input({ ...syn, flags: Flag.SYN | Flag.ECE | Flag.CWR }, instant(100));
    expect(tcb.takeOutput().map(fmt)).toEqual([
      expect.stringMatching(/^SA seq=1000 ack=5001 /) as unknown as string,
    ]);
    expect(tcb.state).toBe(State.SynReceived);
  });
});
