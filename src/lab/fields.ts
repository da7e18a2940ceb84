/**
 * The numbers a lab may ask about or check, read from a connection's TCB
 * exactly as `state #ID` shows them: RFC 9293 §3.3.1 variables (sequence
 * numbers relative to ISS/IRS), the RFC 6298 estimator, RFC 5681 congestion
 * state. One table, so a question's truth and the screen never disagree.
 */
import { State } from "../tcp/state.ts";
import type { TcbView } from "../tcp/view.ts";
import { seqAdd } from "../wire/seq.ts";

export interface Field {
  /** The name as the RFC (or `state #ID`) writes it. */
  readonly name: string;
  readonly unit: "" | "ms" | "bytes";
  read(tcb: TcbView): number | undefined;
}

const rcvKnown = (t: TcbView) =>
  t.state !== State.SynSent && !(t.state === State.Closed && t.rcvNxt === 0);

const FIELDS: readonly Field[] = [
  { name: "SND.UNA", unit: "", read: (t) => seqAdd(t.sndUna, -t.iss) },
  { name: "SND.NXT", unit: "", read: (t) => seqAdd(t.sndNxt, -t.iss) },
  { name: "SND.WND", unit: "bytes", read: (t) => t.sndWnd },
  { name: "RCV.NXT", unit: "", read: (t) => (rcvKnown(t) ? seqAdd(t.rcvNxt, -t.irs) : undefined) },
  { name: "RCV.WND", unit: "bytes", read: (t) => t.rcvWnd },
  { name: "ISS", unit: "", read: (t) => t.iss >>> 0 },
  { name: "IRS", unit: "", read: (t) => (rcvKnown(t) ? t.irs >>> 0 : undefined) },
  { name: "RTO", unit: "ms", read: (t) => t.rto },
  { name: "SRTT", unit: "ms", read: (t) => t.srtt },
  { name: "RTTVAR", unit: "ms", read: (t) => t.rttvar },
  { name: "cwnd", unit: "bytes", read: (t) => t.congestion.cwnd },
  {
    name: "ssthresh",
    unit: "bytes",
    read: (t) => (Number.isFinite(t.congestion.ssthresh) ? t.congestion.ssthresh : undefined),
  },
  { name: "pipe", unit: "bytes", read: (t) => t.congestion.pipe },
  { name: "FlightSize", unit: "bytes", read: (t) => t.congestion.flightSize },
  { name: "dupacks", unit: "", read: (t) => t.congestion.dupAcks },
  { name: "MSS", unit: "bytes", read: (t) => t.effSndMss },
  { name: "retransmits", unit: "", read: (t) => t.retransmissions },
  { name: "sndq", unit: "bytes", read: (t) => t.sendQueued },
  { name: "rcvq", unit: "bytes", read: (t) => t.recvAvailable },
  { name: "SND.WSCALE", unit: "", read: (t) => t.sndWscale },
  { name: "RCV.WSCALE", unit: "", read: (t) => t.rcvWscale },
  // RFC 7323 §4.3: the peer's TSval our next segment echoes (raw, as the trace shows it).
  { name: "TS.Recent", unit: "", read: (t) => (t.tsEnabled ? t.tsRecent >>> 0 : undefined) },
];

export const FIELD_NAMES: readonly string[] = FIELDS.map((f) => f.name);

/** A field by name, case and `.`/`_` insensitive (`rcv.nxt`, `RCV_NXT`). */
export function fieldNamed(name: string): Field | undefined {
  const key = (s: string) => s.toLowerCase().replace(/[._]/g, "");
  return FIELDS.find((f) => key(f.name) === key(name));
}

/** The comparisons a check may make: `field a:#3 cwnd >= 14480`, `cwnd a:#3 at 0.5s > 0`. */
export const OPS: Readonly<Record<string, (a: number, b: number) => boolean>> = {
  "=": (a, b) => a === b,
  "==": (a, b) => a === b,
  "!=": (a, b) => a !== b,
  "<": (a, b) => a < b,
  "<=": (a, b) => a <= b,
  ">": (a, b) => a > b,
  ">=": (a, b) => a >= b,
};
