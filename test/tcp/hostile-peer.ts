/**
 * The hostile peer of test/tcp/hostile-peer.test.ts, as a module: the
 * scenario generator, the harness that drives one Tcb (or Listener) through
 * a scenario and checks the RFC's invariants after every step, and the
 * personalities and start states it runs over. The test file runs it under
 * bun test; scripts/fuzz.ts runs it for a soak of any length.
 */
import fc from "fast-check";
import { EPOCH, type Instant, later, max, ms } from "../../src/clock/time.ts";
import { Listener } from "../../src/tcp/listener.ts";
import { hostSettingsFor, personalityNamed } from "../../src/tcp/personality.ts";
import { resetFor, segLen } from "../../src/tcp/reset.ts";
import type { TcpSettings } from "../../src/tcp/settings.ts";
import { State, stateName } from "../../src/tcp/state.ts";
import { Tcb } from "../../src/tcp/tcb.ts";
import { formatFlags } from "../../src/wire/notation.ts";
import { seqAdd, seqDiff, seqGt, seqLe, seqLt } from "../../src/wire/seq.ts";
import { emitTcp, parseTcp, tcpHeaderLength, tcpOptionsLength } from "../../src/wire/tcp.ts";
import { Flag, type TcpOption, type TcpSegment } from "../../src/wire/tcp-types.ts";
import { fmtOption, LOCAL, REMOTE, settings } from "./helpers.ts";

// ───────────────────────────── the peer's stream ─────────────────────────────

/** The peer's byte at absolute sequence number `seq`: one fixed stream for every run. */
function byteAt(seq: number): number {
  let x = seq >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x & 0xff;
}

function streamBytes(firstSeq: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = byteAt(seqAdd(firstSeq, i));
  return out;
}

// ───────────────────────────── scenarios ─────────────────────────────

/** A sequence number named by what it is near, resolved against the Tcb when the segment is sent. */
interface SeqRef {
  readonly base:
    | "rcvNxt"
    | "rcvEdge"
    | "sndUna"
    | "sndNxt"
    | "sndEdge"
    | "iss"
    | "irs"
    | "wrap"
    | "abs";
  readonly delta: number;
}

type TsVal = "now" | "zero" | "huge" | "back" | "abs";

type OptSpec =
  | { readonly k: "mss"; readonly v: number }
  | { readonly k: "wscale"; readonly v: number }
  | { readonly k: "sackOK" }
  | { readonly k: "sack"; readonly blocks: ReadonlyArray<readonly [SeqRef, SeqRef]> }
  | { readonly k: "nop" }
  | { readonly k: "eol" }
  | { readonly k: "unknown"; readonly type: number; readonly len: number };

interface TsSpec {
  readonly val: TsVal;
  readonly x: number;
  readonly ecr: "echo" | "zero" | "abs";
  readonly y: number;
}

interface SegAction {
  readonly k: "seg";
  readonly dt: number;
  readonly flags: number;
  readonly seq: SeqRef;
  readonly ack: SeqRef;
  readonly win: number;
  readonly ts: TsSpec | null;
  readonly opts: readonly OptSpec[];
  readonly len: number;
  readonly urg: number;
}

type Action =
  | SegAction
  | { readonly k: "timer" }
  | { readonly k: "send"; readonly dt: number; readonly n: number }
  | { readonly k: "recv"; readonly dt: number; readonly max: number }
  | { readonly k: "close"; readonly dt: number }
  | { readonly k: "abort"; readonly dt: number }
  | { readonly k: "nodelay"; readonly dt: number; readonly on: boolean }
  | { readonly k: "keepalive"; readonly dt: number; readonly on: boolean };

/** What the peer's SYN offers when the harness opens the connection. */
interface PeerProfile {
  readonly mss: number | null;
  readonly wscale: number | null;
  readonly sack: boolean;
  readonly ts: boolean;
  readonly tsStart: number;
}

interface Scenario {
  readonly iss: number;
  readonly peerIss: number;
  readonly peer: PeerProfile;
  /** Passive open where both are possible (SYN-RECEIVED, ESTABLISHED and after). */
  readonly passive: boolean;
  /** Our bytes written before the close that leads to the start state. */
  readonly preload: number;
  /** The peer's bytes sent before the start state (they wait for recv). */
  readonly peerData: number;
  readonly small: boolean;
  readonly keepAlive: boolean;
  readonly actions: readonly Action[];
}

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const nearWrap = fc.integer({ min: 0xffffffff - 4000, max: 0xffffffff });

const delta = fc.oneof(
  { arbitrary: fc.constantFrom(0, -1, 1), weight: 5 },
  { arbitrary: fc.integer({ min: -3000, max: 3000 }), weight: 3 },
  { arbitrary: fc.integer({ min: -70000, max: 70000 }), weight: 1 },
);

const seqRef: fc.Arbitrary<SeqRef> = fc.oneof(
  {
    arbitrary: fc.record({
      base: fc.constantFrom(
        "rcvNxt",
        "rcvEdge",
        "sndUna",
        "sndNxt",
        "sndEdge",
        "iss",
        "irs",
        "wrap",
      ),
      delta,
    }) as fc.Arbitrary<SeqRef>,
    weight: 9,
  },
  {
    arbitrary: fc.record({ base: fc.constant("abs"), delta: u32 }) as fc.Arbitrary<SeqRef>,
    weight: 1,
  },
);

/** Mostly data at or near RCV.NXT, so the reassembly sees overlaps, holes and duplicates. */
const dataSeqRef: fc.Arbitrary<SeqRef> = fc.oneof(
  {
    arbitrary: fc.record({ base: fc.constant("rcvNxt"), delta }) as fc.Arbitrary<SeqRef>,
    weight: 4,
  },
  { arbitrary: seqRef, weight: 2 },
);

const ackRef: fc.Arbitrary<SeqRef> = fc.oneof(
  {
    arbitrary: fc.record({
      base: fc.constantFrom("sndUna", "sndNxt", "sndNxt", "iss", "wrap", "sndEdge"),
      delta,
    }) as fc.Arbitrary<SeqRef>,
    weight: 9,
  },
  {
    arbitrary: fc.record({ base: fc.constant("abs"), delta: u32 }) as fc.Arbitrary<SeqRef>,
    weight: 1,
  },
);

const F = Flag;
const flagsArb = fc.oneof(
  {
    arbitrary: fc.constantFrom(F.ACK, F.ACK | F.PSH, F.ACK, F.ACK | F.PSH, F.ACK | F.FIN),
    weight: 8,
  },
  {
    arbitrary: fc.constantFrom(
      F.SYN,
      F.SYN | F.ACK,
      F.RST,
      F.RST | F.ACK,
      F.SYN | F.FIN,
      F.SYN | F.RST,
      F.RST | F.FIN,
      0,
      F.FIN,
      F.URG | F.ACK,
      F.ECE | F.ACK,
      F.CWR | F.ACK,
      F.ECE | F.CWR | F.SYN,
      F.SYN | F.FIN | F.ACK | F.PSH,
    ),
    weight: 3,
  },
  { arbitrary: fc.integer({ min: 0, max: 255 }), weight: 1 },
);

const windowArb = fc.oneof(
  fc.constant(0),
  fc.constant(65535),
  fc.integer({ min: 0, max: 65535 }),
  fc.integer({ min: 0, max: 2000 }),
);

const optArb: fc.Arbitrary<OptSpec> = fc.oneof(
  fc.record({
    k: fc.constant("mss"),
    v: fc.oneof(fc.constantFrom(0, 1, 536, 1460, 65535), fc.integer({ min: 0, max: 65535 })),
  }),
  fc.record({
    k: fc.constant("wscale"),
    v: fc.oneof(fc.constantFrom(0, 14, 15, 255), fc.integer({ min: 0, max: 255 })),
  }),
  fc.record({ k: fc.constant("sackOK") }),
  fc.record({
    k: fc.constant("sack"),
    blocks: fc.array(fc.tuple(seqRef, seqRef), { minLength: 1, maxLength: 4 }),
  }),
  fc.record({ k: fc.constant("nop") }),
  fc.record({ k: fc.constant("eol") }),
  fc.record({
    k: fc.constant("unknown"),
    type: fc.integer({ min: 6, max: 253 }).filter((t) => t !== 8),
    len: fc.integer({ min: 0, max: 10 }),
  }),
) as fc.Arbitrary<OptSpec>;

const tsArb: fc.Arbitrary<TsSpec | null> = fc.oneof(
  { arbitrary: fc.constant(null), weight: 1 },
  {
    arbitrary: fc.record({
      val: fc.oneof(
        { arbitrary: fc.constant("now" as const), weight: 8 },
        {
          arbitrary: fc.constantFrom("zero", "huge", "back", "abs") as fc.Arbitrary<TsVal>,
          weight: 2,
        },
      ),
      x: u32,
      ecr: fc.constantFrom("echo", "echo", "zero", "abs"),
      y: u32,
    }) as fc.Arbitrary<TsSpec>,
    weight: 8,
  },
);

const dtArb = fc.oneof(
  { arbitrary: fc.constant(0), weight: 2 },
  { arbitrary: fc.integer({ min: 0, max: 50 }), weight: 3 },
  { arbitrary: fc.integer({ min: 0, max: 3000 }), weight: 2 },
);

const lenArb = fc.oneof(
  { arbitrary: fc.constant(0), weight: 4 },
  { arbitrary: fc.integer({ min: 1, max: 100 }), weight: 2 },
  { arbitrary: fc.integer({ min: 1, max: 3000 }), weight: 2 },
);

const segAction: fc.Arbitrary<Action> = fc.record({
  k: fc.constant("seg" as const),
  dt: dtArb,
  flags: flagsArb,
  seq: dataSeqRef,
  ack: ackRef,
  win: windowArb,
  ts: tsArb,
  opts: fc.oneof(
    { arbitrary: fc.constant([] as OptSpec[]), weight: 3 },
    { arbitrary: fc.array(optArb, { maxLength: 4 }), weight: 1 },
  ),
  len: lenArb,
  urg: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 65535 })),
});

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { arbitrary: segAction, weight: 12 },
  { arbitrary: fc.constant({ k: "timer" } as const), weight: 3 },
  {
    arbitrary: fc.record({
      k: fc.constant("send" as const),
      dt: dtArb,
      n: fc.integer({ min: 1, max: 5000 }),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      k: fc.constant("recv" as const),
      dt: dtArb,
      max: fc.integer({ min: 1, max: 70000 }),
    }),
    weight: 3,
  },
  { arbitrary: fc.record({ k: fc.constant("close" as const), dt: dtArb }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant("abort" as const), dt: dtArb }), weight: 1 },
  {
    arbitrary: fc.record({ k: fc.constant("nodelay" as const), dt: dtArb, on: fc.boolean() }),
    weight: 1,
  },
  {
    arbitrary: fc.record({ k: fc.constant("keepalive" as const), dt: dtArb, on: fc.boolean() }),
    weight: 1,
  },
) as fc.Arbitrary<Action>;

/** Aborts are rare in real traffic and end the run: keep them out of most runs. */
export function scenarioArb(maxActions: number): fc.Arbitrary<Scenario> {
  return fc.record({
    iss: fc.oneof(u32, nearWrap),
    peerIss: fc.oneof(u32, nearWrap),
    peer: fc.record({
      mss: fc.constantFrom(null, 536, 1460, 100),
      wscale: fc.constantFrom(null, 0, 2, 7, 14, 15),
      sack: fc.boolean(),
      ts: fc.boolean(),
      tsStart: u32,
    }),
    passive: fc.boolean(),
    preload: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3000 })),
    peerData: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2000 })),
    small: fc.boolean(),
    keepAlive: fc.boolean(),
    actions: fc.array(actionArb, { maxLength: maxActions, size: "max" }),
  });
}

// ───────────────────────────── the allowed state diagram ─────────────────────────────

/**
 * Edges of RFC 9293 §3.3.2 (Figure 5) as the engine realises them, with the
 * text's additions. Every state may also go to CLOSED: a RST (§3.10.7.4
 * second step), ABORT (§3.10.5), the retransmission, user and keep-alive
 * timeouts (§3.8.3, RFC 1122 §4.2.3.5, §4.2.3.6), the 2 MSL timeout, an
 * in-window SYN when RFC 5961 is off (fourth step, RFC 793), a passive
 * SYN-RECEIVED "returning to LISTEN" (the Listener just forgets the TCB),
 * and a new SYN ending TIME-WAIT (RFC 1122 §4.2.2.13, settings.timeWaitReopen).
 * Nothing ever leaves CLOSED: a TCB is not reused.
 */
const EDGES: ReadonlyArray<readonly [State, State, string]> = [
  [State.Listen, State.SynReceived, "rcv SYN (§3.10.7.2)"],
  [State.SynSent, State.SynReceived, "rcv SYN, simultaneous open (§3.10.7.3)"],
  [State.SynSent, State.Established, "rcv SYN,ACK (§3.10.7.3)"],
  [State.SynReceived, State.Established, "rcv ACK of SYN (§3.10.7.4 fifth step)"],
  [State.SynReceived, State.FinWait1, "CLOSE with nothing queued (§3.10.4)"],
  [State.SynReceived, State.CloseWait, "rcv FIN (§3.10.7.4 eighth step)"],
  [State.Established, State.FinWait1, "CLOSE (§3.10.4)"],
  [State.Established, State.CloseWait, "rcv FIN (eighth step)"],
  [State.FinWait1, State.FinWait2, "rcv ACK of FIN (fifth step)"],
  [State.FinWait1, State.Closing, "rcv FIN (eighth step)"],
  [State.FinWait1, State.TimeWait, "rcv FIN, our FIN ACKed (eighth step)"],
  [State.FinWait2, State.TimeWait, "rcv FIN (eighth step)"],
  [State.CloseWait, State.LastAck, "CLOSE (§3.10.4)"],
  [State.Closing, State.TimeWait, "rcv ACK of FIN (fifth step)"],
];

function edgeAllowed(from: State, to: State): boolean {
  if (from === State.Closed) return false;
  if (to === State.Closed) return true;
  return EDGES.some(([a, b]) => a === from && b === to);
}

// ───────────────────────────── the harness ─────────────────────────────

/** Segments handed to a Tcb or Listener so far, by every harness in this process (the soak counts them). */
export const hostileStats = { segments: 0 };

/** An invariant the harness checks did not hold (as opposed to a throw from the stack). */
export class Finding extends Error {}

function fmtSeg(s: TcpSegment): string {
  const opts = s.options.map(fmtOption).join(",");
  return `[${formatFlags(s.flags)}] seq=${s.seq} ack=${s.ack} win=${s.window} len=${s.payload.length}${
    s.urgentPointer ? ` urg=${s.urgentPointer}` : ""
  }${opts ? ` <${opts}>` : ""}`;
}

class Harness {
  tcb: Tcb | undefined;
  listener: Listener | undefined;
  /** The pseudo-state of a harness holding only a Listener (LISTEN) or nothing. */
  listenerState: State = State.Closed;
  now: Instant = EPOCH;
  readonly log: string[] = [];
  private peerNxt: number;
  /** Highest right edge (SEG.ACK + window) we have advertised, less the scaling slack. */
  private floorEdge: number | undefined;
  /** Highest RCV.NXT + RCV.WND the Tcb has promised (tcb.rcvAdv). */
  private maxRcvAdv: number | undefined;
  /** End of the highest data byte ever sent. */
  private highestSent: number | undefined;
  /** Next stream byte the application should read. */
  private readSeq: number | undefined;
  private closedAt: number | undefined;
  private lastUna: number | undefined;
  private lastRcvNxt: number | undefined;

  constructor(
    readonly sc: Scenario,
    readonly s: TcpSettings,
  ) {
    this.peerNxt = seqAdd(sc.peerIss, 1);
  }

  get state(): State {
    return this.tcb?.state ?? this.listenerState;
  }

  fail(msg: string): never {
    throw new Finding(
      `${msg}\n--- the run (the seed printed with this failure replays it; times in ms, "<" from the peer, ">" ours) ---\n${this.log.slice(-150).join("\n")}`,
    );
  }

  // ---- peer segments -------------------------------------------------

  private peerTsVal(): number {
    return (this.sc.peer.tsStart + Math.floor(this.now)) >>> 0;
  }

  private synOptions(): TcpOption[] {
    const p = this.sc.peer;
    const o: TcpOption[] = [];
    if (p.mss !== null) o.push({ kind: "mss", value: p.mss });
    if (p.wscale !== null) o.push({ kind: "wscale", shift: p.wscale });
    if (p.sack) o.push({ kind: "sackPermitted" });
    if (p.ts) o.push({ kind: "timestamps", tsVal: this.peerTsVal(), tsEcr: 0 });
    return o;
  }

  /** A well-formed segment from the peer (used to reach the start state). */
  peerSeg(flags: number, data = 0, ack?: number): TcpSegment {
    const syn = (flags & Flag.SYN) !== 0;
    const seq = syn ? this.sc.peerIss : this.peerNxt;
    const payload = streamBytes(seqAdd(seq, syn ? 1 : 0), data);
    const options = syn
      ? this.synOptions()
      : this.sc.peer.ts
        ? [
            {
              kind: "timestamps",
              tsVal: this.peerTsVal(),
              tsEcr: this.tcb?.ts.tsVal(this.now) ?? 0,
            } as TcpOption,
          ]
        : [];
    if (!syn) this.peerNxt = seqAdd(this.peerNxt, data + (flags & Flag.FIN ? 1 : 0));
    else this.peerNxt = seqAdd(this.sc.peerIss, 1);
    return {
      srcPort: REMOTE.port,
      dstPort: LOCAL.port,
      seq,
      ack: flags & Flag.ACK ? (ack ?? this.tcb?.sndNxt ?? 0) : 0,
      flags,
      window: 65535,
      urgentPointer: 0,
      options,
      payload,
    };
  }

  private resolve(r: SeqRef): number {
    const t = this.tcb;
    const synced = t !== undefined && t.state !== State.SynSent && t.state !== State.Closed;
    const irs = synced ? t.irs : this.sc.peerIss;
    const rcvNxt = synced ? t.rcvNxt : seqAdd(this.sc.peerIss, 1);
    let base: number;
    switch (r.base) {
      case "rcvNxt":
        base = rcvNxt;
        break;
      case "rcvEdge":
        base = seqAdd(rcvNxt, synced ? t.rcvWnd : 65535);
        break;
      case "sndUna":
        base = t?.sndUna ?? this.sc.iss;
        break;
      case "sndNxt":
        base = t?.sndNxt ?? this.sc.iss;
        break;
      case "sndEdge":
        base = t === undefined ? this.sc.iss : seqAdd(t.sndUna, t.sndWnd);
        break;
      case "iss":
        base = t?.iss ?? this.sc.iss;
        break;
      case "irs":
        base = irs;
        break;
      case "wrap":
        base = 0;
        break;
      case "abs":
        return r.delta >>> 0;
    }
    return seqAdd(base, r.delta);
  }

  private tsOption(ts: TsSpec): TcpOption {
    const now = this.peerTsVal();
    const tsVal =
      ts.val === "now"
        ? now
        : ts.val === "zero"
          ? 0
          : ts.val === "huge"
            ? seqAdd(now, 0x7fffffff)
            : ts.val === "back"
              ? seqAdd(now, -(1 + (ts.x % 0x7fffffff)))
              : ts.x;
    const ours = this.tcb?.ts.tsVal(this.now) ?? 0;
    const tsEcr = ts.ecr === "echo" ? ours : ts.ecr === "zero" ? 0 : ts.y;
    return { kind: "timestamps", tsVal: tsVal >>> 0, tsEcr: tsEcr >>> 0 };
  }

  /**
   * The random segment on the wire and back: options that do not fit in 40
   * bytes are left off (a real peer could not send them), then it is
   * emitted and parsed as the host would see it.
   */
  hostileSeg(a: SegAction): TcpSegment {
    const options: TcpOption[] = [];
    if (a.ts !== null) options.push(this.tsOption(a.ts));
    for (const o of a.opts) {
      switch (o.k) {
        case "mss":
          options.push({ kind: "mss", value: o.v });
          break;
        case "wscale":
          options.push({ kind: "wscale", shift: o.v });
          break;
        case "sackOK":
          options.push({ kind: "sackPermitted" });
          break;
        case "sack":
          options.push({
            kind: "sack",
            blocks: o.blocks.map(([l, r]) => [this.resolve(l), this.resolve(r)] as const),
          });
          break;
        case "nop":
          options.push({ kind: "nop" });
          break;
        case "eol":
          options.push({ kind: "eol" });
          break;
        case "unknown":
          options.push({ kind: "unknown", type: o.type, data: new Uint8Array(o.len).fill(0xa5) });
          break;
      }
    }
    while (tcpHeaderLength(options) > 60) options.pop();
    const seq = this.resolve(a.seq);
    const dataSeq = seqAdd(seq, a.flags & Flag.SYN ? 1 : 0);
    const seg: TcpSegment = {
      srcPort: REMOTE.port,
      dstPort: LOCAL.port,
      seq,
      ack: this.resolve(a.ack),
      flags: a.flags,
      window: a.win,
      urgentPointer: a.urg,
      options,
      payload: streamBytes(dataSeq, a.len),
    };
    const buf = new Uint8Array(tcpHeaderLength(options) + seg.payload.length);
    emitTcp(seg, REMOTE.addr, LOCAL.addr, buf);
    const parsed = parseTcp(buf, REMOTE.addr, LOCAL.addr);
    if (!parsed.ok) this.fail(`test bug: generated segment does not parse (${parsed.drop})`);
    return parsed.value;
  }

  // ---- steps ------------------------------------------------------------

  private watch(tcb: Tcb): void {
    tcb.observe({
      stateChanged: (_t, from, to) => {
        this.log.push(`     state ${stateName(from)} -> ${stateName(to)}`);
        if (!edgeAllowed(from, to)) {
          this.fail(
            `transition ${stateName(from)} -> ${stateName(to)} is not in RFC 9293's diagram`,
          );
        }
      },
    });
  }

  adopt(tcb: Tcb): void {
    this.tcb = tcb;
    this.watch(tcb);
  }

  /** Fires every timer due up to `to`, in deadline order, then sets the clock to `to`. */
  advance(to: Instant): void {
    for (let i = 0; ; i++) {
      const t = this.tcb;
      const at = t?.pollAt();
      if (t === undefined || at === undefined || at > to) break;
      if (i > 10_000) this.fail(`timer livelock: pollAt() stays at ${at}`);
      this.now = max(this.now, at);
      this.timer();
    }
    this.now = max(this.now, to);
  }

  /** The timers at the Tcb's next deadline. */
  timer(): void {
    const t = this.tcb;
    const at = t?.pollAt();
    if (t === undefined || at === undefined) return;
    this.now = max(this.now, at);
    this.step(`t=${this.now} timers`, () => t.onTimer(this.now), undefined);
    const next = t.pollAt();
    if (next !== undefined && next <= this.now) {
      this.fail(`after onTimer(${this.now}) a deadline is still due: ${next}`);
    }
  }

  deliver(seg: TcpSegment): void {
    hostileStats.segments++;
    const line = `t=${this.now} < ${fmtSeg(seg)}`;
    if (
      this.tcb === undefined &&
      this.listener !== undefined &&
      this.listenerState === State.Listen
    ) {
      const l = this.listener;
      this.log.push(line);
      const v = l.input(seg, REMOTE, this.now);
      if (v.action === "reset") {
        this.log.push(`  > ${fmtSeg(v.rst)}`);
        this.checkSegment(v.rst);
        if (seg.flags & Flag.RST) this.fail("the Listener answered a RST with a RST");
        this.checkReset(seg, v.rst);
      } else if (v.action === "syn") {
        const tcb = Tcb.accept({
          local: LOCAL,
          remote: REMOTE,
          iss: this.sc.iss,
          settings: this.s,
          now: this.now,
          syn: seg,
        });
        l.addHalfOpen(tcb);
        this.log.push("     state LISTEN -> SYN-RECEIVED");
        this.adopt(tcb);
        this.afterStep(seg);
      } else {
        this.log.push(
          `     (dropped: ${v.action === "drop" ? v.reason : "answered by a SYN cookie"})`,
        );
      }
      return;
    }
    const t = this.tcb;
    if (t === undefined) {
      // CLOSED with no TCB: §3.10.7.1's reply.
      this.log.push(line);
      const rst = resetFor(seg);
      if (rst !== undefined) {
        this.log.push(`  > ${fmtSeg(rst)}`);
        this.checkSegment(rst);
        this.checkReset(seg, rst);
      } else if (!(seg.flags & Flag.RST)) {
        this.fail("no reset for a non-RST segment to CLOSED");
      }
      return;
    }
    this.step(line, () => t.input(seg, this.now), seg);
  }

  /** A user call or input on the Tcb, then the properties. */
  step(line: string, fn: () => void, input: TcpSegment | undefined): void {
    this.log.push(line);
    fn();
    this.afterStep(input);
  }

  user(a: Exclude<Action, SegAction | { k: "timer" }>): void {
    this.advance(later(this.now, ms(a.dt)));
    const t = this.tcb;
    if (t === undefined) {
      if (a.k === "close" || a.k === "abort") {
        if (this.listenerState === State.Listen) {
          this.log.push(`t=${this.now} close(listener)`);
          this.listener?.close(this.now);
          this.log.push("     state LISTEN -> CLOSED");
          this.listenerState = State.Closed;
        }
      }
      return;
    }
    switch (a.k) {
      case "send":
        this.step(
          `t=${this.now} send(${a.n})`,
          () => {
            const r = t.send(new Uint8Array(a.n).fill(0x55), this.now);
            this.log.push(`     -> ${r}`);
          },
          undefined,
        );
        return;
      case "recv":
        this.step(
          `t=${this.now} recv(${a.max})`,
          () => {
            const d = t.recv(a.max, this.now);
            this.log.push(`     -> ${d.length} bytes`);
            this.checkRead(d);
          },
          undefined,
        );
        return;
      case "close":
        this.step(`t=${this.now} close()`, () => t.close(this.now), undefined);
        return;
      case "abort":
        this.step(`t=${this.now} abort()`, () => t.abort(this.now), undefined);
        return;
      case "nodelay":
        this.step(
          `t=${this.now} setNoDelay(${a.on})`,
          () => t.setNoDelay(a.on, this.now),
          undefined,
        );
        return;
      case "keepalive":
        this.step(
          `t=${this.now} setKeepAlive(${a.on})`,
          () => t.setKeepAlive(a.on, this.now),
          undefined,
        );
        return;
    }
  }

  // ---- the properties ------------------------------------------------

  private checkRead(d: Uint8Array): void {
    const t = this.tcb;
    if (t === undefined || d.length === 0) return;
    this.readSeq ??= seqAdd(t.irs, 1);
    for (let i = 0; i < d.length; i++) {
      const want = byteAt(seqAdd(this.readSeq, i));
      if (d[i] !== want) {
        this.fail(
          `read byte ${i} of ${d.length} (stream seq ${seqAdd(this.readSeq, i)}) is ${d[i]}, the peer sent ${want}`,
        );
      }
    }
    this.readSeq = seqAdd(this.readSeq, d.length);
  }

  /** §3.10.7.1: the form of a reset answering `seg`. */
  private checkReset(seg: TcpSegment, rst: TcpSegment): void {
    if (seg.flags & Flag.ACK) {
      if (rst.seq !== seg.ack || rst.flags !== Flag.RST)
        this.fail("reset to an ACK is not <SEQ=SEG.ACK><CTL=RST>");
    } else if (
      rst.seq !== 0 ||
      rst.ack !== seqAdd(seg.seq, segLen(seg)) ||
      rst.flags !== (Flag.RST | Flag.ACK)
    ) {
      this.fail("reset to a non-ACK is not <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>");
    }
  }

  /** A segment we emit goes on the wire and comes back the same, with a sane header. */
  private checkSegment(seg: TcpSegment): void {
    const optBytes = tcpOptionsLength(seg.options);
    if (optBytes > 40) this.fail(`${optBytes} bytes of options`);
    const hl = tcpHeaderLength(seg.options);
    const buf = new Uint8Array(hl + seg.payload.length);
    emitTcp(seg, LOCAL.addr, REMOTE.addr, buf);
    const back = parseTcp(buf, LOCAL.addr, REMOTE.addr);
    if (!back.ok) this.fail(`our segment does not parse: ${back.drop} ${back.detail ?? ""}`);
    const p = back.value;
    const dataOffset = (buf[12] ?? 0) >> 4;
    if (dataOffset < 5 || dataOffset > 15 || dataOffset * 4 !== hl)
      this.fail(`data offset ${dataOffset}`);
    const eol = seg.options.findIndex((o) => o.kind === "eol");
    const expected = eol < 0 ? seg.options : seg.options.slice(0, eol);
    const same =
      p.srcPort === seg.srcPort &&
      p.dstPort === seg.dstPort &&
      p.seq === seg.seq >>> 0 &&
      p.ack === seg.ack >>> 0 &&
      p.flags === seg.flags &&
      p.window === seg.window &&
      p.urgentPointer === seg.urgentPointer &&
      JSON.stringify(p.options) === JSON.stringify(expected) &&
      Buffer.from(p.payload).equals(Buffer.from(seg.payload));
    if (!same)
      this.fail(`our segment does not round-trip: ${fmtSeg(seg)} came back as ${fmtSeg(p)}`);
    if (seg.srcPort !== LOCAL.port || seg.dstPort !== REMOTE.port) this.fail("wrong ports");
    if (!Number.isInteger(seg.window) || seg.window < 0 || seg.window > 0xffff)
      this.fail(`window ${seg.window}`);
    const f = seg.flags;
    if (f & Flag.SYN && f & (Flag.RST | Flag.FIN)) this.fail(`flags ${formatFlags(f)}`);
    if (f & Flag.RST && seg.payload.length > 0) this.fail("a RST with data");
    if (f & (Flag.URG | Flag.ECE | Flag.CWR))
      this.fail(`flags ${formatFlags(f)} we never negotiate`);
  }

  private afterStep(input: TcpSegment | undefined): void {
    const t = this.tcb;
    if (t === undefined) return;
    const out = t.takeOutput();
    for (const o of out) this.log.push(`  > ${fmtSeg(o)}`);
    if (this.closedAt !== undefined && out.length > 0) {
      this.fail(`a CLOSED Tcb (since t=${this.closedAt}) emitted ${out.length} segment(s)`);
    }
    if (!seqLe(t.sndUna, t.sndNxt)) this.fail(`SND.UNA ${t.sndUna} is past SND.NXT ${t.sndNxt}`);
    // SND.UNA and RCV.NXT only ever advance (RFC 9293 §3.10.7.4 fifth and seventh steps).
    if (this.lastUna !== undefined && seqLt(t.sndUna, this.lastUna))
      this.fail("SND.UNA moved back");
    this.lastUna = t.sndUna;
    const synced = t.state !== State.SynSent && t.state !== State.Closed;
    if (synced && this.lastRcvNxt !== undefined && seqLt(t.rcvNxt, this.lastRcvNxt)) {
      this.fail(`RCV.NXT moved back: ${this.lastRcvNxt} -> ${t.rcvNxt}`);
    }
    if (synced) this.lastRcvNxt = t.rcvNxt;
    // What is in flight was written by the application (plus SYN and FIN);
    // CLOSED flushes the buffers.
    const flight = seqDiff(t.sndNxt, t.sndUna);
    if (t.state !== State.Closed && flight > t.sendBuf.bytes.length + 2)
      this.fail(`${flight} bytes in flight, ${t.sendBuf.bytes.length} written`);
    // RFC 9293 §3.8.6.2.2 / RFC 1122 §4.2.2.16: the receiver does not shrink the window (the right edge never moves left).
    if (
      this.maxRcvAdv !== undefined &&
      seqLt(t.rcvAdv, this.maxRcvAdv) &&
      t.state !== State.Closed
    ) {
      this.fail(`RCV.NXT + RCV.WND moved left: ${this.maxRcvAdv} -> ${t.rcvAdv}`);
    }
    if (t.state !== State.SynSent && t.state !== State.Closed) this.maxRcvAdv = t.rcvAdv;
    for (const o of out) {
      this.checkSegment(o);
      if (input !== undefined && input.flags & Flag.RST && o.flags & Flag.RST) {
        this.fail("a RST answered with a RST (RFC 9293 §3.10.7: never)");
      }
      this.checkEdge(t, o);
      this.checkSendWindow(t, o);
      if (o.payload.length > t.effSndMss)
        this.fail(`${o.payload.length} bytes of data, effective MSS ${t.effSndMss}`);
    }
    if (t.reassembly.bytes > t.reassembly.limit) this.fail("out-of-order bytes beyond their bound");
    if (t.rcvQueue.length > t.rcvQueue.capacity) this.fail("receive queue beyond its capacity");
    if (t.state === State.Closed) {
      this.closedAt ??= this.now;
      if (t.pollAt() !== undefined) this.fail("a CLOSED Tcb still has a deadline");
    }
  }

  /**
   * The edge the peer sees: SEG.ACK + SEG.WND (scaled by Rcv.Wind.Shift except
   * on a SYN). Unscaled it never moves left (RFC 9293 §3.8.6.2.2). Scaled, the
   * field counts units of 2^shift, rounded up from the promised edge, so a
   * later segment may show an edge up to one unit − 1 left of a scaled one
   * (RFC 7323 §2.4) — never behind an edge backed by buffer space (rcvAdv,
   * checked above). `floorEdge` is the highest edge − (unit − 1) seen.
   */
  private checkEdge(t: Tcb, o: TcpSegment): void {
    if (!(o.flags & Flag.ACK) || o.flags & Flag.RST) return;
    const shift = o.flags & Flag.SYN ? 0 : t.rcvWscale;
    const edge = seqAdd(o.ack, o.window * 2 ** shift);
    if (this.floorEdge !== undefined && seqLt(edge, this.floorEdge)) {
      this.fail(
        `advertised right edge moved left: ${edge} is below ${this.floorEdge} (shift ${shift})`,
      );
    }
    const floor = seqAdd(edge, -(2 ** shift - 1));
    if (this.floorEdge === undefined || seqGt(floor, this.floorEdge)) this.floorEdge = floor;
  }

  /**
   * New data never goes beyond SND.UNA + SND.WND (RFC 9293 §3.8.6, §3.8.6.2.1)
   * with one exception, the zero-window probe of §3.8.6.1: with SND.WND = 0
   * one byte of new data at SND.UNA. Bytes sent before may be sent again
   * beyond a window the peer has since shrunk (RFC 1122 §4.2.2.16: the
   * sender "MAY also retransmit old data beyond SND.UNA+SND.WND").
   */
  private checkSendWindow(t: Tcb, o: TcpSegment): void {
    const len = o.payload.length;
    if (len === 0 || o.flags & Flag.RST) return;
    const start = o.seq;
    const end = seqAdd(start, len);
    const fresh = this.highestSent === undefined || seqGt(end, this.highestSent);
    if (fresh) {
      const edge = seqAdd(t.sndUna, t.sndWnd);
      const probe = t.sndWnd === 0 && len === 1 && start === t.sndUna;
      if (!seqLe(end, edge) && !probe) {
        this.fail(
          `new data [${start}, ${end}) beyond SND.UNA + SND.WND = ${t.sndUna} + ${t.sndWnd} = ${edge}`,
        );
      }
      this.highestSent = end;
    }
  }

  /** After the last action: read what is left, then let every timer run out. */
  finish(): void {
    const t = this.tcb;
    if (t === undefined) return;
    this.step(
      `t=${this.now} recv(all)`,
      () => this.checkRead(t.recv(1 << 30, this.now)),
      undefined,
    );
    for (let i = 0; i < 200 && t.pollAt() !== undefined; i++) this.timer();
  }
}

// ───────────────────────────── reaching the start state ─────────────────────────────

function tcbOptions(sc: Scenario, s: TcpSettings, now: Instant) {
  return { local: LOCAL, remote: REMOTE, iss: sc.iss, settings: s, now };
}

/** Active open: our SYN, the peer's SYN-ACK; or passive: the peer's SYN via a Listener, its ACK. */
function open(h: Harness, synchronized: boolean): void {
  const sc = h.sc;
  if (sc.passive) {
    h.listener = new Listener(LOCAL, { backlog: 4, settings: h.s });
    h.listenerState = State.Listen;
    h.deliver(h.peerSeg(Flag.SYN));
    if (h.tcb === undefined) h.fail("drive: the Listener refused a plain SYN");
    if (synchronized) h.deliver(h.peerSeg(Flag.ACK, 0, seqAdd(sc.iss, 1)));
  } else {
    h.adopt(Tcb.connect(tcbOptions(sc, h.s, h.now)));
    h.step(`t=${h.now} connect()`, () => {}, undefined);
    if (synchronized) h.deliver(h.peerSeg(Flag.SYN | Flag.ACK, 0, seqAdd(sc.iss, 1)));
  }
}

/** ACK everything we sent until our FIN is acknowledged (slow start may hold the preload back). */
function ackAll(h: Harness, flags = Flag.ACK): void {
  for (let i = 0; i < 60; i++) {
    const t = h.tcb as Tcb;
    h.deliver(h.peerSeg(flags, 0, t.sndNxt));
    if (t.ourFinAcked || t.state === State.Closed) return;
  }
}

function drive(h: Harness, target: State): void {
  const sc = h.sc;
  const dataAndClose = (): void => {
    const t = h.tcb as Tcb;
    if (sc.peerData > 0) h.deliver(h.peerSeg(Flag.ACK | Flag.PSH, sc.peerData, t.sndUna));
    if (sc.preload > 0)
      h.step(
        `t=${h.now} send(${sc.preload})`,
        () => t.send(new Uint8Array(sc.preload).fill(0x55), h.now),
        undefined,
      );
  };
  switch (target) {
    case State.Closed:
      if (sc.passive) {
        open(h, true);
        h.deliver({ ...h.peerSeg(Flag.RST, 0), ack: 0 });
      } else {
        open(h, false);
        const t = h.tcb as Tcb;
        h.step(`t=${h.now} abort()`, () => t.abort(h.now), undefined);
      }
      break;
    case State.Listen:
      h.listener = new Listener(LOCAL, { backlog: 4, settings: h.s });
      h.listenerState = State.Listen;
      break;
    case State.SynSent:
      h.adopt(Tcb.connect(tcbOptions(sc, h.s, h.now)));
      h.step(`t=${h.now} connect()`, () => {}, undefined);
      break;
    case State.SynReceived:
      if (sc.passive) open(h, false);
      else {
        h.adopt(Tcb.connect(tcbOptions(sc, h.s, h.now)));
        h.step(`t=${h.now} connect()`, () => {}, undefined);
        h.deliver(h.peerSeg(Flag.SYN)); // simultaneous open
      }
      break;
    case State.Established:
      open(h, true);
      dataAndClose();
      break;
    case State.FinWait1:
    case State.FinWait2:
    case State.Closing:
    case State.TimeWait: {
      open(h, true);
      dataAndClose();
      const t = h.tcb as Tcb;
      h.step(`t=${h.now} close()`, () => t.close(h.now), undefined);
      if (target === State.FinWait2 || target === State.TimeWait) ackAll(h);
      // CLOSING: the peer's FIN crosses ours (it acknowledges nothing new).
      if (target === State.Closing) h.deliver(h.peerSeg(Flag.ACK | Flag.FIN, 0, t.sndUna));
      if (target === State.TimeWait) h.deliver(h.peerSeg(Flag.ACK | Flag.FIN, 0, t.sndNxt));
      break;
    }
    case State.CloseWait:
    case State.LastAck: {
      open(h, true);
      dataAndClose();
      const t = h.tcb as Tcb;
      h.deliver(h.peerSeg(Flag.ACK | Flag.FIN, 0, t.sndUna));
      if (target === State.LastAck) h.step(`t=${h.now} close()`, () => t.close(h.now), undefined);
      break;
    }
  }
  if (h.state !== target) {
    h.fail(`drive: wanted ${stateName(target)}, reached ${stateName(h.state)}`);
  }
  h.log.push(`--- ${stateName(target)} reached; the hostile peer starts ---`);
}

// ───────────────────────────── the property ─────────────────────────────

function personalitySettings(name: string): TcpSettings {
  const p = personalityNamed(name);
  if (p === undefined) throw new Error(`no personality ${name}`);
  return settings(hostSettingsFor(p));
}

export const PERSONALITIES: ReadonlyArray<readonly [string, TcpSettings]> = [
  ["tcplab", settings()],
  ["freebsd", personalitySettings("freebsd")],
  ["linux", personalitySettings("linux")],
];

/** Small buffers make full windows, zero windows and the out-of-order bound easy to reach. */
function withScenario(base: TcpSettings, sc: Scenario): TcpSettings {
  let s = base;
  if (sc.small) s = { ...s, rcvBuf: 3000, sndBuf: 4000, oooLimit: 2000 };
  if (sc.keepAlive)
    s = {
      ...s,
      keepAlive: true,
      keepAliveIdle: ms(5000),
      keepAliveInterval: ms(1000),
      keepAliveCount: 3,
    };
  return s;
}

export function runScenario(base: TcpSettings, start: State, sc: Scenario): void {
  const h = new Harness(sc, withScenario(base, sc));
  drive(h, start);
  for (const a of sc.actions) {
    if (a.k === "seg") {
      h.advance(later(h.now, ms(a.dt)));
      h.deliver(h.hostileSeg(a));
    } else if (a.k === "timer") {
      h.timer();
    } else {
      h.user(a);
    }
  }
  h.finish();
}

export const ALL_STATES: readonly State[] = [
  State.Closed,
  State.Listen,
  State.SynSent,
  State.SynReceived,
  State.Established,
  State.FinWait1,
  State.FinWait2,
  State.CloseWait,
  State.Closing,
  State.LastAck,
  State.TimeWait,
];
