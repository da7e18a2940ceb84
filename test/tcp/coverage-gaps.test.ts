import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { EPOCH, instant, ms } from "../../src/clock/time.ts";
import { Listener } from "../../src/tcp/listener.ts";
import { defaultTcpSettings } from "../../src/tcp/settings.ts";
import { State, stateName } from "../../src/tcp/state.ts";
import { Tcb } from "../../src/tcp/tcb.ts";
import { ip } from "../../src/wire/addr.ts";
import { seqAdd, seqGe } from "../../src/wire/seq.ts";
import { Flag, type TcpSegment } from "../../src/wire/tcp-types.ts";
import {
  closeWait,
  closing,
  established,
  finWait2,
  fmt,
  LOCAL,
  MSS,
  opts,
  out,
  REMOTE,
  seg,
  settings,
  synReceived,
  synSent,
  text,
} from "./helpers.ts";

// Rows of docs/rfc-coverage.md that had no honest test. Same convention as
// states.test.ts: we are ISS 1000 (port 80), the peer ISS 5000 (port 49152);
// output in the compact form "flags seq ack win len <options>".

/** Our SYN-SENT Tcb after the peer's SYN crossed ours: SYN-RECEIVED, SYN-ACK sent. */
function simultaneousSynReceived(): Tcb {
  const tcb = synSent();
  tcb.input(seg({ flags: "S", seq: 5000, options: MSS }), instant(10));
  expect(tcb.state).toBe(State.SynReceived);
  expect(out(tcb)).toEqual(["SA seq=1000 ack=5001 win=65535 len=0 <mss 1460>"]);
  return tcb;
}

describe("RFC 9293 §3.3.2: the eleven states", () => {
  test("each state displays with its RFC name", () => {
    const names = Object.values(State)
      .filter((v): v is State => typeof v === "number")
      .map(stateName);
    expect(names).toEqual([
      "CLOSED",
      "LISTEN",
      "SYN-SENT",
      "SYN-RECEIVED",
      "ESTABLISHED",
      "FIN-WAIT-1",
      "FIN-WAIT-2",
      "CLOSE-WAIT",
      "CLOSING",
      "LAST-ACK",
      "TIME-WAIT",
    ]);
  });
});

describe("RFC 9293 §3.5: simultaneous open", () => {
  test("two SYN-SENT Tcbs whose SYNs cross both reach ESTABLISHED through SYN-RECEIVED", () => {
    const a = Tcb.connect(opts({ iss: 1000 }));
    const b = Tcb.connect({ ...opts({ iss: 5000 }), local: REMOTE, remote: LOCAL });
    const synA = a.takeOutput();
    const synB = b.takeOutput();
    // Both offer window scale, SACK-permitted and timestamps (the defaults).
    expect([...synA, ...synB].map(fmt)).toEqual([
      "S seq=1000 ack=0 win=65535 len=0 <mss 1460,nop,wscale 0,sackOK,TS val 1 ecr 0>",
      "S seq=5000 ack=0 win=65535 len=0 <mss 1460,nop,wscale 0,sackOK,TS val 1 ecr 0>",
    ]);
    // Each SYN arrives at a Tcb in SYN-SENT: SYN-RECEIVED and a SYN-ACK (§3.10.7.3 fourth).
    for (const s of synB) a.input(s, instant(10));
    for (const s of synA) b.input(s, instant(10));
    expect([a.state, b.state]).toEqual([State.SynReceived, State.SynReceived]);
    const synAckA = a.takeOutput();
    const synAckB = b.takeOutput();
    // Each SYN-ACK answers the options of the SYN it received; TSecr echoes its TSval.
    expect(synAckA.map(fmt)).toEqual([
      "SA seq=1000 ack=5001 win=65535 len=0 <mss 1460,nop,wscale 0,sackOK,TS val 11 ecr 1>",
    ]);
    expect(synAckB.map(fmt)).toEqual([
      "SA seq=5000 ack=1001 win=65535 len=0 <mss 1460,nop,wscale 0,sackOK,TS val 11 ecr 1>",
    ]);
    // A SYN-ACK's SYN lies before RCV.NXT: unacceptable, answered with an ACK (§3.10.7.4 first).
    for (const s of synAckB) a.input(s, instant(20));
    for (const s of synAckA) b.input(s, instant(20));
    const ackA = a.takeOutput();
    const ackB = b.takeOutput();
    expect(ackA.map(fmt)).toEqual([
      "A seq=1001 ack=5001 win=65535 len=0 <nop,nop,TS val 21 ecr 1>",
    ]);
    expect(ackB.map(fmt)).toEqual([
      "A seq=5001 ack=1001 win=65535 len=0 <nop,nop,TS val 21 ecr 1>",
    ]);
    // Those ACKs acknowledge each SYN: ESTABLISHED on both sides, nothing more to say.
    for (const s of ackB) a.input(s, instant(30));
    for (const s of ackA) b.input(s, instant(30));
    expect([a.state, b.state]).toEqual([State.Established, State.Established]);
    expect([...a.takeOutput(), ...b.takeOutput()]).toEqual([]);
    expect([a.sndUna, a.rcvNxt, b.sndUna, b.rcvNxt]).toEqual([1001, 5001, 5001, 1001]);
    expect([a.tsEnabled, a.sackEnabled, b.tsEnabled, b.sackEnabled]).toEqual([
      true,
      true,
      true,
      true,
    ]);
  });

  test("RST in SYN-RECEIVED after a simultaneous open: CLOSED with ECONNREFUSED (§3.10.7.4 second)", () => {
    const tcb = simultaneousSynReceived();
    let err: string | undefined = "not closed";
    tcb.events = { closed: (_t, e) => (err = e) };
    tcb.input(seg({ flags: "R", seq: 5001 }), instant(20));
    expect(tcb.state).toBe(State.Closed);
    expect(err).toBe("ECONNREFUSED");
    expect(out(tcb)).toEqual([]);
    expect(tcb.pollAt()).toBeUndefined(); // "the retransmission queue should be flushed"
  });

  test("a new SYN in SYN-RECEIVED after an active open gets a challenge ACK (RFC 5961 §4)", () => {
    const tcb = simultaneousSynReceived();
    tcb.input(seg({ flags: "S", seq: 5100 }), instant(20));
    expect(tcb.state).toBe(State.SynReceived);
    expect(out(tcb)).toEqual(["A seq=1001 ack=5001 win=65535 len=0"]);
  });
});

describe("RFC 9293 §3.10.7.2 / §3.7.1: what a SYN carries", () => {
  test("data on a SYN is not acknowledged: the SYN-ACK covers the SYN only", () => {
    const tcb = Tcb.accept({ ...opts(), syn: seg({ flags: "S", seq: 5000, payload: "early" }) });
    expect(out(tcb)).toEqual(["SA seq=1000 ack=5001 win=65535 len=0 <mss 1460>"]);
    expect(tcb.recvAvailable).toBe(0);
    // The peer sends the text again once synchronized; now it is taken.
    tcb.input(seg({ flags: "PA", seq: 5001, ack: 1001, payload: "early" }), instant(10));
    expect(tcb.state).toBe(State.Established);
    expect(text(tcb.recv(100, instant(10)))).toBe("early");
  });

  test("window scale, SACK-permitted and timestamps on a SYN are answered in the SYN-ACK", () => {
    const tcb = Tcb.accept({
      ...opts(),
      syn: seg({
        flags: "S",
        seq: 5000,
        options: [
          { kind: "mss", value: 1400 },
          { kind: "sackPermitted" },
          { kind: "timestamps", tsVal: 7, tsEcr: 0 },
          { kind: "nop" },
          { kind: "wscale", shift: 7 },
        ],
      }),
    });
    // RFC 7323 §2.2, §3.2 / RFC 2018 §2: each is answered, in our own layout;
    // TSecr echoes the SYN's TSval.
    expect(out(tcb)).toEqual([
      "SA seq=1000 ack=5001 win=65535 len=0 <mss 1460,nop,wscale 0,sackOK,TS val 1 ecr 7>",
    ]);
    expect(tcb.sndMss).toBe(1400);
    expect([tcb.sndWscale, tcb.tsEnabled, tcb.tsRecent, tcb.sackEnabled]).toEqual([
      7,
      true,
      7,
      true,
    ]);
  });

  test("an ECN-setup SYN (SYN+ECE+CWR) gets a plain SYN-ACK: we are not ECN-capable (RFC 3168 §6.1.1)", () => {
    const syn: TcpSegment = {
      ...seg({ flags: "S", seq: 5000 }),
      flags: Flag.SYN | Flag.ECE | Flag.CWR,
    };
    const tcb = Tcb.accept({ ...opts(), syn });
    const [synAck] = tcb.takeOutput();
    expect(synAck?.flags).toBe(Flag.SYN | Flag.ACK);
  });
});

describe("RFC 9293 §3.10.7.4 first step: RCV.WND = 0", () => {
  /** ESTABLISHED with a 1000-byte receive buffer that the peer has filled; 10 bytes of ours in flight. */
  function zeroWindow(): Tcb {
    const tcb = established({ rcvBuf: 1000, delayedAck: ms(0) });
    tcb.setNoDelay(true);
    tcb.input(
      seg({ flags: "A", seq: 5001, ack: 1001, payload: new Uint8Array(1000) }),
      instant(10),
    );
    expect(out(tcb)).toEqual(["A seq=1001 ack=6001 win=0 len=0"]);
    tcb.send(new Uint8Array(10), instant(20));
    tcb.takeOutput();
    return tcb;
  }

  test("len = 0: only SEG.SEQ = RCV.NXT is acceptable, and its ACK is processed", () => {
    const tcb = zeroWindow();
    tcb.input(seg({ flags: "A", seq: 6001, ack: 1011, win: 5000 }), instant(30));
    expect(out(tcb)).toEqual([]);
    expect([tcb.sndUna, tcb.sndWnd]).toEqual([1011, 5000]);
  });

  test("len = 0: any other SEG.SEQ is unacceptable — an ACK goes back, the ACK field is not used", () => {
    const tcb = zeroWindow();
    tcb.input(seg({ flags: "A", seq: 6002, ack: 1011, win: 5000 }), instant(30));
    expect(out(tcb)).toEqual(["A seq=1011 ack=6001 win=0 len=0"]);
    expect(tcb.sndUna).toBe(1001);
  });
});

describe("RFC 9293 §3.10.7.4 second step: RST by state", () => {
  test("FIN-WAIT-2: an exact RST is a reset (ECONNRESET), though our side had finished", () => {
    const tcb = finWait2();
    tcb.input(seg({ flags: "R", seq: 5001 }), instant(10));
    expect(tcb.state).toBe(State.Closed);
    expect(tcb.error).toBe("ECONNRESET");
  });

  test("CLOSING: an exact RST ends the connection without an error", () => {
    const tcb = closing();
    tcb.input(seg({ flags: "R", seq: 5002 }), instant(10));
    expect(tcb.state).toBe(State.Closed);
    expect(tcb.error).toBeUndefined();
  });
});

describe("RFC 9293 §3.10.7.4 seventh step: text after the peer's FIN", () => {
  test("CLOSE-WAIT: new text in the window is ignored (the peer has finished)", () => {
    const tcb = closeWait();
    tcb.input(seg({ flags: "PA", seq: 5002, ack: 1001, payload: "ghost" }), instant(10));
    expect(tcb.recvAvailable).toBe(0);
    expect(tcb.rcvNxt).toBe(5002);
    expect(tcb.state).toBe(State.CloseWait);
  });
});

describe("RFC 9293 §3.10.4–3.10.5: CLOSE and ABORT in the handshake states", () => {
  test("CLOSE in SYN-RECEIVED with data queued: data then FIN once ESTABLISHED", () => {
    const tcb = synReceived();
    expect(tcb.send(new TextEncoder().encode("abc"), instant(5))).toBe(3);
    tcb.close(instant(6));
    expect(tcb.state).toBe(State.SynReceived);
    expect(out(tcb)).toEqual([]);
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1001 }), instant(10));
    expect(tcb.state).toBe(State.FinWait1);
    expect(out(tcb)).toEqual(["FPA seq=1001 ack=5001 win=65535 len=3"]);
  });

  test("ABORT in SYN-SENT: no RST (nothing is synchronized), CLOSED with ECONNABORTED", () => {
    const tcb = synSent();
    tcb.abort(instant(5));
    expect(out(tcb)).toEqual([]);
    expect(tcb.state).toBe(State.Closed);
    expect(tcb.error).toBe("ECONNABORTED");
    expect(tcb.pollAt()).toBeUndefined();
  });
});

describe("RFC 9293 §3.8.6: window updates", () => {
  test("a window update without data (same ACK, larger window) releases data at once", () => {
    const tcb = established({}, 0);
    tcb.send(new Uint8Array(100), EPOCH);
    expect(out(tcb)).toEqual([]);
    expect(tcb.timers()).toEqual([{ name: "persist", deadline: instant(1000) }]);
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1001, win: 4000 }), instant(500));
    expect(tcb.sndWnd).toBe(4000);
    expect(out(tcb)).toEqual(["PA seq=1001 ack=5001 win=65535 len=100"]);
    expect(tcb.timers()).toEqual([{ name: "retransmission", deadline: instant(1500) }]);
  });

  test("a window update from an older segment (SEG.SEQ < SND.WL1) is ignored", () => {
    const tcb = established();
    tcb.input(seg({ flags: "PA", seq: 5001, ack: 1001, win: 3000, payload: "x" }), instant(10));
    expect([tcb.sndWnd, tcb.sndWl1]).toEqual([3000, 5001]);
    // A reordered, older pure ACK arrives with a stale, larger window.
    tcb.input(seg({ flags: "A", seq: 5000, ack: 1001, win: 60000 }), instant(11));
    expect(tcb.sndWnd).toBe(3000);
  });

  test("a zero-window probe the peer refused is sent again at once when the window opens", () => {
    const tcb = established({}, 0);
    tcb.send(new Uint8Array(100), EPOCH);
    tcb.onTimer(instant(1000));
    expect(out(tcb)).toEqual(["A seq=1001 ack=5001 win=65535 len=1"]);
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1001, win: 0 }), instant(1010)); // refused: still zero
    expect(out(tcb)).toEqual([]);
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1001, win: 4000 }), instant(1500)); // window update
    // The refused probe is taken back: its byte leaves at once with the rest,
    // rather than after an RTO (during which Nagle would hold the 99 bytes behind it).
    expect(out(tcb)).toEqual(["PA seq=1001 ack=5001 win=65535 len=100"]);
    expect(tcb.sndNxt).toBe(1101);
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1101, win: 4000 }), instant(1600));
    expect(tcb.sndUna).toBe(1101);
    expect(tcb.pollAt()).toBeUndefined();
  });

  test("reading in CLOSE-WAIT sends no window update: the peer will send nothing more", () => {
    const tcb = established({ rcvBuf: 4000, delayedAck: ms(0) });
    tcb.input(
      seg({ flags: "FA", seq: 5001, ack: 1001, payload: new Uint8Array(4000) }),
      instant(10),
    );
    expect(tcb.state).toBe(State.CloseWait);
    expect(out(tcb)).toEqual(["A seq=1001 ack=9002 win=0 len=0"]);
    expect(tcb.recv(4000, instant(20)).length).toBe(4000);
    expect(out(tcb)).toEqual([]);
  });

  test("property: the advertised right edge (ACK + window) never moves left, and the window fits the free space", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 3000 })), { maxLength: 60 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (ops, peerIss) => {
          const tcb = Tcb.connect(opts({}, { rcvBuf: 4000, delayedAck: ms(0) }));
          tcb.takeOutput();
          tcb.input(seg({ flags: "SA", seq: peerIss, ack: 1001, options: MSS }), EPOCH);
          let edge: number | undefined;
          let now = 1;
          const check = () => {
            for (const s of tcb.takeOutput()) {
              const right = seqAdd(s.ack, s.window);
              if (edge !== undefined && !seqGe(right, edge)) return false;
              edge = right;
              if (s.window > tcb.rcvQueue.free) return false;
            }
            return true;
          };
          if (!check()) return false;
          for (const [peerSends, n] of ops) {
            now++;
            if (peerSends) {
              // The peer sends up to n bytes, never past the window it was offered.
              const len = Math.min(n, tcb.rcvWnd);
              if (len === 0) continue;
              tcb.input(
                seg({ flags: "A", seq: tcb.rcvNxt, ack: 1001, payload: new Uint8Array(len) }),
                instant(now),
              );
            } else {
              tcb.recv(n, instant(now));
            }
            if (!check()) return false;
          }
          return true;
        },
      ),
      { numRuns: 300, seed: 7 },
    );
  });
});

describe("RFC 9293 §3.8.6.2.1: sender SWS avoidance", () => {
  test("a usable window of at least half the largest window seen is used even below one MSS", () => {
    // The peer offers 1000 bytes (MAX.SND.WND = 1000 < MSS 1460). Segments
    // are not bounded to half of it here (boundToHalfWindow, segment-size.test.ts):
    // this is the RFC's rule alone.
    const tcb = established({ boundToHalfWindow: false }, 1000);
    tcb.send(new Uint8Array(4000), instant(10));
    expect(out(tcb)).toEqual(["A seq=1001 ack=5001 win=65535 len=1000"]);
    // 400 usable bytes: below MSS and below 1000/2 — wait for more (or the persist override).
    tcb.input(seg({ flags: "A", seq: 5001, ack: 2001, win: 400 }), instant(50));
    expect(out(tcb)).toEqual([]);
    expect(tcb.timers().map((t) => t.name)).toEqual(["persist"]);
    // 600 usable: at least half the largest window — send it.
    tcb.input(seg({ flags: "A", seq: 5001, ack: 2001, win: 600 }), instant(60));
    expect(out(tcb)).toEqual(["A seq=2001 ack=5001 win=65535 len=600"]);
  });
});

describe("RFC 6298 §5.7: SYN retransmitted", () => {
  test("no RTT sample from the handshake: RTO is 3 s when data transmission begins", () => {
    const tcb = synSent();
    tcb.onTimer(instant(1000));
    expect(out(tcb)).toEqual([
      "S seq=1000 ack=0 win=65535 len=0 <mss 1460,nop,wscale 0,sackOK,TS val 1001 ecr 0>",
    ]);
    expect(tcb.rto).toBe(ms(2000));
    tcb.input(seg({ flags: "SA", seq: 5000, ack: 1001, options: MSS }), instant(1500));
    expect(tcb.state).toBe(State.Established);
    expect(tcb.srtt).toBeUndefined(); // Karn: the SYN was sent twice
    expect(tcb.rto).toBe(ms(3000));
    tcb.takeOutput();
    tcb.send(new Uint8Array(10), instant(1600));
    expect(tcb.timers()).toEqual([{ name: "retransmission", deadline: instant(4600) }]);
  });
});

describe("RFC 5961 §5.2: ACK range edges", () => {
  test("SEG.ACK = SND.UNA − MAX.SND.WND is acceptable; one less gets a challenge ACK", () => {
    const tcb = established();
    expect(tcb.maxSndWnd).toBe(65535);
    const lowest = seqAdd(1001, -65535);
    tcb.input(seg({ flags: "A", seq: 5001, ack: lowest }), instant(10));
    expect(out(tcb)).toEqual([]); // an old duplicate: ignored
    tcb.input(seg({ flags: "A", seq: 5001, ack: seqAdd(lowest, -1) }), instant(11));
    expect(out(tcb)).toEqual(["A seq=1001 ack=5001 win=65535 len=0"]);
    expect(tcb.challengeAcks).toBe(1);
  });
});

describe("out-of-order data within a memory bound (RFC 9293 §3.10.7.4 seventh step)", () => {
  test("a Tcb holds at most oooLimit bytes ahead of a hole; the rest must be sent again", () => {
    const tcb = established({ oooLimit: 100 });
    tcb.input(
      seg({ flags: "A", seq: 5011, ack: 1001, payload: new Uint8Array(60).fill(1) }),
      instant(10),
    );
    tcb.input(
      seg({ flags: "A", seq: 5071, ack: 1001, payload: new Uint8Array(60).fill(2) }),
      instant(11),
    );
    // Each out-of-order segment is answered at once with a duplicate ACK.
    expect(out(tcb)).toEqual([
      "A seq=1001 ack=5001 win=65535 len=0",
      "A seq=1001 ack=5001 win=65535 len=0",
    ]);
    expect(tcb.reassembly.bytes).toBe(100);
    // The hole fills: the held 100 bytes follow, the 20 that did not fit are not acknowledged.
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1001, payload: new Uint8Array(10) }), instant(12));
    expect(out(tcb)).toEqual(["A seq=1001 ack=5111 win=65425 len=0"]);
    expect(tcb.reassembly.bytes).toBe(0);
    const got = tcb.recv(1000, instant(13));
    expect(got.length).toBe(110);
    expect([got[10], got[69], got[70], got[109]]).toEqual([1, 1, 2, 2]);
  });
});

describe("send and receive buffers", () => {
  test("SEND takes what fits in the send buffer (0 when full); ACKs free it and signal writable", () => {
    const tcb = established({ sndBuf: 1000 }, 0); // a zero window: nothing leaves
    let writable = 0;
    tcb.events = { writable: () => writable++ };
    expect(tcb.send(new Uint8Array(1500), instant(1))).toBe(1000);
    expect(tcb.send(new Uint8Array(1), instant(2))).toBe(0);
    expect(tcb.sendSpace).toBe(0);
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1001, win: 65535 }), instant(3));
    expect(out(tcb)).toEqual(["PA seq=1001 ack=5001 win=65535 len=1000"]);
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1501 }), instant(4));
    expect(writable).toBe(1);
    expect(tcb.sendSpace).toBe(500);
  });
});

describe("listen backlog: the accept queue", () => {
  test("a connection reset while waiting in the accept queue is dropped from it", () => {
    const l = new Listener(LOCAL, { backlog: 2, settings: settings() });
    const syn = seg({ flags: "S", seq: 5000, options: MSS });
    expect(l.input(syn, REMOTE, EPOCH)).toEqual({ action: "syn" });
    const tcb = Tcb.accept({ ...opts(), syn });
    l.addHalfOpen(tcb);
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1001 }), instant(10));
    expect(l.acceptQueue).toEqual([tcb]);
    // The peer gives up before accept(): an exact RST.
    tcb.input(seg({ flags: "R", seq: 5001 }), instant(20));
    expect(tcb.state).toBe(State.Closed);
    expect(tcb.error).toBe("ECONNRESET");
    expect(l.acceptQueue).toEqual([]);
    expect(l.accept()).toBeUndefined();
    // Its place in the backlog is free again.
    expect(l.input({ ...syn, srcPort: 1 }, { ...REMOTE, port: 1 }, instant(30))).toEqual({
      action: "syn",
    });
  });
});

describe("a copy of the opening SYN in SYN-RECEIVED", () => {
  test("is answered with the SYN-ACK at once, but is no loss: IW stays 10 segments, RTO stays 1 s", () => {
    const A = { addr: ip("10.0.0.1"), port: 49152 };
    const B = { addr: ip("10.0.0.2"), port: 80 };
    const s = { ...defaultTcpSettings, timestamps: false };
    const a = Tcb.connect({ local: A, remote: B, iss: 100, settings: s, now: EPOCH });
    const [syn] = a.takeOutput();
    if (syn === undefined) throw new Error("no SYN");
    const b = Tcb.accept({ local: B, remote: A, iss: 900, settings: s, now: instant(5), syn });
    const [synAck] = b.takeOutput();
    if (synAck === undefined) throw new Error("no SYN-ACK");
    b.input(syn, instant(6)); // the network duplicated the SYN
    const again = b.takeOutput();
    expect(again).toHaveLength(1);
    expect(again[0]?.flags).toBe(Flag.SYN | Flag.ACK);
    expect(again[0]?.seq).toBe(900);
    a.input(synAck, instant(10));
    const [ack] = a.takeOutput();
    if (ack === undefined) throw new Error("no ACK");
    b.input(ack, instant(15));
    expect(b.state).toBe(State.Established);
    expect(b.congestion.cwnd).toBe(10 * b.effSndMss);
    expect(b.rto).toBe(ms(1000));
    // Karn: the SYN-ACK went twice, so the handshake gave no RTT sample.
    expect(b.srtt).toBeUndefined();
  });
});
