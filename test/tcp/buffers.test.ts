/**
 * Receive-side memory: the out-of-order bound follows the receive buffer by
 * default (settings.oooLimit undefined), so with window scaling a whole
 * large window may arrive behind one hole and still be kept.
 */
import { describe, expect, test } from "bun:test";
import { EPOCH, instant } from "../../src/clock/time.ts";
import { defaultTcpSettings } from "../../src/tcp/settings.ts";
import { Tcb } from "../../src/tcp/tcb.ts";
import { opts, seg } from "./helpers.ts";

/** ESTABLISHED with window scaling negotiated (peer shift 7), our buffer `rcvBuf`. */
function scaled(rcvBuf: number, oooLimit?: number): Tcb {
  const tcb = Tcb.connect(opts({}, { rcvBuf, oooLimit, timestamps: false, sack: false }));
  tcb.takeOutput();
  tcb.input(
    seg({
      flags: "SA",
      seq: 5000,
      ack: 1001,
      options: [
        { kind: "mss", value: 1460 },
        { kind: "wscale", shift: 7 },
      ],
    }),
    EPOCH,
  );
  tcb.takeOutput();
  return tcb;
}

/** The peer sends `total` bytes in 1460-byte segments from `from`, skipping the first segment. */
function sendBehindHole(tcb: Tcb, total: number): void {
  for (let off = 1460; off < total; off += 1460) {
    const len = Math.min(1460, total - off);
    tcb.input(
      seg({ flags: "A", seq: 5001 + off, ack: 1001, payload: new Uint8Array(len) }),
      instant(1),
    );
  }
}

describe("out-of-order bound and the receive buffer", () => {
  test("the defaults leave the bound to the buffer", () => {
    expect(defaultTcpSettings.oooLimit).toBeUndefined();
  });

  test("a 1 MiB buffer with scaling keeps ~1 MiB behind a hole; the filled hole delivers it all", () => {
    const buf = 1 << 20;
    const tcb = scaled(buf);
    expect(tcb.rcvWscale).toBeGreaterThan(0);
    expect(tcb.reassembly.limit).toBe(buf);
    const total = 1460 * 700; // 1022000 bytes, within the window
    sendBehindHole(tcb, total);
    expect(tcb.reassembly.bytes).toBe(total - 1460);
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1001, payload: new Uint8Array(1460) }), instant(2));
    expect(tcb.recvAvailable).toBe(total);
  });

  test("an explicit oooLimit still bounds it", () => {
    const tcb = scaled(1 << 20, 65535);
    expect(tcb.reassembly.limit).toBe(65535);
    sendBehindHole(tcb, 1460 * 100);
    expect(tcb.reassembly.bytes).toBeLessThanOrEqual(65535);
  });
});
