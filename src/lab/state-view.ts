/**
 * The `state` table and `state #ID` details: every TCB of a host with the
 * RFC 9293 §3.3.1 variables, sequence numbers relative to ISS/IRS unless
 * absolute ones are asked for.
 */
import type { Millis } from "../clock/clock.ts";
import { State, stateName } from "../tcp/state.ts";
import type { Tcb } from "../tcp/tcb.ts";
import { type Endpoint, formatIpv4Addr } from "../wire/addr.ts";
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

export function formatEp(ep: Endpoint): string {
  return `${ep.addr === 0 ? "*" : formatIpv4Addr(ep.addr)}:${ep.port}`;
}

/** Short timer names for the table. */
const TIMER_SHORT: Record<string, string> = {
  retransmission: "rtx",
  persist: "persist",
  "delayed-ack": "delack",
  "time-wait": "2msl",
};

export function timerText(tcb: Tcb, now: Millis): string {
  return tcb
    .timers()
    .map((t) => `${TIMER_SHORT[t.name] ?? t.name} ${formatDuration(Math.max(0, t.deadline - now))}`)
    .join(", ");
}

/** Whether IRS is known (the peer's SYN was seen). */
function synchronizedRcv(tcb: Tcb): boolean {
  return tcb.state !== State.SynSent && tcb.state !== State.Closed
    ? true
    : tcb.state === State.Closed && tcb.rcvNxt !== 0;
}

export interface SeqView {
  /** Relative to ISS/IRS, or the raw 32-bit values. */
  readonly absolute: boolean;
}

export function sndSeq(tcb: Tcb, v: number, view: SeqView): string {
  return String(view.absolute ? v >>> 0 : seqAdd(v, -tcb.iss));
}

export function rcvSeq(tcb: Tcb, v: number, view: SeqView): string {
  if (!synchronizedRcv(tcb)) return "-";
  return String(view.absolute ? v >>> 0 : seqAdd(v, -tcb.irs));
}

export function stateTone(state: string): Tone {
  if (state === "ESTABLISHED") return "good";
  if (state === "CLOSED") return "muted";
  return "state";
}

/** How the lab names a TCB: its socket id, "(#3)" once the id was closed, or "-". */
export type IdOf = (tcb: Tcb) => string;

export function stateRows(host: LabHost, now: Millis, view: SeqView, idOf: IdOf): Span[][] {
  const rows: Span[][] = [];
  const socks = host.sockets.list();
  for (const s of socks) {
    if (s.tcb !== undefined) continue;
    if (s.state !== "LISTEN" && s.state !== "BOUND") continue;
    const listener =
      s.state === "LISTEN" && s.local ? host.host.listenerOn(s.local.port) : undefined;
    rows.push([
      { text: `#${s.fd}`, tone: "accent" },
      { text: s.local ? formatEp({ addr: 0, port: s.local.port }) : "-" },
      { text: s.remote ? formatEp(s.remote) : "*" },
      { text: s.type === "udp" ? "UDP" : s.state, tone: "state" },
      { text: "" },
      { text: "" },
      { text: "" },
      { text: "" },
      { text: "" },
      { text: "" },
      {
        text:
          listener !== undefined
            ? `accept queue ${listener.acceptQueue.length}, half-open ${listener.halfOpen.size}`
            : "",
        tone: "muted",
      },
      { text: "" },
      { text: "" },
    ]);
  }
  const tcbs = host.host.connections();
  for (const tcb of tcbs) rows.push(tcbRow(tcb, now, view, idOf(tcb)));
  return rows;
}

export function tcbRow(tcb: Tcb, now: Millis, view: SeqView, id: string): Span[] {
  const name = stateName(tcb.state);
  return [
    { text: id, tone: id.startsWith("#") ? "accent" : "muted" },
    { text: formatEp(tcb.local) },
    { text: formatEp(tcb.remote) },
    { text: name, tone: stateTone(name) },
    { text: sndSeq(tcb, tcb.sndUna, view) },
    { text: sndSeq(tcb, tcb.sndNxt, view) },
    { text: String(tcb.sndWnd) },
    { text: rcvSeq(tcb, tcb.rcvNxt, view) },
    { text: String(tcb.rcvWnd) },
    { text: formatDuration(tcb.rto) },
    { text: timerText(tcb, now), tone: "warn" },
    { text: String(tcb.sendQueued) },
    { text: String(tcb.recvAvailable) },
  ];
}

export function stateTable(host: LabHost, now: Millis, view: SeqView, idOf: IdOf): Block {
  return {
    kind: "table",
    title: `${host.name} ${formatIpv4Addr(host.addr)}${view.absolute ? "" : " (sequence numbers relative to ISS/IRS)"}`,
    columns: STATE_COLUMNS,
    rows: stateRows(host, now, view, idOf),
  };
}

/** `state #ID`: everything about one connection. */
export function tcbDetails(tcb: Tcb, now: Millis, id: string): Block {
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
    kv("MSS", `send ${tcb.sndMss}, receive ${tcb.rcvMss}`),
    kv(
      "RTT",
      tcb.srtt === undefined
        ? "no sample yet"
        : `SRTT ${formatDuration(tcb.srtt)}, RTTVAR ${formatDuration(tcb.rttvar ?? 0)}`,
    ),
    kv("RTO", formatDuration(tcb.rto)),
    kv("retransmits", String(tcb.retransmissions)),
    kv("send queue", `${tcb.sendQueued} bytes (${tcb.sendSpace} free)`),
    kv("receive queue", `${tcb.recvAvailable} bytes${tcb.finReceived ? ", FIN received" : ""}`),
    kv(
      "timers",
      timers.length === 0
        ? "none"
        : timers
            .map(
              (t) =>
                `${t.name} at ${(t.deadline / 1000).toFixed(3)} s (in ${formatDuration(Math.max(0, t.deadline - now))})`,
            )
            .join("; "),
      timers.length === 0 ? "muted" : "warn",
    ),
  ];
  return { kind: "text", lines };
}
