/**
 * Machine-checkable outcomes of a lab step (`expect:` lines). Each looks at
 * what the stack did or holds, never at what the learner typed:
 *
 *   state HOST:#ID STATE [port N] [peer ADDR:PORT]
 *                                the socket is in STATE (LISTEN, ESTABLISHED, CLOSED …),
 *                                listening on / connected to the given ports
 *   segment PATTERN              since the step began, a TCP segment like PATTERN was
 *                                seen (segment-pattern.ts: ports, flags, relative seq/ack,
 *                                window, options, dropped, times N)
 *   packet HOST >|< TEXT [dropped] [times N]
 *                                a packet whose trace line contains TEXT (ICMP, UDP,
 *                                fragments: `packet b > udp port 9 unreachable`), or
 *                                exactly N of them (`times 0`: none)
 *   timer HOST:#ID NAME|none     a timer is pending (retransmission, delayed-ack, persist,
 *                                time-wait, keepalive, user-timeout), or none is
 *   field HOST:#ID NAME OP N     a TCB variable (fields.ts) compares: = != < <= > >=
 *   error HOST:#ID NAME          the connection ended with ECONNREFUSED, ECONNRESET …
 *   connections HOST N           HOST has N TCBs (0: every connection is CLOSED)
 *   stat HOST KEY [OP N]         a counter (`stats`) compares (default: >= 1)
 *   drop HOST KEY                HOST counted at least one drop KEY (e.g. tcp.bad-checksum)
 *   output TEXT                  the last command's output contains TEXT
 *
 * A failed check says what was expected, what was found, and where it can
 * guess it, a hint for the usual mistake: the wrong host, port or socket, or
 * a command not typed yet.
 */
import { stateName } from "../tcp/state.ts";
import type { TcbView } from "../tcp/view.ts";
import type { Endpoint } from "../wire/addr.ts";
import { formatIpPacket } from "../wire/format6.ts";
import { parseInteger, tokenize } from "./args.ts";
import type { EventLog } from "./event-log.ts";
import { FIELD_NAMES, fieldNamed, OPS } from "./fields.ts";
import { checkPlot } from "./plot-checks.ts";
import {
  describeSeen,
  matchPattern,
  type PatternContext,
  parseSegmentPattern,
  stillOnTheWire,
} from "./segment-pattern.ts";
import type { LabHost } from "./world.ts";

export interface CheckResult {
  readonly ok: boolean;
  /** What was expected and, on failure, what was found. */
  readonly message: string;
  /** On failure: what the usual mistake is, when it can be told. */
  readonly hint?: string;
}

/** What checks read: the world's log and hosts, the socket names, the last output. */
export interface CheckContext extends PatternContext {
  readonly log: EventLog;
  readonly hosts: readonly LabHost[];
  readonly lastOutput: string;
  /** The clock's reading (plot checks read what was recorded up to now). */
  readonly now: number;
}

/** The words a check may begin with (the plot checks' sampled fields included), for lab files. */
export const CHECK_WORDS: readonly string[] = [
  "state",
  "segment",
  "packet",
  "timer",
  "field",
  "error",
  "connections",
  "stat",
  "drop",
  "output",
  "retransmitted",
  "rate",
  "cwnd",
  "ssthresh",
  "FlightSize",
  "SND.UNA",
  "SND.WND",
];

type Target = { host: LabHost; fd: number } | { error: string };

function hostSocket(ctx: CheckContext, text: string | undefined): Target {
  if (text === undefined) return { error: "missing HOST:#ID" };
  const m = /^([A-Za-z][\w-]*):#?(\d+)$/.exec(text);
  if (m === null) return { error: `expected HOST:#ID like a:#3, got "${text}"` };
  const host = ctx.hostNamed(m[1] as string);
  if (host === undefined) return { error: `no host "${m[1]}"` };
  return { host, fd: Number(m[2]) };
}

/** The state a socket id shows: its TCB's state, LISTEN/BOUND/UNCONNECTED, or CLOSED. */
export function socketState(ctx: PatternContext, host: LabHost, fd: number): string {
  const tcb = ctx.tcbById(host, fd);
  if (tcb !== undefined) return stateName(tcb.state);
  const info = host.sockets.info(fd);
  return info instanceof Error ? "CLOSED" : info.state;
}

function compare(op: string | undefined, a: number, b: number): boolean | undefined {
  const f = op === undefined ? undefined : OPS[op];
  return f === undefined ? undefined : f(a, b);
}

/** Nothing happened at all since the step began: the learner has not typed its commands yet. */
function untouched(ctx: CheckContext, mark: number): boolean {
  return ctx.log.length <= mark;
}

const NOT_YET = "nothing has happened in this step yet: type its commands first";

export function checkExpect(ctx: CheckContext, expect: string, mark: number): CheckResult {
  const words = tokenize(expect).map((t) => t.text);
  const kind = words[0];
  const malformed = (why: string): CheckResult => ({
    ok: false,
    message: `bad expect "${expect}": ${why}`,
  });
  switch (kind) {
    case "state":
      return checkState(ctx, expect, words, mark);
    case "segment": {
      const p = parseSegmentPattern(expect.replace(/^segment\s+/, ""), ctx);
      if ("error" in p) return malformed(p.error);
      const r = matchPattern(p, ctx.log.all(), mark, ctx);
      const host = p.host ?? ctx.current.name;
      const verb = p.dir === ">" ? "sent" : "received";
      const want = `${host} ${verb} ${p.text.replace(/^\S+\s+[<>]\s+|^[<>]\s+/, "")}`;
      if (r.ok) return { ok: true, message: want };
      if (p.times !== undefined && r.matches.length > 0) {
        return {
          ok: false,
          message: `${want} (seen ${r.matches.length} time${r.matches.length === 1 ? "" : "s"})`,
        };
      }
      const onTheWire = stillOnTheWire(p, ctx.log.all(), mark, ctx);
      if (onTheWire !== undefined) {
        return {
          ok: false,
          message: `${want} (${onTheWire.event.host} sent it; it has not arrived yet)`,
          hint: "it is still on the wire: `step` delivers it",
        };
      }
      if (r.closest === undefined) {
        return { ok: false, message: `${want} (no TCP segment in this step)`, hint: NOT_YET };
      }
      return {
        ok: false,
        message: `${want} (closest: ${describeSeen(r.closest.seen, ctx)})`,
        hint: `${r.closest.diffs.join("; ")}${wrongHostHint(r.closest.diffs, host)}`,
      };
    }
    case "packet": {
      const q = readPacketQuery(ctx, words.slice(1));
      if (q === undefined) return malformed("expected packet HOST >|< TEXT [dropped] [times N]");
      const seen = packetsSeen(ctx, q, mark);
      const n = seen.matches.length;
      const what = `${q.host.name} ${q.dir === ">" ? "sent" : "received"} ${q.text}${q.dropped ? " (dropped)" : ""}`;
      if (q.times !== undefined) {
        const message = `${what} ${timesText(q.times)}`;
        if (n === q.times) return { ok: true, message };
        return {
          ok: false,
          message: `${message} (seen ${timesText(n)})`,
          hint:
            n > 0 ? `seen: ${seen.matches.slice(-3).join(" | ")}` : packetHint(ctx, q, seen, mark),
        };
      }
      if (n > 0) return { ok: true, message: what };
      return { ok: false, message: what, hint: packetHint(ctx, q, seen, mark) };
    }
    case "timer": {
      const t = hostSocket(ctx, words[1]);
      const name = words[2];
      if ("error" in t || name === undefined) return malformed("expected timer HOST:#ID NAME|none");
      const tcb = ctx.tcbById(t.host, t.fd);
      const timers = tcb?.timers().map((x) => x.name as string) ?? [];
      const list = timers.join(", ") || "none";
      if (name === "none") {
        const ok = timers.length === 0;
        return { ok, message: `${words[1]} has no timer running${ok ? "" : ` (it has: ${list})`}` };
      }
      const ok = timers.includes(name);
      return {
        ok,
        message: `${words[1]} has a ${name} timer${ok ? "" : ` (timers: ${list})`}`,
        ...(ok || tcb !== undefined ? {} : { hint: `${words[1]} has no connection` }),
      };
    }
    case "field": {
      const t = hostSocket(ctx, words[1]);
      const field = words[2] !== undefined ? fieldNamed(words[2]) : undefined;
      const op = words[3];
      const want = words[4] !== undefined ? Number(words[4]) : Number.NaN;
      if (
        "error" in t ||
        field === undefined ||
        OPS[op ?? ""] === undefined ||
        Number.isNaN(want)
      ) {
        return malformed(
          `expected field HOST:#ID NAME OP NUMBER (NAME: ${FIELD_NAMES.join(", ")})`,
        );
      }
      const tcb = ctx.tcbById(t.host, t.fd);
      const got = tcb === undefined ? undefined : field.read(tcb);
      const ok = got !== undefined && compare(op, got, want) === true;
      const unit = field.unit === "" ? "" : ` ${field.unit}`;
      return {
        ok,
        message: `${words[1]} ${field.name} ${op} ${want}${unit}${ok ? "" : ` (it is ${got ?? "not known"}${got === undefined ? "" : unit})`}`,
      };
    }
    case "error": {
      const t = hostSocket(ctx, words[1]);
      const want = words[2]?.toUpperCase();
      if ("error" in t || want === undefined)
        return malformed("expected error HOST:#ID ECONNREFUSED|ECONNRESET|ETIMEDOUT|…");
      const got = ctx.tcbById(t.host, t.fd)?.error;
      return {
        ok: got === want,
        message: `${words[1]} reported ${want}${got === want ? "" : ` (it reported ${got ?? "no error"})`}`,
      };
    }
    case "connections": {
      const host = words[1] !== undefined ? ctx.hostNamed(words[1]) : undefined;
      const n = words[2] !== undefined ? parseInteger(words[2]) : undefined;
      if (host === undefined || n === undefined) return malformed("expected connections HOST N");
      const got = host.host.connections().length;
      return {
        ok: got === n,
        message: `${host.name} has ${n} connection(s)${got === n ? "" : ` (it has ${got})`}`,
        ...(got === n || !untouched(ctx, mark) ? {} : { hint: NOT_YET }),
      };
    }
    case "stat":
    case "drop": {
      const host = words[1] !== undefined ? ctx.hostNamed(words[1]) : undefined;
      const key = words[2];
      const op = kind === "drop" ? ">=" : (words[3] ?? ">=");
      const want = kind === "drop" ? 1 : words[4] !== undefined ? Number(words[4]) : 1;
      if (host === undefined || key === undefined || OPS[op] === undefined || Number.isNaN(want)) {
        return malformed(
          kind === "drop" ? "expected drop HOST KEY" : "expected stat HOST KEY [OP N]",
        );
      }
      const s = host.host.stats();
      const got = (kind === "drop" ? s.drops[key] : (s.packets[key] ?? s.drops[key])) ?? 0;
      const ok = compare(op, got, want) === true;
      const what =
        kind === "drop"
          ? `${host.name} dropped a packet as ${key}${ok ? "" : " (none counted)"}`
          : `${host.name} counted ${key} ${op} ${want}${ok ? "" : ` (it is ${got})`}`;
      return { ok, message: what };
    }
    case "output": {
      const want = expect.replace(/^output\s+/, "").replace(/^"(.*)"$/, "$1");
      const ok = ctx.lastOutput.includes(want);
      return {
        ok,
        message: `the output shows "${want}"`,
        ...(ok ? {} : { hint: "type the step's commands; the last one's output is what is read" }),
      };
    }
    default:
      return (
        checkPlot(ctx, expect, words) ??
        malformed(`unknown check "${kind ?? ""}" (${CHECK_WORDS.join(", ")})`)
      );
  }
}

/** Packets at one host's interface whose trace line holds `text`: `HOST >|< TEXT [dropped] [times N]`. */
export interface PacketQuery {
  readonly host: LabHost;
  readonly dir: ">" | "<";
  readonly text: string;
  /** Only packets a fault rule dropped (else only packets that got through). */
  readonly dropped: boolean;
  /** Exactly this many such packets (`times 0`: none). */
  readonly times: number | undefined;
}

/** Reads the words `HOST >|< TEXT… [dropped] [times N]`, or undefined when they are not that. */
export function readPacketQuery(
  ctx: CheckContext,
  words: readonly string[],
): PacketQuery | undefined {
  const host = words[0] !== undefined ? ctx.hostNamed(words[0]) : undefined;
  const dir = words[1];
  let rest = words.slice(2);
  const n =
    rest.length >= 3 && rest[rest.length - 2] === "times" ? rest[rest.length - 1] : undefined;
  const times = n === undefined ? undefined : parseInteger(n);
  if (n !== undefined) rest = rest.slice(0, -2);
  const dropped = rest.length > 0 && rest[rest.length - 1] === "dropped";
  const text = rest.slice(0, dropped ? -1 : undefined).join(" ");
  if (host === undefined || (dir !== ">" && dir !== "<") || text === "") return undefined;
  if (n !== undefined && times === undefined) return undefined;
  return { host, dir, text, dropped, times };
}

function timesText(n: number): string {
  return `${n} time${n === 1 ? "" : "s"}`;
}

export interface PacketsSeen {
  /** Trace lines of the packets that match. */
  readonly matches: readonly string[];
  /** Trace lines of the other packets at that interface, in that direction. */
  readonly others: readonly string[];
  /** Another host whose interface saw such a packet in that direction (a command on the wrong host). */
  readonly elsewhere: string | undefined;
}

/** How many packets since `mark` match `q`, and what else the step saw. */
export function packetsSeen(ctx: CheckContext, q: PacketQuery, mark: number): PacketsSeen {
  const matches: string[] = [];
  let elsewhere: string | undefined;
  const others: string[] = [];
  for (const ev of ctx.log.since(mark)) {
    if (ev.kind !== "packet" || ev.dir !== q.dir) continue;
    const line = formatIpPacket(ev.bytes);
    const match = line.includes(q.text) && (ev.dropped !== undefined) === q.dropped;
    if (ev.host !== q.host.name) {
      if (match) elsewhere ??= ev.host;
    } else (match ? matches : others).push(line.replace(/^IP /, ""));
  }
  return { matches, others, elsewhere };
}

/** Why a packet check failed: the wrong host, other packets, or nothing at all yet. */
function packetHint(ctx: CheckContext, q: PacketQuery, seen: PacketsSeen, mark: number): string {
  const host = q.host.name;
  if (seen.elsewhere !== undefined) {
    const verb = q.dir === ">" ? "sent" : "received";
    return `${seen.elsewhere} ${verb} it, not ${host}: was a command typed on the wrong host (the "HOST:" prefix)?`;
  }
  if (seen.others.length > 0) return `seen instead: ${seen.others.slice(-3).join(" | ")}`;
  if (untouched(ctx, mark)) return NOT_YET;
  return q.dir === ">"
    ? `${host} sent nothing in this step`
    : `nothing reached ${host} in this step (on a paused clock, \`step\` delivers what is on the wire)`;
}

/**
 * The segment came from another host: suggest the prefix only when it is the
 * segment the step asks for otherwise (same flags and numbers), as a command
 * typed on the wrong host sends — not when it is some other host's ACK.
 */
function wrongHostHint(diffs: readonly string[], host: string): string {
  const otherSegment = diffs.some((d) => /^its flags are |^it is \d/.test(d));
  return !otherSegment && diffs.some((d) => d.includes(`, not ${host}`))
    ? ` — run it on ${host}: prefix the command with "${host}:" or switch with "use ${host}"`
    : "";
}

function checkState(ctx: CheckContext, expect: string, words: string[], mark: number): CheckResult {
  const t = hostSocket(ctx, words[1]);
  const want = words[2]?.toUpperCase();
  if ("error" in t || want === undefined) {
    return {
      ok: false,
      message: `bad expect "${expect}": ${"error" in t ? t.error : "missing STATE"}`,
    };
  }
  let wantPort: number | undefined;
  let wantPeer: { addr: number | undefined; port: number } | undefined;
  for (let i = 3; i < words.length; i += 2) {
    const v = words[i + 1];
    if (words[i] === "port" && v !== undefined && parseInteger(v) !== undefined)
      wantPort = parseInteger(v);
    else if (words[i] === "peer" && v !== undefined && v.includes(":")) {
      const at = v.lastIndexOf(":");
      const port = parseInteger(v.slice(at + 1));
      const who = v.slice(0, at);
      const addr = who === "" ? undefined : ctx.address(who);
      if (port === undefined || (who !== "" && addr === undefined)) {
        return { ok: false, message: `bad expect "${expect}": "${v}" is not HOST:PORT` };
      }
      wantPeer = { addr, port };
    } else {
      return {
        ok: false,
        message: `bad expect "${expect}": expected state HOST:#ID STATE [port N] [peer HOST:PORT]`,
      };
    }
  }
  const label = words[1] as string;
  const got = socketState(ctx, t.host, t.fd);
  const ends = socketEnds(ctx, t.host, t.fd);
  const portOk = wantPort === undefined || ends?.localPort === wantPort;
  const peerOk =
    wantPeer === undefined ||
    (ends?.remote !== undefined &&
      ends.remote.port === wantPeer.port &&
      (wantPeer.addr === undefined || ends.remote.addr === wantPeer.addr));
  const extra = `${wantPort !== undefined ? ` on port ${wantPort}` : ""}${wantPeer !== undefined ? ` with ${words.slice(-1)[0]}` : ""}`;
  const message = `${label} is ${want}${extra}`;
  if (got === want && portOk && peerOk) return { ok: true, message };
  if (got === want) {
    const where = !portOk
      ? `it is on port ${ends?.localPort}`
      : `its peer is ${ends?.remote?.port === undefined ? "none" : `port ${ends.remote.port}`}`;
    return {
      ok: false,
      message: `${message} (${where})`,
      hint: "check the port in the command you typed",
    };
  }
  return {
    ok: false,
    message: `${message} (it is ${got})`,
    hint: stateHint(ctx, t, want, got, mark),
  };
}

function socketEnds(
  ctx: PatternContext,
  host: LabHost,
  fd: number,
): { localPort: number | undefined; remote: Endpoint | undefined } | undefined {
  const tcb: TcbView | undefined = ctx.tcbById(host, fd);
  if (tcb !== undefined) return { localPort: tcb.local.port, remote: tcb.remote };
  const info = host.sockets.info(fd);
  if (info instanceof Error) return undefined;
  return { localPort: info.local?.port, remote: info.remote };
}

/** The usual reasons a socket is not in the state a step asks for. */
function stateHint(
  ctx: CheckContext,
  t: { host: LabHost; fd: number },
  want: string,
  got: string,
  mark: number,
): string | undefined {
  // The connection is over, but the application still holds the socket: a new
  // connection cannot take its id until it is closed.
  if (got === "CLOSED" && want !== "CLOSED" && !(t.host.sockets.info(t.fd) instanceof Error))
    return `the connection of ${t.host.name}:#${t.fd} is over, but the socket is still open: "${t.host.name}: close #${t.fd}" frees the id for the next connection`;
  for (const other of ctx.hosts) {
    if (other === t.host) continue;
    if (socketState(ctx, other, t.fd) === want) {
      return `${other.name}'s socket #${t.fd} is ${want}: the step wants it on ${t.host.name} — prefix the command with "${t.host.name}:"`;
    }
  }
  for (const s of t.host.sockets.list()) {
    if (s.fd !== t.fd && socketState(ctx, t.host, s.fd) === want) {
      return `#${s.fd} is ${want}, the step expects #${t.fd}: an extra socket was opened first (lab start LAB resume replays the steps before this one in a fresh world)`;
    }
  }
  if (untouched(ctx, mark)) return NOT_YET;
  if (got !== "CLOSED" && got !== want)
    return `it is still ${got}: nothing in this step moved it — check the command for ${t.host.name}:#${t.fd} (its host prefix, its socket id), and \`step\` if a segment has yet to reach it`;
  return undefined;
}
