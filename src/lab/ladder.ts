/**
 * The ladder: a sequence diagram of the segments between the two ends, one
 * row per segment, time going down. Labels use packetdrill's notation with
 * sequence numbers relative to each side's ISN (taken from the SYNs seen);
 * state changes are written at the side of the host that changed; a segment
 * that was dropped ends in ✕ before reaching the other side.
 *
 *     time                a 10.0.0.1.49152                          b 10.0.0.2.80
 *    0.000     SYN-SENT |-- S 0:0(0) win 65535 <mss 1460> --------->|
 *    0.010              |<-- S. 0:0(0) ack 1 win 65535 <mss 1460> --| SYN-RECEIVED
 */

import type { Instant } from "../clock/time.ts";
import { stateName } from "../tcp/state.ts";
import { type Endpoint, formatIpv4Addr, type Ipv4Addr } from "../wire/addr.ts";
import { type IpAddr, ipAddrEqual, ipv6Addr } from "../wire/ip-addr.ts";
import { formatIpv6Addr, type Ipv6Addr } from "../wire/ipv6-addr.ts";
import { parseIpPacket } from "../wire/ip-packet.ts";
import { formatOption, formatSegmentLine } from "../wire/notation.ts";
import { seqAdd } from "../wire/seq.ts";
import { Flag, type TcpOption, type TcpSegment } from "../wire/tcp-types.ts";
import { formatTime } from "./args.ts";
import { directionKey, type LabEvent, type PacketEvent, type StateEvent } from "./event-log.ts";
import type { Line, Span } from "./view.ts";

export interface LadderSide {
  readonly name: string;
  readonly addr: Ipv4Addr;
  /** Its IPv6 address, if it has one: segments between the two IPv6 addresses are drawn too. */
  readonly addr6?: Ipv6Addr | undefined;
}

/** Whether `a` is one of the side's addresses. */
function isSide(a: IpAddr, side: LadderSide): boolean {
  if (a.family === 4) return a.addr === side.addr;
  return side.addr6 !== undefined && ipAddrEqual(a, ipv6Addr(side.addr6));
}

/** Whether a local endpoint is the side's. */
function isSideEp(ep: Endpoint, side: LadderSide): boolean {
  return ep.family === 6 ? isSide(ipv6Addr(ep.addr), side) : ep.addr === side.addr;
}

/** A side's name over the ladder: its address of the family the shown rows are in (both if mixed). */
function sideName(
  side: LadderSide,
  families: ReadonlySet<4 | 6>,
  port: number | undefined,
): string {
  const six = side.addr6 !== undefined ? formatIpv6Addr(side.addr6) : undefined;
  const addr =
    families.has(6) && six !== undefined
      ? families.has(4)
        ? `${formatIpv4Addr(side.addr)} ${six}`
        : six
      : formatIpv4Addr(side.addr);
  return `${side.name} ${addr}${port !== undefined ? `.${port}` : ""}`;
}

interface Row {
  readonly time: Instant;
  /** true: left → right. */
  readonly rightward: boolean;
  readonly label: string;
  readonly lost: boolean;
  /** Ports of the segment as [left port, right port], when TCP/UDP. */
  readonly ports: readonly [number, number] | undefined;
  /** The IP version of the row's packet (none for a state row). */
  readonly family?: 4 | 6;
  leftState?: string;
  rightState?: string;
  readonly isSegment: boolean;
}

/** `S. 0:0(0) ack 1 win 65535 <mss 1460>` with bases subtracted, padding left out. */
export function segmentLabel(seg: TcpSegment, seqBase: number, ackBase: number): string {
  return formatSegmentLine({
    flags: seg.flags,
    seq: seqAdd(seg.seq, -seqBase),
    len: seg.payload.length,
    ack: seqAdd(seg.ack, -ackBase),
    win: seg.window,
    options: withoutPadding(seg.options),
    sackBase: ackBase,
  });
}

function withoutPadding(options: readonly TcpOption[]): TcpOption[] {
  return options.filter((o) => o.kind !== "nop" && o.kind !== "eol");
}

/**
 * The options as the ladder writes them, padding left out. SACK blocks name
 * bytes of the data the segment acknowledges, so their edges are relative to
 * the same ISN as the ACK field (`ackBase`).
 */
export function segmentOptions(seg: TcpSegment, ackBase: number): string[] {
  return withoutPadding(seg.options).map((o) => formatOption(o, "packetdrill", ackBase));
}

/** Whether `inject` made the packet (into a host, or onto the wire as if the host sent it). */
export function wasInjected(ev: PacketEvent): boolean {
  return ev.injected || ev.sentAs?.injected === true;
}

/** ISNs per direction of a 4-tuple, learnt from SYNs as the log is read in order. */
export class IsnBook {
  private readonly isn: Map<string, number>;

  /** `known`: ISNs of SYNs no longer among the events read (EventLog.forgottenIsns). */
  constructor(known?: ReadonlyMap<string, number>) {
    this.isn = new Map(known);
  }

  /**
   * A SYN gives its direction's ISN. An injected one on a direction that
   * already has an ISN does not: it is a blind attacker's SYN (RFC 5961 §4)
   * aimed at the connection, whose numbers still count from the real SYN.
   */
  see(src: IpAddr, dst: IpAddr, seg: TcpSegment, injected = false): void {
    if (!(seg.flags & Flag.SYN)) return;
    const key = directionKey(src, seg.srcPort, dst, seg.dstPort);
    if (injected && this.isn.has(key)) return;
    this.isn.set(key, seg.seq);
  }

  bases(src: IpAddr, dst: IpAddr, seg: TcpSegment): { seqBase: number; ackBase: number } {
    return {
      seqBase: this.isn.get(directionKey(src, seg.srcPort, dst, seg.dstPort)) ?? 0,
      ackBase: this.isn.get(directionKey(dst, seg.dstPort, src, seg.srcPort)) ?? 0,
    };
  }
}

/**
 * Lays out the last `count` segments of `events` between `left` (a tcplab
 * host) and `right` (a tcplab host or the kernel). A packet seen at both
 * ends is drawn once, from its send; one seen only arriving (injected, or
 * sent by the kernel) is drawn from the other side.
 */
export function ladderLines(
  events: readonly LabEvent[],
  left: LadderSide,
  right: LadderSide,
  count: number,
  knownIsns?: ReadonlyMap<string, number>,
): Line[] {
  const book = new IsnBook(knownIsns);
  // Pass 1: one row per segment, in log order.
  const segRows: { index: number; row: Row }[] = [];
  for (const ev of events) {
    if (ev.kind !== "packet") continue;
    const row = packetRow(ev, left, right, book);
    if (row !== undefined) segRows.push({ index: ev.index, row });
  }
  // Pass 2: interleave state changes. A change goes on the next segment its
  // host sends at the same instant (the change caused that segment), else on
  // a row of its own. When several changes come before that segment, the
  // last one caused it: the earlier ones move to rows of their own, in order.
  const rows: Row[] = [];
  let next = 0;
  for (const ev of events) {
    if (ev.kind === "packet") {
      const entry = segRows[next];
      if (entry !== undefined && entry.index === ev.index) {
        rows.push(entry.row);
        next++;
      }
      continue;
    }
    const side = sideOf(ev, left, right);
    if (side === undefined) continue;
    const label = stateName(ev.to);
    let placed = false;
    const r = segRows[next]?.row;
    if (r !== undefined && r.time === ev.time && r.rightward === (side === "left")) {
      const earlier = side === "left" ? r.leftState : r.rightState;
      if (earlier !== undefined) rows.push(stateRow(ev.time, side, earlier));
      setSide(r, side, label);
      placed = true;
    }
    if (!placed) rows.push(stateRow(ev.time, side, label));
  }
  // Keep the last `count` segments (and the state rows among them).
  let seen = 0;
  let from = rows.length;
  while (from > 0 && seen < count) {
    from--;
    if (rows[from]?.isSegment) seen++;
  }
  const shown = rows.slice(from);
  if (shown.length === 0) return [[{ text: "no segments yet", tone: "muted" }]];

  const tuples = new Set(
    shown.filter((r) => r.ports).map((r) => `${r.ports?.[0]}:${r.ports?.[1]}`),
  );
  const onePair = tuples.size === 1 ? shown.find((r) => r.ports)?.ports : undefined;
  const label = (r: Row) =>
    onePair === undefined && r.ports !== undefined
      ? `[${r.ports[0]}↔${r.ports[1]}] ${r.label}`
      : r.label;
  const width = Math.max(36, ...shown.map((r) => label(r).length + 12));
  const stateW = 12;
  const families = new Set(shown.flatMap((r) => (r.family !== undefined ? [r.family] : [])));
  const leftName = sideName(left, families, onePair?.[0]);
  const rightName = sideName(right, families, onePair?.[1]);
  const lines: Line[] = [];
  const gap = Math.max(1, width + 2 - leftName.length - rightName.length);
  lines.push([
    { text: `${"time".padStart(8)} ${"".padStart(stateW)} `, tone: "muted" },
    { text: leftName, tone: "accent" },
    { text: " ".repeat(gap) },
    { text: rightName, tone: "accent" },
  ]);
  for (const r of shown) {
    const spans: Span[] = [
      { text: `${formatTime(r.time).padStart(8)} `, tone: "muted" },
      { text: (r.leftState ?? "").padStart(stateW), tone: "state" },
      { text: " " },
    ];
    if (!r.isSegment) {
      spans.push({ text: `|${" ".repeat(width)}|`, tone: "muted" });
    } else {
      const text = label(r);
      const tone = r.lost ? "bad" : r.rightward ? "out" : "in";
      let body: string;
      if (r.rightward) {
        body = r.lost ? `-- ${text} --✕`.padEnd(width) : `${`-- ${text} `.padEnd(width - 1, "-")}>`;
      } else {
        body = r.lost ? `✕-- ${text} --`.padStart(width) : `<-- ${text} `.padEnd(width, "-");
      }
      spans.push({ text: "|", tone: "muted" }, { text: body, tone }, { text: "|", tone: "muted" });
    }
    if (r.rightState !== undefined) spans.push({ text: ` ${r.rightState}`, tone: "state" });
    lines.push(spans);
  }
  return lines;
}

function packetRow(
  ev: PacketEvent,
  left: LadderSide,
  right: LadderSide,
  book: IsnBook,
): Row | undefined {
  // Each segment once: from its send; an arrival only when no send was seen (injected, kernel peer).
  if (ev.dir === "<" && ev.sentAs !== undefined) return undefined;
  const parsed = parseIpPacket(ev.bytes, { verifyChecksum: false });
  if (!parsed.ok) return undefined;
  const p = parsed.value;
  const { src, dst } = p;
  const between =
    (isSide(src, left) && isSide(dst, right)) || (isSide(src, right) && isSide(dst, left));
  if (!between && !ev.injected) return undefined;
  const rightward = isSide(src, left) || (ev.injected && isSide(dst, right));
  const base = {
    time: ev.time,
    rightward,
    lost: ev.dropped !== undefined,
    isSegment: true,
    family: src.family,
  };
  if (p.kind === "tcp") {
    const seg = p.tcp;
    book.see(src, dst, seg, wasInjected(ev));
    const { seqBase, ackBase } = book.bases(src, dst, seg);
    const ports: [number, number] = rightward
      ? [seg.srcPort, seg.dstPort]
      : [seg.dstPort, seg.srcPort];
    const note = ev.injected ? " (injected)" : "";
    return { ...base, label: segmentLabel(seg, seqBase, ackBase) + note, ports };
  }
  if (p.kind === "udp") {
    const ports: [number, number] = rightward
      ? [p.udp.srcPort, p.udp.dstPort]
      : [p.udp.dstPort, p.udp.srcPort];
    return { ...base, label: `udp (${p.udp.payload.length})`, ports };
  }
  if (p.kind === "icmp") return { ...base, label: `icmp ${p.icmp.type}`, ports: undefined };
  if (p.kind === "icmpv6") return { ...base, label: `icmp6 ${p.icmpv6.type}`, ports: undefined };
  return { ...base, label: `ip proto ${p.protocol}`, ports: undefined };
}

function sideOf(ev: StateEvent, left: LadderSide, right: LadderSide): "left" | "right" | undefined {
  if (isSideEp(ev.local, left)) return "left";
  if (isSideEp(ev.local, right)) return "right";
  return undefined;
}

/** A row with no segment, only a state change at one side. */
function stateRow(time: Instant, side: "left" | "right", label: string): Row {
  const row: Row = {
    time,
    rightward: true,
    label: "",
    lost: false,
    ports: undefined,
    isSegment: false,
  };
  setSide(row, side, label);
  return row;
}

function setSide(row: Row, side: "left" | "right", label: string): void {
  if (side === "left") row.leftState = label;
  else row.rightState = label;
}
