/**
 * The `state` table and `state #ID` details: every TCB of a host with the
 * RFC 9293 §3.3.1 variables, sequence numbers relative to ISS/IRS unless
 * absolute ones are asked for.
 */
import { type Duration, elapsed, type Instant, max, ZERO } from "../clock/time.ts";
import { State, stateName } from "../tcp/state.ts";
import type { TcbView } from "../tcp/view.ts";
import { type Endpoint, familyOf, formatIpv4Addr } from "../wire/addr.ts";
import { formatIpEndpoint } from "../wire/ip-addr.ts";
import { formatIpv6Addr } from "../wire/ipv6-addr.ts";
import { seqAdd } from "../wire/seq.ts";
import { formatDuration } from "./args.ts";
import type { Block, Line, Span, Tone } from "./view.ts";
import type { LabHost } from "./world.ts";

export const STATE_COLUMNS = [
  "id",
  "local",
  "remote",
  "state",
  "SND.UNA",
  "SND.NXT",
  "SND.WND",
  "RCV.NXT",
  "RCV.WND",
  "RTO",
  "timers",
  "sndq",
  "rcvq",
] as const;

/** A host's name and addresses: `a 10.0.0.1 fd00::1`. */
export function hostTitle(host: LabHost): string {
  const six = host.addr6 !== undefined ? ` ${formatIpv6Addr(host.addr6)}` : "";
  return `${host.name} ${formatIpv4Addr(host.addr)}${six}`;
}

export function formatEp(ep: Endpoint): string {
  if (ep.family === 6) return formatIpEndpoint(ep);
  return `${ep.addr === 0 ? "*" : formatIpv4Addr(ep.addr)}:${ep.port}`;
}

/** Short timer names for the table (the full names are in `state #ID` and `clock`). */
const TIMER_SHORT: Record<string, string> = {
  retransmission: "rtx",
  persist: "persist",
  "delayed-ack": "dack",
  "time-wait": "tw",
  keepalive: "ka",
  "user-timeout": "uto",
};

/** A duration in few characters for the table: 200ms, 1.2s, 59s, 2m. */
export function shortDuration(ms: Duration): string {
  const v = Math.max(0, ms);
  if (v < 1000) return `${Math.round(v)}ms`;
  if (v < 10_000) return `${Number((v / 1000).toFixed(1))}s`;
  if (v < 120_000) return `${Math.round(v / 1000)}s`;
  return `${Math.round(v / 60_000)}m`;
}

export function timerText(tcb: TcbView, now: Instant): string {
  return tcb
    .timers()
    .map((t) => `${TIMER_SHORT[t.name] ?? t.name} ${shortDuration(elapsed(now, t.deadline))}`)
    .join(" ");
}

/** Whether IRS is known (the peer's SYN was seen). */
function synchronizedRcv(tcb: TcbView): boolean {
  return tcb.state !== State.SynSent && tcb.state !== State.Closed
    ? true
    : tcb.state === State.Closed && tcb.rcvNxt !== 0;
}

export interface SeqView {
  /** Relative to ISS/IRS, or the raw 32-bit values. */
  readonly absolute: boolean;
}

export function sndSeq(tcb: TcbView, v: number, view: SeqView): string {
  return String(view.absolute ? v >>> 0 : seqAdd(v, -tcb.iss));
}

export function rcvSeq(tcb: TcbView, v: number, view: SeqView): string {
  if (!synchronizedRcv(tcb)) return "-";
  return String(view.absolute ? v >>> 0 : seqAdd(v, -tcb.irs));
}

export function stateTone(state: string): Tone {
  if (state === "ESTABLISHED") return "good";
  if (state === "CLOSED") return "muted";
  return "state";
}

/** How the lab names a TCB: its socket id, "(#3)" once the id was closed, or "-". */
export type IdOf = (tcb: TcbView) => string;

export function stateRows(host: LabHost, now: Instant, view: SeqView, idOf: IdOf): Span[][] {
  const rows: Span[][] = [];
  const socks = host.sockets.list();
  for (const s of socks) {
    if (s.tcb !== undefined) continue;
    if (s.state !== "LISTEN" && s.state !== "BOUND") continue;
    // An IPv4 and an IPv6-only listener may share a port: each row shows its own.
    const listener =
      s.state === "LISTEN" && s.local
        ? host.host.listenerOn(s.local.port, familyOf(s.local))
        : undefined;
    rows.push([
      { text: `#${s.fd}`, tone: "accent" },
      // A wildcard listener or socket: `*:80`, or `[::]:80` for an AF_INET6 one.
      {
        text: s.local ? (s.local.family === 6 ? `[::]:${s.local.port}` : `*:${s.local.port}`) : "-",
      },
      { text: s.remote ? formatEp(s.remote) : "*" },
      { text: s.type === "udp" ? "UDP" : s.state, tone: "state" },
      { text: "" },
      { text: "" },
      { text: "" },
      { text: "" },
      { text: "" },
      { text: "" },
      // A listener's queues, as `ss` shows them: handshakes under way in the timers column,
      // finished connections waiting for accept() over the backlog in rcvq.
      {
        text:
          listener !== undefined && listener.halfOpen.size > 0
            ? `${listener.halfOpen.size} half-open`
            : "",
        tone: "muted",
      },
      { text: "" },
      {
        text: listener !== undefined ? `${listener.acceptQueue.length}/${listener.backlog}` : "",
        tone: "muted",
      },
    ]);
  }
  const tcbs = host.host.connections();
  for (const tcb of tcbs) rows.push(tcbRow(tcb, now, view, idOf(tcb)));
  return rows;
}

export function tcbRow(tcb: TcbView, now: Instant, view: SeqView, id: string): Span[] {
  const name = stateName(tcb.state);
  return [
    { text: id, tone: id.startsWith("#") ? "accent" : "muted" },
    // The host's address is in the table's title: the local end is its port.
    { text: `:${tcb.local.port}` },
    { text: formatEp(tcb.remote) },
    { text: name, tone: stateTone(name) },
    { text: sndSeq(tcb, tcb.sndUna, view) },
    { text: sndSeq(tcb, tcb.sndNxt, view) },
    { text: String(tcb.sndWnd) },
    { text: rcvSeq(tcb, tcb.rcvNxt, view) },
    { text: String(tcb.rcvWnd) },
    { text: shortDuration(tcb.rto) },
    { text: timerText(tcb, now), tone: "warn" },
    { text: String(tcb.sendQueued) },
    { text: String(tcb.recvAvailable) },
  ];
}

export function stateTable(host: LabHost, now: Instant, view: SeqView, idOf: IdOf): Block {
  return {
    kind: "table",
    title: `${hostTitle(host)}${view.absolute ? "" : " (sequence numbers relative to ISS/IRS)"}`,
    columns: STATE_COLUMNS,
    rows: stateRows(host, now, view, idOf),
  };
}

/** `state #ID`: everything about one connection. */
export function tcbDetails(tcb: TcbView, now: Instant, id: string): Block {
  const name = stateName(tcb.state);
  const rel: SeqView = { absolute: false };
  const abs: SeqView = { absolute: true };
  const both = (v: number, side: "snd" | "rcv") =>
    side === "snd"
      ? `${sndSeq(tcb, v, rel)}  (${sndSeq(tcb, v, abs)})`
      : `${rcvSeq(tcb, v, rel)}  (${rcvSeq(tcb, v, abs)})`;
  const kv = (k: string, v: string, tone?: Tone): Line => [
    { text: `${k.padEnd(14)}`, tone: "muted" },
    tone === undefined ? { text: v } : { text: v, tone },
  ];
  const timers = tcb.timers();
  const lines: Line[] = [
    [
      { text: `${id} `, tone: "accent" },
      { text: `${formatEp(tcb.local)} → ${formatEp(tcb.remote)}  ` },
      { text: name, tone: stateTone(name) },
      ...(tcb.error !== undefined ? [{ text: `  ${tcb.error}`, tone: "bad" as const }] : []),
    ],
    kv("role", tcb.passive ? "passive open (accepted)" : "active open (connected)"),
    kv("ISS", String(tcb.iss >>> 0)),
    kv("IRS", synchronizedRcv(tcb) ? String(tcb.irs >>> 0) : "- (no SYN from the peer yet)"),
    kv("SND.UNA", both(tcb.sndUna, "snd")),
    kv("SND.NXT", both(tcb.sndNxt, "snd")),
    kv("SND.WND", String(tcb.sndWnd)),
    kv("RCV.NXT", both(tcb.rcvNxt, "rcv")),
    kv("RCV.WND", String(tcb.rcvWnd)),
    kv("MSS", mssText(tcb)),
    kv("path MTU", pathMtuText(tcb, now)),
    kv("window scale", wscaleText(tcb)),
    kv("timestamps", tsText(tcb)),
    kv("SACK", sackText(tcb, rel)),
    kv(
      "RTT",
      tcb.srtt === undefined
        ? "no sample yet"
        : `SRTT ${formatDuration(tcb.srtt)}, RTTVAR ${formatDuration(tcb.rttvar ?? ZERO)}`,
    ),
    kv("RTO", formatDuration(tcb.rto)),
    kv("retransmits", String(tcb.retransmissions)),
    ...(tcb.softError !== undefined
      ? [
          kv(
            "ICMP error",
            `${tcb.softError.error} at ${(tcb.softError.at / 1000).toFixed(3)} s: a soft error, reported if the connection times out (RFC 1122 §4.2.3.9)`,
            "warn",
          ),
        ]
      : []),
    ...congestionLines(tcb, rel, kv),
    kv("send queue", `${tcb.sendQueued} bytes (${tcb.sendSpace} free)`),
    kv("receive queue", `${tcb.recvAvailable} bytes${tcb.finReceived ? ", FIN received" : ""}`),
    kv(
      "timers",
      timers.length === 0
        ? "none"
        : timers
            .map(
              (t) =>
                `${t.name} at ${(t.deadline / 1000).toFixed(3)} s (in ${formatDuration(max(ZERO, elapsed(now, t.deadline)))})`,
            )
            .join("; "),
      timers.length === 0 ? "muted" : "warn",
    ),
  ];
  return { kind: "text", lines };
}

// ───────────────────────── negotiated options and congestion (state #ID) ─────────────────────────

/** Before the peer's SYN is seen nothing is negotiated yet. */
function negotiatedYet(tcb: TcbView): boolean {
  return tcb.negotiated !== undefined;
}

function mssText(tcb: TcbView): string {
  const n = tcb.negotiated;
  const offered =
    n === undefined
      ? ""
      : n.peerMss !== undefined
        ? `, peer offered ${n.peerMss}`
        : ", peer sent none: 536 assumed";
  const eff =
    tcb.effSndMss !== tcb.sndMss ? `; ${tcb.effSndMss} data bytes per segment with timestamps` : "";
  const path = n !== undefined && tcb.sndMss < n.sndMss ? " (the path's limit)" : "";
  return `send ${tcb.sndMss}${path}, receive ${tcb.rcvMss}${offered}${eff}`;
}

/** RFC 1191 (RFC 8201 for IPv6): what the connection knows of its path, and RFC 4821's fallback if it acted. */
function pathMtuText(tcb: TcbView, now: Instant): string {
  const p = tcb.pmtu;
  const parts: string[] = [];
  if (p.agesAt === undefined) parts.push(`${p.mtu} (the first hop's: no ICMP message lowered it)`);
  else {
    const from =
      tcb.remote.family === 6
        ? 'ICMPv6 "packet too big" (RFC 8201)'
        : 'ICMP "fragmentation needed" (RFC 1191)';
    parts.push(
      `${p.mtu} from ${from}, forgotten in ${formatDuration(max(ZERO, elapsed(now, p.agesAt)))}`,
    );
  }
  if (p.clamped) parts.push("raised to minPmtu from a smaller report: sent without DF");
  if (p.probedMss !== undefined) {
    parts.push(`black-hole fallback after timeouts (RFC 4821 §7.7): MSS at most ${p.probedMss}`);
  }
  return parts.join("; ");
}

function wscaleText(tcb: TcbView): string {
  if (!negotiatedYet(tcb)) return "- (not negotiated yet)";
  const w = tcb.negotiated?.wscale;
  if (w === undefined) return "off (not on both SYNs): windows are 16-bit byte counts";
  return `on: peer's windows × 2^${tcb.sndWscale} (its shift ${tcb.sndWscale}${w.peerShiftClamped ? ", clamped to 14" : ""}), ours × 2^${tcb.rcvWscale} (RFC 7323 §2)`;
}

function tsText(tcb: TcbView): string {
  if (!negotiatedYet(tcb)) return "- (not negotiated yet)";
  if (!tcb.tsEnabled) return "off (not on both SYNs)";
  return `on: TS.Recent ${tcb.tsRecent >>> 0} (the peer's TSval we echo, RFC 7323 §4.3)`;
}

function sackText(tcb: TcbView, view: SeqView): string {
  if (!negotiatedYet(tcb)) return "- (not negotiated yet)";
  if (!tcb.sackEnabled) return "off (not on both SYNs)";
  const blocks = tcb.lastSackBlocks;
  const sent =
    blocks.length === 0
      ? "no blocks in our last ACK"
      : `our last ACK's blocks ${blocks.map(([l, r]) => `${rcvSeq(tcb, l, view)}:${rcvSeq(tcb, r, view)}`).join(" ")}`;
  return `on (RFC 2018): ${sent}`;
}

const PHASES: Readonly<Record<string, string>> = {
  "slow-start": "slow start",
  "congestion-avoidance": "congestion avoidance",
  recovery: "fast recovery",
  loss: "loss recovery after a timeout",
};

function bytesText(v: number): string {
  return Number.isFinite(v) ? `${v}` : "∞";
}

function congestionLines(
  tcb: TcbView,
  view: SeqView,
  kv: (k: string, v: string, tone?: Tone) => Line,
): Line[] {
  const c = tcb.congestion;
  if (tcb.state === State.SynSent || tcb.state === State.SynReceived) {
    // RFC 5681 §3.1: the window starts with the connection, once SMSS is known.
    return [kv("congestion", `${c.name}; cwnd is set when the connection is established`)];
  }
  const mss =
    c.cwnd > 0 && tcb.effSndMss > 0 ? ` (${(c.cwnd / tcb.effSndMss).toFixed(1)} segments)` : "";
  const lines: Line[] = [
    kv(
      "congestion",
      `${c.name}, ${PHASES[c.phase] ?? c.phase}`,
      c.phase === "recovery" || c.phase === "loss" ? "warn" : undefined,
    ),
    kv(
      "cwnd",
      `${c.cwnd}${mss}, ssthresh ${bytesText(c.ssthresh)}${Number.isFinite(c.ssthresh) ? "" : " (no loss yet)"}`,
    ),
    kv("flight", `FlightSize ${c.flightSize}, pipe ${c.pipe}`),
    kv(
      "recovery",
      `point ${sndSeq(tcb, c.recoveryPoint, view)}; ${c.dupAcks} duplicate ACK(s) in a row; ${c.stats.recoveries} recoveries, ${c.stats.fastRetransmits} fast retransmits, ${c.stats.timeouts} timeouts`,
    ),
  ];
  if (c.sack) {
    const ranges = c.sackedRanges;
    lines.push(
      kv(
        "SACKed",
        ranges.length === 0
          ? "nothing above SND.UNA"
          : ranges.map(([a, b]) => `${sndSeq(tcb, a, view)}:${sndSeq(tcb, b, view)}`).join(" "),
      ),
    );
  }
  return lines;
}
