import { describe, expect, test } from "bun:test";
import { EPOCH, instant } from "../../src/clock/time.ts";
import { ChallengeAckLimiter } from "../../src/tcp/challenge.ts";
import { IsnGenerator } from "../../src/tcp/isn.ts";
import { Listener } from "../../src/tcp/listener.ts";
import { resetFor } from "../../src/tcp/reset.ts";
import { State } from "../../src/tcp/state.ts";
import { Tcb } from "../../src/tcp/tcb.ts";
import { seqAdd, seqDiff, seqGt, seqInWindow, seqLt, seqMax, seqMin } from "../../src/wire/seq.ts";
import { fmt, LOCAL, MSS, opts, REMOTE, seg, settings } from "./helpers.ts";

describe("LISTEN (RFC 9293 §3.10.7.2)", () => {
  const make = (backlog = 2, halfOpenLimit?: number, synCookies = true) =>
    new Listener(LOCAL, {
      backlog,
      settings: settings({ synCookies }),
      ...(halfOpenLimit ? { halfOpenLimit } : {}),
    });

  const open = (l: Listener, port: number) => {
    const syn = { ...seg({ flags: "S", seq: 5000, options: MSS }), srcPort: port };
    expect(l.input(syn, { ...REMOTE, port }, EPOCH)).toEqual({ action: "syn" });
    const tcb = Tcb.accept({ ...opts({ remote: { ...REMOTE, port } }), syn });
    l.addHalfOpen(tcb);
    return tcb;
  };

  test("test_listen_rst_ignored", () => {
    expect(make().input(seg({ flags: "R", seq: 1 }), REMOTE, EPOCH)).toEqual({
      action: "drop",
      reason: "rst",
    });
  });

  test("test_listen_ack_gets_rst", () => {
    const v = make().input(seg({ flags: "A", seq: 1, ack: 777 }), REMOTE, EPOCH);
    expect(v.action).toBe("reset");
    if (v.action === "reset") expect(fmt(v.rst)).toBe("R seq=777 ack=0 win=0 len=0");
  });

  test("test_listen_syn_fin_and_plain_segments_dropped", () => {
    // SYN+FIN is dropped only when settings.dropSynFin says so (default: processed).
    const l = new Listener(LOCAL, { backlog: 2, settings: settings({ dropSynFin: "listen" }) });
    expect(l.input(seg({ flags: "SF", seq: 1 }), REMOTE, EPOCH)).toEqual({
      action: "drop",
      reason: "syn-fin",
    });
    expect(l.input(seg({ flags: "P", seq: 1, payload: "x" }), REMOTE, EPOCH)).toEqual({
      action: "drop",
      reason: "no-syn",
    });
  });

  test("test_listen_handshake_moves_to_accept_queue", () => {
    const l = make();
    const tcb = open(l, 1111);
    expect(l.halfOpen.size).toBe(1);
    tcb.input({ ...seg({ flags: "A", seq: 5001, ack: 1001 }), srcPort: 1111 }, instant(10));
    expect(l.halfOpen.size).toBe(0);
    expect(l.acceptQueue).toEqual([tcb]);
    expect(l.accept()).toBe(tcb);
    expect(l.accept()).toBeUndefined();
  });

  test("test_listen_backlog_full_drops_syn", () => {
    const l = make(1, 2, false); // SYN cookies off
    open(l, 1);
    open(l, 2);
    expect(l.input(seg({ flags: "S", seq: 9 }), REMOTE, EPOCH)).toEqual({
      action: "drop",
      reason: "backlog-full",
    });
    expect(l.drops["backlog-full"]).toBe(1);
  });

  test("test_listen_half_open_full_answers_with_a_cookie", () => {
    const l = make(4, 2); // cookies on (the default)
    open(l, 1);
    open(l, 2);
    expect(l.input(seg({ flags: "S", seq: 9 }), REMOTE, instant(7))).toEqual({ action: "cookie" });
    expect(l.lastCookieAt).toBe(instant(7));
    expect(l.halfOpen.size).toBe(2); // nothing kept
  });

  test("test_listen_accept_queue_full_drops_syn_even_with_cookies", () => {
    const l = make(1, 4);
    const tcb = open(l, 1);
    tcb.input({ ...seg({ flags: "A", seq: 5001, ack: 1001 }), srcPort: 1 }, instant(10));
    expect(l.acceptQueue.length).toBe(1);
    expect(l.input(seg({ flags: "S", seq: 9 }), REMOTE, instant(11))).toEqual({
      action: "drop",
      reason: "backlog-full",
    });
  });

  test("test_listen_half_open_reset_is_forgotten", () => {
    const l = make();
    const tcb = open(l, 1);
    tcb.input({ ...seg({ flags: "R", seq: 5001 }), srcPort: 1 }, instant(10));
    expect(l.halfOpen.size).toBe(0);
  });

  test("test_listen_close_aborts_queued", () => {
    const l = make();
    const tcb = open(l, 1);
    tcb.takeOutput();
    l.close(instant(5));
    expect(tcb.state).toBe(State.Closed);
    expect(tcb.takeOutput().map(fmt)).toEqual(["R seq=1001 ack=0 win=0 len=0"]);
    expect(l.input(seg({ flags: "S", seq: 1 }), REMOTE, instant(6))).toEqual({
      action: "drop",
      reason: "closed",
    });
  });
});

describe("CLOSED (RFC 9293 §3.10.7.1): resetFor", () => {
  test("test_closed_syn_gets_rst_ack", () => {
    expect(fmt(resetFor(seg({ flags: "S", seq: 100 }))!)).toBe("RA seq=0 ack=101 win=0 len=0");
  });
  test("test_closed_data_without_ack_counts_fin", () => {
    expect(fmt(resetFor(seg({ flags: "FP", seq: 100, payload: "abc" }))!)).toBe(
      "RA seq=0 ack=104 win=0 len=0",
    );
  });
  test("test_closed_ack_gets_rst_at_seg_ack", () => {
    const rst = resetFor(seg({ flags: "PA", seq: 100, ack: 4242, payload: "x" }))!;
    expect(fmt(rst)).toBe("R seq=4242 ack=0 win=0 len=0");
    expect([rst.srcPort, rst.dstPort]).toEqual([LOCAL.port, REMOTE.port]);
  });
  test("test_closed_rst_gets_nothing", () => {
    expect(resetFor(seg({ flags: "RA", seq: 100, ack: 1 }))).toBeUndefined();
  });
});

describe("ISN (RFC 6528)", () => {
  const secret = new Uint8Array(16).fill(7);
  test("test_isn_fixed", () => {
    expect(new IsnGenerator({ fixed: 42, secret }).next(LOCAL, REMOTE, instant(123))).toBe(42);
  });
  test("test_isn_keyed_by_tuple_and_advancing_with_4us_clock", () => {
    const g = new IsnGenerator({ secret });
    const a0 = g.next(LOCAL, REMOTE, EPOCH);
    expect(g.next(LOCAL, REMOTE, instant(1))).toBe((a0 + 250) >>> 0); // 1 ms = 250 ticks of 4 µs
    expect(g.next(LOCAL, { ...REMOTE, port: REMOTE.port + 1 }, EPOCH)).not.toBe(a0);
    expect(new IsnGenerator({ secret: new Uint8Array(16) }).next(LOCAL, REMOTE, EPOCH)).not.toBe(
      a0,
    );
    expect(new IsnGenerator({ secret }).next(LOCAL, REMOTE, EPOCH)).toBe(a0);
  });
});

describe("challenge ACK limiter (RFC 5961 §7)", () => {
  test("test_challenge_limit_per_second_shared", () => {
    const lim = new ChallengeAckLimiter(2);
    expect([
      lim.allow(EPOCH),
      lim.allow(instant(10)),
      lim.allow(instant(20)),
      lim.allow(instant(999)),
    ]).toEqual([true, true, false, false]);
    expect(lim.allow(instant(1000))).toBe(true);
    expect([lim.sent, lim.suppressed]).toEqual([3, 2]);
  });
});

describe("sequence numbers (RFC 9293 §3.4)", () => {
  test("test_seq_wraps", () => {
    expect(seqAdd(0xffffffff, 2)).toBe(1);
    expect(seqAdd(0, -1)).toBe(0xffffffff);
    expect(seqDiff(1, 0xffffffff)).toBe(2);
    expect(seqLt(0xfffffff0, 5)).toBe(true);
    expect(seqGt(5, 0xfffffff0)).toBe(true);
    expect(seqMax(0xfffffff0, 5)).toBe(5);
    expect(seqMin(0xfffffff0, 5)).toBe(0xfffffff0);
    expect(seqInWindow(3, 0xfffffffe, 10)).toBe(true);
    expect(seqInWindow(8, 0xfffffffe, 10)).toBe(false);
    expect(seqInWindow(5, 5, 0)).toBe(false);
  });
});
