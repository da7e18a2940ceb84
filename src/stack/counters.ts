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
 *   ip.in + ip.reassembled = input drops + delivered. IPv6 has its own
 *   "ip6.*" and "icmp6.*" (ip6.in, ip6.reassembled, ip6.fragments-reassembled,
 *   icmp6.echo-requests-in …), and the sum above takes them too.
 * - `drops`: discarded input by protocol and reason, `<proto>.<reason>` —
 *   e.g. "ip.bad-checksum", "ip.fragment-timeout", "udp.no-socket",
 *   "tcp.no-socket", "udp.queue-full", "ip6.not-for-us", "udp.udp-zero-checksum".
 *
 * Keys appear the first time they are counted, so a snapshot lists only what happened.
 */
export type Proto = "ip" | "ip6" | "icmp" | "icmp6" | "udp" | "tcp";

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
  // By protocol, then by name: counting builds no key string (it runs several times per packet).
  private readonly packets = new Map<Proto, Map<string, number>>();
  private readonly drops = new Map<Proto, Map<string, number>>();

  count(proto: Proto, what: string, n = 1): void {
    bump(this.packets, proto, what, n);
  }

  drop(proto: Proto, reason: StackDropReason | string, n = 1): void {
    bump(this.drops, proto, reason, n);
  }

  packet(key: string): number {
    return lookup(this.packets, key);
  }

  dropped(key: string): number {
    return lookup(this.drops, key);
  }

  /** A plain-object copy, sorted by key, for the lab's `stats` command. */
  snapshot(): CounterSnapshot {
    return { packets: sortedObject(this.packets), drops: sortedObject(this.drops) };
  }
}

function bump(table: Map<Proto, Map<string, number>>, proto: Proto, what: string, n: number): void {
  let m = table.get(proto);
  if (m === undefined) {
    m = new Map();
    table.set(proto, m);
  }
  m.set(what, (m.get(what) ?? 0) + n);
}

function lookup(table: Map<Proto, Map<string, number>>, key: string): number {
  const dot = key.indexOf(".");
  return table.get(key.slice(0, dot) as Proto)?.get(key.slice(dot + 1)) ?? 0;
}

function sortedObject(table: Map<Proto, Map<string, number>>): Record<string, number> {
  const flat = new Map<string, number>();
  for (const [proto, m] of table) for (const [what, n] of m) flat.set(`${proto}.${what}`, n);
  const out: Record<string, number> = {};
  for (const key of [...flat.keys()].sort()) out[key] = flat.get(key) ?? 0;
  return out;
}
