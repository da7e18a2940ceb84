/**
 * Everything the lab saw happen, in order: packets at each host's interface
 * (with drop marks) and TCB state changes. Trace lines, the ladder, `step`
 * summaries and lab checks are all read from this one log.
 *
 * The log keeps the most recent `limit` events (each packet is a copy of its
 * bytes, each state change holds its TCB): a lab left running with a bulk
 * transfer stays within memory. Positions stay absolute — `length` counts
 * every event ever logged — and `forgotten` counts those let go.
 */
import type { Instant } from "../clock/time.ts";
import type { State } from "../tcp/state.ts";
import type { TcbView } from "../tcp/view.ts";
import type { Endpoint } from "../wire/addr.ts";
import type { IpAddr } from "../wire/ip-addr.ts";
import { parseIpPacket } from "../wire/ip-packet.ts";
import { formatIpv6Addr } from "../wire/ipv6-addr.ts";
import { Flag } from "../wire/tcp-types.ts";

export interface PacketEvent {
  readonly kind: "packet";
  /** Position in the log (also the order of events at the same time). */
  readonly index: number;
  readonly time: Instant;
  /** The tcplab host at whose interface this was seen. */
  readonly host: string;
  /** `>` sent by `host`, `<` arriving at `host` (packetdrill's convention). */
  readonly dir: ">" | "<";
  readonly bytes: Uint8Array;
  /** Why it never got through, e.g. "drop next SYN" or "loss 10%". */
  dropped?: string;
  /** Put in by `inject`, not carried by the wire. */
  readonly injected: boolean;
  /** For `>`: when the other tcplab host saw it arrive (simulated world). */
  arrived?: Instant;
  /** For `<`: the `>` event of the same packet at the sending tcplab host, if any. */
  sentAs?: PacketEvent;
}

export interface StateEvent {
  readonly kind: "state";
  readonly index: number;
  readonly time: Instant;
  readonly host: string;
  readonly tcb: TcbView;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  /** Undefined when the TCB was just created (it appears in `to`). */
  readonly from: State | undefined;
  readonly to: State;
}

export type LabEvent = PacketEvent | StateEvent;

/**
 * One direction of a connection as the key of an ISN map (`forgottenIsns`,
 * the ladder's IsnBook): `SRC:PORT>DST:PORT`, an IPv4 address as its
 * number, an IPv6 one as bracketed text.
 */
export function directionKey(src: IpAddr, srcPort: number, dst: IpAddr, dstPort: number): string {
  const a = (x: IpAddr) => (x.family === 4 ? x.addr : `[${formatIpv6Addr(x.addr)}]`);
  return `${a(src)}:${srcPort}>${a(dst)}:${dstPort}`;
}

function sameBytes(x: Uint8Array, y: Uint8Array): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** How far back an arrival looks for the send it belongs to. */
const MATCH_WINDOW = 512;

/** Events kept by default: about 80 MB at worst, with full-size packets. */
export const DEFAULT_LOG_LIMIT = 50_000;

export class EventLog {
  private list: LabEvent[] = [];
  /** Absolute position of list[0]. */
  private base = 0;
  private readonly listeners = new Set<(e: LabEvent) => void>();
  private readonly dropListeners = new Set<(e: PacketEvent) => void>();

  /**
   * The ISNs of SYNs already let go, by direction (`directionKey`), so
   * sequence numbers stay relative to them in the ladder and the checks after
   * the SYN itself is forgotten. Bounded like the log.
   */
  readonly forgottenIsns = new Map<string, number>();

  constructor(readonly limit: number = DEFAULT_LOG_LIMIT) {}

  /** Every event ever logged (the next event's position). */
  get length(): number {
    return this.base + this.list.length;
  }

  /** Events let go to keep the log within its limit. */
  get forgotten(): number {
    return this.base;
  }

  /** The events kept, oldest first. */
  all(): readonly LabEvent[] {
    return this.list;
  }

  /** The kept events at position `mark` and later. */
  since(mark: number): readonly LabEvent[] {
    return this.list.slice(Math.max(0, mark - this.base));
  }

  onEvent(fn: (e: LabEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Told when a packet logged earlier is marked dropped (both its events, when it has two). */
  onDropped(fn: (e: PacketEvent) => void): () => void {
    this.dropListeners.add(fn);
    return () => this.dropListeners.delete(fn);
  }

  packet(
    time: Instant,
    host: string,
    dir: ">" | "<",
    bytes: Uint8Array,
    injected = false,
  ): PacketEvent {
    const ev: PacketEvent = {
      kind: "packet",
      index: this.length,
      time,
      host,
      dir,
      bytes: bytes.slice(),
      injected,
    };
    if (dir === "<" && !injected) {
      // The same bytes sent by the other tcplab host and not yet arrived: this is their arrival.
      const stop = Math.max(0, this.list.length - MATCH_WINDOW);
      let found: PacketEvent | undefined;
      for (let i = this.list.length - 1; i >= stop; i--) {
        const e = this.list[i];
        if (e?.kind !== "packet" || e.dir !== ">" || e.host === host) continue;
        if (e.arrived !== undefined || e.dropped !== undefined) continue;
        if (sameBytes(e.bytes, ev.bytes)) found = e; // keep looking: the oldest match wins
      }
      if (found !== undefined) {
        found.arrived = time;
        ev.sentAs = found;
      }
    }
    this.push(ev);
    return ev;
  }

  /** Marks a packet as dropped (and the send it belongs to). */
  markDropped(ev: PacketEvent, reason: string): void {
    ev.dropped = reason;
    if (ev.sentAs !== undefined) {
      ev.sentAs.dropped = reason;
      ev.sentAs.arrived = undefined;
    }
    for (const fn of this.dropListeners) {
      fn(ev);
      if (ev.sentAs !== undefined) fn(ev.sentAs);
    }
  }

  state(time: Instant, host: string, tcb: TcbView, from: State | undefined, to: State): StateEvent {
    const ev: StateEvent = {
      kind: "state",
      index: this.length,
      time,
      host,
      tcb,
      local: tcb.local,
      remote: tcb.remote,
      from,
      to,
    };
    this.push(ev);
    return ev;
  }

  /** A forgotten SYN's ISN (an injected SYN does not renumber a direction that has one). */
  private rememberIsn(ev: LabEvent | undefined): void {
    if (ev?.kind !== "packet") return;
    const p = parseIpPacket(ev.bytes, { verifyChecksum: false });
    if (!p.ok || p.value.kind !== "tcp" || (p.value.tcp.flags & Flag.SYN) === 0) return;
    const { src, dst, tcp } = p.value;
    const key = directionKey(src, tcp.srcPort, dst, tcp.dstPort);
    if (ev.injected && this.forgottenIsns.has(key)) return;
    this.forgottenIsns.delete(key);
    this.forgottenIsns.set(key, tcp.seq);
    if (this.forgottenIsns.size > 65_536) {
      const oldest = this.forgottenIsns.keys().next().value;
      if (oldest !== undefined) this.forgottenIsns.delete(oldest);
    }
  }

  private push(ev: LabEvent): void {
    this.list.push(ev);
    if (this.list.length > this.limit) {
      // Let the oldest quarter go at once, so trimming costs O(1) per event on average.
      const drop = Math.max(1, Math.floor(this.limit / 4));
      for (let i = 0; i < drop; i++) this.rememberIsn(this.list[i]);
      this.list = this.list.slice(drop);
      this.base += drop;
    }
    for (const fn of this.listeners) fn(ev);
  }
}
