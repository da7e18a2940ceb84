import { describe, expect, test } from "bun:test";
import { EPOCH, instant } from "../../src/clock/time.ts";
import { blocksText, createLabSession } from "../../src/lab/session.ts";
import { defaultTcpSettings } from "../../src/tcp/settings.ts";
import { established, out, seg } from "./helpers.ts";

// The switches that turn silly window syndrome avoidance off, each side on
// its own (RFC 9293 §3.8.6.2), for labs that show the syndrome. We are ISS
// 1000, the peer ISS 5000 (helpers.ts).

describe("receiverSws off: every opening of the window is announced", () => {
  test("defaults keep today's behaviour: both sides avoid SWS", () => {
    expect(defaultTcpSettings.receiverSws).toBe("rfc9293");
    expect(defaultTcpSettings.senderSws).toBe(true);
  });

  test("a full 4000-byte buffer: reading one byte sends win=1 with off, nothing with rfc9293", () => {
    for (const mode of ["off", "rfc9293"] as const) {
      const tcb = established({ rcvBuf: 4000, receiverSws: mode });
      tcb.input(seg({ flags: "PA", seq: 5001, ack: 1001, payload: "x".repeat(4000) }), EPOCH);
      expect(out(tcb)).toEqual(["A seq=1001 ack=9001 win=0 len=0"]);
      tcb.recv(1, instant(10));
      expect({ mode, out: out(tcb) }).toEqual({
        mode,
        out: mode === "off" ? ["A seq=1001 ack=9001 win=1 len=0"] : [],
      });
      tcb.recv(1, instant(20));
      expect({ mode, out: out(tcb) }).toEqual({
        mode,
        out: mode === "off" ? ["A seq=1001 ack=9001 win=2 len=0"] : [],
      });
    }
  });

  test("off: an ACK offers all the free space, the edge creeping by what was read", () => {
    const tcb = established({ rcvBuf: 4000, receiverSws: "off" });
    tcb.input(seg({ flags: "PA", seq: 5001, ack: 1001, payload: "x".repeat(3000) }), EPOCH);
    tcb.onTimer(instant(200));
    expect(out(tcb)).toEqual(["A seq=1001 ack=8001 win=1000 len=0"]);
    tcb.recv(3, instant(300));
    expect(out(tcb)).toEqual(["A seq=1001 ack=8001 win=1003 len=0"]);
  });
});

describe("senderSws off: whatever the window allows goes at once", () => {
  const data = new Uint8Array(5000);

  test("a 4000-byte window: two full segments, then 1080 bytes only without avoidance", () => {
    const on = established({}, 4000);
    on.send(data, EPOCH);
    expect(out(on)).toEqual([
      "A seq=1001 ack=5001 win=65535 len=1460",
      "A seq=2461 ack=5001 win=65535 len=1460",
    ]);
    expect(on.timers().map((t) => t.name)).toEqual(["retransmission"]);

    const off = established({ senderSws: false }, 4000);
    off.send(data, EPOCH);
    expect(out(off)).toEqual([
      "A seq=1001 ack=5001 win=65535 len=1460",
      "A seq=2461 ack=5001 win=65535 len=1460",
      "A seq=3921 ack=5001 win=65535 len=1080",
    ]);
  });

  test("a window that opens by one byte gets a one-byte segment", () => {
    const tcb = established({ senderSws: false }, 4000);
    tcb.send(data, EPOCH);
    tcb.takeOutput();
    tcb.input(seg({ flags: "A", seq: 5001, ack: 5001, win: 0 }), instant(10));
    expect(out(tcb)).toEqual([]);
    tcb.input(seg({ flags: "A", seq: 5001, ack: 5001, win: 1 }), instant(20));
    expect(out(tcb)).toEqual(["A seq=5001 ack=5001 win=65535 len=1"]);
  });

  test("Nagle still holds the last small piece while data is unacknowledged", () => {
    const tcb = established({ senderSws: false }, 65535);
    tcb.send(new Uint8Array(10), EPOCH);
    tcb.send(new Uint8Array(10), EPOCH);
    expect(out(tcb)).toEqual(["PA seq=1001 ack=5001 win=65535 len=10"]);
  });
});

describe("the lab's set command offers both switches", () => {
  test("set lists senderSws; receiverSws takes off", async () => {
    const s = createLabSession({ seed: 1, trace: false });
    const list = blocksText((await s.execute("set")).blocks);
    expect(list).toMatch(/senderSws\s*\|?\s*on/);
    expect(blocksText((await s.execute("b: set receiverSws off")).blocks)).toContain(
      "b receiverSws = off",
    );
    expect(blocksText((await s.execute("set senderSws off")).blocks)).toContain(
      "a senderSws = off",
    );
    expect(blocksText((await s.execute("set receiverSws none")).blocks)).toContain(
      "receiverSws is one of rfc9293, bsd, off",
    );
  });
});
