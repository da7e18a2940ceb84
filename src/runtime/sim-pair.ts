import { Net } from "../api/net.ts";
import { Sockets } from "../api/sockets.ts";
import { VirtualClock } from "../clock/virtual-clock.ts";
import { SimWire, type WireSettings } from "../link/sim-wire.ts";
import { Host, type HostOptions } from "../stack/host.ts";
import { Rng } from "../util/rng.ts";
import { ip } from "../wire/addr.ts";
import { type Attachment, attach } from "./attach.ts";

/** One host of a simulated world with everything an application needs. */
export interface SimNode {
  readonly host: Host;
  readonly attachment: Attachment;
  readonly sockets: Sockets;
  readonly net: Net;
}

export interface SimPair {
  readonly clock: VirtualClock;
  readonly wire: SimWire;
  readonly a: SimNode;
  readonly b: SimNode;
}

export interface SimPairOptions {
  /** Seeds the wire's faults (loss, reordering …). */
  readonly seed?: number;
  readonly mtu?: number;
  readonly wire?: Partial<WireSettings>;
  /** Extra host options for both hosts (name and addr are fixed: a 10.0.0.1, b 10.0.0.2). */
  readonly host?: Omit<HostOptions, "name" | "addr" | "mtu">;
}

/**
 * The lab's simulated world: host `a` 10.0.0.1 and host `b` 10.0.0.2 joined
 * by a SimWire, on one VirtualClock.
 */
export function simPair(opts: SimPairOptions = {}): SimPair {
  const clock = new VirtualClock();
  const mtu = opts.mtu ?? 1500;
  const wire = new SimWire(clock, new Rng(opts.seed ?? 1).fork("wire"), {
    mtu,
    ...(opts.wire !== undefined ? { settings: opts.wire } : {}),
  });
  const node = (name: string, addr: string, end: typeof wire.a): SimNode => {
    const host = new Host({ ...opts.host, name, addr: ip(addr), mtu });
    const attachment = attach(host, end, clock);
    const sockets = new Sockets(host, attachment);
    return { host, attachment, sockets, net: new Net(sockets) };
  };
  return { clock, wire, a: node("a", "10.0.0.1", wire.a), b: node("b", "10.0.0.2", wire.b) };
}
