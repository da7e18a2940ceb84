/**
 * Segment patterns: what a lab check or question says about a TCP segment,
 * in the notation the ladder and the trace already use (packetdrill's, with
 * sequence numbers relative to each side's ISN):
 *
 *     a > S 0:0(0) win 65535 <mss 1460,sackOK,TS val 1 ecr 0,wscale 0>
 *     a:#3 > b:80 S                 the socket's connection, to b port 80
 *     b < :80 S                     arriving at b, for port 80 (b's side)
 *     b > S. 0:0(0) ack 1           the SYN-ACK acknowledging the ISN + 1
 *     a > F. 1:1(0) ack 1 dropped   a FIN lost on the way
 *
 *   [HOST[:#ID|:PORT]] >|< [PEER|PEER:PORT|:PORT] FLAGS [SEQ:END(LEN)] [ack N]
 *                                  [win N] [<OPTIONS[,...]>] [dropped] [times N]
 *
 * Any number may be `*`. Options are compared as a set; a trailing `...`
 * accepts others besides. `dropped` asks for a segment that was lost (by a
 * fault rule); without it only a segment that got through matches. `times N`
 * asks for exactly N such segments. A pattern that leaves a field out does
 * not look at it.
 *
 * A failed match names the segment that came closest and what differed, so a
 * learner who typed `connect 10.0.0.2 81` hears "it went to port 81, the step
 * asks for 80", not just "no".
 */
import type { TcbView } from "../tcp/view.ts";
import type { Ipv4Addr } from "../wire/addr.ts";
import {
  formatIpAddr,
  formatIpEndpoint,
  fromEndpoint,
  type IpAddr,
  type IpEndpoint,
  ipAddrEqual,
  ipEndpointEqual,
  ipv4Addr,
} from "../wire/ip-addr.ts";
import { parseIpPacket } from "../wire/ip-packet.ts";
import { formatFlags, readFlags } from "../wire/notation.ts";
import { seqAdd } from "../wire/seq.ts";
import type { TcpSegment } from "../wire/tcp-types.ts";
import { parseInteger, tokenize } from "./args.ts";
import type { LabEvent, PacketEvent } from "./event-log.ts";
import { IsnBook, segmentLabel, segmentOptions, wasInjected } from "./ladder.ts";
import type { LabHost } from "./world.ts";

/** A number that may be `*` (any). */
type Num = number | undefined;

export interface SegmentPattern {
  readonly text: string;
  /** The tcplab host at whose interface the segment is seen (undefined: the current host). */
  readonly host: string | undefined;
  /** `HOST:#ID`: the socket whose connection (or listening port) it belongs to. */
  readonly socket: number | undefined;
  /** `HOST:PORT`: the host's own port. */
  readonly localPort: number | undefined;
  readonly dir: ">" | "<";
  readonly peer:
    | { readonly addr: Ipv4Addr | undefined; readonly port: Num; readonly text: string }
    | undefined;
  /** Undefined in a prefix (questions: "the next segment a sends"). */
  readonly flags: number | undefined;
  readonly flagsText: string | undefined;
  readonly seq: { readonly start: Num; readonly end: Num; readonly len: Num } | undefined;
  readonly ack: Num | "given";
  readonly win: Num | "given";
  readonly options: { readonly items: readonly string[]; readonly more: boolean } | undefined;
  readonly dropped: boolean;
  readonly times: number | undefined;
}

export interface PatternContext {
  hostNamed(name: string): LabHost | undefined;
  /** An address by dotted quad or host name (the kernel peer included). */
  address(text: string): Ipv4Addr | undefined;
  /** A host or peer name for an address, for messages. */
  nameOf(addr: Ipv4Addr): string | undefined;
  /** The TCB a socket id names now or named last. */
  tcbById(host: LabHost, fd: number): TcbView | undefined;
  /** The port a listening (or bound) socket id is on. */
  listeningPort(host: LabHost, fd: number): number | undefined;
  readonly current: LabHost;
  /** ISNs of SYNs the log has let go (EventLog.forgottenIsns). */
  readonly knownIsns?: ReadonlyMap<string, number>;
}

export const SEGMENT_USAGE =
  "[HOST[:#ID|:PORT]] >|< [PEER[:PORT]] FLAGS [SEQ:END(LEN)] [ack N] [win N] [<OPTIONS>] [dropped] [times N]";

function num(text: string): Num | null {
  if (text === "*") return undefined;
  const n = parseInteger(text);
  return n === undefined ? null : n;
}

const SEQ_RE = /^(\*|\d+):(\*|\d+)\((\*|\d+)\)$/;

/**
 * Reads a pattern. With `prefixOnly`, FLAGS and what follows may be left out
 * (a question's "the next segment b sends to a").
 */
export function parseSegmentPattern(
  text: string,
  ctx: PatternContext,
  prefixOnly = false,
): SegmentPattern | { error: string } {
  // Options go in one piece: `<mss 1460,TS val 1 ecr 0>` holds spaces.
  const optMatch = /<([^\s<>][^<>]*)>/.exec(text);
  const withoutOpts = optMatch === null ? text : text.replace(optMatch[0], " ");
  const words = tokenize(withoutOpts).map((t) => t.text);
  let i = 0;
  let host: string | undefined;
  let socket: number | undefined;
  let localPort: number | undefined;
  const bad = (why: string) => ({ error: `${why} (a segment is ${SEGMENT_USAGE})` });
  const first = words[i];
  if (first !== undefined && first !== ">" && first !== "<") {
    const m = /^([A-Za-z][\w-]*)(?::(#\d+|\d+))?$/.exec(first);
    if (m === null || ctx.hostNamed(m[1] as string) === undefined) {
      return bad(`"${first}" is not a host of this world`);
    }
    host = m[1];
    const spec = m[2];
    if (spec?.startsWith("#")) socket = Number(spec.slice(1));
    else if (spec !== undefined) localPort = Number(spec);
    i++;
  }
  const dir = words[i++];
  if (dir !== ">" && dir !== "<")
    return bad(`expected > (sent) or < (received), got "${dir ?? ""}"`);
  let peer: SegmentPattern["peer"];
  const maybePeer = words[i];
  if (maybePeer !== undefined && !SEQ_RE.test(maybePeer)) {
    // PEER:PORT, :PORT, or a bare host name or address (never a set of flags).
    const at = maybePeer.includes(":") ? maybePeer.lastIndexOf(":") : -1;
    const who = at < 0 ? maybePeer : maybePeer.slice(0, at);
    const bare =
      at < 0 && readFlags(maybePeer) === undefined && ctx.address(maybePeer) !== undefined;
    if (at >= 0 || bare) {
      const port = at < 0 ? undefined : num(maybePeer.slice(at + 1));
      if (port === null) return bad(`"${maybePeer}": the port is not a number`);
      let addr: Ipv4Addr | undefined;
      if (who !== "" && who !== "*") {
        addr = ctx.address(who);
        if (addr === undefined) return bad(`"${who}" is neither a host nor an address`);
      }
      peer = { addr, port, text: maybePeer };
      i++;
    }
  }
  const flagsText = words[i];
  let flags: number | undefined;
  if (flagsText === undefined) {
    if (!prefixOnly) return bad("the flags are missing");
  } else {
    flags = readFlags(flagsText);
    if (flags === undefined)
      return bad(`"${flagsText}" is not a set of flags (S, S., ., P., F., R, R.)`);
    i++;
  }
  let seq: SegmentPattern["seq"];
  let ack: SegmentPattern["ack"];
  let win: SegmentPattern["win"];
  let dropped = false;
  let times: number | undefined;
  while (i < words.length) {
    const w = words[i] as string;
    const sm = SEQ_RE.exec(w);
    if (sm !== null) {
      seq = {
        start: num(sm[1] as string) ?? undefined,
        end: num(sm[2] as string) ?? undefined,
        len: num(sm[3] as string) ?? undefined,
      };
      i++;
      continue;
    }
    if (w === "ack" || w === "win" || w === "times") {
      const v = words[i + 1];
      const n = v === undefined ? null : num(v);
      if (n === null) return bad(`${w} needs a number or *`);
      if (w === "ack") ack = n ?? "given";
      else if (w === "win") win = n ?? "given";
      else if (n === undefined) return bad("times needs a number");
      else times = n;
      i += 2;
      continue;
    }
    if (w === "dropped") {
      dropped = true;
      i++;
      continue;
    }
    return bad(`"${w}" is not part of a segment`);
  }
  let options: SegmentPattern["options"];
  if (optMatch !== null) {
    const items = (optMatch[1] as string)
      .split(",")
      .map((s) => s.trim().replace(/\s+/g, " "))
      .filter((s) => s !== "" && s !== "nop" && s !== "eol");
    const more = items[items.length - 1] === "...";
    options = { items: more ? items.slice(0, -1) : items, more };
  }
  return {
    text,
    host,
    socket,
    localPort,
    dir,
    peer,
    flags,
    flagsText,
    seq,
    ack,
    win,
    options,
    dropped,
    times,
  };
}

/** One TCP segment of the log as the checks see it. */
export interface SeenSegment {
  readonly event: PacketEvent;
  readonly seg: TcpSegment;
  readonly local: IpEndpoint;
  readonly remote: IpEndpoint;
  /** Sequence and acknowledgment numbers relative to the ISNs seen. */
  readonly relSeq: number;
  readonly relAck: number;
  /** The options as the ladder writes them (SACK edges relative, like the ACK). */
  readonly options: readonly string[];
  /** `S. 0:0(0) ack 1 win 65535 <…>`. */
  readonly label: string;
}

/**
 * The TCP segments of `events` from `mark` on, seen at any tcplab host, with
 * sequence numbers relative to the ISNs of the SYNs seen since the start.
 */
export function seenSegments(
  events: readonly LabEvent[],
  mark: number,
  knownIsns?: ReadonlyMap<string, number>,
): SeenSegment[] {
  const book = new IsnBook(knownIsns);
  const out: SeenSegment[] = [];
  for (const ev of events) {
    if (ev.kind !== "packet") continue;
    const p = parseIpPacket(ev.bytes, { verifyChecksum: false });
    if (!p.ok || p.value.kind !== "tcp") continue;
    const { src, dst } = p.value;
    const seg = p.value.tcp;
    book.see(src, dst, seg, wasInjected(ev));
    if (ev.index < mark) continue;
    const { seqBase, ackBase } = book.bases(src, dst, seg);
    const srcEp: IpEndpoint = { ...src, port: seg.srcPort };
    const dstEp: IpEndpoint = { ...dst, port: seg.dstPort };
    out.push({
      event: ev,
      seg,
      local: ev.dir === ">" ? srcEp : dstEp,
      remote: ev.dir === ">" ? dstEp : srcEp,
      relSeq: seqAdd(seg.seq, -seqBase),
      relAck: seqAdd(seg.ack, -ackBase),
      options: segmentOptions(seg, ackBase),
      label: segmentLabel(seg, seqBase, ackBase),
    });
  }
  return out;
}

/** What differs between a pattern and a segment, in words a learner reads (empty: it matches). */
export function differences(p: SegmentPattern, s: SeenSegment, ctx: PatternContext): string[] {
  const out: string[] = [];
  const hostName = p.host ?? ctx.current.name;
  if (s.event.host !== hostName) {
    out.push(
      `it was ${s.event.dir === ">" ? "sent" : "received"} by ${s.event.host}, not ${hostName}`,
    );
  }
  if (s.event.dir !== p.dir)
    out.push(p.dir === ">" ? "it was received, not sent" : "it was sent, not received");
  if (p.socket !== undefined) {
    const host = ctx.hostNamed(hostName);
    const tcb = host === undefined ? undefined : ctx.tcbById(host, p.socket);
    if (tcb !== undefined) {
      const same =
        tcb.local.port === s.local.port && ipEndpointEqual(fromEndpoint(tcb.remote), s.remote);
      if (!same) out.push(`it belongs to another connection than socket #${p.socket}'s`);
    } else {
      const port = host === undefined ? undefined : ctx.listeningPort(host, p.socket);
      if (port === undefined) out.push(`${hostName} has no socket #${p.socket}`);
      else if (port !== s.local.port)
        out.push(`it is for port ${s.local.port}, socket #${p.socket} is on ${port}`);
    }
  }
  if (p.localPort !== undefined && p.localPort !== s.local.port) {
    out.push(`${hostName}'s port is ${s.local.port}, not ${p.localPort}`);
  }
  if (p.peer !== undefined) {
    const to = p.dir === ">" ? "it went to" : "it came from";
    if (p.peer.addr !== undefined && !ipAddrEqual(ipv4Addr(p.peer.addr), s.remote)) {
      out.push(`${to} ${nameOf(s.remote, ctx)}, not ${nameOf(ipv4Addr(p.peer.addr), ctx)}`);
    }
    if (p.peer.port !== undefined && p.peer.port !== s.remote.port) {
      out.push(`${to} port ${s.remote.port}, the step asks for port ${p.peer.port}`);
    }
  }
  if (p.flags !== undefined && p.flags !== s.seg.flags) {
    out.push(`its flags are ${formatFlags(s.seg.flags)}, not ${p.flagsText}`);
  }
  if (p.seq !== undefined) {
    const len = s.seg.payload.length;
    const end = seqAdd(s.relSeq, len);
    const want = `${p.seq.start ?? "*"}:${p.seq.end ?? "*"}(${p.seq.len ?? "*"})`;
    const got = `${s.relSeq}:${end}(${len})`;
    if (
      (p.seq.start !== undefined && p.seq.start !== s.relSeq) ||
      (p.seq.end !== undefined && p.seq.end !== end) ||
      (p.seq.len !== undefined && p.seq.len !== len)
    ) {
      out.push(`it is ${got}, not ${want}`);
    }
  }
  if (p.ack !== undefined) {
    const hasAck = (s.seg.flags & 0x10) !== 0;
    if (!hasAck) out.push("it carries no ACK");
    else if (p.ack !== "given" && p.ack !== s.relAck)
      out.push(`it acknowledges ${s.relAck}, not ${p.ack}`);
  }
  if (p.win !== undefined && p.win !== "given" && p.win !== s.seg.window) {
    out.push(`its window is ${s.seg.window}, not ${p.win}`);
  }
  if (p.options !== undefined) {
    const got = s.options;
    const missing = p.options.items.filter((w) => !got.some((g) => optionMatches(w, g)));
    const extra = p.options.more
      ? []
      : got.filter((g) => !p.options?.items.some((w) => optionMatches(w, g)));
    if (missing.length > 0 || extra.length > 0) out.push(`its options are <${got.join(",")}>`);
  }
  const wasDropped = s.event.dropped !== undefined;
  if (wasDropped !== p.dropped)
    out.push(wasDropped ? `it was dropped (${s.event.dropped})` : "it was not dropped");
  return out;
}

/** `TS val * ecr 0` against `TS val 21 ecr 0`: word by word, `*` matching any word. */
function optionMatches(want: string, got: string): boolean {
  const w = want.split(" ");
  const g = got.split(" ");
  return w.length === g.length && w.every((x, i) => x === "*" || x === g[i]);
}

/**
 * For a pattern of a segment arriving (`<`): a segment that another tcplab
 * host sent in this step, that has not arrived yet (nor been dropped), and
 * that would match once it arrives — the learner has not `step`ped yet.
 */
export function stillOnTheWire(
  p: SegmentPattern,
  events: readonly LabEvent[],
  mark: number,
  ctx: PatternContext,
): SeenSegment | undefined {
  const name = p.host ?? ctx.current.name;
  const host = ctx.hostNamed(name);
  if (p.dir !== "<" || p.dropped || host === undefined) return undefined;
  for (const s of seenSegments(events, mark, ctx.knownIsns)) {
    const ev = s.event;
    if (ev.dir !== ">" || ev.host === name || ev.dropped !== undefined) continue;
    if (ev.arrived !== undefined || !ipAddrEqual(s.remote, ipv4Addr(host.addr))) continue;
    const arrival: SeenSegment = {
      ...s,
      event: { ...ev, host: name, dir: "<" },
      local: s.remote,
      remote: s.local,
    };
    if (differences(p, arrival, ctx).length === 0) return s;
  }
  return undefined;
}

/** A host or peer name for an address, else the address (hosts have IPv4 addresses only, for now). */
function nameOf(a: IpAddr, ctx: PatternContext): string {
  return (a.family === 4 ? ctx.nameOf(a.addr) : undefined) ?? formatIpAddr(a);
}

/** The segment as a learner reads it in messages: `a:49152 > b:80 S 0:0(0) …`. */
export function describeSeen(s: SeenSegment, ctx: PatternContext): string {
  const drop = s.event.dropped !== undefined ? " (dropped)" : "";
  const r = s.remote;
  const peer = r.family === 6 ? formatIpEndpoint(r) : `${nameOf(r, ctx)}:${r.port}`;
  const ends = `${s.event.host}:${s.local.port} ${s.event.dir} ${peer}`;
  return `${ends} ${s.label}${drop}`;
}

export interface PatternResult {
  readonly ok: boolean;
  readonly matches: readonly SeenSegment[];
  /** When not ok: the closest segment and what differed, else nothing seen. */
  readonly closest: { readonly seen: SeenSegment; readonly diffs: readonly string[] } | undefined;
}

/** Matches `p` against the segments seen since `mark`. */
export function matchPattern(
  p: SegmentPattern,
  events: readonly LabEvent[],
  mark: number,
  ctx: PatternContext,
): PatternResult {
  const seen = seenSegments(events, mark, ctx.knownIsns);
  const matches: SeenSegment[] = [];
  let closest: PatternResult["closest"];
  for (const s of seen) {
    const diffs = differences(p, s, ctx);
    if (diffs.length === 0) matches.push(s);
    else if (closest === undefined || diffs.length < closest.diffs.length)
      closest = { seen: s, diffs };
  }
  const ok = p.times === undefined ? matches.length > 0 : matches.length === p.times;
  return { ok, matches, closest: ok ? undefined : closest };
}
