/**
 * Per-connection samples for `plot`: the congestion window, ssthresh and
 * flight size over time, and every segment the connection sent. The TCP
 * engine records nothing for this; the lab looks at each Tcb after every
 * event that can change it — a segment it sent (the host has finished the
 * work that made it), and a packet delivered to it (after the host has
 * processed it).
 */
import type { Millis } from "../clock/clock.ts";
import type { CongestionPhase } from "../tcp/congestion/controller.ts";
import type { Tcb } from "../tcp/tcb.ts";
import { parsePacket } from "../wire/packet.ts";
import { seqDiff } from "../wire/seq.ts";
import { Flag, type TcpSegment } from "../wire/tcp-types.ts";

/** The sender's window state at one moment. Bytes; ssthresh is Infinity before the first loss. */
export interface WindowSample {
  readonly t: Millis;
  readonly cwnd: number;
  readonly ssthresh: number;
  /** RFC 5681 FlightSize: SND.NXT − SND.UNA. */
  readonly flight: number;
  readonly phase: CongestionPhase;
  /** SND.UNA relative to ISS (the cumulative ACK line of a sequence plot). */
  readonly una: number;
}

/** One segment the connection sent, its sequence number relative to ISS. */
export interface SentSample {
  readonly t: Millis;
  readonly seq: number;
  readonly len: number;
  /** Sent before: its data starts below the highest sequence number sent so far. */
  readonly retransmission: boolean;
  readonly flags: number;
}

/** Samples kept per connection before the older half is thinned (every other one dropped). */
const MAX_SAMPLES = 20_000;

export class ConnectionSeries {
  readonly window: WindowSample[] = [];
  readonly sent: SentSample[] = [];
  /** Highest relative sequence number sent so far (end of data, SYN and FIN included). */
  private highest = 0;
  private anySent = false;

  constructor(readonly tcb: Tcb) {}

  /** Records the window state if it changed since the last sample. */
  sample(now: Millis): void {
    const c = this.tcb.congestion;
    const s: WindowSample = {
      t: now,
      cwnd: c.cwnd,
      ssthresh: c.ssthresh,
      flight: c.flightSize,
      phase: c.phase,
      una: seqDiff(this.tcb.sndUna, this.tcb.iss),
    };
    const last = this.window[this.window.length - 1];
    if (
      last !== undefined &&
      last.cwnd === s.cwnd &&
      last.ssthresh === s.ssthresh &&
      last.flight === s.flight &&
      last.phase === s.phase &&
      last.una === s.una
    ) {
      return;
    }
    push(this.window, s);
  }

  /** Records a segment the connection sent. */
  sentSegment(now: Millis, seg: TcpSegment): void {
    const rel = seqDiff(seg.seq, this.tcb.iss);
    const len = seg.payload.length;
    const syn = (seg.flags & Flag.SYN) !== 0 ? 1 : 0;
    const fin = (seg.flags & Flag.FIN) !== 0 ? 1 : 0;
    const end = rel + len + syn + fin;
    // A pure ACK carries no sequence space: never a retransmission of anything.
    const occupies = len + syn + fin > 0;
    const retransmission = occupies && this.anySent && rel < this.highest;
    if (occupies) {
      if (!this.anySent || end > this.highest) this.highest = end;
      this.anySent = true;
    }
    push(this.sent, { t: now, seq: rel, len, retransmission, flags: seg.flags });
  }
}

function push<T>(list: T[], item: T): void {
  list.push(item);
  if (list.length > MAX_SAMPLES) {
    // Thin the older half: the plot keeps its shape over long runs, memory stays bounded.
    const half = Math.floor(list.length / 2);
    const kept = list.slice(0, half).filter((_, i) => i % 2 === 0);
    list.splice(0, half, ...kept);
  }
}

/** Every connection of one lab host, by Tcb, for as long as the lab remembers the Tcb. */
export class HostSamples {
  private readonly byTcb = new WeakMap<Tcb, ConnectionSeries>();

  constructor(
    private readonly connections: () => readonly Tcb[],
    private readonly addr: number,
  ) {}

  series(tcb: Tcb): ConnectionSeries | undefined {
    return this.byTcb.get(tcb);
  }

  /** A connection appeared (active or passive open). */
  added(tcb: Tcb, now: Millis): void {
    const s = new ConnectionSeries(tcb);
    this.byTcb.set(tcb, s);
    s.sample(now);
  }

  /** The host sent `packet`: the connection it belongs to sent a segment. */
  sent(packet: Uint8Array, now: Millis): void {
    const seg = tcpOf(packet);
    if (seg === undefined) return;
    const tcb = this.find(seg.srcPort, seg.dst, seg.dstPort);
    if (tcb === undefined) return;
    const s = this.byTcb.get(tcb);
    if (s === undefined) return;
    s.sentSegment(now, seg.tcp);
    s.sample(now);
  }

  /** The host processed `packet`: sample the connection it was for. */
  delivered(packet: Uint8Array, now: Millis): void {
    const seg = tcpOf(packet);
    if (seg === undefined) return;
    const tcb = this.find(seg.dstPort, seg.src, seg.srcPort);
    if (tcb !== undefined) this.byTcb.get(tcb)?.sample(now);
  }

  private find(localPort: number, remoteAddr: number, remotePort: number): Tcb | undefined {
    return this.connections().find(
      (t) =>
        t.local.port === localPort &&
        t.remote.addr === remoteAddr &&
        t.remote.port === remotePort &&
        (t.local.addr === this.addr || t.local.addr === 0),
    );
  }
}

function tcpOf(
  packet: Uint8Array,
): { tcp: TcpSegment; src: number; dst: number; srcPort: number; dstPort: number } | undefined {
  const p = parsePacket(packet, { verifyChecksum: false });
  if (!p.ok || p.value.kind !== "tcp") return undefined;
  const { src, dst } = p.value.ip.header;
  const tcp = p.value.tcp;
  return { tcp, src, dst, srcPort: tcp.srcPort, dstPort: tcp.dstPort };
}

/** True when the connection's sequence plot has data segments only going forward. */
export function monotoneSent(samples: readonly SentSample[]): boolean {
  let last = -1;
  for (const s of samples) {
    if (s.len === 0) continue;
    if (s.seq < last) return false;
    last = s.seq;
  }
  return true;
}
