/**
 * One tcplab host's interface as the lab builds it:
 *
 *   host ⇄ [capture: log + pcap] ⇄ faults ⇄ [arrival: log] ⇄ wire (or TUN)
 *
 * The capture tap logs what the host sends before the faults can drop it, so
 * a drop is drawn as a lost segment; the arrival tap logs what the wire
 * brings before the faults decide, so a drop on the way in is seen too.
 * `inject` enters above the faults, as if the packet had just arrived.
 */
import type { Clock } from "../clock/clock.ts";
import { type FaultyLink, faults } from "../link/faults.ts";
import type { LinkEnd, PacketHandler } from "../link/link.ts";
import type { PcapWriter } from "../link/pcap.ts";
import type { Rng } from "../util/rng.ts";
import type { EventLog, PacketEvent } from "./event-log.ts";

export interface HostLink {
  /** What the host attaches to. */
  readonly end: LinkEnd;
  readonly faults: FaultyLink;
  /** Delivers `packet` to the host as if it had arrived from the wire (no faults). */
  inject(packet: Uint8Array): PacketEvent;
  /** Sends `packet` onto the wire as if the host had sent it (faults apply; logged as injected). */
  emit(packet: Uint8Array): PacketEvent;
  pcap: PcapWriter | undefined;
  /** Called after the host has processed a packet delivered to it (the lab samples connections here). */
  delivered: ((packet: Uint8Array) => void) | undefined;
}

/** The rule that fired between two snapshots (a count-limited rule leaves the list when spent). */
function firedRule(link: FaultyLink, before: ReadonlyMap<number, number>): string {
  const after = link.rules();
  for (const r of after) {
    if (r.spec.action.kind === "drop" && r.hits > (before.get(r.id) ?? 0))
      return r.spec.label ?? "fault rule";
  }
  for (const [id] of before) {
    if (!after.some((r) => r.id === id)) return spentLabels.get(link)?.get(id) ?? "fault rule";
  }
  return "fault";
}

/** Labels of rules by id, kept so a rule that retired on this packet can still be named. */
const spentLabels = new WeakMap<FaultyLink, Map<number, string>>();

function hitsOf(link: FaultyLink): Map<number, number> {
  const m = new Map<number, number>();
  const labels = spentLabels.get(link) ?? new Map<number, string>();
  spentLabels.set(link, labels);
  for (const r of link.rules()) {
    m.set(r.id, r.hits);
    if (r.spec.action.kind === "drop") labels.set(r.id, r.spec.label ?? "fault rule");
  }
  return m;
}

/**
 * `lostOnWire`, where the wire can tell, says why the packet just handed to
 * it was dropped there (a full bottleneck queue), and forgets it: the
 * packet's event is marked dropped like one a fault rule dropped.
 */
export function hostLink(
  name: string,
  wire: LinkEnd,
  clock: Clock,
  log: EventLog,
  rng: Rng,
  lostOnWire?: () => string | undefined,
): HostLink {
  let receiver: PacketHandler | undefined;
  let link: FaultyLink | undefined;

  const arrival: LinkEnd = {
    get mtu() {
      return wire.mtu;
    },
    send: (p) => wire.send(p),
    onReceive(handler) {
      wire.onReceive((packet) => {
        const ev = log.packet(clock.now(), name, "<", packet);
        const f = link as FaultyLink;
        const before = f.counters("in").dropped;
        const hits = hitsOf(f);
        handler(packet);
        if (f.counters("in").dropped > before) log.markDropped(ev, firedRule(f, hits));
      });
    },
  };
  const f = faults(arrival, { rng, clock });
  link = f;

  const deliver = (packet: Uint8Array): void => {
    self.pcap?.write(clock.now(), packet);
    receiver?.(packet);
    self.delivered?.(packet);
  };
  f.onReceive(deliver);

  const send = (packet: Uint8Array, injected = false): PacketEvent => {
    const ev = log.packet(clock.now(), name, ">", packet, injected);
    self.pcap?.write(clock.now(), packet);
    const before = f.counters("out").dropped;
    const hits = hitsOf(f);
    lostOnWire?.();
    f.send(packet);
    if (f.counters("out").dropped > before) log.markDropped(ev, firedRule(f, hits));
    else {
      const why = lostOnWire?.();
      if (why !== undefined) log.markDropped(ev, why);
    }
    return ev;
  };

  const end: LinkEnd = {
    get mtu() {
      return wire.mtu;
    },
    send: (p) => {
      send(p);
    },
    onReceive(handler) {
      receiver = handler;
    },
  };

  const self: HostLink = {
    end,
    faults: f,
    pcap: undefined,
    delivered: undefined,
    inject(packet) {
      const ev = log.packet(clock.now(), name, "<", packet, true);
      deliver(packet);
      return ev;
    },
    emit: (packet) => send(packet, true),
  };
  return self;
}
