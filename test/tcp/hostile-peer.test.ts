/**
 * A hostile peer against one Tcb, in every state of RFC 9293 §3.3.2.
 *
 * Each run drives a Tcb (or, for LISTEN, a Listener) into its start state,
 * then feeds it random segments at random increasing times — any flag
 * combination, sequence and acknowledgment numbers at the edges that matter
 * (RCV.NXT ± 1, RCV.NXT + RCV.WND ± 1, SND.UNA ± 1, SND.NXT ± 1, ISS, IRS,
 * the 2^32 wrap) or anywhere, any window, options that parse but make no
 * sense, up to 3000 bytes of text — interleaved with the timers at their
 * deadlines and random user calls. The peer's text always comes from one
 * fixed stream (a byte is a function of its absolute sequence number), so
 * whatever order, overlap or duplication the segments arrive in, what the
 * application reads must be that stream from IRS + 1 on.
 *
 * After every step the properties of `checkStep` hold. A failure prints the
 * fast-check seed and the shrunk run as a trace of explicit segments at
 * explicit times; FC_SEED=<n> replays a seed, HOSTILE_RUNS=<k> multiplies
 * the run counts for a longer soak. Findings are pinned as plain regression
 * tests at the end of the file.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { EPOCH, instant, ms } from "../../src/clock/time.ts";
import { State, stateName } from "../../src/tcp/state.ts";
import { Flag } from "../../src/wire/tcp-types.ts";
import { fcParams } from "../wire/prop.ts";
import { bytes, established, MSS, out, seg, synSent } from "./helpers.ts";
import { ALL_STATES, PERSONALITIES, runScenario, scenarioArb } from "./hostile-peer.ts";

/** HOSTILE_RUNS=<k> multiplies every run count (a local soak); CI runs the base counts. */
const SCALE = Math.max(1, Number(process.env.HOSTILE_RUNS ?? 1));
/**
 * bun's per-test timeout, grown with the soak: a guard against a hang, not
 * a speed bound (the run counts are the work; a loaded machine takes longer).
 */
const TIMEOUT = 120_000 * SCALE;
const runs = (n: number) => ({ ...fcParams(Math.round(n * SCALE)), includeErrorInReport: true });

const RUNS_PER_STATE = 1000;
const ACTIONS = 40;

describe("a Tcb under a hostile peer keeps the RFC's invariants", () => {
  for (const [name, s] of PERSONALITIES) {
    for (const start of ALL_STATES) {
      test(
        `${name}: from ${stateName(start)}`,
        () => {
          fc.assert(
            fc.property(scenarioArb(ACTIONS), (sc) => runScenario(s, start, sc)),
            runs(RUNS_PER_STATE),
          );
        },
        TIMEOUT,
      );
    }
  }
});

// ───────────────────────────── findings, pinned ─────────────────────────────

describe("hostile-peer findings, as explicit segments at explicit times", () => {
  test("keep-alive interval falling due with data outstanding leaves no deadline in the past (was: pollAt() stuck at now)", () => {
    const tcb = established({
      keepAlive: true,
      keepAliveIdle: ms(5000),
      keepAliveInterval: ms(1000),
      keepAliveCount: 3,
    });
    tcb.onTimer(instant(5000)); // idle for keepAliveIdle: a probe <SEQ=SND.NXT-1>
    expect(out(tcb)).toEqual(["A seq=1000 ack=5001 win=65535 len=0"]);
    tcb.send(bytes(1), instant(5000));
    expect(out(tcb)).toEqual(["PA seq=1001 ack=5001 win=65535 len=1"]);
    // The RTO (1 s) and the next keep-alive probe fall due together. The
    // probe is not sent (data is outstanding: the RTO watches the peer) and
    // the idle time starts again — the keep-alive deadline must move on.
    tcb.onTimer(instant(6000));
    expect(out(tcb)).toEqual(["PA seq=1001 ack=5001 win=65535 len=1"]);
    expect(tcb.timers()).toEqual([
      { name: "retransmission", deadline: instant(8000) },
      { name: "keepalive", deadline: instant(11000) },
    ]);
  });

  test("CLOSE in SYN-RECEIVED, text before our SYN is ACKed: the retransmitted SYN-ACK keeps the right edge (was: moved left by 64 KiB)", () => {
    // A receive buffer of 2 × 65535: window scale shift 1.
    const tcb = synSent({ rcvBuf: 131070 });
    // Simultaneous open: the peer's SYN crosses ours.
    tcb.input(
      seg({ flags: "S", seq: 5000, options: [...MSS, { kind: "wscale", shift: 0 }] }),
      EPOCH,
    );
    expect(tcb.state).toBe(State.SynReceived);
    expect(out(tcb)).toEqual(["SA seq=1000 ack=5001 win=65535 len=0 <mss 1460,nop,wscale 1>"]);
    // RFC 9293 §3.10.4: CLOSE with nothing to send: FIN, FIN-WAIT-1.
    tcb.close(EPOCH);
    expect(out(tcb)).toEqual(["FA seq=1001 ack=5001 win=32768 len=0"]);
    // The peer's text, its ACK field still at our ISS: a duplicate ACK, so
    // the text is taken (fifth and seventh steps for FIN-WAIT-1).
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1000, payload: bytes(1000) }), instant(10));
    tcb.onTimer(instant(210)); // the delayed ACK
    const [ack] = tcb.takeOutput();
    expect(ack?.ack).toBe(6001);
    const ackEdge = (ack?.ack ?? 0) + (ack?.window ?? 0) * 2;
    // Our SYN's RTO: the SYN-ACK again, its window unscaled (RFC 7323 §2.2).
    tcb.onTimer(instant(1000));
    const [synAck] = tcb.takeOutput();
    expect(synAck?.flags).toBe(Flag.SYN | Flag.ACK);
    const synAckEdge = (synAck?.ack ?? 0) + (synAck?.window ?? 0);
    // The edge may differ by less than one unit of 2^1 (rounding, RFC 7323 §2.4), no more.
    expect(synAckEdge).toBeGreaterThanOrEqual(ackEdge - 1);
  });
});
