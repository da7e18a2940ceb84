/**
 * Sender invariants over seeded bulk transfers on the simulated wire, through
 * a bottleneck with a small drop-tail queue and random loss:
 *
 * 1. Sender SWS avoidance (RFC 9293 §3.8.6.2.1) and Nagle: no new segment
 *    shorter than the MSS leaves while more than an MSS is queued behind
 *    it — a small window of congestion-window room waits for the ACK clock
 *    instead of dribbling out. The only short segments are the stream's
 *    last, and the persist timer's override when nothing is in flight and
 *    the peer's window (its update lost) is smaller than a segment.
 * 2. The peer's window: no data beyond the right edge SND.UNA + SND.WND the
 *    receiver has offered (§3.8.6.2.1, "never send beyond").
 *
 * The application refills the send buffer synchronously from the writable
 * event (as the sockets layer does), the harshest timing for both rules.
 * A failing seed is printed.
 */
import { describe, expect, test } from "bun:test";
import { instant, ms } from "../../src/clock/time.ts";
import type { LinkEnd } from "../../src/link/link.ts";
import type { WireSettings } from "../../src/link/sim-wire.ts";
import { simPair } from "../../src/runtime/sim-pair.ts";
import type { TcpSettings } from "../../src/tcp/settings.ts";
import { State } from "../../src/tcp/state.ts";
import type { Tcb } from "../../src/tcp/tcb.ts";
import type { TcbView } from "../../src/tcp/view.ts";
import { Rng } from "../../src/util/rng.ts";
import { ip } from "../../src/wire/addr.ts";
import { IpProto, parseIpv4 } from "../../src/wire/ipv4.ts";
import { seqAdd, seqDiff, seqGt } from "../../src/wire/seq.ts";
import { parseTcp } from "../../src/wire/tcp.ts";
import { Flag, type TcpSegment } from "../../src/wire/tcp-types.ts";

interface Case {
  readonly name: string;
  readonly mtu: number;
  readonly bytes: number;
  readonly wire: Partial<WireSettings>;
  readonly tcp?: Partial<TcpSettings>;
}

interface Outcome {
  readonly violations: string[];
  readonly delivered: number;
  readonly retransmissions: number;
  readonly closed: boolean;
}

/** A link end that shows every packet to `look` on its way out and in. */
function tapped(inner: LinkEnd, look: (dir: "out" | "in", p: Uint8Array) => void): LinkEnd {
  return {
    send(p) {
      look("out", p);
      inner.send(p);
    },
    onReceive(handler) {
      inner.onReceive((p) => {
        look("in", p);
        handler(p);
      });
    },
    get mtu() {
      return inner.mtu;
    },
  };
}

function tcpOf(p: Uint8Array): TcpSegment | undefined {
  const ipp = parseIpv4(p);
  if (!ipp.ok || ipp.value.header.protocol !== IpProto.TCP) return undefined;
  const h = ipp.value.header;
  const t = parseTcp(ipp.value.payload, h.src, h.dst);
  return t.ok ? t.value : undefined;
}

function run(c: Case, seed: number): Outcome {
  // The sender's packets pass `look` on their way out and in.
  const world = simPair({
    seed,
    mtu: c.mtu,
    wire: c.wire,
    host: { tcp: c.tcp ?? {} },
    link: (name, end) => (name === "a" ? tapped(end, (dir, p) => look(dir, p)) : end),
  });
  const { clock } = world;
  const violations: string[] = [];
  const data = new Rng(seed).fork("data").bytes(c.bytes);
  let client: TcbView | undefined;
  // Sender-side view: the largest right edge the receiver has offered, and
  // the highest sequence number sent (to tell new data from retransmissions).
  let edge: number | undefined;
  let highest: number | undefined;
  const look = (dir: "out" | "in", p: Uint8Array) => {
    const seg = tcpOf(p);
    if (seg === undefined || client === undefined) return;
    if (dir === "in") {
      if ((seg.flags & Flag.ACK) === 0 || (seg.flags & Flag.SYN) !== 0) return;
      const e = seqAdd(seg.ack, seg.window * 2 ** client.sndWscale);
      if (edge === undefined || seqGt(e, edge)) edge = e;
      return;
    }
    const len = seg.payload.length;
    if (len === 0) return;
    const end = seqAdd(seg.seq, len);
    if (edge !== undefined && seqGt(end, edge)) {
      violations.push(
        `t=${clock.now()} ${seg.seq}+${len} ends ${seqDiff(end, edge)} beyond the right edge ${edge}`,
      );
    }
    const isNew = highest === undefined || seqGt(end, highest);
    if (isNew) highest = end;
    const mss = client.effSndMss;
    // Queued from this segment's first byte to the end of what the application
    // wrote (the send buffer is engine state: the test looks inside).
    const queued = seqDiff((client as Tcb).sendBuf.endSeq, seg.seq);
    const streamEnd = seqDiff(end, client.iss + 1) === c.bytes;
    // The one allowed exception: nothing outstanding and a window too small
    // for a full segment (the peer's window update was lost) — the persist
    // timer's §3.8.6.2.1 override then sends exactly what the window offers.
    const override = seg.seq === client.sndUna && edge !== undefined && end === edge;
    if (isNew && len < mss && queued > mss && !streamEnd && !override) {
      violations.push(
        `t=${clock.now()} short segment ${seg.seq}+${len} (MSS ${mss}) with ${queued} bytes queued; cwnd ${client.congestion.cwnd} pipe ${client.congestion.pipe} wnd ${client.sndWnd}`,
      );
    }
  };

  const { host: a, attachment: aa } = world.a;
  const { host: b, attachment: ab } = world.b;

  const listener = b.listen(5001, 1);
  if (typeof listener === "string") throw new Error(listener);
  let delivered = 0;
  let server: TcbView | undefined;
  const drain = () => {
    server ??= listener.accept();
    if (server === undefined) return;
    const now = clock.now();
    while (server.recvAvailable > 0) delivered += server.recv(1 << 20, now).length;
    if (server.peerClosed && server.state === State.CloseWait) server.close(now);
    ab.flush();
  };
  b.events.acceptable = () => {
    drain();
    server?.observe({ readable: () => clock.schedule(clock.now(), drain) });
  };

  const tcb = a.connect({ addr: ip("10.0.0.2"), port: 5001 }, clock.now());
  if (typeof tcb === "string") throw new Error(tcb);
  client = tcb;
  let offset = 0;
  const write = (t: TcbView) => {
    const now = clock.now();
    while (offset < data.length) {
      const n = t.send(data.subarray(offset), now);
      if (typeof n === "string" || n === 0) break;
      offset += n;
    }
    if (offset === data.length && t.state === State.Established) t.close(now);
  };
  // Synchronously from the engine's events, as the sockets layer wakes a blocked send.
  tcb.observe({ established: write, writable: write });
  aa.flush();
  clock.runUntilIdle({ maxTime: instant(600_000), maxEvents: 5_000_000 });
  return {
    violations,
    delivered,
    retransmissions: tcb.retransmissions,
    closed: tcb.state === State.Closed && tcb.error === undefined,
  };
}

const MiB = 1 << 20;
const CASES: Case[] = [
  {
    name: "MTU 1500, 20 Mbit/s, 10 ms, queue 8, 1% loss",
    mtu: 1500,
    bytes: 2 * MiB,
    wire: { bandwidth: 20e6, delay: ms(10), queueLimit: 8, loss: 0.01 },
  },
  {
    name: "MTU 9000, 100 Mbit/s, 5 ms, queue 4, 0.5% loss",
    mtu: 9000,
    bytes: 4 * MiB,
    wire: { bandwidth: 100e6, delay: ms(5), queueLimit: 4, loss: 0.005 },
  },
  {
    name: "MTU 1500, no SACK or timestamps (NewReno), queue 6, 2% loss",
    mtu: 1500,
    bytes: MiB,
    wire: { bandwidth: 10e6, delay: ms(20), queueLimit: 6, loss: 0.02 },
    tcp: { sack: false, timestamps: false, congestionControl: "newreno" },
  },
  {
    name: "MTU 1500, small buffers (16 KiB), queue 4, 1% loss",
    mtu: 1500,
    bytes: MiB,
    wire: { bandwidth: 10e6, delay: ms(10), queueLimit: 4, loss: 0.01 },
    tcp: { sndBuf: 16 * 1024, rcvBuf: 16 * 1024 },
  },
];

const SEEDS = 12;

describe("sender invariants through a lossy bottleneck (seeded)", () => {
  for (const c of CASES) {
    test(`${c.name}: no short segment while an MSS is queued, nothing beyond the right edge`, () => {
      let retransmissions = 0;
      for (let seed = 1; seed <= SEEDS; seed++) {
        const o = run(c, seed);
        if (o.violations.length > 0 || o.delivered !== c.bytes || !o.closed) {
          throw new Error(
            `seed ${seed} (${c.name}): delivered ${o.delivered}/${c.bytes}, closed ${o.closed}; ${o.violations.length} violations, first: ${o.violations.slice(0, 3).join(" | ")}`,
          );
        }
        retransmissions += o.retransmissions;
      }
      // The runs did exercise loss recovery.
      expect(retransmissions).toBeGreaterThan(0);
    });
  }
});
