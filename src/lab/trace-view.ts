/** Trace lines (tcpdump style, `<` in, `>` out) and state-change lines, as styled spans. */
import { formatTraceLine } from "../link/trace.ts";
import { stateName } from "../tcp/state.ts";
import { formatIpPacket } from "../wire/format6.ts";
import type { PacketEvent, StateEvent } from "./event-log.ts";
import { formatEp } from "./state-view.ts";
import type { Line, Span } from "./view.ts";

/** `a 0.010000 > 10.0.0.1.49152 > 10.0.0.2.80: Flags [S], seq …  ✕ dropped (drop next SYN)`. */
export function traceLine(ev: PacketEvent): Line {
  const text = formatTraceLine({
    time: ev.time,
    dir: ev.dir,
    packet: ev.bytes,
    text: formatIpPacket(ev.bytes),
    name: ev.host,
  });
  const line: Line = [{ text, tone: ev.dir === ">" ? "out" : "in" }];
  const marks: Span[] = [];
  if (ev.injected) marks.push({ text: "  (injected)", tone: "accent" });
  if (ev.dropped !== undefined) marks.push({ text: `  ✕ dropped (${ev.dropped})`, tone: "bad" });
  return [...line, ...marks];
}

/** `b #4 10.0.0.2:80 → 10.0.0.1:49152  SYN-RECEIVED → ESTABLISHED`. */
export function stateLine(ev: StateEvent, id: string): Line {
  const from = ev.from !== undefined ? stateName(ev.from) : ev.tcb.passive ? "LISTEN" : "CLOSED";
  return [
    { text: `${ev.host} ${id} `, tone: "accent" },
    { text: `${formatEp(ev.local)} → ${formatEp(ev.remote)}  `, tone: "muted" },
    { text: from, tone: "state" },
    { text: " → " },
    { text: stateName(ev.to), tone: "state" },
  ];
}
