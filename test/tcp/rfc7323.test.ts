import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { EPOCH, instant, later, ms } from "../../src/clock/time.ts";
import type { TcpSettings } from "../../src/tcp/settings.ts";
import { State } from "../../src/tcp/state.ts";
import { Tcb } from "../../src/tcp/tcb.ts";
import { PAWS_IDLE_LIMIT } from "../../src/tcp/timestamps.ts";
import { seqAdd, seqGe } from "../../src/wire/seq.ts";
import type { TcpOption } from "../../src/wire/tcp-types.ts";
import { fmt, fmtOption, MSS, opts, out, seg, text } from "./helpers.ts";

// RFC 7323: window scale (§2) and timestamps (§3–§5). Same convention as
// states.test.ts: we are ISS 1000 (port 80), the peer ISS 5000; our TSval
// clock starts at 1 at t=0 (helpers fix tsValStart), so TSval = 1 + t.

const NOP: TcpOption = { kind: "nop" };
const SACK_OK: TcpOption = { kind: "sackPermitted" };
const WS = (shift: number): TcpOption => ({ kind: "wscale", shift });
const TS = (tsVal: number, tsEcr: number): TcpOption => ({ kind: "timestamps", tsVal, tsEcr });

type Features = { ws: boolean; ts: boolean; sack: boolean };
const ALL: Features[] = [];
for (const ws of [false, true])
  for (const ts of [false, true]) for (const sack of [false, true]) ALL.push({ ws, ts, sack });
const name = (f: Features) =>
  [f.ws && "wscale", f.sack && "sackOK", f.ts && "TS"].filter(Boolean).join("+") || "none";

/** A peer SYN's options offering `f` (Linux order: mss,sackOK,TS,nop,wscale 7). */
function peerOffer(f: Features, tsVal = 7): TcpOption[] {
  const o: TcpOption[] = [...MSS];
  if (f.sack) o.push(SACK_OK);
  if (f.ts) o.push(TS(tsVal, 0));
  if (f.ws) o.push(NOP, WS(7));
  return o;
}

/**
 * What our SYN / SYN-ACK must carry for features `f`: tcplab's layout
 * <mss,nop,wscale,sackOK,TS>, an option that is off leaving out its NOP,
 * then NOPs to a multiple of 4 bytes.
 */
function expectedSynOptions(f: Features, tsVal: number, tsEcr: number): string {
  const o: string[] = ["mss 1460"];
  let len = 4;
  if (f.ws) {
    o.push("nop", "wscale 0");
    len += 4;
  }
  if (f.sack) {
    o.push("sackOK");
    len += 2;
  }
  if (f.ts) {
    o.push(`TS val ${tsVal} ecr ${tsEcr}`);
    len += 10;
  }
  for (; len % 4 !== 0; len++) o.push("nop");
  return `<${o.join(",")}>`;
}

const on = (f: Features): Partial<TcpSettings> => ({
  windowScaling: f.ws,
  timestamps: f.ts,
  sack: f.sack,
});

describe("negotiation: every combination, both directions of open", () => {
  test("active open: our SYN offers what is switched on; each option is used only if the SYN-ACK has it too", () => {
    for (const ours of ALL) {
      for (const peers of ALL) {
        const tcb = Tcb.connect(opts({}, on(ours)));
        expect(out(tcb)).toEqual([
          `S seq=1000 ack=0 win=65535 len=0 ${expectedSynOptions(ours, 1, 0)}`,
        ]);
        // A SYN-ACK may only carry what our SYN offered (RFC 7323 §2.2, §3.2; RFC 2018 §2).
        const answered = {
          ws: ours.ws && peers.ws,
          ts: ours.ts && peers.ts,
          sack: ours.sack && peers.sack,
        };
        tcb.input(
          seg({ flags: "SA", seq: 5000, ack: 1001, options: peerOffer(answered, 40) }),
          instant(20),
        );
        const label = `ours ${name(ours)}, peer ${name(peers)}`;
        expect({ label, state: tcb.state }).toEqual({ label, state: State.Established });
        expect({ label, ws: tcb.sndWscale, ts: tcb.tsEnabled, sack: tcb.sackEnabled }).toEqual({
          label,
          ws: answered.ws ? 7 : 0,
          ts: answered.ts,
          sack: answered.sack,
        });
        // Once negotiated, every segment carries the timestamps (§3.2); otherwise none.
        expect({ label, ack: out(tcb) }).toEqual({
          label,
          ack: [
            `A seq=1001 ack=5001 win=65535 len=0${answered.ts ? " <nop,nop,TS val 21 ecr 40>" : ""}`,
          ],
        });
      }
    }
  });

  test("passive open: the SYN-ACK answers only what the SYN offered and we switched on", () => {
    for (const ours of ALL) {
      for (const peers of ALL) {
        const tcb = Tcb.accept({
          ...opts({}, on(ours)),
          syn: seg({ flags: "S", seq: 5000, options: peerOffer(peers) }),
        });
        const both = {
          ws: ours.ws && peers.ws,
          ts: ours.ts && peers.ts,
          sack: ours.sack && peers.sack,
        };
        const label = `ours ${name(ours)}, peer ${name(peers)}`;
        expect({ label, synAck: out(tcb) }).toEqual({
          label,
          synAck: [`SA seq=1000 ack=5001 win=65535 len=0 ${expectedSynOptions(both, 1, 7)}`],
        });
        expect({ label, ws: tcb.sndWscale, ts: tcb.tsEnabled, sack: tcb.sackEnabled }).toEqual({
          label,
          ws: both.ws ? 7 : 0,
          ts: both.ts,
          sack: both.sack,
        });
      }
    }
  });

  test("simultaneous open: each side's SYN-ACK answers the other's SYN", () => {
    const tcb = Tcb.connect(opts({}, { sack: false }));
    expect(out(tcb)).toEqual([
      "S seq=1000 ack=0 win=65535 len=0 <mss 1460,nop,wscale 0,TS val 1 ecr 0,nop,nop>",
    ]);
    tcb.input(
      seg({ flags: "S", seq: 5000, options: peerOffer({ ws: true, ts: true, sack: true }, 90) }),
      instant(10),
    );
    expect(tcb.state).toBe(State.SynReceived);
    // sackOK is not answered: our own SYN did not offer it.
    expect(out(tcb)).toEqual([
      "SA seq=1000 ack=5001 win=65535 len=0 <mss 1460,nop,wscale 0,TS val 11 ecr 90,nop,nop>",
    ]);
    expect([tcb.sndWscale, tcb.tsEnabled, tcb.sackEnabled]).toEqual([7, true, false]);
  });

  test("layouts: Linux's <mss,sackOK,TS,nop,wscale> SYN and its NOP-aligned SYN-ACK; FreeBSD's EOL padding", () => {
    const linux: Partial<TcpSettings> = {
      synOptionLayout: ["mss", "sackOK", "TS", "nop", "wscale"],
      synAckOptionLayout: ["mss", "nop", "nop", "sackOK", "nop", "wscale"],
      wscaleShift: 7,
    };
    const syn = Tcb.connect(opts({}, linux));
    expect(out(syn)).toEqual([
      "S seq=1000 ack=0 win=65535 len=0 <mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7>",
    ]);
    // A SYN without timestamps: Linux answers <mss,nop,nop,sackOK,nop,wscale>.
    const synAck = Tcb.accept({
      ...opts({}, linux),
      syn: seg({ flags: "S", seq: 5000, options: peerOffer({ ws: true, ts: false, sack: true }) }),
    });
    expect(out(synAck)).toEqual([
      "SA seq=1000 ack=5001 win=65535 len=0 <mss 1460,nop,nop,sackOK,nop,wscale 7>",
    ]);
    // FreeBSD pads with EOL (then zeros): a SYN offering timestamps only.
    const bsd = Tcb.accept({
      ...opts({}, { synOptionPadding: "eol", wscaleShift: 6 }),
      syn: seg({ flags: "S", seq: 5000, options: [...MSS, TS(7, 0)] }),
    });
    expect(out(bsd)).toEqual([
      "SA seq=1000 ack=5001 win=65535 len=0 <mss 1460,TS val 1 ecr 7,eol>",
    ]);
  });

  test("a SYN-ACK carrying options our SYN did not offer does not switch them on", () => {
    const tcb = Tcb.connect(opts({}, { windowScaling: false, timestamps: false, sack: false }));
    tcb.takeOutput();
    tcb.input(
      seg({
        flags: "SA",
        seq: 5000,
        ack: 1001,
        options: peerOffer({ ws: true, ts: true, sack: true }),
      }),
      instant(10),
    );
    expect([tcb.sndWscale, tcb.tsEnabled, tcb.sackEnabled]).toEqual([0, false, false]);
    expect(out(tcb)).toEqual(["A seq=1001 ack=5001 win=65535 len=0"]);
  });
});

describe("window scale (RFC 7323 §2)", () => {
  const MiB = 1 << 20;

  test("shift from the receive buffer: 1 MiB → 5; the SYN's window is not scaled; later windows are, both ways", () => {
    const tcb = Tcb.connect(opts({}, { rcvBuf: MiB, timestamps: false, sack: false }));
    // 65535 << 4 < 1 MiB ≤ 65535 << 5. The SYN's window field is RCV.WND unscaled, capped (§2.2).
    expect(out(tcb)).toEqual(["S seq=1000 ack=0 win=65535 len=0 <mss 1460,nop,wscale 5>"]);
    tcb.input(
      seg({ flags: "SA", seq: 5000, ack: 1001, win: 1000, options: [...MSS, NOP, WS(3)] }),
      instant(10),
    );
    expect(tcb.sndWnd).toBe(1000); // the SYN-ACK's window is not scaled either
    expect([tcb.sndWscale, tcb.rcvWscale]).toEqual([3, 5]);
    // Our ACK offers the whole megabyte: 32768 units of 32 bytes.
    expect(out(tcb)).toEqual(["A seq=1001 ack=5001 win=32768 len=0"]);
    expect(tcb.rcvWnd).toBe(MiB);
    // The peer's windows count units of 2^3 bytes from now on.
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1001, win: 500 }), instant(20));
    expect(tcb.sndWnd).toBe(4000);
    // And the receive side really takes more than 65535 bytes in flight.
    let seq = 5001;
    for (let i = 0; i < 60; i++) {
      tcb.input(
        seg({ flags: "A", seq, ack: 1001, win: 500, payload: new Uint8Array(1460) }),
        instant(30),
      );
      seq += 1460;
    }
    expect(tcb.recvAvailable).toBe(60 * 1460); // 87600 > 65535
    expect(tcb.rcvNxt).toBe(seq);
  });

  test("passive open: the SYN's window is taken as is, the ACK's is scaled", () => {
    const tcb = Tcb.accept({
      ...opts({}, { rcvBuf: MiB }),
      syn: seg({ flags: "S", seq: 5000, win: 1000, options: [...MSS, NOP, WS(3)] }),
    });
    expect(out(tcb)).toEqual(["SA seq=1000 ack=5001 win=65535 len=0 <mss 1460,nop,wscale 5>"]);
    expect(tcb.sndWnd).toBe(1000);
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1001, win: 1000 }), instant(10));
    expect(tcb.state).toBe(State.Established);
    expect(tcb.sndWnd).toBe(8000);
  });

  test("the maximum shift 14 on both sides, and a peer's shift above 14 used as 14", () => {
    const tcb = Tcb.connect(
      opts({}, { rcvBuf: MiB, wscaleShift: 14, timestamps: false, sack: false }),
    );
    expect(out(tcb)).toEqual(["S seq=1000 ack=0 win=65535 len=0 <mss 1460,nop,wscale 14>"]);
    tcb.input(
      seg({ flags: "SA", seq: 5000, ack: 1001, win: 65535, options: [...MSS, NOP, WS(14)] }),
      instant(10),
    );
    expect(out(tcb)).toEqual(["A seq=1001 ack=5001 win=64 len=0"]); // 64 × 16384 = 1 MiB
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1001, win: 3 }), instant(20));
    expect(tcb.sndWnd).toBe(3 * 16384);

    const big = Tcb.connect(opts({}, { timestamps: false, sack: false }));
    big.takeOutput();
    big.input(
      seg({ flags: "SA", seq: 5000, ack: 1001, options: [...MSS, NOP, WS(15)] }),
      instant(10),
    );
    // §2.3: "SHOULD log the error but MUST use 14".
    expect(big.sndWscale).toBe(14);
    expect(big.negotiated?.wscale?.peerShiftClamped).toBe(true);
    big.input(seg({ flags: "A", seq: 5001, ack: 1001, win: 2 }), instant(20));
    expect(big.sndWnd).toBe(32768);
  });

  test("without scaling negotiated a large buffer still offers at most 65535", () => {
    const tcb = Tcb.connect(opts({}, { rcvBuf: MiB, timestamps: false, sack: false }));
    tcb.takeOutput();
    tcb.input(seg({ flags: "SA", seq: 5000, ack: 1001, options: MSS }), instant(10));
    expect(tcb.rcvWscale).toBe(0);
    expect(out(tcb)).toEqual(["A seq=1001 ack=5001 win=65535 len=0"]);
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1001, win: 500 }), instant(20));
    expect(tcb.sndWnd).toBe(500);
  });

  test("rounding: a window that is not a whole number of units is rounded up, never behind the buffer's edge (§2.4)", () => {
    // Shift 10 (units of 1024), 8 KiB buffer, ACK every segment.
    const tcb = Tcb.connect(
      opts(
        {},
        { rcvBuf: 8192, wscaleShift: 10, delayedAck: ms(0), timestamps: false, sack: false },
      ),
    );
    tcb.takeOutput();
    tcb.input(
      seg({ flags: "SA", seq: 5000, ack: 1001, options: [...MSS, NOP, WS(0)] }),
      instant(10),
    );
    expect(out(tcb)).toEqual(["A seq=1001 ack=5001 win=8 len=0"]); // edge 5001 + 8192 = 13193
    tcb.input(
      seg({ flags: "PA", seq: 5001, ack: 1001, payload: new Uint8Array(100) }),
      instant(20),
    );
    // 8092 bytes are left to the edge: 7 units (truncation) would pull it back
    // to 12269; 8 units offer up to 5101 + 8192 = 13293, not left of 13193.
    expect(out(tcb)).toEqual(["A seq=1001 ack=5101 win=8 len=0"]);
    expect(tcb.rcvAdv).toBe(13193); // the surplus of 100 is not a promise
    tcb.input(
      seg({ flags: "PA", seq: 5101, ack: 1001, payload: new Uint8Array(1000) }),
      instant(30),
    );
    // 7092 to the edge → 7 units: 6101 + 7168 = 13269, still past 13193.
    expect(out(tcb)).toEqual(["A seq=1001 ack=6101 win=7 len=0"]);
    // With nothing read the buffer fills and the window closes, without creeping past it.
    tcb.input(
      seg({ flags: "PA", seq: 6101, ack: 1001, payload: new Uint8Array(7092) }),
      instant(40),
    );
    expect(out(tcb)).toEqual(["A seq=1001 ack=13193 win=0 len=0"]);
  });

  test("property: with scaling the offered edge never falls behind the buffer's edge, and exceeds the free space by less than a unit", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 40_000 })), { maxLength: 60 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (shift, ops, peerIss) => {
          const unit = 2 ** shift;
          const tcb = Tcb.connect(
            opts(
              {},
              {
                rcvBuf: 200_000,
                wscaleShift: shift,
                delayedAck: ms(0),
                timestamps: false,
                sack: false,
              },
            ),
          );
          tcb.takeOutput();
          tcb.input(
            seg({ flags: "SA", seq: peerIss, ack: 1001, options: [...MSS, NOP, WS(0)] }),
            EPOCH,
          );
          let promised: number | undefined; // the buffer-backed edge (RCV.ADV) before this step
          let now = 1;
          const check = () => {
            for (const s of tcb.takeOutput()) {
              const right = seqAdd(s.ack, s.window * unit);
              if (promised !== undefined && !seqGe(right, promised)) return false;
              if (s.window * unit >= tcb.rcvQueue.free + unit) return false;
            }
            if (promised !== undefined && !seqGe(tcb.rcvAdv, promised)) return false;
            promised = tcb.rcvAdv;
            return true;
          };
          if (!check()) return false;
          for (const [peerSends, n] of ops) {
            now++;
            if (peerSends) {
              const room = Math.max(0, tcb.rcvWnd);
              const len = Math.min(n, room, 1460);
              if (len > 0) {
                tcb.input(
                  seg({ flags: "A", seq: tcb.rcvNxt, ack: 1001, payload: new Uint8Array(len) }),
                  instant(now),
                );
              }
            } else {
              tcb.recv(n, instant(now));
            }
            if (!check()) return false;
          }
          return true;
        },
      ),
      { seed: 7323, numRuns: 200 },
    );
  });
});

/** ESTABLISHED with timestamps (peer TSval 500 on its SYN-ACK at t=`at`), no SACK. */
function tsEstablished(s: Partial<TcpSettings> = {}, at = 0): Tcb {
  const tcb = Tcb.connect(opts({}, { sack: false, ...s }));
  tcb.takeOutput();
  tcb.input(seg({ flags: "SA", seq: 5000, ack: 1001, options: [...MSS, TS(500, 1)] }), instant(at));
  tcb.takeOutput();
  return tcb;
}

describe("timestamps (RFC 7323 §3–§5)", () => {
  test("TSecr echoes TS.Recent; TSval is our per-connection clock", () => {
    const tcb = tsEstablished();
    expect([tcb.tsEnabled, tcb.tsRecent]).toEqual([true, 500]);
    tcb.input(
      seg({ flags: "PA", seq: 5001, ack: 1001, payload: "hi", options: [TS(510, 1)] }),
      instant(40),
    );
    tcb.onTimer(instant(240)); // the delayed ACK
    expect(out(tcb)).toEqual(["A seq=1001 ack=5003 win=65533 len=0 <nop,nop,TS val 241 ecr 510>"]);
    // Data segments carry it too, and their payload leaves room for it: 1460 − 12 = 1448.
    tcb.setNoDelay(true);
    tcb.send(new Uint8Array(1500), instant(300));
    expect(out(tcb)).toEqual([
      "A seq=1001 ack=5003 win=65533 len=1448 <nop,nop,TS val 301 ecr 510>",
      "PA seq=2449 ack=5003 win=65533 len=52 <nop,nop,TS val 301 ecr 510>",
    ]);
    expect(tcb.effSndMss).toBe(1448);
    expect(tcb.sndMss).toBe(1460);
  });

  test("a blind segment that draws a challenge ACK does not move TS.Recent (RFC 7323 §5.3 R3 after RFC 5961)", () => {
    for (const blind of [
      // An ACK from beyond SND.NXT (RFC 5961 §5.2).
      seg({ flags: "A", seq: 5001, ack: 100000, options: [TS(99999, 1)] }),
      // A SYN at RCV.NXT (RFC 5961 §4.2).
      seg({ flags: "S", seq: 5001, ack: 0, options: [TS(99999, 1)] }),
      // A RST in the window but not at RCV.NXT (RFC 5961 §3.2).
      seg({ flags: "R", seq: 5500, ack: 0, options: [TS(99999, 1)] }),
    ]) {
      const tcb = tsEstablished();
      tcb.input(blind, instant(10));
      // The challenge ACK echoes the real peer's TSval, not the attacker's.
      expect(out(tcb)).toEqual(["A seq=1001 ack=5001 win=65535 len=0 <nop,nop,TS val 11 ecr 500>"]);
      expect(tcb.tsRecent).toBe(500);
      // The real peer's next segment (TSval 510) still passes PAWS and is taken.
      tcb.input(
        seg({ flags: "PA", seq: 5001, ack: 1001, payload: "hi", options: [TS(510, 1)] }),
        instant(20),
      );
      expect(tcb.rcvNxt).toBe(5003);
      expect(tcb.tsRecent).toBe(510);
    }
  });

  test("TS.Recent: a delayed ACK covering two segments echoes the first (§4.3 SEG.SEQ ≤ Last.ACK.sent)", () => {
    const tcb = tsEstablished();
    tcb.input(
      seg({
        flags: "A",
        seq: 5001,
        ack: 1001,
        payload: new Uint8Array(100),
        options: [TS(600, 1)],
      }),
      instant(10),
    );
    expect(tcb.tsRecent).toBe(600); // 5001 ≤ Last.ACK.sent (5001)
    tcb.input(
      seg({
        flags: "A",
        seq: 5101,
        ack: 1001,
        payload: new Uint8Array(100),
        options: [TS(601, 1)],
      }),
      instant(11),
    );
    expect(tcb.tsRecent).toBe(600); // 5101 > Last.ACK.sent: the ACK is still owed for 5001
    expect(out(tcb)).toEqual([]);
    tcb.onTimer(instant(210));
    // The sender measures from its first segment: the delay counts in its RTT.
    expect(out(tcb)).toEqual(["A seq=1001 ack=5201 win=65335 len=0 <nop,nop,TS val 211 ecr 600>"]);
    tcb.input(
      seg({
        flags: "A",
        seq: 5201,
        ack: 1001,
        payload: new Uint8Array(100),
        options: [TS(602, 1)],
      }),
      instant(220),
    );
    expect(tcb.tsRecent).toBe(602); // 5201 ≤ Last.ACK.sent (5201)
  });

  test("an out-of-order segment does not move TS.Recent; the duplicate ACK echoes the in-order one", () => {
    const tcb = tsEstablished();
    tcb.input(
      seg({
        flags: "A",
        seq: 5101,
        ack: 1001,
        payload: new Uint8Array(100),
        options: [TS(700, 1)],
      }),
      instant(10),
    );
    expect(out(tcb)).toEqual(["A seq=1001 ack=5001 win=65535 len=0 <nop,nop,TS val 11 ecr 500>"]);
    expect(tcb.tsRecent).toBe(500);
  });

  test("RTTM: the SYN-ACK's and each new ACK's TSecr are RTT samples, retransmissions included", () => {
    const tcb = Tcb.connect(opts({}, { sack: false }));
    tcb.takeOutput();
    tcb.input(
      seg({ flags: "SA", seq: 5000, ack: 1001, options: [...MSS, TS(500, 1)] }),
      instant(50),
    );
    expect(tcb.srtt).toBe(ms(50)); // TSval 51 now − TSecr 1
    tcb.setNoDelay(true);
    tcb.send(new Uint8Array(100), instant(100)); // TSval 101
    tcb.takeOutput();
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1101, options: [TS(510, 101)] }), instant(180));
    expect(tcb.srtt).toBe(ms(50 + (80 - 50) / 8)); // RFC 6298 §2.3 with R = 80
    // A duplicate ACK (SND.UNA does not move) is no sample (§4.1).
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1101, options: [TS(511, 1)] }), instant(190));
    expect(tcb.srtt).toBe(ms(53.75));
    // A retransmitted segment is measured by the TSval of the copy that was answered.
    tcb.send(new Uint8Array(100), instant(200));
    tcb.takeOutput();
    tcb.onTimer(instant(200 + tcb.rto)); // RTO 1000 (minRto): resent with TSval 1201
    expect(out(tcb)).toEqual([
      "PA seq=1101 ack=5001 win=65535 len=100 <nop,nop,TS val 1201 ecr 511>",
    ]);
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1201, options: [TS(520, 1201)] }), instant(1230));
    expect(tcb.srtt).toBeCloseTo(53.75 * (7 / 8) + 30 / 8, 10);
  });

  test("PAWS: an old TSval gets an ACK and is dropped; equal is fine; a RST is exempt (§5.3 R1)", () => {
    const tcb = tsEstablished();
    tcb.input(
      seg({ flags: "PA", seq: 5001, ack: 1001, payload: "old", options: [TS(499, 1)] }),
      instant(10),
    );
    expect(out(tcb)).toEqual(["A seq=1001 ack=5001 win=65535 len=0 <nop,nop,TS val 11 ecr 500>"]);
    expect(tcb.recvAvailable).toBe(0);
    expect(tcb.ts.pawsDrops).toBe(1);
    tcb.input(
      seg({ flags: "PA", seq: 5001, ack: 1001, payload: "same", options: [TS(500, 1)] }),
      instant(20),
    );
    expect(text(tcb.recv(10, instant(20)))).toBe("same");
    // A RST with an old TSval, exactly at RCV.NXT, still resets.
    tcb.input(seg({ flags: "R", seq: 5005, options: [TS(1, 0)] }), instant(30));
    expect(tcb.state).toBe(State.Closed);
    expect(tcb.error).toBe("ECONNRESET");
  });

  test("TS.Recent older than 24 days is invalid: PAWS is not applied and TS.Recent starts again (§5.5)", () => {
    const tcb = tsEstablished();
    const old = () =>
      seg({ flags: "PA", seq: tcb.rcvNxt, ack: 1001, payload: "x", options: [TS(400, 1)] });
    // Within 24 days TSval 400 < TS.Recent 500 is rejected …
    tcb.input(old(), later(EPOCH, PAWS_IDLE_LIMIT));
    expect(tcb.recvAvailable).toBe(0);
    expect(tcb.takeOutput()).toHaveLength(1); // the ACK
    // … after 24 days of silence it is accepted, and becomes TS.Recent.
    tcb.input(old(), instant(PAWS_IDLE_LIMIT + 1));
    expect(tcb.recvAvailable).toBe(1);
    expect(tcb.tsRecent).toBe(400);
  });

  test("after negotiation a segment without timestamps is dropped silently; a RST without them is processed (§3.2)", () => {
    const tcb = tsEstablished();
    tcb.input(seg({ flags: "PA", seq: 5001, ack: 1001, payload: "bare" }), instant(10));
    expect(out(tcb)).toEqual([]);
    expect(tcb.recvAvailable).toBe(0);
    expect(tcb.ts.missingDrops).toBe(1);
    tcb.input(seg({ flags: "R", seq: 5001 }), instant(20));
    expect(tcb.error).toBe("ECONNRESET");
  });

  test("our RST carries timestamps too, TSecr 0 without the ACK bit (§3.2)", () => {
    const tcb = tsEstablished();
    tcb.abort(instant(70));
    expect(out(tcb)).toEqual(["R seq=1001 ack=0 win=0 len=0 <nop,nop,TS val 71 ecr 0>"]);
  });

  test("without tsValStart the clock starts at a per-connection offset (no uptime in TSval)", () => {
    const a = Tcb.connect(opts({ iss: 1000 }, { tsValStart: undefined }));
    const b = Tcb.connect(opts({ iss: 777_777 }, { tsValStart: undefined }));
    const tsOf = (t: Tcb) => t.takeOutput()[0]?.options.find((o) => o.kind === "timestamps");
    const ta = tsOf(a);
    const tb = tsOf(b);
    expect(ta && fmtOption(ta)).not.toBe("TS val 0 ecr 0");
    expect(ta && tb && fmtOption(ta) !== fmtOption(tb)).toBe(true);
  });
});

test("fmt shows every option the way tcpdump does", () => {
  const s = seg({
    flags: "A",
    seq: 1,
    ack: 2,
    options: [NOP, NOP, TS(1, 2), NOP, NOP, { kind: "sack", blocks: [[3, 4]] }],
  });
  expect(fmt(s)).toBe("A seq=1 ack=2 win=65535 len=0 <nop,nop,TS val 1 ecr 2,nop,nop,sack 3:4>");
});
