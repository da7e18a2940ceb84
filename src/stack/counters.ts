import type { DropReason } from "../wire/result.ts";

/**
 * Host counters in the spirit of `netstat -s`. Two flat maps with dotted keys:
 *
 * - `packets`: traffic and events, `<proto>.<what>` — e.g. "ip.in", "ip.out",
 *   "ip.fragments-in", "ip.reassembled", "ip.fragments-out", "icmp.in",
 *   "icmp.echo-replies-out", "udp.in", "tcp.out", "tcp.rst-out".
 *   What was delivered: "ip.fragments-reassembled" (fragments that made a
 *   whole datagram), "udp.delivered" (queued to a socket), "tcp.delivered"
 *   (to a connection, or taken or answered by a listener); with the ICMP
 *   "...-in" counts and the drops they account for every packet received:
 *   ip.in + ip.reassembled = input drops + delivered.
 * - `drops`: discarded input by protocol and reason, `<proto>.<reason>` —
 *   e.g. "ip.bad-checksum", "ip.fragment-timeout", "udp.no-socket",
 *   "tcp.no-socket", "udp.queue-full".
 *
 * Keys appear the first time they are counted, so a snapshot lists only what happened.
 */
export type Proto = "ip" | "icmp" | "udp" | "tcp";

/** Drop reasons that belong to the stack rather than to a codec. */
export type StackDropReason =
  | DropReason
  | "fragment-duplicate"
  | "queue-full"
  | "backlog-full"
  | "listener"
  | "unknown-protocol"
  | "bad-source"
  | "out-too-big";

export interface CounterSnapshot {
  readonly packets: Readonly<Record<string, number>>;
  readonly drops: Readonly<Record<string, number>>;
}

export class Counters {
  private readonly packets = new Map<string, number>();
  private readonly drops = new Map<string, number>();

  count(proto: Proto, what: string, n = 1): void {
    const key = `${proto}.${what}`;
    this.packets.set(key, (this.packets.get(key) ?? 0) + n);
  }

  drop(proto: Proto, reason: StackDropReason | string, n = 1): void {
    const key = `${proto}.${reason}`;
    this.drops.set(key, (this.drops.get(key) ?? 0) + n);
  }

  packet(key: string): number {
    return this.packets.get(key) ?? 0;
  }

  dropped(key: string): number {
    return this.drops.get(key) ?? 0;
  }

  /** A plain-object copy, sorted by key, for the lab's `stats` command. */
  snapshot(): CounterSnapshot {
    return { packets: sortedObject(this.packets), drops: sortedObject(this.drops) };
  }
}

function sortedObject(map: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of [...map.keys()].sort()) out[key] = map.get(key) ?? 0;
  return out;
}
