/**
 * The simulated world, built in one place for everything that uses it (the
 * `sim` command and sim-transfer, the lab, tests): host `a` 10.0.0.1 and
 * fd00::1, host `b` 10.0.0.2 and fd00::2, joined by a SimWire (it carries
 * either family's bytes), each attached to it on one clock.
 * Sockets go above (src/api); the lab wraps each end of the wire with its
 * log and fault rules (`link`) and runs it on its own clock (`simPairOn`).
 *
 * One seed makes a run repeatable: it seeds the wire's faults and each
 * host's ISN secret (RFC 6528 §3 — repeatable here, never secret).
 */
import type { Clock } from "../clock/clock.ts";
import { VirtualClock } from "../clock/virtual-clock.ts";
import type { LinkEnd } from "../link/link.ts";
import { SimWire, type WireDirection, type WireSettings } from "../link/sim-wire.ts";
import { Host, type HostOptions } from "../stack/host.ts";
import { Rng } from "../util/rng.ts";
import { type Ipv4Addr, ip } from "../wire/addr.ts";
import { type Ipv6Addr, ip6 } from "../wire/ipv6-addr.ts";
import { type AttachOptions, type Attachment, attach } from "./attach.ts";

export type SimHostName = "a" | "b";

/** The hosts' addresses. */
export const SIM_ADDRS: Readonly<Record<SimHostName, string>> = { a: "10.0.0.1", b: "10.0.0.2" };

/** The hosts' IPv6 addresses: unique local ones (RFC 4193), one /64 for the wire. */
export const SIM_ADDRS6: Readonly<Record<SimHostName, string>> = { a: "fd00::1", b: "fd00::2" };

/** The direction of the wire a host sends on. */
export const outbound = (name: SimHostName): WireDirection => (name === "a" ? "a->b" : "b->a");

/** One host of the simulated world, attached to its end of the wire. */
export interface SimNode {
  readonly name: SimHostName;
  readonly host: Host;
  readonly attachment: Attachment;
}

export interface SimPair<C extends Clock = VirtualClock> {
  readonly clock: C;
  readonly wire: SimWire;
  readonly a: SimNode;
  readonly b: SimNode;
}

export interface SimPairOptions {
  /** Seeds the wire's faults (loss, reordering …) and the hosts' ISN secrets (default 1). */
  readonly seed?: number;
  readonly mtu?: number;
  readonly wire?: Partial<WireSettings>;
  /** A router on the path that answers for the wire's MTU (SimWireOptions.router). */
  readonly router?: Ipv4Addr;
  /** The same router's IPv6 address: a larger IPv6 packet draws a Packet Too Big (SimWireOptions.router6). */
  readonly router6?: Ipv6Addr;
  /** Whether the hosts have their IPv6 addresses too (SIM_ADDRS6; default true). */
  readonly ipv6?: boolean;
  /** Extra host options for both hosts (name and addresses are fixed: SIM_ADDRS, SIM_ADDRS6). */
  readonly host?: Omit<HostOptions, "name" | "addr" | "addr6" | "mtu">;
  /** Wraps a host's end of the wire before the host is attached to it (taps, fault rules, a log). */
  readonly link?: (name: SimHostName, end: LinkEnd, wire: SimWire) => LinkEnd;
  readonly attach?: AttachOptions;
}

/** The simulated world on a fresh VirtualClock. */
export function simPair(opts: SimPairOptions = {}): SimPair {
  return simPairOn(new VirtualClock(), opts);
}

/** The simulated world on the caller's clock (the lab's, which it pauses and steps). */
export function simPairOn<C extends Clock>(clock: C, opts: SimPairOptions = {}): SimPair<C> {
  const rng = new Rng(opts.seed ?? 1);
  const mtu = opts.mtu ?? 1500;
  const wire = new SimWire(clock, rng.fork("wire"), {
    mtu,
    ...(opts.router !== undefined ? { router: opts.router } : {}),
    ...(opts.router6 !== undefined ? { router6: opts.router6 } : {}),
    ...(opts.wire !== undefined ? { settings: opts.wire } : {}),
  });
  const node = (name: SimHostName, end: LinkEnd): SimNode => {
    const link = opts.link?.(name, end, wire) ?? end;
    const host = new Host({
      isn: { secret: rng.fork(`isn-${name}`).bytes(16) },
      ...opts.host,
      name,
      addr: ip(SIM_ADDRS[name]),
      // The ISN secret is drawn above either way: an IPv4 run is the same with or without IPv6.
      ...(opts.ipv6 !== false ? { addr6: ip6(SIM_ADDRS6[name]) } : {}),
      mtu,
    });
    return { name, host, attachment: attach(host, link, clock, opts.attach) };
  };
  return { clock, wire, a: node("a", wire.a), b: node("b", wire.b) };
}
