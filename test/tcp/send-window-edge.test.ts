/**
 * RFC 9293 §3.8.6.2.1: a sender never sends beyond SND.UNA + SND.WND — in
 * particular not when the application writes from inside an event the
 * engine raises while it is still processing the segment (writable fires
 * when SND.UNA moves, in the fifth step, before the window is updated).
 */
import { describe, expect, test } from "bun:test";
import { EPOCH, instant } from "../../src/clock/time.ts";
import { Tcb } from "../../src/tcp/tcb.ts";
import { seqAdd, seqDiff } from "../../src/wire/seq.ts";
import type { TcpSegment } from "../../src/wire/tcp-types.ts";
import { bytes, opts, seg } from "./helpers.ts";

/** ESTABLISHED (active open, ISS 1000, peer ISS 5000) with MSS 1000, no options but MSS, peer window `win`. */
function establishedMss1000(win: number, sndBuf: number): Tcb {
  const tcb = Tcb.connect(opts({}, { sndBuf }));
  tcb.takeOutput();
  tcb.input(
    seg({ flags: "SA", seq: 5000, ack: 1001, win, options: [{ kind: "mss", value: 1000 }] }),
    EPOCH,
  );
  tcb.takeOutput();
  return tcb;
}

const dataEnd = (s: TcpSegment) => seqAdd(s.seq, s.payload.length);

describe("the peer's right edge (SND.UNA + SND.WND) holds for writes made inside events", () => {
  test("an ACK that frees buffer space and shrinks the window field: the writable handler's data waits", () => {
    const tcb = establishedMss1000(4000, 4000);
    const stream = bytes(20_000);
    let written = tcb.send(stream, EPOCH) as number;
    expect(written).toBe(4000);
    expect(tcb.takeOutput().map((s) => [s.seq, s.payload.length])).toEqual([
      [1001, 1000],
      [2001, 1000],
      [3001, 1000],
      [4001, 1000],
    ]);
    // The application refills the send buffer the moment it has room (as the
    // sockets layer does, synchronously from the writable event).
    tcb.events = {
      writable: (t) => {
        written += t.send(stream.subarray(written), EPOCH) as number;
      },
    };
    // 2000 bytes acknowledged; the window shrinks to 2000, so the right edge
    // stays at 3001 + 2000 = 5001 = SND.NXT: nothing new may go.
    tcb.input(seg({ flags: "A", seq: 5001, ack: 3001, win: 2000 }), instant(10));
    expect(written).toBe(6000); // the handler did run and queue 2000 bytes
    const sent = tcb.takeOutput().filter((s) => s.payload.length > 0);
    for (const s of sent) expect(seqDiff(dataEnd(s), 5001)).toBeLessThanOrEqual(0);
    expect(sent).toEqual([]);
    expect(tcb.sndNxt).toBe(5001);

    // The window opens: the queued bytes leave, up to the new edge 5001 + 2000.
    tcb.input(seg({ flags: "A", seq: 5001, ack: 5001, win: 2000 }), instant(20));
    const next = tcb.takeOutput().filter((s) => s.payload.length > 0);
    expect(next.map((s) => [s.seq, s.payload.length])).toEqual([
      [5001, 1000],
      [6001, 1000],
    ]);
  });

  test("seeded ACK sequences with writes from events: no data segment ends beyond the last edge", () => {
    for (let seed = 1; seed <= 200; seed++) {
      let x = seed;
      const rand = (n: number) => {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        return (x >>> 8) % n;
      };
      const tcb = establishedMss1000(8000, 6000);
      const stream = bytes(200_000, seed);
      let written = tcb.send(stream, EPOCH) as number;
      tcb.events = {
        writable: (t) => {
          written += t.send(stream.subarray(written), EPOCH) as number;
        },
      };
      let edge = 1001 + 8000;
      for (let i = 0; i < 60; i++) {
        const out = tcb.takeOutput();
        for (const s of out) {
          if (s.payload.length === 0) continue;
          if (seqDiff(dataEnd(s), edge) > 0) {
            throw new Error(
              `seed ${seed}: segment ${s.seq}+${s.payload.length} ends beyond the right edge ${edge}`,
            );
          }
        }
        // The peer acknowledges part of what is outstanding; its window field
        // varies but its right edge never moves left (RFC 9293 §3.8.6.2.2).
        const outstanding = seqDiff(tcb.sndNxt, tcb.sndUna);
        const ack = seqAdd(tcb.sndUna, outstanding === 0 ? 0 : rand(outstanding + 1));
        const win = Math.max(0, seqDiff(edge, ack)) + rand(3) * 700;
        edge = seqAdd(ack, win);
        tcb.input(seg({ flags: "A", seq: 5001, ack, win }), instant(10 * (i + 1)));
      }
      expect(written).toBeGreaterThan(6000);
    }
  });
});
