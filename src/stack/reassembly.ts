import { type Duration, type Instant, later, ms } from "../clock/time.ts";
import { placeFragment } from "../wire/ipv6-fragment.ts";

/**
 * Fragment reassembly of either family (RFC 791 §3.2, RFC 815; RFC 8200
 * §4.5), sans-IO; the host keeps one Reassembler per family, each with its
 * own timeout and the same bounds.
 *
 * Each datagram in reassembly is keyed — IPv4: (source, destination,
 * protocol, identification); IPv6: `ipv6FragmentKey` (no protocol) — and
 * holds a sorted list of non-overlapping byte intervals.
 * Policy choices, all deliberate:
 *
 * - Overlap: any fragment that overlaps bytes already held (other than an
 *   exact duplicate) discards the whole datagram, and later fragments of it
 *   until its timer runs out — the rule RFC 5722 gives IPv6, applied to IPv4
 *   too, so that no overlap trick can choose which bytes the upper layer sees.
 * - Exact duplicate (same offset, same bytes): dropped alone; the datagram
 *   keeps reassembling (the simulated wire duplicates packets).
 * - Timeout: 30 s from the first fragment for IPv4 (RFC 791 suggests a lower
 *   bound of 15 s; RFC 1122 §3.3.2 recommends 60–120 s; 30 s is Linux's
 *   default); 60 s for IPv6 (RFC 8200 §4.5).
 * - Memory: at most `maxBytes` held (payload plus a fixed per-fragment
 *   overhead) and `maxDatagrams` in reassembly. When a new fragment would go
 *   over, the oldest datagrams are evicted first (as Linux does), so a flood
 *   of never-completed datagrams cannot starve fresh traffic forever.
 */

/** Which datagram a fragment belongs to: IPv4's four fields, or a key made by the caller (IPv6). */
export type FragmentId =
  | {
      readonly src: number;
      readonly dst: number;
      readonly protocol: number;
      readonly identification: number;
    }
  | { readonly key: string };

export type FragmentInput<H> = FragmentId & {
  /** Fragment offset in bytes (header field × 8). */
  readonly offset: number;
  readonly moreFragments: boolean;
  readonly payload: Uint8Array;
  /** The fragment's header; the header of the offset-0 fragment becomes the datagram's. */
  readonly header: H;
};

export type FragmentDrop =
  | "fragment-bad"
  | "fragment-overlap"
  | "fragment-duplicate"
  | "fragment-memory"
  | "fragment-timeout";

export type ReassemblyResult<H> =
  | {
      readonly kind: "complete";
      readonly header: H;
      readonly payload: Uint8Array;
      /** How many fragments made the datagram (counted as delivered by the host). */
      readonly fragments: number;
    }
  | { readonly kind: "pending" }
  | { readonly kind: "drop"; readonly reason: FragmentDrop };

export interface ReassemblyOptions<H = unknown> {
  readonly timeout?: Duration;
  readonly maxBytes?: number;
  readonly maxDatagrams?: number;
  /** Told about datagrams discarded other than through the current fragment's result (evictions, timeouts). */
  readonly onDiscard?: (reason: FragmentDrop, fragments: number) => void;
  /**
   * Told when a datagram whose first fragment had arrived times out, with
   * that fragment's header and data: RFC 792, RFC 1122 §3.3.2 — the host
   * answers with Time Exceeded, code 1 (never without fragment zero).
   */
  readonly onTimeout?: (first: H, data: Uint8Array, now: Instant) => void;
}

/** Bookkeeping cost charged per fragment on top of its payload. */
export const FRAGMENT_OVERHEAD = 64;
/** RFC 791: a datagram is at most 65535 bytes, header included (IPv6: the caller passes the header bytes not counted, RFC 8200 §4.5). */
const MAX_DATAGRAM = 65535;

interface Piece {
  readonly start: number;
  readonly end: number;
  readonly data: Uint8Array;
}

interface Datagram<H> {
  readonly key: string;
  readonly deadline: Instant;
  pieces: Piece[];
  header: H | undefined;
  /** Total payload length, known once the last fragment (MF = 0) arrived. */
  total: number | undefined;
  received: number;
  cost: number;
  /** Set after an overlap: the datagram is dead, its later fragments are dropped until the deadline. */
  poisoned: boolean;
}

export class Reassembler<H> {
  readonly timeout: Duration;
  readonly maxBytes: number;
  readonly maxDatagrams: number;
  private readonly onDiscard: ((reason: FragmentDrop, fragments: number) => void) | undefined;
  private readonly onTimeout: ((first: H, data: Uint8Array, now: Instant) => void) | undefined;
  /** Insertion order is arrival order of each datagram's first fragment: oldest first. */
  private readonly datagrams = new Map<string, Datagram<H>>();
  private held = 0;

  constructor(opts: ReassemblyOptions<H> = {}) {
    this.timeout = opts.timeout ?? ms(30_000);
    this.maxBytes = opts.maxBytes ?? 256 * 1024;
    this.maxDatagrams = opts.maxDatagrams ?? 64;
    this.onDiscard = opts.onDiscard;
    this.onTimeout = opts.onTimeout;
  }

  /** Bytes currently charged against `maxBytes`. */
  get bytesHeld(): number {
    return this.held;
  }

  get datagramsHeld(): number {
    return this.datagrams.size;
  }

  /** `headerLength` counts toward the 65535-byte bound with the fragment's end. */
  input(frag: FragmentInput<H>, headerLength: number, now: Instant): ReassemblyResult<H> {
    this.expire(now);
    const start = frag.offset;
    const end = start + frag.payload.length;
    // RFC 791: every fragment but the last carries a multiple of 8 bytes; nothing may reach past 65535.
    if (frag.moreFragments && (frag.payload.length === 0 || frag.payload.length % 8 !== 0)) {
      return { kind: "drop", reason: "fragment-bad" };
    }
    if (headerLength + end > MAX_DATAGRAM) return { kind: "drop", reason: "fragment-bad" };

    const key =
      "key" in frag ? frag.key : `${frag.src}/${frag.dst}/${frag.protocol}/${frag.identification}`;
    let dg = this.datagrams.get(key);
    if (dg?.poisoned) return { kind: "drop", reason: "fragment-overlap" };

    const cost = frag.payload.length + FRAGMENT_OVERHEAD;
    if (cost > this.maxBytes) return { kind: "drop", reason: "fragment-memory" };

    if (dg !== undefined) {
      const verdict = this.place(dg, frag, start, end);
      if (verdict !== undefined) return verdict;
    }
    // Make room: evict the oldest datagrams (never the one this fragment belongs to).
    while (
      this.held + cost > this.maxBytes ||
      (dg === undefined && this.datagrams.size >= this.maxDatagrams)
    ) {
      const oldest = this.oldestExcept(dg);
      if (oldest === undefined) return { kind: "drop", reason: "fragment-memory" };
      this.discard(oldest, "fragment-memory");
    }
    if (dg === undefined) {
      dg = {
        key,
        deadline: later(now, this.timeout),
        pieces: [],
        header: undefined,
        total: undefined,
        received: 0,
        cost: 0,
        poisoned: false,
      };
      this.datagrams.set(key, dg);
      const verdict = this.place(dg, frag, start, end);
      if (verdict !== undefined) return verdict;
    }
    return this.insert(dg, frag, start, end, cost);
  }

  /**
   * Checks a fragment against what `dg` holds. Returns a drop, or undefined
   * when the fragment fits (insert it).
   */
  private place(
    dg: Datagram<H>,
    frag: FragmentInput<H>,
    start: number,
    end: number,
  ): ReassemblyResult<H> | undefined {
    // RFC 5722 §4 / RFC 8200 §4.5 for both families: overlaps and a disagreeing end poison the datagram.
    switch (placeFragment(dg.pieces, start, end, frag.moreFragments, dg.total)) {
      case "fits":
        return undefined;
      case "same-span": {
        const p = dg.pieces[this.firstEndingAfter(dg.pieces, start)] as Piece;
        if (sameBytes(p.data, frag.payload)) return { kind: "drop", reason: "fragment-duplicate" };
        return this.poison(dg);
      }
      default:
        return this.poison(dg);
    }
  }

  private insert(
    dg: Datagram<H>,
    frag: FragmentInput<H>,
    start: number,
    end: number,
    cost: number,
  ): ReassemblyResult<H> {
    const i = this.firstEndingAfter(dg.pieces, start);
    dg.pieces.splice(i, 0, { start, end, data: frag.payload });
    dg.received += end - start;
    dg.cost += cost;
    this.held += cost;
    if (!frag.moreFragments) dg.total = end;
    if (start === 0) dg.header = frag.header;
    if (dg.total === undefined || dg.received !== dg.total || dg.header === undefined) {
      return { kind: "pending" };
    }
    // Pieces never overlap, so received === total means [0, total) is covered.
    const payload = new Uint8Array(dg.total);
    for (const piece of dg.pieces) payload.set(piece.data, piece.start);
    const header = dg.header;
    this.remove(dg);
    return { kind: "complete", header, payload, fragments: dg.pieces.length };
  }

  /** Index of the first piece whose end is after `pos` (binary search over sorted pieces). */
  private firstEndingAfter(pieces: Piece[], pos: number): number {
    let lo = 0;
    let hi = pieces.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((pieces[mid] as Piece).end <= pos) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private poison(dg: Datagram<H>): ReassemblyResult<H> {
    // The fragments held so far go with it: told to onDiscard, so each is
    // counted once (the current one is the caller's drop).
    if (dg.pieces.length > 0) this.onDiscard?.("fragment-overlap", dg.pieces.length);
    this.held -= dg.cost;
    dg.cost = 0;
    dg.pieces = [];
    dg.received = 0;
    dg.header = undefined;
    dg.poisoned = true;
    return { kind: "drop", reason: "fragment-overlap" };
  }

  private oldestExcept(keep: Datagram<H> | undefined): Datagram<H> | undefined {
    for (const dg of this.datagrams.values()) if (dg !== keep) return dg;
    return undefined;
  }

  private remove(dg: Datagram<H>): void {
    this.held -= dg.cost;
    this.datagrams.delete(dg.key);
  }

  private discard(dg: Datagram<H>, reason: FragmentDrop): void {
    const fragments = dg.pieces.length;
    this.remove(dg);
    if (!dg.poisoned) this.onDiscard?.(reason, fragments);
  }

  /** Earliest reassembly deadline, if any datagram is waiting. */
  pollAt(): Instant | undefined {
    let at: Instant | undefined;
    for (const dg of this.datagrams.values()) {
      if (at === undefined || dg.deadline < at) at = dg.deadline;
    }
    return at;
  }

  /** Discards every datagram whose timer ran out by `now`. Returns how many incomplete datagrams timed out. */
  expire(now: Instant): number {
    let n = 0;
    for (const dg of this.datagrams.values()) {
      if (dg.deadline > now) continue;
      if (!dg.poisoned) n++;
      const first = dg.pieces[0];
      const header = dg.header;
      this.discard(dg, "fragment-timeout");
      if (header !== undefined && first?.start === 0) this.onTimeout?.(header, first.data, now);
    }
    return n;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
