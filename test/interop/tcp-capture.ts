/**
 * Reading a capture of TCP connections back with tcplab's own parsers, for
 * the interop suites: each connection's SYN options, and an audit of the
 * SACK blocks each side sent against the data the capture shows.
 *
 * Sequence numbers become offsets from the data sender's ISN+1 (seqDiff), so
 * a transfer of up to 2 GiB is a plain number line.
 */
import { readFileSync } from "node:fs";
import { readPcap } from "../../src/link/pcap.ts";
import { formatIpv4Addr, type Ipv4Addr } from "../../src/wire/addr.ts";
import { parsePacket } from "../../src/wire/packet.ts";
import { seqDiff } from "../../src/wire/seq.ts";
import { Flag, type TcpOption, type TcpSegment } from "../../src/wire/tcp-types.ts";

/** Disjoint half-open ranges [start, end), kept sorted and merged. */
export class IntervalSet {
  private readonly runs: Array<[number, number]> = [];

  get ranges(): ReadonlyArray<readonly [number, number]> {
    return this.runs;
  }

  /** Adds [start, end); returns the parts that were already in the set. */
  add(start: number, end: number): Array<[number, number]> {
    if (end <= start) return [];
    const overlap: Array<[number, number]> = [];
    let i = this.firstEndingAfter(start);
    let s = start;
    let e = end;
    let j = i;
    // Runs touching or overlapping [start, end) merge into one.
    for (; j < this.runs.length; j++) {
      const run = this.runs[j] as [number, number];
      if (run[0] > end) break;
      const os = Math.max(run[0], start);
      const oe = Math.min(run[1], end);
      if (oe > os) overlap.push([os, oe]);
      s = Math.min(s, run[0]);
      e = Math.max(e, run[1]);
    }
    // A run ending exactly at `start` touches it too.
    if (i > 0 && (this.runs[i - 1] as [number, number])[1] === start) {
      i--;
      s = (this.runs[i] as [number, number])[0];
    }
    this.runs.splice(i, j - i, [s, e]);
    return overlap;
  }

  /** Every byte of [start, end) is in the set. */
  covers(start: number, end: number): boolean {
    const i = this.firstEndingAfter(start);
    const run = this.runs[i];
    return run !== undefined && run[0] <= start && run[1] >= end;
  }

  has(x: number): boolean {
    return this.covers(x, x + 1);
  }

  /** Index of the first run with end > x. */
  private firstEndingAfter(x: number): number {
    let lo = 0;
    let hi = this.runs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.runs[mid] as [number, number])[1] > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

export type SackIssueKind =
  /** An ordinary block at or below the cumulative ACK. */
  | "not-above-ack"
  /** A block with bytes the data sender never sent / the receiver never got. */
  | "not-held"
  /** RFC 2018 §3: the bytes just outside a block were held too (not "isolated"). */
  | "not-isolated"
  /** RFC 2883: a D-SACK block with bytes that did not arrive (or were not sent) twice. */
  | "dsack-not-duplicate"
  | "too-many-blocks";

export interface SackIssue {
  readonly kind: SackIssueKind;
  readonly frame: number;
  /** Offsets from the data sender's ISN+1. */
  readonly ack: number;
  readonly block: readonly [number, number];
}

export interface SackAuditOptions {
  /** Blocks allowed in one segment (3 beside timestamps, RFC 2018 §3). */
  readonly maxBlocks: number;
  /**
   * The capture shows exactly what the receiver got (taken at the receiver):
   * blocks must then be isolated runs of it (RFC 2018 §3). Off when the
   * capture is at the sender and losses after it are unknown.
   */
  readonly exact: boolean;
}

/**
 * The SACK blocks one receiver sent, checked in capture order against the
 * data seen travelling towards it: each ordinary block lies above the
 * cumulative ACK and holds only data that was there (and, with `exact`, is a
 * maximal run of it); a D-SACK block (RFC 2883 §4: the first block, below the
 * ACK or inside the second block) holds only data seen twice.
 */
export class SackAudit {
  /** Data seen travelling to the receiver (offsets). */
  readonly seen = new IntervalSet();
  /** Data seen at least twice. */
  readonly seenTwice = new IntervalSet();
  readonly issues: SackIssue[] = [];
  sackSegments = 0;
  blocks = 0;
  dsackBlocks = 0;
  maxBlocksSeen = 0;

  constructor(
    /** The data sender's ISN + 1. */
    private readonly base: number,
    private readonly opts: SackAuditOptions,
  ) {}

  offset(seq: number): number {
    return seqDiff(seq, this.base);
  }

  /** Offset of the FIN, once seen. */
  finAt: number | undefined;

  /**
   * Data at `seq`, `len` bytes, seen travelling to the receiver, and a FIN
   * after it if `fin`. The FIN's sequence number is kept apart: a block may
   * cover it (Linux's do) or stop before it (tcplab's), and either way the
   * byte after a block is "not received" in RFC 2018 §3's sense.
   */
  data(seq: number, len: number, fin = false): void {
    const s = this.offset(seq);
    for (const [a, b] of this.seen.add(s, s + len)) this.seenTwice.add(a, b);
    if (fin) this.finAt = s + len;
  }

  /** [l, r) holds only data seen (and the FIN, if it ends there). */
  private held(set: IntervalSet, l: number, r: number): boolean {
    const end = this.finAt !== undefined && r === this.finAt + 1 ? r - 1 : r;
    return end === l ? r > l : set.covers(l, end);
  }

  /** An ACK from the receiver carrying `blocks`. */
  sack(frame: number, ackSeq: number, blocks: ReadonlyArray<readonly [number, number]>): void {
    const ack = this.offset(ackSeq);
    this.sackSegments++;
    this.blocks += blocks.length;
    this.maxBlocksSeen = Math.max(this.maxBlocksSeen, blocks.length);
    const issue = (kind: SackIssueKind, block: readonly [number, number]) =>
      this.issues.push({ kind, frame, ack, block });
    if (blocks.length > this.opts.maxBlocks) issue("too-many-blocks", [0, 0]);
    const off = blocks.map(([l, r]) => [this.offset(l), this.offset(r)] as const);
    off.forEach((block, i) => {
      const [l, r] = block;
      const second = off[1];
      const dsack =
        i === 0 && (l < ack || (second !== undefined && second[0] <= l && r <= second[1]));
      if (dsack) {
        this.dsackBlocks++;
        if (!this.held(this.seenTwice, l, r)) issue("dsack-not-duplicate", block);
        return;
      }
      if (l <= ack || r <= l) {
        issue("not-above-ack", block);
        return;
      }
      if (!this.held(this.seen, l, r)) {
        issue("not-held", block);
        return;
      }
      if (this.opts.exact && (this.seen.has(l - 1) || this.seen.has(r)))
        issue("not-isolated", block);
    });
  }
}

/**
 * The bytes one side sent, by stream offset, as the capture shows them:
 * every retransmission (or duplicate) must carry the same bytes as the
 * first copy of those sequence numbers.
 */
export class StreamBytes {
  private buf = new Uint8Array(1 << 20);
  readonly have = new IntervalSet();
  /** Bytes seen again, and how many of them differed from the first copy. */
  resentBytes = 0;
  mismatchedBytes = 0;
  /** Offset of the first differing byte. */
  firstMismatch: number | undefined;

  add(offset: number, payload: Uint8Array): void {
    const end = offset + payload.length;
    if (offset < 0 || payload.length === 0) return;
    if (end > this.buf.length) {
      let size = this.buf.length;
      while (size < end) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.buf);
      this.buf = grown;
    }
    for (const [a, b] of this.have.add(offset, end)) {
      this.resentBytes += b - a;
      for (let i = a; i < b; i++) {
        if (this.buf[i] !== payload[i - offset]) {
          this.mismatchedBytes++;
          this.firstMismatch ??= i;
        }
      }
    }
    this.buf.set(payload, offset);
  }
}

export interface SynInfo {
  readonly isn: number;
  readonly options: readonly TcpOption[];
  readonly wscale: number | undefined;
  readonly sackPermitted: boolean;
  readonly timestamps: boolean;
}

/** One side of a captured connection. */
export interface SideCapture {
  /** Its SYN or SYN-ACK. */
  syn: SynInfo | undefined;
  segments: number;
  /** Segments carrying the timestamps option. */
  withTimestamps: number;
  /** Data segments (payload > 0), retransmissions included. */
  dataSegments: number;
  /** Checks of the SACK blocks this side sent, about the other side's data. */
  audit: SackAudit | undefined;
  /** What this side sent, by offset from its ISN+1. */
  readonly sent: StreamBytes;
}

export interface ConnectionCapture {
  /** "a:port>b:port", the SYN's sender first. */
  readonly key: string;
  /** The side that sent the SYN. */
  readonly client: { addr: Ipv4Addr; port: number };
  readonly server: { addr: Ipv4Addr; port: number };
  readonly sides: { client: SideCapture; server: SideCapture };
}

export interface CaptureSummary {
  readonly packets: number;
  /** Records our parsers refused (bad checksum, malformed …), by drop reason. */
  readonly unparsed: Record<string, number>;
  readonly connections: ConnectionCapture[];
}

function synInfo(seg: TcpSegment): SynInfo {
  let wscale: number | undefined;
  let sackPermitted = false;
  let timestamps = false;
  for (const o of seg.options) {
    if (o.kind === "wscale") wscale = o.shift;
    else if (o.kind === "sackPermitted") sackPermitted = true;
    else if (o.kind === "timestamps") timestamps = true;
  }
  return { isn: seg.seq, options: seg.options, wscale, sackPermitted, timestamps };
}

const newSide = (): SideCapture => ({
  syn: undefined,
  segments: 0,
  withTimestamps: 0,
  dataSegments: 0,
  audit: undefined,
  sent: new StreamBytes(),
});

/**
 * Reads a pcap (raw IPv4) and summarises every TCP connection whose SYN is in
 * it. `exactAt` is the address whose arrivals the capture shows exactly (the
 * tap sits at that host): SACK blocks from it are audited with `exact`.
 */
export function readTcpCapture(path: string, exactAt: Ipv4Addr): CaptureSummary {
  const { records } = readPcap(new Uint8Array(readFileSync(path)));
  const unparsed: Record<string, number> = {};
  const byKey = new Map<string, ConnectionCapture>();
  const connections: ConnectionCapture[] = [];
  records.forEach((rec, index) => {
    const frame = index + 1;
    const p = parsePacket(rec.packet);
    if (!p.ok) {
      unparsed[p.drop] = (unparsed[p.drop] ?? 0) + 1;
      return;
    }
    if (p.value.kind !== "tcp") return;
    const { src, dst } = p.value.ip.header;
    const seg = p.value.tcp;
    const fwd = `${formatIpv4Addr(src)}:${seg.srcPort}>${formatIpv4Addr(dst)}:${seg.dstPort}`;
    const rev = `${formatIpv4Addr(dst)}:${seg.dstPort}>${formatIpv4Addr(src)}:${seg.srcPort}`;
    let conn = byKey.get(fwd) ?? byKey.get(rev);
    const syn = (seg.flags & Flag.SYN) !== 0;
    const ackBit = (seg.flags & Flag.ACK) !== 0;
    if (conn === undefined) {
      if (!syn || ackBit) return; // not from the start of a connection
      conn = {
        key: fwd,
        client: { addr: src, port: seg.srcPort },
        server: { addr: dst, port: seg.dstPort },
        sides: { client: newSide(), server: newSide() },
      };
      byKey.set(fwd, conn);
      connections.push(conn);
    }
    const fromClient = conn.key === fwd;
    const me = fromClient ? conn.sides.client : conn.sides.server;
    const peer = fromClient ? conn.sides.server : conn.sides.client;
    me.segments++;
    if (seg.options.some((o) => o.kind === "timestamps")) me.withTimestamps++;
    if (syn) {
      me.syn ??= synInfo(seg);
      const c = conn.sides.client.syn;
      const s = conn.sides.server.syn;
      if (c !== undefined && s !== undefined && conn.sides.client.audit === undefined) {
        const max = c.timestamps && s.timestamps ? 3 : 4;
        // The client's blocks are about the server's data, and the other way round.
        conn.sides.client.audit = new SackAudit((s.isn + 1) >>> 0, {
          maxBlocks: max,
          exact: conn.client.addr === exactAt,
        });
        conn.sides.server.audit = new SackAudit((c.isn + 1) >>> 0, {
          maxBlocks: max,
          exact: conn.server.addr === exactAt,
        });
      }
      return;
    }
    const fin = (seg.flags & Flag.FIN) !== 0;
    if (seg.payload.length > 0) {
      me.dataSegments++;
      if (me.syn !== undefined) me.sent.add(seqDiff(seg.seq, (me.syn.isn + 1) >>> 0), seg.payload);
    }
    if (seg.payload.length > 0 || fin) peer.audit?.data(seg.seq, seg.payload.length, fin);
    if (!ackBit) return;
    for (const o of seg.options) {
      if (o.kind === "sack") me.audit?.sack(frame, seg.ack, o.blocks);
    }
  });
  return { packets: records.length, unparsed, connections };
}
