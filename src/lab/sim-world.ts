/**
 * The simulated world: tcplab hosts `a` 10.0.0.1 and `b` 10.0.0.2 joined by
 * a SimWire on a virtual clock that starts paused. Nothing moves until
 * `step` or `run`: a user call acts at once (connect queues its SYN on the
 * wire), but crossing the wire takes the wire's delay.
 *
 * The wire may be made a bottleneck (`bottleneck RATE [QUEUE]`): each
 * direction then serializes packets at RATE behind one drop-tail queue, and
 * every connection between a and b waits in that one queue — two flows
 * share it as flows from different senders share a router's. A packet the
 * full queue drops is marked dropped in the log like one a fault rule drops.
 *
 * A router on the path (PATH_ROUTER, PATH_ROUTER6) answers for the path's
 * MTU (`mtu BYTES`): a larger IPv4 packet with DF draws its ICMP
 * "fragmentation needed" (RFC 1191), one without DF is fragmented; a larger
 * IPv6 packet draws an ICMPv6 Packet Too Big (RFC 8201, RFC 4443 §3.2),
 * never fragments (src/link/sim-router.ts).
 */
import { type Duration, ms } from "../clock/time.ts";
import type { LinkEnd } from "../link/link.ts";
import type { WireCounters, WireDropReason } from "../link/sim-wire.ts";
import { outbound, type SimHostName, simPairOn } from "../runtime/sim-pair.ts";
import type { Personality } from "../tcp/personality.ts";
import type { TcpSettings } from "../tcp/settings.ts";
import { Rng } from "../util/rng.ts";
import { ip } from "../wire/addr.ts";
import { ip6 } from "../wire/ipv6-addr.ts";
import { EventLog } from "./event-log.ts";
import { type HostLink, hostLink } from "./host-link.ts";
import { LabClock, type RealTime } from "./lab-clock.ts";
import { labHostOver, labHostSettings, orDefaultPersonality } from "./lab-host.ts";
import type { Bottleneck, World } from "./world.ts";

export interface SimWorldOptions {
  /** Seeds ISNs and random faults; the same seed replays the same session. */
  readonly seed?: number;
  /** One-way wire delay (default 10 ms: enough to see segments in flight). */
  readonly delay?: Duration;
  readonly mtu?: number;
  /** Both hosts' personality (default tcplab); `personality HOST NAME` changes one later. */
  readonly personality?: Personality;
  /** Settings fixed over the personality. */
  readonly tcp?: Partial<TcpSettings>;
  readonly realTime?: RealTime;
  /** Events the lab log keeps (default DEFAULT_LOG_LIMIT); older ones are let go and counted. */
  readonly logLimit?: number;
  /** A bottleneck on the wire from the start (default: none, the wire takes no time to send). */
  readonly bottleneck?: Bottleneck;
}

export const DEFAULT_SIM_DELAY: Duration = ms(10);

/** The router between a and b that speaks for the path's MTU. */
export const PATH_ROUTER = "10.0.0.254";

/** The same router's IPv6 address, in the wire's fd00::/64 beside the hosts' fd00::1 and fd00::2. */
export const PATH_ROUTER6 = "fd00::fe";

/** How a drop on the wire reads in the trace, the ladder and the plots. */
const WIRE_DROP: Readonly<Record<WireDropReason, string>> = {
  queue: "bottleneck queue full",
  loss: "lost on the wire",
  fault: "the wire is down",
  mtu: "larger than the path's MTU, DF set",
  "no-receiver": "no receiver",
};

/** RFC 8200 §5: no router fragments an IPv6 packet, DF or not. */
const MTU_DROP6 = "larger than the path's MTU; routers never fragment IPv6";

/** One end of the wire, and why the last packet sent through it was dropped on the wire. */
function watched(
  end: LinkEnd,
  counters: () => Readonly<WireCounters>,
): { end: LinkEnd; lost: () => string | undefined } {
  let why: string | undefined;
  const reasons = Object.keys(WIRE_DROP) as WireDropReason[];
  return {
    end: {
      get mtu() {
        return end.mtu;
      },
      send(packet) {
        const before = reasons.map((r) => counters().dropped[r]);
        end.send(packet);
        const i = reasons.findIndex((r, k) => counters().dropped[r] > (before[k] as number));
        const reason = reasons[i];
        if (reason !== undefined) {
          why = reason === "mtu" && packet[0]! >> 4 === 6 ? MTU_DROP6 : WIRE_DROP[reason];
        }
      },
      onReceive: (handler) => end.onReceive(handler),
    },
    lost() {
      const w = why;
      why = undefined;
      return w;
    },
  };
}

export function createSimWorld(opts: SimWorldOptions = {}): World {
  const seed = opts.seed ?? 1;
  const rng = new Rng(seed);
  const clock = new LabClock(opts.realTime);
  const log = new EventLog(opts.logLimit);
  const mtu = opts.mtu ?? 1500;
  const personality = orDefaultPersonality(opts.personality);
  const overrides = opts.tcp ?? {};
  const links = new Map<SimHostName, HostLink>();
  const pair = simPairOn(clock, {
    seed,
    mtu,
    router: ip(PATH_ROUTER),
    router6: ip6(PATH_ROUTER6),
    wire: {
      delay: opts.delay ?? DEFAULT_SIM_DELAY,
      ...(opts.bottleneck !== undefined
        ? { bandwidth: opts.bottleneck.rate, queueLimit: opts.bottleneck.queue }
        : {}),
    },
    host: { tcp: labHostSettings(mtu, personality, overrides) },
    // Each host's end of the wire goes through the lab's log and fault rules.
    link(name, end, wire) {
      const w = watched(end, () => wire.counters(outbound(name)));
      const link = hostLink(name, w.end, clock, log, rng.fork(name).fork(`faults-${name}`), w.lost);
      links.set(name, link);
      return link.end;
    },
  });
  const { wire } = pair;
  // Each host keeps its own overrides: `set` on one leaves the other alone.
  const hosts = [pair.a, pair.b].map((n) =>
    labHostOver(
      { ...n, link: links.get(n.name) as HostLink },
      personality,
      { ...overrides },
      clock,
      log,
    ),
  );
  return {
    kind: "simulated",
    hosts,
    peer: undefined,
    clock,
    log,
    delay: () => wire.settings("a->b").delay,
    setDelay(ms) {
      wire.configure("both", { delay: ms });
    },
    bottleneck() {
      const s = wire.settings("a->b");
      return s.bandwidth === undefined ? undefined : { rate: s.bandwidth, queue: s.queueLimit };
    },
    setBottleneck(b) {
      wire.configure("both", { bandwidth: b?.rate, queueLimit: b?.queue });
    },
    pathMtu: () => wire.mtu,
    setPathMtu(bytes) {
      wire.mtu = bytes;
    },
    async close() {
      clock.close();
      for (const h of hosts) h.attachment.detach();
    },
  };
}
