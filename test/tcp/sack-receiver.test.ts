import { describe, expect, test } from "bun:test";
import { EPOCH, instant, ms } from "../../src/clock/time.ts";
import type { TcpSettings } from "../../src/tcp/settings.ts";
import { Tcb } from "../../src/tcp/tcb.ts";
import { tcpHeaderLength } from "../../src/wire/tcp.ts";
import type { TcpOption } from "../../src/wire/tcp-types.ts";
import { MSS, opts, out, seg, text } from "./helpers.ts";

// RFC 2018 (SACK, as the data receiver) and RFC 2883 (D-SACK). We are ISS
// 1000, the peer ISS 5000; the peer's data is cut into 100-byte segments:
// segment k (1-based) covers [5001 + 100(k−1), 5001 + 100k).

const SACK_OK: TcpOption = { kind: "sackPermitted" };
const TS = (tsVal: number, tsEcr: number): TcpOption => ({ kind: "timestamps", tsVal, tsEcr });

/** ESTABLISHED with SACK-permitted on both SYNs (and timestamps if `ts`). */
function sackEstablished(ts = false, s: Partial<TcpSettings> = {}): Tcb {
  const tcb = Tcb.connect(opts({}, s));
  tcb.takeOutput();
  const options = ts ? [...MSS, SACK_OK, TS(500, 1)] : [...MSS, SACK_OK];
  tcb.input(seg({ flags: "SA", seq: 5000, ack: 1001, options }), EPOCH);
  tcb.takeOutput();
  return tcb;
}

const start = (k: number) => 5001 + 100 * (k - 1);
/** Segment k of the peer's data (100 bytes of the letter for k), with a timestamp if given. */
function segment(k: number, tsVal?: number) {
  const letter = String.fromCharCode(96 + k).repeat(100);
  return seg({
    flags: "A",
    seq: start(k),
    ack: 1001,
    payload: letter,
    options: tsVal === undefined ? [] : [TS(tsVal, 1)],
  });
}

describe("SACK blocks (RFC 2018 §4)", () => {
  test("segments 3, 1, 4, 2 of 4: the ACK and SACK blocks after each", () => {
    const tcb = sackEstablished();
    expect(tcb.sackEnabled).toBe(true);
    tcb.input(segment(3), instant(10));
    expect(out(tcb)).toEqual(["A seq=1001 ack=5001 win=65535 len=0 <nop,nop,sack 5201:5301>"]);
    tcb.input(segment(1), instant(20));
    expect(out(tcb)).toEqual(["A seq=1001 ack=5101 win=65435 len=0 <nop,nop,sack 5201:5301>"]);
    tcb.input(segment(4), instant(30));
    expect(out(tcb)).toEqual(["A seq=1001 ack=5101 win=65435 len=0 <nop,nop,sack 5201:5401>"]);
    expect(tcb.lastSackBlocks).toEqual([[5201, 5401]]);
    tcb.input(segment(2), instant(40));
    // Everything is in order: the ACK says so and carries no SACK option.
    expect(out(tcb)).toEqual(["A seq=1001 ack=5401 win=65135 len=0"]);
    expect(tcb.lastSackBlocks).toEqual([]);
    expect(text(tcb.recv(1000, instant(50)))).toBe(
      "a".repeat(100) + "b".repeat(100) + "c".repeat(100) + "d".repeat(100),
    );
  });

  test("the first block holds the latest segment, the rest follow most recent first", () => {
    const tcb = sackEstablished();
    tcb.input(segment(6), instant(10));
    tcb.input(segment(2), instant(20));
    tcb.input(segment(4), instant(30));
    expect(out(tcb).at(-1)).toBe(
      "A seq=1001 ack=5001 win=65535 len=0 <nop,nop,sack 5301:5401 5101:5201 5501:5601>",
    );
    // Segment 5 joins 4 and 6 into one block, which goes first.
    tcb.input(segment(5), instant(40));
    expect(out(tcb)).toEqual([
      "A seq=1001 ack=5001 win=65535 len=0 <nop,nop,sack 5301:5601 5101:5201>",
    ]);
  });

  test("block limit: four blocks alone, three beside timestamps — 40 bytes of options either way", () => {
    const plain = sackEstablished();
    for (const k of [2, 4, 6, 8, 10]) plain.input(segment(k), instant(10 + k));
    const last = plain.takeOutput().at(-1);
    expect(last?.options).toEqual([
      { kind: "nop" },
      { kind: "nop" },
      {
        kind: "sack",
        blocks: [
          [5901, 6001],
          [5701, 5801],
          [5501, 5601],
          [5301, 5401],
        ],
      },
    ]);

    const withTs = sackEstablished(true);
    for (const k of [2, 4, 6, 8, 10]) withTs.input(segment(k, 600 + k), instant(10 + k));
    const lastTs = withTs.takeOutput().at(-1);
    expect(lastTs?.options).toEqual([
      { kind: "nop" },
      { kind: "nop" },
      TS(21, 500),
      { kind: "nop" },
      { kind: "nop" },
      {
        kind: "sack",
        blocks: [
          [5901, 6001],
          [5701, 5801],
          [5501, 5601],
        ],
      },
    ]);
    expect(lastTs && tcpHeaderLength(lastTs.options)).toBe(60);
  });

  test("no SACK option when the peer's SYN-ACK did not permit it, or we switched it off", () => {
    const notPermitted = Tcb.connect(opts());
    notPermitted.takeOutput();
    notPermitted.input(seg({ flags: "SA", seq: 5000, ack: 1001, options: MSS }), EPOCH);
    notPermitted.takeOutput();
    notPermitted.input(segment(3), instant(10));
    expect(out(notPermitted)).toEqual(["A seq=1001 ack=5001 win=65535 len=0"]);

    const off = sackEstablished(false, { sack: false });
    expect(off.sackEnabled).toBe(false);
    off.input(segment(3), instant(10));
    expect(out(off)).toEqual(["A seq=1001 ack=5001 win=65535 len=0"]);
  });

  test("a full-sized data segment has no room for blocks: a pure ACK follows with them", () => {
    const tcb = sackEstablished();
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1001, win: 0 }), instant(5)); // the peer closes its window
    tcb.send(new Uint8Array(1460), instant(6)); // waits for the window
    expect(out(tcb)).toEqual([]);
    // Out-of-order data arrives with the window open again.
    tcb.input({ ...segment(3), window: 65535 }, instant(10));
    expect(out(tcb)).toEqual([
      "PA seq=1001 ack=5001 win=65535 len=1460", // 1460 + 12 bytes of SACK would pass the MSS
      "A seq=2461 ack=5001 win=65535 len=0 <nop,nop,sack 5201:5301>",
    ]);
    // A small segment carries them itself.
    tcb.setNoDelay(true);
    tcb.input(seg({ flags: "A", seq: 5001, ack: 2461 }), instant(20));
    tcb.takeOutput();
    tcb.send(new Uint8Array(10), instant(21));
    expect(out(tcb)).toEqual(["PA seq=2461 ack=5001 win=65535 len=10 <nop,nop,sack 5201:5301>"]);
  });
});

describe("D-SACK (RFC 2883)", () => {
  test("a duplicate below RCV.NXT is reported in the first block, once", () => {
    const tcb = sackEstablished(false, { delayedAck: ms(0) });
    tcb.input(segment(1), instant(10));
    expect(out(tcb)).toEqual(["A seq=1001 ack=5101 win=65435 len=0"]);
    tcb.input(segment(1), instant(20)); // the same segment again
    expect(out(tcb)).toEqual(["A seq=1001 ack=5101 win=65435 len=0 <nop,nop,sack 5001:5101>"]);
    expect(tcb.sackRx.dsacksSent).toBe(1);
    tcb.input(segment(2), instant(30));
    expect(out(tcb)).toEqual(["A seq=1001 ack=5201 win=65335 len=0"]); // not repeated
  });

  test("a segment partly below RCV.NXT: the old part is D-SACKed and the new part taken", () => {
    const tcb = sackEstablished();
    tcb.input(segment(1), instant(10));
    tcb.onTimer(instant(210));
    tcb.takeOutput();
    tcb.input(
      seg({ flags: "A", seq: 5051, ack: 1001, payload: new Uint8Array(100) }),
      instant(220),
    );
    expect(out(tcb)).toEqual(["A seq=1001 ack=5151 win=65385 len=0 <nop,nop,sack 5051:5101>"]);
  });

  test("a duplicate of held out-of-order data: D-SACK first, then the block that holds it", () => {
    const tcb = sackEstablished();
    tcb.input(segment(3), instant(10));
    tcb.input(segment(4), instant(20));
    tcb.input(segment(6), instant(30));
    tcb.takeOutput();
    tcb.input(segment(3), instant(40));
    // 5201:5301 again: reported first; the block 5201:5401 that holds it comes second (§4).
    expect(out(tcb)).toEqual([
      "A seq=1001 ack=5001 win=65535 len=0 <nop,nop,sack 5201:5301 5201:5401 5501:5601>",
    ]);
    tcb.input(segment(7), instant(50));
    expect(out(tcb)).toEqual([
      "A seq=1001 ack=5001 win=65535 len=0 <nop,nop,sack 5501:5701 5201:5401>",
    ]);
  });

  test("with dsack off, duplicates are not reported", () => {
    const tcb = sackEstablished(false, { dsack: false, delayedAck: ms(0) });
    tcb.input(segment(1), instant(10));
    tcb.input(segment(1), instant(20));
    expect(out(tcb)).toEqual([
      "A seq=1001 ack=5101 win=65435 len=0",
      "A seq=1001 ack=5101 win=65435 len=0",
    ]);
  });
});
