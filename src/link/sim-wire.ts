import type { Clock } from "../clock/clock.ts";
import {
  type Duration,
  type Instant,
  LONG_AGO,
  later,
  max,
  ms,
  plus,
  ZERO,
} from "../clock/time.ts";
import type { Rng } from "../util/rng.ts";
import type { Ipv4Addr } from "../wire/addr.ts";
import type { Ipv6Addr } from "../wire/ipv6-addr.ts";
import { flipRandomBit } from "./bits.ts";
import type { LinkEnd, PacketHandler } from "./link.ts";
import { type TooBig, tooBigForPath, tooBigForPath6 } from "./sim-router.ts";

export type WireDirection = "a->b" | "b->a";

/**
 * How one direction of the wire treats packets, in the spirit of Linux netem.
 * Probabilities are 0..1 and are drawn per packet.
 */
export interface WireSettings {
  /** One-way propagation delay after serialization. */
  delay: Duration;
  /** Each packet's delay varies uniformly within ±jitter (never below 0); large jitter reorders. */
  jitter: Duration;
  /** Bits per second; undefined means serialization takes no time (and nothing queues). */
  bandwidth: number | undefined;
  /**
   * Packets that may wait behind the one being serialized; a packet arriving
   * to a full queue is dropped (drop-tail). Undefined means unbounded.
   */
  queueLimit: number | undefined;
  loss: number;
  /** Chance a packet is held back by `reorderDelay` more, so later packets overtake it. */
  reorder: number;
  /** Extra hold for a reordered packet. */
  reorderDelay: Duration;
  /** Chance a second copy is sent right behind the packet. */
  duplicate: number;
  /** Chance one random bit of the packet is flipped. */
  corrupt: number;
  /** A cut cable: every packet sent is dropped (counted as "fault"); ones already on the wire arrive. */
  down: boolean;
}

export const DEFAULT_WIRE_SETTINGS: Readonly<WireSettings> = {
  delay: ZERO,
  jitter: ZERO,
  bandwidth: undefined,
  queueLimit: undefined,
  loss: 0,
  reorder: 0,
  reorderDelay: ms(5),
  duplicate: 0,
  corrupt: 0,
  down: false,
};

export type WireDropReason = "loss" | "queue" | "fault" | "mtu" | "no-receiver";

export interface WireCounters {
  /** Packets handed to this direction by the sender. */
  sent: number;
  /** Copies handed to the receiver (duplicates count twice). */
  delivered: number;
  dropped: Record<WireDropReason, number>;
  duplicated: number;
  reordered: number;
  corrupted: number;
  /** Packets over the MTU without DF that the path's router cut into fragments. */
  fragmented: number;
  /** ICMP "fragmentation needed" (and ICMPv6 Packet Too Big) messages the router sent back about this direction's packets. */
  fragNeededSent: number;
}

export interface SimWireOptions {
  /** Largest packet carried (default 1500); larger ones are dropped as "mtu". */
  mtu?: number;
  /**
   * The address of a router on the path that answers for its MTU
   * (sim-router.ts): a larger packet with DF draws an ICMP "fragmentation
   * needed" back to its sender; one without DF is fragmented. Without it a
   * larger packet is just dropped, and nobody says so.
   */
  router?: Ipv4Addr;
  /** The same router's IPv6 address: a larger IPv6 packet draws a Packet Too Big (RFC 4443 §3.2). */
  router6?: Ipv6Addr;
  /** Settings for both directions (defaults: an ideal wire). */
  settings?: Partial<WireSettings>;
}

function emptyCounters(): WireCounters {
  return {
    sent: 0,
    delivered: 0,
    dropped: { loss: 0, queue: 0, fault: 0, mtu: 0, "no-receiver": 0 },
    duplicated: 0,
    reordered: 0,
    corrupted: 0,
    fragmented: 0,
    fragNeededSent: 0,
  };
}

function checkSettings(s: WireSettings): void {
  for (const key of ["loss", "reorder", "duplicate", "corrupt"] as const) {
    if (!(s[key] >= 0 && s[key] <= 1))
      throw new RangeError(`${key} must be in 0..1, got ${s[key]}`);
  }
  for (const key of ["delay", "jitter", "reorderDelay"] as const) {
    if (!(s[key] >= 0)) throw new RangeError(`${key} must be ≥ 0 ms, got ${s[key]}`);
  }
  if (s.bandwidth !== undefined && !(s.bandwidth > 0)) {
    throw new RangeError(`bandwidth must be > 0 bit/s, got ${s.bandwidth}`);
  }
  if (s.queueLimit !== undefined && !(Number.isInteger(s.queueLimit) && s.queueLimit >= 0)) {
    throw new RangeError(`queueLimit must be a whole number ≥ 0, got ${s.queueLimit}`);
  }
}

/** One direction: its settings, its serializer and its counters. */
class Lane {
  settings: WireSettings;
  readonly counters = emptyCounters();
  receiver: PacketHandler | undefined;
  /** The path's router, for a packet over the MTU (SimWireOptions.router). */
  tooBig: ((packet: Uint8Array) => void) | undefined;
  /** When the serializer finishes the last packet accepted so far. */
  private busyUntil: Instant = LONG_AGO;
  /** Serialization start times of accepted packets, oldest first (only ones not yet started matter). */
  private starts: Instant[] = [];
  private head = 0;

  constructor(
    settings: WireSettings,
    private readonly clock: Clock,
    private readonly rng: Rng,
    private readonly mtu: () => number,
  ) {
    this.settings = settings;
  }

  /**
   * `fromRouter`: the path's router answering a sender. Its message goes back
   * over the sender's side of the narrow hop, not across it, so the path's
   * MTU does not apply: a 1280-byte Packet Too Big (RFC 4443 §2.4(c))
   * reaches its sender even when the hop carries less.
   */
  send(packet: Uint8Array, fromRouter = false): void {
    const c = this.counters;
    const s = this.settings;
    c.sent++;
    if (s.down) {
      c.dropped.fault++;
      return;
    }
    if (!fromRouter && packet.length > this.mtu()) {
      if (this.tooBig !== undefined) this.tooBig(packet);
      else c.dropped.mtu++;
      return;
    }
    // netem order: loss is decided on arrival at the queue, before anything else.
    if (s.loss > 0 && this.rng.chance(s.loss)) {
      c.dropped.loss++;
      return;
    }
    const copy = packet.slice(); // the sender may reuse its buffer
    const duplicate = s.duplicate > 0 && this.rng.chance(s.duplicate) ? copy.slice() : undefined;
    if (s.corrupt > 0 && this.rng.chance(s.corrupt)) {
      flipRandomBit(copy, this.rng);
      c.corrupted++;
    }
    if (!this.transmit(copy)) return;
    if (duplicate !== undefined) {
      c.duplicated++;
      this.transmit(duplicate);
    }
  }

  /** Queues one copy for serialization and propagation; false if the queue was full. */
  private transmit(packet: Uint8Array): boolean {
    const s = this.settings;
    const c = this.counters;
    const now = this.clock.now();
    let txEnd = now;
    if (s.bandwidth !== undefined) {
      // Only a packet that must wait for the line needs a queue slot.
      const queued = this.waiting(now); // also forgets packets already on their way
      const mustWait = this.busyUntil > now;
      if (mustWait && s.queueLimit !== undefined && queued >= s.queueLimit) {
        c.dropped.queue++;
        return false;
      }
      const start = max(now, this.busyUntil);
      txEnd = later(start, ms((packet.length * 8 * 1000) / s.bandwidth));
      this.busyUntil = txEnd;
      this.starts.push(start);
    }
    let propagation = s.delay;
    if (s.jitter > 0) {
      propagation = ms(Math.max(0, propagation + (this.rng.next() * 2 - 1) * s.jitter));
    }
    if (s.reorder > 0 && this.rng.chance(s.reorder)) {
      propagation = plus(propagation, s.reorderDelay);
      c.reordered++;
    }
    this.clock.schedule(later(txEnd, propagation), () => this.deliver(packet));
    return true;
  }

  /** Packets accepted but not yet being serialized at `now`. */
  private waiting(now: Instant): number {
    while (this.head < this.starts.length && this.starts[this.head]! <= now) this.head++;
    if (this.head > 1024 && this.head * 2 > this.starts.length) {
      this.starts = this.starts.slice(this.head);
      this.head = 0;
    }
    return this.starts.length - this.head;
  }

  private deliver(packet: Uint8Array): void {
    if (this.receiver === undefined) {
      this.counters.dropped["no-receiver"]++;
      return;
    }
    this.counters.delivered++;
    this.receiver(packet);
  }
}

/**
 * A simulated wire joining two ends, `a` and `b`, driven by a clock and a
 * seeded Rng. A packet is serialized at `bandwidth` behind earlier ones, then
 * propagates for `delay` (± jitter); loss, reordering, duplication and
 * corruption are decided per packet from the Rng, so one seed replays the
 * same run exactly. Each direction draws from its own fork of the Rng.
 */
export class SimWire {
  readonly a: LinkEnd;
  readonly b: LinkEnd;
  private readonly lanes: Record<WireDirection, Lane>;
  private currentMtu: number;

  constructor(clock: Clock, rng: Rng, options: SimWireOptions = {}) {
    this.currentMtu = options.mtu ?? 1500;
    const settings = { ...DEFAULT_WIRE_SETTINGS, ...options.settings };
    checkSettings(settings);
    const mtu = () => this.currentMtu;
    this.lanes = {
      "a->b": new Lane({ ...settings }, clock, rng.fork("a->b"), mtu),
      "b->a": new Lane({ ...settings }, clock, rng.fork("b->a"), mtu),
    };
    this.a = this.end(this.lanes["a->b"], this.lanes["b->a"]);
    this.b = this.end(this.lanes["b->a"], this.lanes["a->b"]);
    const { router, router6 } = options;
    if (router !== undefined || router6 !== undefined) {
      const decide = (packet: Uint8Array): TooBig => {
        if (packet[0]! >> 4 === 6) {
          return router6 === undefined
            ? { kind: "drop" }
            : tooBigForPath6(packet, this.currentMtu, router6);
        }
        return router === undefined
          ? { kind: "drop" }
          : tooBigForPath(packet, this.currentMtu, router);
      };
      const answer = (lane: Lane, back: Lane) => (packet: Uint8Array) => {
        const r = decide(packet);
        if (r.kind === "fragments") {
          lane.counters.fragmented++;
          for (const p of r.packets) lane.send(p);
          return;
        }
        lane.counters.dropped.mtu++;
        if (r.kind === "reply") {
          lane.counters.fragNeededSent++;
          back.send(r.icmp, true);
        }
      };
      this.lanes["a->b"].tooBig = answer(this.lanes["a->b"], this.lanes["b->a"]);
      this.lanes["b->a"].tooBig = answer(this.lanes["b->a"], this.lanes["a->b"]);
    }
  }

  get mtu(): number {
    return this.currentMtu;
  }

  set mtu(value: number) {
    if (!(Number.isInteger(value) && value > 0)) throw new RangeError(`bad MTU ${value}`);
    this.currentMtu = value;
  }

  /** Changes settings from now on; packets already on the wire keep their schedule. */
  configure(dir: WireDirection | "both", changes: Partial<WireSettings>): void {
    const dirs: WireDirection[] = dir === "both" ? ["a->b", "b->a"] : [dir];
    // Validate both first so a bad value changes nothing.
    const next = dirs.map((d) => ({ ...this.lanes[d].settings, ...changes }));
    for (const s of next) checkSettings(s);
    dirs.forEach((d, i) => {
      this.lanes[d].settings = next[i]!;
    });
  }

  settings(dir: WireDirection): Readonly<WireSettings> {
    return { ...this.lanes[dir].settings };
  }

  /** Live counters for one direction (read-only by convention; copy to snapshot). */
  counters(dir: WireDirection): Readonly<WireCounters> {
    return this.lanes[dir].counters;
  }

  private end(out: Lane, into: Lane): LinkEnd {
    const wire = this;
    return {
      send: (packet) => out.send(packet),
      onReceive: (handler) => {
        into.receiver = handler;
      },
      get mtu() {
        return wire.currentMtu;
      },
    };
  }
}
