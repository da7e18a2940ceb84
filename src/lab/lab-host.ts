/** Builds a LabHost: a Host on a HostLink, its Sockets, and state-change logging. */
import { Sockets } from "../api/sockets.ts";
import type { Clock } from "../clock/clock.ts";
import type { LinkEnd } from "../link/link.ts";
import { attach } from "../runtime/attach.ts";
import { Host, type HostOptions } from "../stack/host.ts";
import type { Rng } from "../util/rng.ts";
import type { EventLog } from "./event-log.ts";
import { hostLink } from "./host-link.ts";
import type { LabHost } from "./world.ts";

export function makeLabHost(
  opts: HostOptions,
  wire: LinkEnd,
  clock: Clock,
  log: EventLog,
  rng: Rng,
): LabHost {
  const host = new Host(opts);
  const link = hostLink(opts.name, wire, clock, log, rng.fork(`faults-${opts.name}`));
  const attachment = attach(host, link.end, clock);
  const sockets = new Sockets(host, attachment);
  const prev = host.events.connectionAdded;
  host.events.connectionAdded = (tcb) => {
    prev?.(tcb);
    log.state(clock.now(), host.name, tcb, undefined, tcb.state);
    tcb.observe({
      stateChanged: (t, from, to) => {
        log.state(clock.now(), host.name, t, from, to);
      },
    });
  };
  return { name: host.name, addr: host.addr, host, sockets, attachment, link };
}

/** A 16-byte ISN secret drawn from the world's seed, so a seeded session replays exactly. */
export function isnSecret(rng: Rng): Uint8Array {
  return rng.bytes(16);
}
