/**
 * Per-connection samples for `plot` and the lab's plot checks: the congestion
 * window, ssthresh, flight size, the acknowledged edge and the peer's window
 * over time, every segment the connection sent (and whether it was lost on
 * the way), and the SACK blocks of the ACKs it received. The TCP engine
 * records nothing for this; the lab looks at each Tcb after every event that
 * can change it — a segment it sent (the host has finished the work that
 * made it), and a packet delivered to it (after the host has processed it).
 */
import type { Instant } from "../clock/time.ts";
import type { CongestionPhase } from "../tcp/congestion/controller.ts";
import type { TcbView } from "../tcp/view.ts";
import type { Endpoint } from "../wire/addr.ts";
import type { IpAddr } from "../wire/ip-addr.ts";
import { parseIpPacket } from "../wire/ip-packet.ts";
import { seqAdd, seqDiff } from "../wire/seq.ts";
import { Flag, type TcpSegment } from "../wire/tcp-types.ts";
import type { PacketEvent } from "./event-log.ts";

/** The sender's window state at one moment. Bytes; ssthresh is Infinity before the first loss. */
export interface WindowSample {
  readonly t: Instant;
  readonly cwnd: number;
  readonly ssthresh: number;
  /** RFC 5681 FlightSize: SND.NXT − SND.UNA. */
  readonly flight: number;
  readonly phase: CongestionPhase;
  /** SND.UNA relative to ISS (the cumulative ACK line of a sequence plot). */
  readonly una: number;
  /** SND.UNA + SND.WND relative to ISS: the right edge of the peer's window. */
  readonly edge: number;
}

/** The SACK blocks of one ACK the connection received, relative to ISS (RFC 2018). */
export interface SackSample {
  readonly t: Instant;
  readonly blocks: readonly (readonly [left: number, right: number])[];
}

/** One segment the connection sent, its sequence number relative to ISS. */
export interface SentSample {
  readonly t: Instant;
  readonly seq: number;
  readonly len: number;
  /** Sent before: its data starts below the highest sequence number sent so far. */
  readonly retransmission: boolean;
  readonly flags: number;
  /** Why it never arrived (a fault rule, the wire's loss, a full bottleneck queue), once known. */
  lost?: string;
}

/** Samples kept per connection before the older half is thinned (every other one dropped). */
const MAX_SAMPLES = 20_000;

export class ConnectionSeries {
  readonly window: WindowSample[] = [];
  readonly sent: SentSample[] = [];
  readonly sacks: SackSample[] = [];
  /** Highest relative sequence number sent so far (end of data, SYN and FIN included). */
  private highest = 0;
  private anySent = false;

  constructor(readonly tcb: TcbView) {}

  /** Records the window state if it changed since the last sample. */
  sample(now: Instant): void {
    const c = this.tcb.congestion;
    const s: WindowSample = {
      t: now,
      cwnd: c.cwnd,
      ssthresh: c.ssthresh,
      flight: c.flightSize,
      phase: c.phase,
      una: seqDiff(this.tcb.sndUna, this.tcb.iss),
      edge: seqDiff(seqAdd(this.tcb.sndUna, this.tcb.sndWnd), this.tcb.iss),
    };
    const last = this.window[this.window.length - 1];
    if (
      last !== undefined &&
      last.cwnd === s.cwnd &&
      last.ssthresh === s.ssthresh &&
      last.flight === s.flight &&
      last.phase === s.phase &&
      last.una === s.una &&
      last.edge === s.edge
    ) {
      return;
    }
    push(this.window, s);
  }

  /** Records the SACK blocks of an ACK the connection received. */
  receivedAck(now: Instant, seg: TcpSegment): void {
    for (const o of seg.options) {
      if (o.kind !== "sack" || o.blocks.length === 0) continue;
      const iss = this.tcb.iss;
      push(this.sacks, {
        t: now,
        blocks: o.blocks.map(([l, r]) => [seqDiff(l, iss), seqDiff(r, iss)] as const),
      });
    }
  }

  /** Records a segment the connection sent. */
  sentSegment(now: Instant, seg: TcpSegment): SentSample {
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
    const sample: SentSample = { t: now, seq: rel, len, retransmission, flags: seg.flags };
    push(this.sent, sample);
    return sample;
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
  private readonly byTcb = new WeakMap<TcbView, ConnectionSeries>();
  /** The sample of each packet sent, to mark it lost when the log learns it was dropped. */
  private readonly byEvent = new WeakMap<PacketEvent, SentSample>();

  /** `lookup` finds a connection by its local port and the peer's endpoint (the host's table, O(1)). */
  constructor(
    private readonly lookup: (localPort: number, remote: Endpoint) => TcbView | undefined,
  ) {}

  series(tcb: TcbView): ConnectionSeries | undefined {
    return this.byTcb.get(tcb);
  }

  /** A connection appeared (active or passive open). */
  added(tcb: TcbView, now: Instant): void {
    const s = new ConnectionSeries(tcb);
    this.byTcb.set(tcb, s);
    s.sample(now);
  }

  /** The host sent the packet of `ev`: the connection it belongs to sent a segment. */
  sent(ev: PacketEvent): void {
    const seg = tcpOf(ev.bytes);
    if (seg === undefined) return;
    const tcb = this.lookup(seg.srcPort, endpoint(seg.dst, seg.dstPort));
    if (tcb === undefined) return;
    const s = this.byTcb.get(tcb);
    if (s === undefined) return;
    const sample = s.sentSegment(ev.time, seg.tcp);
    if (ev.dropped !== undefined) sample.lost = ev.dropped;
    else this.byEvent.set(ev, sample);
    s.sample(ev.time);
  }

  /** The log marked `ev` dropped: if this host sent it, its sample is marked lost. */
  dropped(ev: PacketEvent): void {
    const sample = this.byEvent.get(ev);
    if (sample !== undefined && ev.dropped !== undefined) sample.lost = ev.dropped;
  }

  /** The host processed `packet`: sample the connection it was for (and its ACK's SACK blocks). */
  delivered(packet: Uint8Array, now: Instant): void {
    const seg = tcpOf(packet);
    if (seg === undefined) return;
    const tcb = this.lookup(seg.dstPort, endpoint(seg.src, seg.srcPort));
    if (tcb === undefined) return;
    const s = this.byTcb.get(tcb);
    s?.receivedAck(now, seg.tcp);
    s?.sample(now);
  }
}

/** An address and port as the connection table keys a peer (IPv4 untagged, as Tcbs hold it). */
function endpoint(a: IpAddr, port: number): Endpoint {
  return a.family === 6 ? { family: 6, addr: a.addr, port } : { addr: a.addr, port };
}

function tcpOf(
  packet: Uint8Array,
): { tcp: TcpSegment; src: IpAddr; dst: IpAddr; srcPort: number; dstPort: number } | undefined {
  const p = parseIpPacket(packet, { verifyChecksum: false });
  if (!p.ok || p.value.kind !== "tcp") return undefined;
  const { src, dst, tcp } = p.value;
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
