/**
 * The simulated world: tcplab hosts `a` 10.0.0.1 and `b` 10.0.0.2 joined by
 * a SimWire on a virtual clock that starts paused. Nothing moves until
 * `step` or `run`: a user call acts at once (connect queues its SYN on the
 * wire), but crossing the wire takes the wire's delay.
 */
import type { Millis } from "../clock/clock.ts";
import { SimWire } from "../link/sim-wire.ts";
import type { TcpSettings } from "../tcp/settings.ts";
import { Rng } from "../util/rng.ts";
import { ip } from "../wire/addr.ts";
import { EventLog } from "./event-log.ts";
import { LabClock, type RealTime } from "./lab-clock.ts";
import { isnSecret, makeLabHost } from "./lab-host.ts";
import type { Personality } from "./personality.ts";
import type { World } from "./world.ts";

export interface SimWorldOptions {
  /** Seeds ISNs and random faults; the same seed replays the same session. */
  readonly seed?: number;
  /** One-way wire delay (default 10 ms: enough to see segments in flight). */
  readonly delay?: Millis;
  readonly mtu?: number;
  /** Both hosts' personality (default tcplab); `personality HOST NAME` changes one later. */
  readonly personality?: Personality;
  /** Settings fixed over the personality. */
  readonly tcp?: Partial<TcpSettings>;
  readonly realTime?: RealTime;
  /** Events the lab log keeps (default DEFAULT_LOG_LIMIT); older ones are let go and counted. */
  readonly logLimit?: number;
}

export const DEFAULT_SIM_DELAY: Millis = 10;

export function createSimWorld(opts: SimWorldOptions = {}): World {
  const rng = new Rng(opts.seed ?? 1);
  const clock = new LabClock(opts.realTime);
  const log = new EventLog(opts.logLimit);
  const mtu = opts.mtu ?? 1500;
  const wire = new SimWire(clock, rng.fork("wire"), {
    mtu,
    settings: { delay: opts.delay ?? DEFAULT_SIM_DELAY },
  });
  const host = (name: string, addr: string, end: typeof wire.a) =>
    makeLabHost(
      {
        name,
        addr: ip(addr),
        mtu,
        isn: { secret: isnSecret(rng.fork(`isn-${name}`)) },
        ...(opts.tcp !== undefined ? { tcp: opts.tcp } : {}),
        ...(opts.personality !== undefined ? { personality: opts.personality } : {}),
      },
      end,
      clock,
      log,
      rng.fork(name),
    );
  const hosts = [host("a", "10.0.0.1", wire.a), host("b", "10.0.0.2", wire.b)];
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
    async close() {
      clock.close();
      for (const h of hosts) h.attachment.detach();
    },
  };
}
