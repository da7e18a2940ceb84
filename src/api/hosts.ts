/**
 * Sockets over the hosts src/runtime builds and attaches: runtime knows
 * nothing of sockets, so an application (serve, the tests) adds them here,
 * once per host.
 */
import type { Attachment } from "../runtime/attach.ts";
import { type SimNode, type SimPair, type SimPairOptions, simPair } from "../runtime/sim-pair.ts";
import type { Host } from "../stack/host.ts";
import { Net } from "./net.ts";
import { Sockets } from "./sockets.ts";

/** The two socket layers of one host: BSD-like calls and the promise/stream adapter over them. */
export interface SocketApi {
  readonly sockets: Sockets;
  readonly net: Net;
}

/** `node` (a kernel host, a simulated one) with sockets on its host. Call once per host. */
export function withSockets<N extends { readonly host: Host; readonly attachment: Attachment }>(
  node: N,
): N & SocketApi {
  const sockets = new Sockets(node.host, node.attachment);
  return { ...node, sockets, net: new Net(sockets) };
}

export type SimSocketNode = SimNode & SocketApi;

export interface SimSocketPair extends Omit<SimPair, "a" | "b"> {
  readonly a: SimSocketNode;
  readonly b: SimSocketNode;
}

/** The simulated world (runtime's simPair) with sockets on both hosts. */
export function simSocketPair(opts: SimPairOptions = {}): SimSocketPair {
  const world = simPair(opts);
  return { ...world, a: withSockets(world.a), b: withSockets(world.b) };
}
