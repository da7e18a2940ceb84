/**
 * Segment size bounded to half the largest window the peer has offered
 * (settings.boundToHalfWindow, Linux's tcp_bound_to_half_wnd): a window of
 * less than two MSS still carries two segments per round trip.
 */
import { describe, expect, test } from "bun:test";
import { EPOCH, instant } from "../../src/clock/time.ts";
import { Tcb } from "../../src/tcp/tcb.ts";
import { established, opts, out, seg } from "./helpers.ts";

describe("segments bounded to half of MAX.SND.WND", () => {
  test("a 1000-byte window with MSS 1460: two 500-byte segments, not one of 1000", () => {
    const tcb = established({}, 1000);
    expect(tcb.sndSegmentSize).toBe(500);
    tcb.send(new Uint8Array(4000), instant(10));
    expect(out(tcb)).toEqual([
      "A seq=1001 ack=5001 win=65535 len=500",
      "A seq=1501 ack=5001 win=65535 len=500",
    ]);
    // Off: the RFC's rule alone — one segment as large as the window.
    const plain = established({ boundToHalfWindow: false }, 1000);
    plain.send(new Uint8Array(4000), instant(10));
    expect(out(plain)).toEqual(["A seq=1001 ack=5001 win=65535 len=1000"]);
  });

  test("a large window leaves the MSS alone; a tiny one (≤ 536) is not halved", () => {
    expect(established({}, 65535).sndSegmentSize).toBe(1460);
    expect(established({}, 400).sndSegmentSize).toBe(400);
  });

  test("64 KiB MTU without window scaling: MSS 65495 against a 65535 window — two segments per window", () => {
    const s = { mss: 65495, windowScaling: false, timestamps: false, sack: false };
    const tcb = Tcb.connect(opts({}, s));
    tcb.takeOutput();
    tcb.input(
      seg({
        flags: "SA",
        seq: 5000,
        ack: 1001,
        win: 65535,
        options: [{ kind: "mss", value: 65495 }],
      }),
      EPOCH,
    );
    tcb.takeOutput();
    expect(tcb.sndSegmentSize).toBe(32767);
    tcb.send(new Uint8Array(200_000), instant(1));
    // Both halves of the window go now; a receiver that ACKs every second
    // full-sized segment at once (RFC 9293 §3.8.6.3) answers without waiting.
    expect(out(tcb)).toEqual([
      "A seq=1001 ack=5001 win=65535 len=32767",
      "A seq=33768 ack=5001 win=65535 len=32767",
    ]);
    tcb.input(seg({ flags: "A", seq: 5001, ack: 66535, win: 65535 }), instant(2));
    expect(out(tcb)).toEqual([
      "A seq=66535 ack=5001 win=65535 len=32767",
      "A seq=99302 ack=5001 win=65535 len=32767",
    ]);
  });

  test("the receiver's side: half its buffer unacknowledged is ACKed at once, though not two full-sized segments", () => {
    // MSS 65495 both ways, a 65535-byte buffer: two full-sized segments never fit.
    const s = { mss: 65495, windowScaling: false, timestamps: false, sack: false };
    const tcb = Tcb.connect(opts({}, s));
    tcb.takeOutput();
    tcb.input(
      seg({
        flags: "SA",
        seq: 5000,
        ack: 1001,
        win: 65535,
        options: [{ kind: "mss", value: 65495 }],
      }),
      EPOCH,
    );
    tcb.takeOutput();
    tcb.input(
      seg({ flags: "A", seq: 5001, ack: 1001, payload: new Uint8Array(30000) }),
      instant(10),
    );
    expect(out(tcb)).toEqual([]); // under half the buffer: the delayed-ACK timer runs
    expect(tcb.timers().map((t) => t.name)).toContain("delayed-ack");
    tcb.input(
      seg({ flags: "A", seq: 35001, ack: 1001, payload: new Uint8Array(30000) }),
      instant(11),
    );
    const acks = tcb.takeOutput();
    expect(acks.map((a) => a.ack)).toEqual([65001]); // at once, not 200 ms later
    expect(tcb.timers().map((t) => t.name)).not.toContain("delayed-ack");
  });

  test("a large buffer without negotiated scaling: half of 65535 unacknowledged is enough", () => {
    // Window scaling offered (1 MiB buffer) but not answered: the window is
    // at most 65535, so two 65495-byte segments can never be outstanding.
    const s = { mss: 65495, rcvBuf: 1 << 20, timestamps: false, sack: false };
    const tcb = Tcb.connect(opts({}, s));
    tcb.takeOutput();
    tcb.input(
      seg({
        flags: "SA",
        seq: 5000,
        ack: 1001,
        win: 65535,
        options: [{ kind: "mss", value: 65495 }],
      }),
      EPOCH,
    );
    tcb.takeOutput();
    expect(tcb.rcvWscale).toBe(0);
    tcb.input(
      seg({ flags: "A", seq: 5001, ack: 1001, payload: new Uint8Array(30000) }),
      instant(10),
    );
    expect(tcb.takeOutput()).toEqual([]);
    tcb.input(
      seg({ flags: "A", seq: 35001, ack: 1001, payload: new Uint8Array(30000) }),
      instant(11),
    );
    expect(tcb.takeOutput().map((a) => a.ack)).toEqual([65001]);
  });
});
