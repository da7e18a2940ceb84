import type { Random32 } from "../tcp/challenge.ts";
import type { Ipv4Addr } from "../wire/addr.ts";
import type { Ipv6Addr } from "../wire/ipv6-addr.ts";

/** Counters in the table: a power of two (RFC 7739 §5.3 suggests 2^11 or more). */
const TABLE_SIZE = 2048;

/**
 * The IPv4 Identification of datagrams we originate (RFC 6864, RFC 7739).
 *
 * One host-wide counter lets anyone who sees two of our packets learn how
 * many we sent to others in between (the idle scan; nmap reports `TI=I`).
 * RFC 7739 §5.3's hash-based scheme instead: a table of counters, one picked
 * by a keyed hash of (destination, protocol), and an offset from a second
 * keyed hash — IDs stay unique per (source, destination, protocol) as
 * reassembly needs (RFC 791, RFC 6864 §4.1), but traffic to one peer moves
 * the counter another peer sees only when both hash to the same slot.
 * Atomic datagrams (DF set, never fragmented) get their IDs the same way:
 * RFC 6864 §4.1 lets them carry any value.
 */
export class IpIds {
  private readonly counters = new Uint16Array(TABLE_SIZE);
  private readonly key1: number;
  private readonly key2: number;
  /** IPv6's counters and keys, made at the first IPv6 datagram: an IPv4-only host draws what it always drew. */
  private v6: { counters: Uint32Array; key1: number; key2: number } | undefined;

  constructor(private readonly random: Random32) {
    this.key1 = random() >>> 0;
    this.key2 = random() >>> 0;
    for (let i = 0; i < TABLE_SIZE; i++) this.counters[i] = random() & 0xffff;
  }

  /** The next ID for `dst`; `count` > 1 takes that many in a row (a super-segment's segments). */
  next(dst: Ipv4Addr, protocol: number, count = 1): number {
    const slot = mix(dst, protocol, this.key1) & (TABLE_SIZE - 1);
    const n = this.counters[slot] as number;
    this.counters[slot] = (n + count) & 0xffff;
    return (mix(dst, protocol, this.key2) + n) & 0xffff;
  }

  /**
   * The 32-bit Identification of an IPv6 fragment header: the same scheme
   * keyed by the destination alone (RFC 8200 §4.5 keys reassembly by source,
   * destination and Identification; RFC 7739 §5.3).
   */
  next6(dst: Ipv6Addr): number {
    this.v6 ??= { counters: new Uint32Array(TABLE_SIZE), key1: this.random(), key2: this.random() };
    const t = this.v6;
    const slot = mix6(dst, t.key1) & (TABLE_SIZE - 1);
    const n = t.counters[slot] as number;
    t.counters[slot] = (n + 1) >>> 0;
    return (mix6(dst, t.key2) + n) >>> 0;
  }
}

/** A keyed mix of an IPv6 address's four words. */
function mix6(dst: Ipv6Addr, key: number): number {
  let h = key >>> 0;
  for (const w of dst) h = mix(w, h, key);
  return h;
}

/** A keyed 32-bit mix of destination and protocol (murmur3's finaliser over the words). */
function mix(dst: Ipv4Addr, protocol: number, key: number): number {
  let h = key ^ Math.imul(dst >>> 0, 0xcc9e2d51);
  h = Math.imul(h ^ (h >>> 15), 0x1b873593) ^ protocol;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
