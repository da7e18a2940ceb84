import { describe, expect, test } from "bun:test";
import { EPOCH, instant } from "../../src/clock/time.ts";
import { Listener } from "../../src/tcp/listener.ts";
import type { TcpSettings } from "../../src/tcp/settings.ts";
import { State } from "../../src/tcp/state.ts";
import { Tcb } from "../../src/tcp/tcb.ts";
import { parseIpv4 } from "../../src/wire/ipv4.ts";
import { buildTcpPacket } from "../../src/wire/packet.ts";
import { parseTcp } from "../../src/wire/tcp.ts";
import { Flag } from "../../src/wire/tcp-types.ts";
import { A, B, host, pump } from "../stack/util.ts";
import {
  closeWait,
  established,
  finWait1,
  fmt,
  LOCAL,
  lastAck,
  MSS,
  opts,
  out,
  REMOTE,
  seg,
  settings,
  synSent,
  text,
  timeWait,
} from "./helpers.ts";

// Each switch of src/tcp/settings.ts that a personality may turn, both ways,
// with exact segments. We are ISS 1000, the peer ISS 5000 (helpers.ts).

describe("RFC 5961, one switch per check", () => {
  test("rfc5961Rst: an in-window RST that is not exact gets a challenge ACK, or resets when off", () => {
    const on = established();
    on.input(seg({ flags: "R", seq: 5011 }), instant(10));
    expect(out(on)).toEqual(["A seq=1001 ack=5001 win=65535 len=0"]);
    expect(on.state).toBe(State.Established);

    const off = established({ rfc5961Rst: false });
    off.input(seg({ flags: "R", seq: 5011 }), instant(10));
    expect(out(off)).toEqual([]);
    expect(off.state).toBe(State.Closed);
    expect(off.error).toBe("ECONNRESET");
  });

  test("rfc5961Rst off leaves the SYN check on (insecure_rst does not make SYNs insecure)", () => {
    const tcb = established({ rfc5961Rst: false });
    tcb.input(seg({ flags: "S", seq: 5001 }), instant(10));
    expect(out(tcb)).toEqual(["A seq=1001 ack=5001 win=65535 len=0"]);
    expect(tcb.state).toBe(State.Established);
  });

  test("rfc5961Syn: an in-window SYN gets a challenge ACK, or resets the connection when off", () => {
    const on = established();
    on.input(seg({ flags: "S", seq: 5001 }), instant(10));
    expect(out(on)).toEqual(["A seq=1001 ack=5001 win=65535 len=0"]);

    const off = established({ rfc5961Syn: false });
    off.input(seg({ flags: "S", seq: 5001 }), instant(10));
    expect(out(off)).toEqual(["RA seq=0 ack=5002 win=0 len=0"]);
    expect(off.error).toBe("ECONNRESET");
  });

  test("rfc5961Syn: a SYN left of the window gets a challenge ACK too (§4.2: irrespective of the sequence number)", () => {
    const tcb = established({ challengeAckLimit: 1 });
    tcb.input(seg({ flags: "S", seq: 4000 }), instant(10));
    tcb.input(seg({ flags: "S", seq: 4001 }), instant(20));
    // Challenge ACKs are rate-limited (§7): one per second here.
    expect(out(tcb)).toEqual(["A seq=1001 ack=5001 win=65535 len=0"]);
    expect(tcb.challengeAcks).toBe(2);
  });

  test("rfc5961Ack: an ACK below SND.UNA − MAX.SND.WND gets a challenge ACK, or is a harmless duplicate when off", () => {
    const old = (1001 - 65535 - 10) >>> 0;
    const on = established();
    on.input(seg({ flags: "A", seq: 5001, ack: old }), instant(10));
    expect(out(on)).toEqual(["A seq=1001 ack=5001 win=65535 len=0"]);

    const off = established({ rfc5961Ack: false });
    off.input(seg({ flags: "A", seq: 5001, ack: old }), instant(10));
    expect(out(off)).toEqual([]);
    expect(off.state).toBe(State.Established);
  });

  test("rfc5961 false still turns all three off", () => {
    const tcb = established({ rfc5961: false });
    tcb.input(seg({ flags: "S", seq: 5001 }), instant(10));
    expect(out(tcb)).toEqual(["RA seq=0 ack=5002 win=0 len=0"]);
  });
});

describe("synResetForm (RFC 9293 §3.10.7.4 fourth step without RFC 5961)", () => {
  test('"segment": the closed-port form; "connection": <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>', () => {
    const a = established({ rfc5961Syn: false, synResetForm: "segment" });
    a.input(seg({ flags: "S", seq: 5100 }), instant(10));
    expect(out(a)).toEqual(["RA seq=0 ack=5101 win=0 len=0"]);

    const b = established({ rfc5961Syn: false, synResetForm: "connection" });
    b.input(seg({ flags: "S", seq: 5100 }), instant(10));
    expect(out(b)).toEqual(["RA seq=1001 ack=5001 win=0 len=0"]);
    expect(b.error).toBe("ECONNRESET");
  });
});

describe("rstErrorWhenClosing", () => {
  test("a RST at RCV.NXT in LAST-ACK closes without an error, or with ECONNRESET", () => {
    const quiet = lastAck();
    quiet.input(seg({ flags: "R", seq: 5002 }), instant(10));
    expect(quiet.state).toBe(State.Closed);
    expect(quiet.error).toBeUndefined();

    const loud = lastAck({ rstErrorWhenClosing: true });
    loud.input(seg({ flags: "R", seq: 5002 }), instant(10));
    expect(loud.state).toBe(State.Closed);
    expect(loud.error).toBe("ECONNRESET");
  });

  test("the same in CLOSING", () => {
    const tcb = finWait1({ rstErrorWhenClosing: true });
    tcb.input(seg({ flags: "FA", seq: 5001, ack: 1001 }), instant(5));
    expect(tcb.state).toBe(State.Closing);
    tcb.takeOutput();
    tcb.input(seg({ flags: "R", seq: 5002 }), instant(10));
    expect(tcb.error).toBe("ECONNRESET");
  });
});

describe("oldSegmentAck", () => {
  // LAST-ACK: RCV.NXT = 5002, our FIN is 1001. The peer acknowledges the FIN
  // with a segment numbered 5001 (left of the window).
  test('"drop": ACKed and dropped, LAST-ACK stays (RFC 9293 §3.10.7.4)', () => {
    const tcb = lastAck();
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1002 }), instant(10));
    expect(out(tcb)).toEqual(["A seq=1002 ack=5002 win=65535 len=0"]);
    expect(tcb.state).toBe(State.LastAck);
  });

  test('"process": its ACK field still counts; LAST-ACK closes with no reply', () => {
    const tcb = lastAck({ oldSegmentAck: "process" });
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1002 }), instant(10));
    expect(out(tcb)).toEqual([]);
    expect(tcb.state).toBe(State.Closed);
    expect(tcb.error).toBeUndefined();
  });

  test('"process" in FIN-WAIT-1: the old segment acknowledges our FIN and is then ACKed', () => {
    const tcb = finWait1({ oldSegmentAck: "process" });
    tcb.input(seg({ flags: "A", seq: 4990, ack: 1002, payload: "0123456789" }), instant(10));
    expect(tcb.state).toBe(State.FinWait2);
    expect(out(tcb)).toEqual(["A seq=1002 ack=5001 win=65535 len=0"]);
    expect(tcb.recvAvailable).toBe(0);
  });
});

describe("ackRepeatsFin", () => {
  test("the ACK of the peer's FIN in CLOSING repeats our FIN only when switched on", () => {
    const plain = finWait1();
    plain.input(seg({ flags: "FA", seq: 5001, ack: 1001 }), instant(10));
    expect(out(plain)).toEqual(["A seq=1002 ack=5002 win=65535 len=0"]);

    const bsd = finWait1({ ackRepeatsFin: true });
    bsd.input(seg({ flags: "FA", seq: 5001, ack: 1001 }), instant(10));
    expect(out(bsd)).toEqual(["FA seq=1001 ack=5002 win=65535 len=0"]);
    expect(bsd.state).toBe(State.Closing);
  });

  test("challenge ACKs stay plain, and no FIN is repeated once it is acknowledged", () => {
    const tcb = finWait1({ ackRepeatsFin: true });
    tcb.input(seg({ flags: "FA", seq: 5001, ack: 1001 }), instant(10));
    tcb.takeOutput();
    tcb.input(seg({ flags: "S", seq: 5002 }), instant(20));
    expect(out(tcb)).toEqual(["A seq=1002 ack=5002 win=65535 len=0"]);

    const acked = closeWait({ ackRepeatsFin: true });
    acked.close(instant(30));
    expect(out(acked)).toEqual(["FA seq=1001 ack=5002 win=65535 len=0"]);
    acked.input(seg({ flags: "A", seq: 5002, ack: 1002 }), instant(40));
    expect(acked.state).toBe(State.Closed);
  });
});

describe("TIME-WAIT (RCV.NXT = 5002, SND.NXT = 1002)", () => {
  test("timeWaitRst: a RST at RCV.NXT closes, or is ignored (RFC 1337)", () => {
    const close = timeWait();
    close.input(seg({ flags: "R", seq: 5002 }), instant(100));
    expect(close.state).toBe(State.Closed);

    const ignore = timeWait({ timeWaitRst: "ignore" });
    ignore.input(seg({ flags: "R", seq: 5002 }), instant(100));
    expect(out(ignore)).toEqual([]);
    expect(ignore.state).toBe(State.TimeWait);
    expect(ignore.timeWaitAt).toBe(instant(60_000)); // 2×MSL from t=0, not restarted
  });

  test("timeWaitReopen: a SYN above RCV.NXT ends TIME-WAIT for a new connection, else a challenge ACK", () => {
    const off = timeWait({ timeWaitReopen: false });
    off.input(seg({ flags: "S", seq: 9000 }), instant(100));
    expect(out(off)).toEqual(["A seq=1002 ack=5002 win=65535 len=0"]);
    expect(off.state).toBe(State.TimeWait);

    const on = timeWait({ timeWaitReopen: true });
    on.input(seg({ flags: "S", seq: 9000 }), instant(100));
    expect(out(on)).toEqual([]);
    expect(on.state).toBe(State.Closed);
    expect(on.reopenedBy?.seq).toBe(9000);
  });

  describe("RFC 6191: with timestamps on both incarnations the timestamp decides", () => {
    /** TIME-WAIT with timestamps negotiated; the peer's TSvals were 700..702, TS.Recent 702. */
    function timeWaitTs(s: Partial<TcpSettings> = {}): Tcb {
      const ts = (tsVal: number) => [...MSS, { kind: "timestamps" as const, tsVal, tsEcr: 1 }];
      const tcb = synSent(s);
      tcb.input(seg({ flags: "SA", seq: 5000, ack: 1001, options: ts(700) }), EPOCH);
      tcb.close(EPOCH);
      tcb.input(seg({ flags: "A", seq: 5001, ack: 1002, options: ts(701) }), EPOCH);
      tcb.input(seg({ flags: "FA", seq: 5001, ack: 1002, options: ts(702) }), EPOCH);
      tcb.takeOutput();
      expect(tcb.state).toBe(State.TimeWait);
      expect(tcb.tsRecent).toBe(702);
      return tcb;
    }
    const syn = (seq: number, tsVal: number) =>
      seg({ flags: "S", seq, options: [...MSS, { kind: "timestamps", tsVal, tsEcr: 0 }] });

    test("a newer TSval reopens even with a sequence number below RCV.NXT", () => {
      const tcb = timeWaitTs();
      tcb.input(syn(100, 703), instant(10));
      expect(tcb.state).toBe(State.Closed);
      expect(tcb.reopenedBy?.seq).toBe(100);
    });

    test("an older TSval does not reopen, whatever the sequence number", () => {
      const tcb = timeWaitTs();
      tcb.input(syn(9000, 650), instant(10));
      expect(tcb.state).toBe(State.TimeWait);
      expect(tcb.reopenedBy).toBeUndefined();
    });

    test("an equal TSval reopens only above RCV.NXT", () => {
      const below = timeWaitTs();
      below.input(syn(5002, 702), instant(10));
      expect(below.state).toBe(State.TimeWait);
      const above = timeWaitTs();
      above.input(syn(5003, 702), instant(10));
      expect(above.reopenedBy?.seq).toBe(5003);
    });

    test("timeWaitReopenTimestamps off (FreeBSD): only the sequence number counts", () => {
      const tcb = timeWaitTs({ timeWaitReopenTimestamps: false });
      tcb.input(syn(100, 703), instant(10));
      expect(tcb.state).toBe(State.TimeWait);
      const seqOnly = timeWaitTs({ timeWaitReopenTimestamps: false });
      seqOnly.input(syn(9000, 650), instant(10));
      expect(seqOnly.reopenedBy?.seq).toBe(9000);
    });
  });

  test("timeWaitReopen: a SYN at or below RCV.NXT does not reopen", () => {
    const tcb = timeWait({ timeWaitReopen: true });
    tcb.input(seg({ flags: "S", seq: 5002 }), instant(100));
    expect(tcb.state).toBe(State.TimeWait);
    expect(tcb.reopenedBy).toBeUndefined();
    expect(out(tcb)).toEqual(["A seq=1002 ack=5002 win=65535 len=0"]);
  });

  test('timeWaitInput "bsd": no ACK bit, no reply (RFC 9293 would ACK an out-of-window FIN)', () => {
    const rfc = timeWait();
    rfc.input(seg({ flags: "F", seq: 80_000 }), instant(100)); // beyond RCV.NXT+RCV.WND = 70537
    expect(out(rfc)).toEqual(["A seq=1002 ack=5002 win=65535 len=0"]);

    const bsd = timeWait({ timeWaitInput: "bsd" });
    bsd.input(seg({ flags: "F", seq: 80_000 }), instant(100));
    expect(out(bsd)).toEqual([]);
  });

  test('timeWaitInput "bsd": any ACK-bearing segment but a pure duplicate ACK is answered', () => {
    const rfc = timeWait();
    rfc.input(seg({ flags: "A", seq: 5003, ack: 1002 }), instant(100)); // in the window, not at RCV.NXT
    expect(out(rfc)).toEqual([]);

    const bsd = timeWait({ timeWaitInput: "bsd" });
    bsd.input(seg({ flags: "A", seq: 5003, ack: 1002 }), instant(100));
    expect(out(bsd)).toEqual(["A seq=1002 ack=5002 win=65535 len=0"]);
    bsd.input(seg({ flags: "A", seq: 5002, ack: 1002 }), instant(200)); // the pure duplicate
    expect(out(bsd)).toEqual([]);
    bsd.input(seg({ flags: "SA", seq: 5002, ack: 1002 }), instant(300));
    expect(out(bsd)).toEqual(["A seq=1002 ack=5002 win=65535 len=0"]);
    expect(bsd.state).toBe(State.TimeWait);
  });

  test('timeWaitInput "bsd": the peer\'s FIN again restarts 2×MSL', () => {
    const tcb = timeWait({ timeWaitInput: "bsd" });
    tcb.input(seg({ flags: "FA", seq: 5001, ack: 1002 }), instant(1000));
    expect(out(tcb)).toEqual(["A seq=1002 ack=5002 win=65535 len=0"]);
    expect(tcb.timeWaitAt).toBe(instant(61_000));
  });
});

describe("timeWaitReopen at the Host: the SYN goes to the listener, ISS above the old SND.NXT", () => {
  function toTimeWait(tcp: Partial<TcpSettings>) {
    // No timestamps: a SYN without them would be dropped by RFC 7323 §3.2 before any TIME-WAIT rule.
    const a = host("a", { tcp: { timestamps: false } });
    const b = host("b", { tcp: { ...tcp, timestamps: false } });
    const l = b.listen(80, 1);
    if (!(l instanceof Listener)) throw new Error(String(l));
    const c = a.connect({ addr: B, port: 80 }, EPOCH, { localPort: 4000 });
    if (!(c instanceof Tcb)) throw new Error(String(c));
    pump(a, b, EPOCH);
    const server = l.accept();
    if (server === undefined) throw new Error("no connection");
    server.close(instant(1)); // b closes first: b ends in TIME-WAIT
    pump(a, b, instant(1));
    c.close(instant(2));
    pump(a, b, instant(2));
    expect(server.state).toBe(State.TimeWait);
    expect(server.sndNxt).toBe(5002);
    expect(server.rcvNxt).toBe(1002);
    return b;
  }

  const synFromA = (seq: number) =>
    buildTcpPacket(A, B, {
      srcPort: 4000,
      dstPort: 80,
      seq,
      ack: 0,
      flags: Flag.SYN,
      window: 65535,
      urgentPointer: 0,
      options: MSS,
      payload: new Uint8Array(0),
    });

  const replies = (packets: Uint8Array[]) =>
    packets.map((p) => {
      const ipp = parseIpv4(p);
      if (!ipp.ok) throw new Error(ipp.drop);
      const t = parseTcp(ipp.value.payload, ipp.value.header.src, ipp.value.header.dst);
      if (!t.ok) throw new Error(t.drop);
      return { ...t.value, options: [] };
    });

  test("on: a SYN-ACK from a new connection (ISS 5003 although the ISN generator says 5000)", () => {
    const b = toTimeWait({ timeWaitReopen: true });
    b.receive(synFromA(9000), instant(3));
    expect(replies(b.takeOutput()).map(fmt)).toEqual(["SA seq=5003 ack=9001 win=65535 len=0"]);
    expect(b.connections().map((t) => t.state)).toEqual([State.SynReceived]);
  });

  test("by default (tcplab's settings): a client reusing its port gets a new connection", () => {
    const b = toTimeWait({});
    b.receive(synFromA(9000), instant(3));
    expect(replies(b.takeOutput()).map(fmt)).toEqual(["SA seq=5003 ack=9001 win=65535 len=0"]);
  });

  test("off: a challenge ACK from the old connection", () => {
    const b = toTimeWait({ timeWaitReopen: false });
    b.receive(synFromA(9000), instant(3));
    expect(replies(b.takeOutput()).map(fmt)).toEqual(["A seq=5002 ack=1002 win=65535 len=0"]);
    expect(b.connections().map((t) => t.state)).toEqual([State.TimeWait]);
  });
});

describe("LISTEN switches", () => {
  const listener = (s: Partial<TcpSettings>) =>
    new Listener(LOCAL, { backlog: 2, settings: settings(s) });

  test('dropSynFin: SYN+FIN is a connection request by default, dropped with "listen" or "all"', () => {
    expect(listener({}).input(seg({ flags: "SF", seq: 1 }), REMOTE, EPOCH)).toEqual({
      action: "syn",
    });
    for (const dropSynFin of ["listen", "all"] as const)
      expect(listener({ dropSynFin }).input(seg({ flags: "SF", seq: 1 }), REMOTE, EPOCH)).toEqual({
        action: "drop",
        reason: "syn-fin",
      });
  });

  test('dropSynFin "all" drops SYN+FIN in SYN-SENT too; "listen" lets it through (simultaneous open)', () => {
    const all = synSent({ dropSynFin: "all" });
    all.input(seg({ flags: "SF", seq: 5000, options: MSS }), instant(10));
    expect(out(all)).toEqual([]);
    expect(all.state).toBe(State.SynSent);

    const listen = synSent({ dropSynFin: "listen" });
    listen.input(seg({ flags: "SF", seq: 5000, options: MSS }), instant(10));
    expect(listen.state).toBe(State.SynReceived);
    expect(out(listen)).toEqual(["SA seq=1000 ack=5001 win=65535 len=0 <mss 1460>"]);
  });

  test("listenSynAckReset: a SYN-ACK in LISTEN gets <SEQ=SEG.ACK><CTL=RST>, or is dropped", () => {
    const v = listener({}).input(seg({ flags: "SA", seq: 17, ack: 34 }), REMOTE, EPOCH);
    expect(v.action).toBe("reset");
    if (v.action === "reset") expect(fmt(v.rst)).toBe("R seq=34 ack=0 win=0 len=0");
    expect(
      listener({ listenSynAckReset: false }).input(
        seg({ flags: "SA", seq: 17, ack: 34 }),
        REMOTE,
        EPOCH,
      ),
    ).toEqual({ action: "drop", reason: "syn-ack" });
  });

  test("listenerCloseHalfOpen: closing the listener resets a SYN-RECEIVED connection, or forgets it", () => {
    for (const [mode, sent] of [
      ["reset", ["R seq=1001 ack=0 win=0 len=0"]],
      ["drop", []],
    ] as const) {
      const l = listener({ listenerCloseHalfOpen: mode });
      const syn = seg({ flags: "S", seq: 5000, options: MSS });
      expect(l.input(syn, REMOTE, EPOCH)).toEqual({ action: "syn" });
      const tcb = Tcb.accept({ ...opts({}, { listenerCloseHalfOpen: mode }), syn });
      l.addHalfOpen(tcb);
      tcb.takeOutput();
      l.close(instant(10));
      expect(out(tcb)).toEqual([...sent]);
      expect(tcb.state).toBe(State.Closed);
    }
  });
});

describe("receive buffer and window", () => {
  const bsdWindow: Partial<TcpSettings> = { rcvBuf: 65536, rcvBufRounding: "mss" };

  test("rcvBufRounding: 65536 becomes 65700 (45 × 1460) once the MSS is known", () => {
    expect(established({ rcvBuf: 65536 }).rcvQueue.capacity).toBe(65536);
    expect(established(bsdWindow).rcvQueue.capacity).toBe(65700);
  });

  test("rcvBufRounding: a passive open is rounded only at ESTABLISHED (the SYN-RECEIVED side keeps its advertised window)", () => {
    const tcb = Tcb.accept({
      ...opts({}, bsdWindow),
      syn: seg({ flags: "S", seq: 5000, options: MSS }),
    });
    expect(tcb.rcvQueue.capacity).toBe(65536);
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1001 }), instant(10));
    expect(tcb.rcvQueue.capacity).toBe(65700);
  });

  test("seqCheckWindow: a RST at RCV.NXT+65699 is outside the advertised 65535 but inside the 65700-byte buffer", () => {
    const advertised = established(bsdWindow);
    advertised.input(seg({ flags: "R", seq: 5001 + 65699 }), instant(10));
    expect(out(advertised)).toEqual([]); // out of the window: dropped silently

    const buffer = established({ ...bsdWindow, seqCheckWindow: "buffer" });
    buffer.input(seg({ flags: "R", seq: 5001 + 65699 }), instant(10));
    expect(out(buffer)).toEqual(["A seq=1001 ack=5001 win=65535 len=0"]); // challenge ACK
    buffer.input(seg({ flags: "R", seq: 5001 + 65700 }), instant(10));
    expect(out(buffer)).toEqual([]); // one past the buffer
  });

  test("receiverSws: 3 bytes received — the RFC 9293 edge stays (65532), BSD offers the free space (65535)", () => {
    const rfc = established(bsdWindow);
    rfc.input(seg({ flags: "PA", seq: 5001, ack: 1001, payload: "abc" }), EPOCH);
    rfc.onTimer(instant(200));
    expect(out(rfc)).toEqual(["A seq=1001 ack=5004 win=65532 len=0"]);

    const bsd = established({ ...bsdWindow, receiverSws: "bsd" });
    bsd.input(seg({ flags: "PA", seq: 5001, ack: 1001, payload: "abc" }), EPOCH);
    bsd.onTimer(instant(200));
    expect(out(bsd)).toEqual(["A seq=1001 ack=5004 win=65535 len=0"]);
  });

  test('receiverSws "bsd": reading a few bytes sends no window update', () => {
    const tcb = established({ rcvBuf: 4000, receiverSws: "bsd" });
    tcb.input(seg({ flags: "PA", seq: 5001, ack: 1001, payload: "x".repeat(3000) }), EPOCH);
    tcb.onTimer(instant(200));
    expect(out(tcb)).toEqual(["A seq=1001 ack=8001 win=1000 len=0"]);
    tcb.recv(100, instant(300));
    expect(out(tcb)).toEqual([]);
    tcb.recv(3000, instant(400)); // now the window opens by more than min(rcvBuf/2, MSS)
    expect(out(tcb)).toEqual(["A seq=1001 ack=8001 win=4000 len=0"]);
  });
});

describe("RFC 9293 §3.10.7.3: text on a SYN in SYN-SENT is queued until ESTABLISHED", () => {
  test("held unacknowledged in SYN-RECEIVED, delivered when our SYN is acknowledged", () => {
    const tcb = synSent();
    tcb.input(seg({ flags: "S", seq: 5000, options: MSS, payload: "abc" }), instant(100));
    expect(out(tcb)).toEqual(["SA seq=1000 ack=5001 win=65535 len=0 <mss 1460>"]);
    expect(tcb.recvAvailable).toBe(0);
    tcb.input(seg({ flags: "A", seq: 5004, ack: 1001 }), instant(200));
    expect(tcb.state).toBe(State.Established);
    expect(text(tcb.recv(100, instant(200)))).toBe("abc");
    expect(tcb.rcvNxt).toBe(5004);
    tcb.onTimer(instant(400)); // the delayed ACK (the 3 bytes read do not move the edge: receiver SWS)
    expect(out(tcb)).toEqual(["A seq=1001 ack=5004 win=65532 len=0"]);
  });

  test("a FIN on that SYN is not queued: left unacknowledged for the peer to send again", () => {
    const tcb = synSent();
    tcb.input(seg({ flags: "SF", seq: 5000, options: MSS, payload: "abc" }), instant(100));
    tcb.takeOutput();
    tcb.input(seg({ flags: "A", seq: 5004, ack: 1001 }), instant(200));
    expect(tcb.state).toBe(State.Established);
    expect(tcb.rcvNxt).toBe(5004);
  });
});
