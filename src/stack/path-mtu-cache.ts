import type { Instant } from "../clock/time.ts";
import type { Ipv4Addr } from "../wire/addr.ts";

/** What the host remembers of one destination's path (RFC 1191 §5, RFC 8201 §5.2). */
export interface PathMtuEntry {
  readonly mtu: number;
  /** Raised to the floor from a smaller report: connections send without DF. */
  readonly clamped: boolean;
  /** RFC 1191 §6.3: when it is forgotten. */
  readonly agesAt: Instant;
}

/** Destinations remembered at most (Linux keeps its exceptions per route, bounded too). */
export const PATH_MTU_CACHE_LIMIT = 1024;

/**
 * RFC 1191 §5: the path MTU per destination, as IP keeps it. A connection
 * that accepted a "fragmentation needed" (src/tcp/icmp-error.ts) files what
 * it learned here, and new connections to the same destination start from
 * it (§6.5: TCP takes its MSS from the IP layer's estimate). Entries age
 * out (§6.3); the table is bounded, oldest first out — and only a message
 * that matched a connection's window gets in. Keyed by the IPv4 address,
 * or an IPv6 address's text (`ipv6Key`) in the IPv6 table.
 */
export class PathMtuCache<K extends Ipv4Addr | string = Ipv4Addr> {
  private readonly entries = new Map<K, PathMtuEntry>();

  constructor(readonly limit = PATH_MTU_CACHE_LIMIT) {}

  get size(): number {
    return this.entries.size;
  }

  /** The estimate for `dst` at `now`, if one is remembered and not aged out. */
  lookup(dst: K, now: Instant): PathMtuEntry | undefined {
    const e = this.entries.get(dst);
    if (e === undefined || now < e.agesAt) return e;
    this.entries.delete(dst);
    return undefined;
  }

  learn(dst: K, entry: PathMtuEntry): void {
    this.entries.delete(dst); // to the end of the order: the newest
    this.entries.set(dst, entry);
    while (this.entries.size > this.limit) {
      const oldest = this.entries.keys().next().value as K;
      this.entries.delete(oldest);
    }
  }
}
