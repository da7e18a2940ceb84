/**
 * Runs a packetdrill script against a fresh tcplab Host on a VirtualClock.
 *
 * The runner is the remote peer: `<` lines become packets handed to the
 * host, what the host sends is captured and matched against `>` lines, and
 * system calls go to tcplab's Sockets. `--ip_version=ipv4` (the default):
 * tcplab is 10.0.0.2, the peer 10.0.0.1, sockets AF_INET. `--ip_version=ipv6`:
 * tcplab is fd00::2, the peer fd00::1, packets IPv6 (the TOS of a line is the
 * Traffic Class, its TTL the Hop Limit) and sockets AF_INET6; the MSS is the
 * family's (RFC 9293 §3.7.1: MTU − 60 over IPv6). `--ip_version=ipv4-mapped-ipv6`:
 * IPv4 on the wire as in ipv4 mode, but sockets are AF_INET6 and the
 * addresses they take and return are the mapped forms ::ffff:10.0.0.x
 * (RFC 4291 §2.5.5.2; packetdrill's IP_VERSION_4_MAPPED_6, which keeps the
 * IPv4 packets and MSS and sets the socket domain to AF_INET6). The semantics follow
 * packetdrill's (run.c, run_packet.c, run_system_call.c, socket.h):
 *
 * - Sequence numbers are relative. Inbound: SYN segments carry absolute
 *   numbers, the others are offset by the peer's ISN, which is the seq of
 *   the first segment reaching a listening socket or of the SYN-ACK
 *   answering our SYN — 0 (absolute) when there is none. ACK fields are
 *   offset by tcplab's ISN, learned from its SYN or SYN-ACK (0 before).
 *   Outbound lines use the same spaces. `!` makes a seq absolute.
 * - Time: `0.1` is absolute, `+0.1` relative to when the previous
 *   statement finished, `*` any time, `a~b` a range. The virtual clock runs
 *   to each statement's time. A `>` packet must come within
 *   --tolerance_usecs of its time (early or late); a packet tcplab sends
 *   when no `>` line expects it is a failure ("unexpected packet"), and so is
 *   a `>` line with nothing sent by its time plus the tolerance.
 * - A call without `...END` must return at once; `+0 ...0.2 accept()` runs
 *   while later statements run and must return at END (± tolerance).
 *
 * Anything the runner or tcplab cannot do yields an "unsupported" result
 * naming it, checked before the script starts, so it is never a silent pass.
 */

import { Sockets } from "../../api/sockets.ts";
import { EPOCH, instant } from "../../clock/time.ts";
import { VirtualClock } from "../../clock/virtual-clock.ts";
import type { LinkEnd, PacketHandler } from "../../link/link.ts";
import { type Attachment, attach } from "../../runtime/attach.ts";
import { Host } from "../../stack/host.ts";
import {
  DEFAULT_PERSONALITY,
  hostSettingsFor,
  type Personality,
  personalityNamed,
} from "../../tcp/personality.ts";
import type { TcpSettings } from "../../tcp/settings.ts";
import { State } from "../../tcp/state.ts";
import type { TcbView } from "../../tcp/view.ts";
import { ip } from "../../wire/addr.ts";
import { type Endpoint, familyOf, type IpFamily } from "../../wire/addr.ts";
import { formatIpPacket } from "../../wire/format6.ts";
import { IpProto, parseIpv4 } from "../../wire/ipv4.ts";
import { isIpv6Fragment, parseIpv6 } from "../../wire/ipv6.ts";
import { ip6 } from "../../wire/ipv6-addr.ts";
import { buildTcpPacket } from "../../wire/packet.ts";
import { buildTcpPacket6 } from "../../wire/packet6.ts";
import { parseTcp } from "../../wire/tcp.ts";
import { Flag, type TcpOption, type TcpSegment } from "../../wire/tcp-types.ts";
import {
  activeStatements,
  formatParseError,
  type PacketStatement,
  type PdTcpOption,
  parseScript,
  type Script,
  type Statement,
  type SyscallStatement,
} from "../script/index.ts";
import { type ActualSegment, compareSegment, formatActual, formatExpected } from "./matcher.ts";
import type { FieldDiff, Outcome, ScriptResult } from "./report.ts";
import {
  FREEBSD_STATES,
  type FreebsdState,
  parseShell,
  type ShellAction,
  sysctlEffect,
} from "./shell.ts";
import {
  type CallOutcome,
  checkResult,
  startSyscall,
  symbols,
  TCPI_STATES,
  unsupportedSyscall,
} from "./syscalls.ts";

/** tcplab's address in scripts (packetdrill's local side). */
export const LOCAL_ADDR = "10.0.0.2";
/** The peer the runner plays. */
export const REMOTE_ADDR = "10.0.0.1";
/** The same two under `--ip_version=ipv6` (the lab's hosts b and a). */
export const LOCAL_ADDR6 = "fd00::2";
export const REMOTE_ADDR6 = "fd00::1";
/** The peer's port for connections it opens (packetdrill picks an ephemeral one). */
export const REMOTE_PORT = 40000;
/** packetdrill's defaults: bind(…, ...) binds 8080, connect(…, ...) goes to 8080. */
export const DEFAULT_BIND_PORT = 8080;
export const DEFAULT_CONNECT_PORT = 8080;
/** packetdrill's default --tolerance_usecs. */
export const DEFAULT_TOLERANCE_USECS = 4000;
/** How long a `*` outbound line waits for its packet. */
const ANY_TIME_WAIT_USECS = 600_000_000;

export interface RunOptions {
  /** A Personality, or its name; default "tcplab". */
  readonly personality?: Personality | string;
  /** The path shown in results. */
  readonly path?: string;
  /** Extra names for `#ifdef` besides the personality's. */
  readonly defines?: readonly string[];
  /**
   * Treat every outbound option list as `<...>`. Only for the conformance
   * forecast ("would this pass once options are negotiated?"); a run with it
   * is never reported as a pass of the script.
   */
  readonly ignoreOptions?: boolean;
  /** Called with one line per event: statements as they run, packets in and out. */
  readonly trace?: (line: string) => void;
  /** Called with every packet as it crosses the link: `<` to tcplab, `>` from it. */
  readonly onPacket?: (direction: "<" | ">", bytes: Uint8Array) => void;
}

/** Script options the runner understands (others make a script unsupported). */
const KNOWN_OPTIONS = new Set([
  "ip_version",
  "tolerance_usecs",
  "tolerance_percent",
  "mtu",
  "bind_port",
  "connect_port",
  "define",
  "verbose",
]);

/** Unwinds the run with a failed or unsupported result. */
class Stop {
  constructor(
    readonly outcome: Exclude<Outcome, "passed">,
    readonly reason: string,
    readonly extra: {
      fields?: FieldDiff[];
      expected?: string;
      actual?: string;
      statement?: Statement;
      line?: number;
      text?: string;
    } = {},
  ) {}
}

/** packetdrill's socket-under-test states that decide the ISN bookkeeping. */
type ConnPhase =
  | "new"
  | "listening"
  | "connecting"
  | "synSent"
  | "passiveReceived"
  | "synAckSent"
  | "synAckAcked"
  | "synAcked";

interface Conn {
  phase: ConnPhase;
  localPort: number;
  remotePort: number;
  /** The script's and tcplab's ISN (packetdrill's script.local_isn / live.local_isn). */
  scriptLocalIsn: number;
  liveLocalIsn: number;
  /** The peer's ISN; script and live are the same (the runner is the peer). */
  remoteIsn: number;
}

interface Pending {
  readonly st: SyscallStatement;
  readonly complete: () => CallOutcome | undefined;
  readonly endUs: number;
  readonly limitUs: number;
}

interface Captured {
  readonly bytes: Uint8Array;
  readonly atUs: number;
  /** The TCP segment it carries, read once by wire's parser; undefined if it is none. */
  readonly tcp: CapturedTcp | undefined;
}

/** A TCP segment and the IP fields a line may check (IPv6's Traffic Class and Hop Limit as tos and ttl). */
interface CapturedTcp {
  readonly family: IpFamily;
  readonly tos: number;
  readonly ttl: number;
  readonly seg: TcpSegment;
}

/**
 * A packet tcplab sent, read as TCP with every EOL of the padding kept:
 * packetdrill compares option lists byte for byte (run_packet.c,
 * verify_outbound_live_tcp_options). The version nibble picks the parser.
 */
function readTcp(bytes: Uint8Array): CapturedTcp | undefined {
  if (bytes.length > 0 && (bytes[0] as number) >> 4 === 6) {
    const p = parseIpv6(bytes);
    if (!p.ok || isIpv6Fragment(p.value) || p.value.protocol !== IpProto.TCP) return undefined;
    const { header, payload } = p.value;
    const t = parseTcp(payload, header.src, header.dst, { eol: "each" });
    return t.ok
      ? { family: 6, tos: header.trafficClass, ttl: header.hopLimit, seg: t.value }
      : undefined;
  }
  const p = parseIpv4(bytes);
  if (!p.ok || p.value.header.protocol !== IpProto.TCP) return undefined;
  const { header, payload } = p.value;
  const t = parseTcp(payload, header.src, header.dst, { eol: "each" });
  return t.ok ? { family: 4, tos: header.tos, ttl: header.ttl, seg: t.value } : undefined;
}

/**
 * What a script's `--ip_version` means: the family of its packets and the
 * domain `socket(..., …)` opens (packetdrill's ip_version and socket_domain,
 * config.c). ipv4-mapped-ipv6 is IPv4 on the wire with AF_INET6 sockets
 * naming IPv4 ends ::ffff:a.b.c.d (RFC 3493 §3.7), as tcplab's dual-stack
 * AF_INET6 sockets do.
 */
export interface IpMode {
  readonly wire: IpFamily;
  readonly domain: "AF_INET" | "AF_INET6";
}

/** The mode a script's `--ip_version` asks for, or why the runner cannot play it. */
export function scriptMode(version: string | undefined): IpMode | { unsupported: string } {
  switch (version) {
    case undefined:
    case "ipv4":
      return { wire: 4, domain: "AF_INET" };
    case "ipv6":
      return { wire: 6, domain: "AF_INET6" };
    case "ipv4-mapped-ipv6":
      return { wire: 4, domain: "AF_INET6" };
    default:
      return { unsupported: `--ip_version=${version} is not an IP version packetdrill knows` };
  }
}

const FREEBSD_NAME: Readonly<Record<State, FreebsdState>> = {
  [State.Closed]: "CLOSED",
  [State.Listen]: "LISTEN",
  [State.SynSent]: "SYN_SENT",
  [State.SynReceived]: "SYN_RCVD",
  [State.Established]: "ESTABLISHED",
  [State.FinWait1]: "FIN_WAIT_1",
  [State.FinWait2]: "FIN_WAIT_2",
  [State.CloseWait]: "CLOSE_WAIT",
  [State.Closing]: "CLOSING",
  [State.LastAck]: "LAST_ACK",
  [State.TimeWait]: "TIME_WAIT",
};

const secs = (us: number) => (us / 1e6).toFixed(6);
const u32 = (n: number) => n >>> 0;
const immediate = () => new Promise<void>((r) => setImmediate(r));

/** Why a script cannot run, found before it starts; undefined if it can. */
export function unsupportedIn(
  script: Script,
  statements: readonly Statement[],
): { reason: string; st?: Statement } | undefined {
  const mode = scriptMode(script.options.ip_version);
  if ("unsupported" in mode) return { reason: mode.unsupported };
  for (const o of script.optionList) {
    if (!KNOWN_OPTIONS.has(o.name)) return { reason: `script option --${o.name} is not supported` };
  }
  const commands = [script.initCommand, script.cleanupCommand].filter((c) => c !== undefined);
  for (const c of commands) {
    const r = shellUnsupported(parseShell(c.command), mode);
    if (r !== undefined) return { reason: r };
  }
  for (const st of statements) {
    const why = statementUnsupported(st, mode);
    if (why !== undefined) return { reason: why, st };
  }
  return undefined;
}

function shellUnsupported(a: ShellAction, mode: IpMode): string | undefined {
  if (a.kind === "unsupported") return a.reason;
  if (
    a.kind === "sockstat" &&
    a.families.length > 0 &&
    mode.wire === 4 &&
    mode.domain === "AF_INET6"
  )
    // FreeBSD's sockstat lists a dual-stack inpcb as tcp46, under -4 and -6 alike.
    return "sockstat -4/-6 in an ipv4-mapped-ipv6 script: the runner does not model FreeBSD's tcp46 (dual-stack) sockets";
  if (a.kind === "sysctl") {
    const e = sysctlEffect(a.name, a.value);
    if (e.kind === "unsupported") return e.reason;
  }
  return undefined;
}

const ASSERT_STATE = /^assert\s+tcpi_state\s*==\s*(TCPI_[A-Z0-9_]+)$/;

function statementUnsupported(st: Statement, mode: IpMode): string | undefined {
  switch (st.type) {
    case "udp":
      return "UDP packets are not supported by the TCP runner";
    case "icmp":
      return "ICMP packets are not supported by the runner yet";
    case "syscall":
      return unsupportedSyscall(st);
    case "shell":
      return shellUnsupported(parseShell(st.command), mode);
    case "code": {
      const m = ASSERT_STATE.exec(st.code.trim());
      if (m === null)
        return `code snippet %{ ${st.code.trim()} }%: only \`assert tcpi_state == TCPI_…\` is supported`;
      return TCPI_STATES[m[1] as string] === undefined ? `unknown state ${m[1]}` : undefined;
    }
    case "packet": {
      if (st.direction === "<" && st.seq.kind === "any")
        return "an inbound packet needs a sequence number, not ...(len)";
      if (st.options !== "any") {
        for (const o of st.options) {
          if (o.kind === "md5") return "TCP-MD5 signatures (RFC 2385) are not supported";
          if (o.kind === "fastOpen") return "TCP Fast Open (RFC 7413) is not supported";
        }
      }
      if (st.direction === "<" && st.ip?.ecn === "ect01") return "[ect01] on an inbound packet";
      if (st.ip?.flowLabel !== undefined) {
        if (mode.wire === 4) return "[flowlabel] in an IPv4 script: the Flow Label is IPv6's";
        if (st.direction === ">")
          return "[flowlabel] on an outbound packet: not checked by the runner";
      }
      return undefined;
    }
  }
}

function resolvePersonality(p: RunOptions["personality"]): Personality {
  if (p === undefined) return personalityNamed(DEFAULT_PERSONALITY) as Personality;
  if (typeof p !== "string") return p;
  const found = personalityNamed(p);
  if (found === undefined) throw new RangeError(`unknown personality "${p}"`);
  return found;
}

/** Parses and runs one script. Never throws for a bad script: the result says what happened. */
export async function runScript(text: string, opts: RunOptions = {}): Promise<ScriptResult> {
  const path = opts.path ?? "(script)";
  const parsed = parseScript(text, path);
  if (!parsed.ok) {
    return {
      path,
      outcome: "failed",
      line: parsed.error.line,
      reason: `parse error: ${formatParseError(parsed.error)}`,
      notes: [],
      statements: 0,
      simulatedSeconds: 0,
    };
  }
  return runParsed(parsed.script, opts);
}

export async function runParsed(script: Script, opts: RunOptions = {}): Promise<ScriptResult> {
  const personality = resolvePersonality(opts.personality);
  const defines = [
    ...personality.script.defines,
    ...(opts.defines ?? []),
    ...script.optionList
      .filter((o) => o.name === "define")
      .map((o) => (o.value ?? "").split("=")[0] ?? ""),
  ];
  const statements = activeStatements(script, defines);
  const path = opts.path ?? script.path ?? "(script)";
  const blocked = unsupportedIn(script, statements);
  if (blocked !== undefined) {
    return {
      path,
      outcome: "unsupported",
      reason: blocked.reason,
      ...(blocked.st ? { line: blocked.st.line, text: blocked.st.text } : {}),
      notes: [],
      statements: 0,
      simulatedSeconds: 0,
    };
  }
  return new ScenarioRun(
    script,
    statements,
    personality,
    path,
    opts.ignoreOptions ?? false,
    opts.trace,
    opts.onPacket,
  ).run();
}

class ScenarioRun {
  private readonly clock = new VirtualClock(EPOCH);
  private readonly out: Captured[] = [];
  private readonly notes: string[] = [];
  private readonly tolUs: number;
  private readonly tolPercent: number;
  private readonly mtu: number;
  private readonly bindPort: number;
  private readonly connectPort: number;
  private readonly syms: Readonly<Record<string, number>>;
  /** The family of the script's packets (`--ip_version`). */
  private readonly family: IpFamily;
  /** The domain of the script's sockets: AF_INET6 under ipv6 and ipv4-mapped-ipv6. */
  private readonly domain: IpMode["domain"];
  private host: Host | undefined;
  private attachment: Attachment | undefined;
  private sockets: Sockets | undefined;
  private deliver: PacketHandler | undefined;
  private readonly fds = new Map<number, number>();
  private readonly synced = new Set<TcbView>();
  private readonly tsVals = new Map<number, number>();
  private pending: Pending | undefined;
  private settings: Partial<TcpSettings>;
  private executed = 0;
  private current: Statement | undefined;
  private lastEventUs = 0;
  private readonly conn: Conn;

  constructor(
    private readonly script: Script,
    private readonly statements: readonly Statement[],
    private readonly personality: Personality,
    private readonly path: string,
    private readonly ignoreOptions: boolean,
    private readonly trace: ((line: string) => void) | undefined,
    private readonly onPacket: RunOptions["onPacket"],
  ) {
    const o = script.options;
    this.tolUs =
      o.tolerance_usecs !== undefined ? Number(o.tolerance_usecs) : DEFAULT_TOLERANCE_USECS;
    this.tolPercent = o.tolerance_percent !== undefined ? Number(o.tolerance_percent) : 0;
    this.mtu = o.mtu !== undefined ? Number(o.mtu) : 1500;
    this.bindPort = o.bind_port !== undefined ? Number(o.bind_port) : DEFAULT_BIND_PORT;
    this.connectPort = o.connect_port !== undefined ? Number(o.connect_port) : DEFAULT_CONNECT_PORT;
    this.syms = symbols(personality);
    const mode = scriptMode(o.ip_version);
    this.family = "unsupported" in mode ? 4 : mode.wire;
    this.domain = "unsupported" in mode ? "AF_INET" : mode.domain;
    this.settings = hostSettingsFor(personality);
    this.conn = {
      phase: "new",
      localPort: this.bindPort,
      remotePort: REMOTE_PORT,
      scriptLocalIsn: 0,
      liveLocalIsn: 0,
      remoteIsn: 0,
    };
  }

  async run(): Promise<ScriptResult> {
    try {
      if (this.script.initCommand) await this.shell(this.script.initCommand.command);
      for (const st of this.statements) {
        this.current = st;
        this.executed++;
        this.trace?.(`${secs(this.nowUs())} ${String(st.line).padStart(4)}: ${st.text}`);
        await this.statement(st);
        this.markSynced();
        this.lastEventUs = this.nowUs();
      }
      // Failures found after the last statement are reported at it.
      await this.finish();
      if (this.script.cleanupCommand) await this.shell(this.script.cleanupCommand.command);
      return this.result("passed");
    } catch (e) {
      if (e instanceof Stop) return this.result(e.outcome, e);
      const msg = e instanceof Error ? (e.stack ?? e.message) : String(e);
      return this.result("failed", new Stop("failed", `internal error: ${msg}`));
    } finally {
      this.attachment?.detach();
    }
  }

  private result(outcome: Outcome, stop?: Stop): ScriptResult {
    const st = stop?.extra.statement ?? (stop !== undefined ? this.current : undefined);
    const line = stop?.extra.line ?? st?.line;
    const text = stop?.extra.text ?? st?.text;
    return {
      path: this.path,
      outcome,
      ...(line !== undefined ? { line } : {}),
      ...(text !== undefined ? { text } : {}),
      ...(stop !== undefined ? { reason: stop.reason } : {}),
      ...(stop?.extra.fields ? { fields: stop.extra.fields } : {}),
      ...(stop?.extra.expected !== undefined ? { expected: stop.extra.expected } : {}),
      ...(stop?.extra.actual !== undefined ? { actual: stop.extra.actual } : {}),
      notes: this.notes,
      statements: this.executed,
      simulatedSeconds: this.clock.now() / 1000,
    };
  }

  // ---- the world -----------------------------------------------------------

  private nowUs(): number {
    return Math.round(this.clock.now() * 1000);
  }

  private world(): { host: Host; sockets: Sockets; attachment: Attachment } {
    if (this.host === undefined || this.sockets === undefined || this.attachment === undefined) {
      const host = new Host({
        name: "tcplab",
        addr: ip(LOCAL_ADDR),
        addr6: ip6(LOCAL_ADDR6),
        mtu: this.mtu,
        tcp: this.settings,
        // A fixed key: runs are reproducible; scripts see ISNs only relatively.
        isn: { secret: new Uint8Array(16) },
      });
      const link: LinkEnd = {
        mtu: this.mtu,
        send: (p) => {
          const bytes = p.slice();
          const c = { bytes, atUs: this.nowUs(), tcp: readTcp(bytes) };
          this.out.push(c);
          this.onPacket?.(">", bytes);
          this.trace?.(`${secs(c.atUs)}       tcplab sent ${this.describeOut(c)}`);
        },
        onReceive: (h) => {
          this.deliver = h;
        },
      };
      this.attachment = attach(host, link, this.clock);
      this.sockets = new Sockets(host, this.attachment);
      this.host = host;
    }
    return { host: this.host, sockets: this.sockets, attachment: this.attachment };
  }

  /** Remembers connections that got past SYN-SENT (the peer's MSS is known). */
  private markSynced(): void {
    if (this.sockets === undefined) return;
    for (const info of this.sockets.list()) {
      const t = info.tcb;
      if (t !== undefined && t.state !== State.SynSent && t.state !== State.Closed)
        this.synced.add(t);
    }
  }

  // ---- time ----------------------------------------------------------------

  private tolerance(atUs: number): number {
    // packetdrill: --tolerance_percent of the gap since the last event, if larger.
    const dyn = (this.tolPercent / 100) * Math.max(0, atUs - this.lastEventUs);
    return Math.max(this.tolUs, dyn);
  }

  /** Moves the clock one step toward `limitUs`: to the next timer or the limit. */
  private step(limitUs: number): void {
    const nowMs = this.clock.now();
    let to = limitUs / 1000;
    const next = this.clock.nextDeadline();
    if (next !== undefined && next < to) to = Math.max(next, nowMs);
    const p = this.pending;
    if (p !== undefined && p.limitUs / 1000 > nowMs && p.limitUs / 1000 < to) to = p.limitUs / 1000;
    if (to < nowMs) to = nowMs;
    this.clock.advanceTo(instant(to));
  }

  /** Settles a pending blocking call if it has returned; fails if it is late. */
  private async pollPending(): Promise<void> {
    const p = this.pending;
    if (p === undefined) return;
    await immediate();
    const o = p.complete();
    const now = this.nowUs();
    if (o === undefined) {
      if (now > p.limitUs) {
        throw new Stop(
          "failed",
          `${p.st.name}() should have returned at ${secs(p.endUs)} s but is still blocked at ${secs(now)} s`,
          { statement: p.st },
        );
      }
      return;
    }
    this.pending = undefined;
    this.verifyCall(p.st, o);
    const tol = this.tolerance(p.endUs);
    if (now < p.endUs - tol || now > p.endUs + tol) {
      throw new Stop(
        "failed",
        `${p.st.name}() returned at ${secs(now)} s, the script expects ${secs(p.endUs)} s (± ${secs(tol)})`,
        {
          statement: p.st,
          fields: [
            { field: "return time", expected: `${secs(p.endUs)} s`, actual: `${secs(now)} s` },
          ],
        },
      );
    }
  }

  /** Runs the clock to `atUs`; any packet tcplab sends before then was not expected. */
  private async waitUntil(atUs: number): Promise<void> {
    let guard = 0;
    for (;;) {
      await this.pollPending();
      this.failOnUnexpected();
      if (this.nowUs() >= atUs) return;
      this.step(atUs);
      if (++guard > 1_000_000)
        throw new Stop("failed", "the clock made no progress (timer livelock)");
    }
  }

  private failOnUnexpected(where?: string): void {
    const c = this.out[0];
    if (c === undefined) return;
    throw new Stop(
      "failed",
      `unexpected packet: tcplab sent ${this.describeOut(c)} at ${secs(c.atUs)} s${where ?? ""}`,
      { actual: this.describeOut(c) },
    );
  }

  // ---- statements ------------------------------------------------------------

  /** The time a statement is due (µs), or undefined for `*`; checks time does not run backwards. */
  private due(st: Statement): { at: number; end: number; base: number } | undefined {
    const t = st.time;
    if (t.kind === "any") return undefined;
    const base = t.kind === "absolute" ? 0 : this.nowUs();
    const at = base + t.usecs;
    const end = base + (t.end?.usecs ?? t.usecs);
    const now = this.nowUs();
    const tol = this.tolerance(at);
    if (t.kind === "absolute" && at < now - tol) {
      throw new Stop(
        "failed",
        `timing: the statement is due at ${secs(at)} s, but the previous one ended at ${secs(now)} s`,
      );
    }
    return { at, end, base };
  }

  private async statement(st: Statement): Promise<void> {
    if (st.type === "packet" && st.direction === ">") return this.outbound(st);
    const due = this.due(st);
    if (due !== undefined) await this.waitUntil(due.at);
    switch (st.type) {
      case "packet":
        return this.inbound(st);
      case "syscall":
        return this.syscall(st, due?.base ?? this.nowUs());
      case "shell":
        return this.shell(st.command);
      case "code":
        return this.code(st.code);
      default:
        throw new Stop("unsupported", `${st.type} statements are not supported`);
    }
  }

  private async finish(): Promise<void> {
    const p = this.pending;
    if (p !== undefined) {
      while (this.pending !== undefined) {
        await this.pollPending();
        if (this.pending !== undefined) this.step(p.limitUs + 1);
      }
    }
    this.failOnUnexpected(", after the last statement");
  }

  // ---- packets -----------------------------------------------------------------

  private inbound(st: PacketStatement): void {
    const { attachment } = this.world();
    const c = this.conn;
    const seqStart = st.seq.kind === "range" ? st.seq.start : 0;
    if (c.phase === "listening") {
      // packetdrill: the first segment reaching a listening socket makes the
      // connection under test; its seq is the peer's ISN, whatever its flags.
      c.phase = "passiveReceived";
      c.remoteIsn = u32(seqStart);
      c.scriptLocalIsn = 0;
      c.liveLocalIsn = 0;
      c.remotePort = REMOTE_PORT;
    }
    const syn = (st.flagMask & Flag.SYN) !== 0;
    const ack = (st.flagMask & Flag.ACK) !== 0;
    if (c.phase === "synAckSent" && ack) c.phase = "synAckAcked";
    else if (c.phase === "synSent" && syn && ack) {
      c.phase = "synAcked";
      c.remoteIsn = u32(seqStart);
    }
    const absolute = st.seq.kind === "range" && st.seq.absolute;
    const seq = absolute || syn ? u32(seqStart) : u32(seqStart + c.remoteIsn);
    const ackOffset = syn ? c.liveLocalIsn - c.scriptLocalIsn : c.liveLocalIsn;
    const ackNum = ack ? u32((st.ack ?? 0) + ackOffset) : u32(st.ack ?? 0);
    const options =
      st.options === "any" ? [] : st.options.map((o) => this.liveOption(o, ackOffset));
    const ecn = st.ip?.ecn;
    const ecnBits = ecn === "ect1" ? 1 : ecn === "ect0" ? 2 : ecn === "ce" ? 3 : 0;
    const tos = ((st.ip?.tos ?? 0) & ~3) | ecnBits;
    const seg = {
      srcPort: c.remotePort,
      dstPort: c.localPort,
      seq,
      ack: ackNum,
      flags: st.flagMask,
      window: st.win ?? this.personality.script.inboundWindow,
      urgentPointer: st.urg ?? 0,
      options,
      payload: new Uint8Array(st.seq.len),
    };
    const ttl = st.ip?.ttl;
    // IPv6 has no DF bit or fragment ID: the Traffic Class takes the TOS byte, the Hop Limit the TTL (RFC 8200 §3).
    const packet =
      this.family === 6
        ? buildTcpPacket6(ip6(REMOTE_ADDR6), ip6(LOCAL_ADDR6), seg, {
            trafficClass: tos,
            ...(ttl !== undefined ? { hopLimit: ttl } : {}),
            ...(st.ip?.flowLabel !== undefined ? { flowLabel: st.ip.flowLabel } : {}),
          })
        : buildTcpPacket(ip(REMOTE_ADDR), ip(LOCAL_ADDR), seg, {
            tos,
            ...(ttl !== undefined ? { ttl } : {}),
          });
    if (this.deliver === undefined)
      throw new Stop("failed", "internal error: the host is not attached");
    this.onPacket?.("<", packet);
    this.deliver(packet);
    attachment.flush();
  }

  private liveOption(o: PdTcpOption, ackOffset: number): TcpOption {
    switch (o.kind) {
      case "sack":
        return {
          kind: "sack",
          blocks: o.blocks.map(([l, r]) => [u32(l + ackOffset), u32(r + ackOffset)] as const),
        };
      case "timestamps":
        // The echo reply names a TS val of ours in the script's terms.
        return { kind: "timestamps", tsVal: o.tsVal, tsEcr: this.tsVals.get(o.tsEcr) ?? o.tsEcr };
      case "md5":
      case "fastOpen":
        throw new Stop("unsupported", `${o.kind} option`);
      default:
        return o;
    }
  }

  /** A captured packet in the script's terms; undefined if it is not TCP. */
  private actualOf(c: Captured, absoluteSeq = false): ActualSegment | undefined {
    if (c.tcp === undefined) return undefined;
    const { tos, ttl, seg } = c.tcp;
    const syn = (seg.flags & Flag.SYN) !== 0;
    const k = this.conn;
    const seqOffset = syn ? k.liveLocalIsn - k.scriptLocalIsn : k.liveLocalIsn;
    const ackOffset = syn ? 0 : k.remoteIsn;
    return {
      flags: seg.flags,
      seq: absoluteSeq ? seg.seq : u32(seg.seq - seqOffset),
      ack: seg.flags & Flag.ACK ? u32(seg.ack - ackOffset) : seg.ack,
      win: seg.window,
      urg: seg.urgentPointer,
      options: seg.options,
      sackBase: ackOffset,
      payloadLen: seg.payload.length,
      tos,
      ttl,
    };
  }

  private describeOut(c: Captured): string {
    const a = this.actualOf(c);
    return a !== undefined ? formatActual(a) : formatIpPacket(c.bytes);
  }

  private async outbound(st: PacketStatement): Promise<void> {
    const c = this.conn;
    const syn = (st.flagMask & Flag.SYN) !== 0;
    const ack = (st.flagMask & Flag.ACK) !== 0;
    if (st.seq.kind === "range") {
      if (c.phase === "connecting" && syn && !ack) {
        c.phase = "synSent";
        c.scriptLocalIsn = u32(st.seq.start);
      } else if (c.phase === "passiveReceived" && syn && ack) {
        c.scriptLocalIsn = u32(st.seq.start);
      }
    }
    const due = this.due(st);
    const lo = due === undefined ? Number.NEGATIVE_INFINITY : due.at - this.tolerance(due.at);
    const hi =
      due === undefined ? this.nowUs() + ANY_TIME_WAIT_USECS : due.end + this.tolerance(due.at);
    const expected = formatExpected(st);
    let guard = 0;
    while (this.out.length === 0) {
      await this.pollPending();
      if (this.out.length > 0) break;
      if (this.nowUs() >= hi) {
        throw new Stop("failed", `expected ${expected} but nothing was sent by ${secs(hi)} s`, {
          expected,
        });
      }
      this.step(hi);
      if (++guard > 1_000_000)
        throw new Stop("failed", "the clock made no progress (timer livelock)");
    }
    const captured = this.out.shift() as Captured;
    const live = captured.tcp?.seg;
    const flags = live?.flags ?? 0;
    const liveSyn = (flags & Flag.SYN) !== 0;
    const liveAck = (flags & Flag.ACK) !== 0;
    if (c.phase === "synSent" && liveSyn && !liveAck) {
      c.liveLocalIsn = live?.seq ?? 0;
      if (live !== undefined) c.localPort = live.srcPort;
    } else if (c.phase === "passiveReceived" && syn && ack) {
      c.liveLocalIsn = live?.seq ?? 0;
      c.phase = "synAckSent";
    }
    const actual = this.actualOf(captured, st.seq.kind === "range" && st.seq.absolute);
    if (actual === undefined) {
      throw new Stop(
        "failed",
        `expected ${expected} but tcplab sent ${formatIpPacket(captured.bytes)}`,
        {
          expected,
          actual: formatIpPacket(captured.bytes),
        },
      );
    }
    const fields = compareSegment(st, actual, this.ignoreOptions);
    if (live !== undefined && (live.srcPort !== c.localPort || live.dstPort !== c.remotePort)) {
      fields.unshift({
        field: "ports",
        expected: `${c.localPort}>${c.remotePort}`,
        actual: `${live.srcPort}>${live.dstPort}`,
      });
    }
    if (captured.atUs < lo || captured.atUs > hi) {
      const want =
        due === undefined
          ? "any time"
          : due.end !== due.at
            ? `${secs(due.at)}~${secs(due.end)} s`
            : `${secs(due.at)} s`;
      fields.push({
        field: "time",
        expected: `${want} (± ${secs(this.tolerance(due?.at ?? 0))})`,
        actual: `${secs(captured.atUs)} s`,
      });
    }
    this.rememberTsVal(st, captured);
    if (fields.length > 0) {
      const what = fields.map((f) => f.field).join(", ");
      throw new Stop("failed", `tcplab's packet differs in ${what}`, {
        fields,
        expected,
        actual: `${formatActual(actual)} at ${secs(captured.atUs)} s`,
      });
    }
  }

  /** packetdrill maps the script's TS val to ours, so later echo replies can name it. */
  private rememberTsVal(st: PacketStatement, c: Captured): void {
    if (st.options === "any") return;
    const want = st.options.find((o) => o.kind === "timestamps");
    const got = c.tcp?.seg.options.find((o) => o.kind === "timestamps");
    if (want?.kind !== "timestamps" || got?.kind !== "timestamps") return;
    this.tsVals.set(want.tsVal, got.tsVal);
  }

  // ---- system calls ----------------------------------------------------------------

  private async syscall(st: SyscallStatement, baseUs: number): Promise<void> {
    const { sockets } = this.world();
    if (st.endTime !== undefined && this.pending !== undefined) {
      // packetdrill runs one blocking call at a time: wait for the previous one.
      const p = this.pending;
      while (this.pending !== undefined) {
        await this.pollPending();
        if (this.pending !== undefined) this.step(p.limitUs + 1);
      }
    }
    const started = startSyscall(st, {
      sockets,
      personality: this.personality,
      fds: this.fds,
      bindPort: this.bindPort,
      family: this.family,
      domain: this.domain,
      remoteAddr: this.remoteAddr(),
      connectPort: this.connectPort,
      now: () => this.clock.now(),
      connected: (fd) => {
        const tcb = sockets.tcbOf(fd);
        this.conn.phase = "connecting";
        this.conn.remotePort = this.connectPort;
        this.conn.scriptLocalIsn = 0;
        this.conn.liveLocalIsn = 0;
        this.conn.remoteIsn = 0;
        if (tcb !== undefined) this.conn.localPort = tcb.local.port;
      },
      listening: (fd) => {
        this.conn.phase = "listening";
        const info = sockets.info(fd);
        if (!(info instanceof Error) && info.local !== undefined)
          this.conn.localPort = info.local.port;
      },
      mssKnown: (fd) => {
        const t = sockets.tcbOf(fd);
        return (
          t !== undefined &&
          (this.synced.has(t) || (t.state !== State.SynSent && t.state !== State.Closed))
        );
      },
    });
    if (started.kind === "unsupported") throw new Stop("unsupported", started.reason);
    if (st.endTime !== undefined) {
      // `...END` is on the same base as the start: absolute, or relative to the previous statement.
      const endUs = baseUs + st.endTime.usecs;
      this.pending = {
        st,
        complete: started.complete,
        endUs,
        limitUs: endUs + this.tolerance(endUs),
      };
      await this.pollPending();
      return;
    }
    await immediate();
    const o = started.complete();
    if (o === undefined) {
      throw new Stop(
        "failed",
        `${st.name}() blocked, but the script expects it to return at once (write \`...END\` before a call that blocks)`,
      );
    }
    this.verifyCall(st, o);
  }

  private verifyCall(st: SyscallStatement, o: CallOutcome): void {
    const fields = [...checkResult(st.result, o, this.syms), ...o.diffs];
    if (fields.length > 0) {
      throw new Stop("failed", `${st.name}() did not return what the script expects`, {
        statement: st,
        fields,
      });
    }
    o.commit?.();
    if (o.note !== undefined) this.trace?.(`${secs(this.nowUs())}       ${o.note}`);
  }

  /** The peer as the script's sockets name it: ::ffff:10.0.0.1 on AF_INET6 over IPv4. */
  private remoteAddr(): string {
    if (this.family === 6) return REMOTE_ADDR6;
    return this.domain === "AF_INET6" ? `::ffff:${REMOTE_ADDR}` : REMOTE_ADDR;
  }

  // ---- shell and code ----------------------------------------------------------------

  private async shell(command: string): Promise<void> {
    const a = parseShell(command);
    switch (a.kind) {
      case "unsupported":
        throw new Stop("unsupported", a.reason);
      case "sysctl":
        return this.sysctl(a.name, a.value);
      case "sockstat":
        return this.sockstat(a);
      case "tcpdrop": {
        const { host, attachment } = this.world();
        const now = this.clock.now();
        for (const tcb of host.connections())
          if (FREEBSD_NAME[tcb.state] === a.state) tcb.abort(now);
        attachment.flush();
        return;
      }
    }
  }

  private sysctl(name: string, value: string): void {
    const e = sysctlEffect(name, value);
    const before = { ...this.settings };
    switch (e.kind) {
      case "unsupported":
        throw new Stop("unsupported", e.reason);
      case "default":
        return;
      case "fixed":
        if (!this.notes.includes(e.note)) this.notes.push(e.note);
        return;
      case "settings":
        this.settings = { ...this.settings, ...e.patch };
        break;
    }
    const after: Partial<TcpSettings> = { ...this.settings };
    if (this.host !== undefined) {
      const changed = (Object.keys(after) as (keyof TcpSettings)[]).filter(
        (k) => after[k] !== before[k],
      );
      if (changed.length > 0) {
        // Settings are copied into each connection when it opens: this applies to later ones.
        Object.assign(this.host.tcpSettings, after);
        if (this.laterStatementsUseSockets()) {
          this.notes.push(
            `sysctl ${name}=${value} at line ${this.current?.line ?? "?"} applies to connections opened after it`,
          );
        }
      }
    }
  }

  private laterStatementsUseSockets(): boolean {
    const i = this.current === undefined ? -1 : this.statements.indexOf(this.current);
    return this.statements.slice(i + 1).some((s) => s.type !== "shell");
  }

  private sockstat(a: Extract<ShellAction, { kind: "sockstat" }>): void {
    const { host, sockets } = this.world();
    const owned = new Set<TcbView>();
    const entries: {
      state: string;
      family: IpFamily;
      local?: number;
      remote?: number;
      owned: boolean;
    }[] = [];
    // A socket with no endpoint yet is of the domain the script opens its sockets in.
    const familyOfEntry = (ep: Endpoint | undefined) =>
      ep === undefined ? (this.domain === "AF_INET6" ? 6 : 4) : familyOf(ep);
    for (const info of sockets.list()) {
      if (info.type !== "tcp") continue;
      if (info.tcb !== undefined) owned.add(info.tcb);
      const state =
        info.tcb !== undefined
          ? FREEBSD_NAME[info.tcb.state]
          : info.state === "LISTEN"
            ? "LISTEN"
            : "CLOSED";
      entries.push({
        state,
        family: familyOfEntry(info.local ?? info.remote),
        ...(info.local ? { local: info.local.port } : {}),
        ...(info.remote ? { remote: info.remote.port } : {}),
        owned: true,
      });
    }
    for (const tcb of host.connections()) {
      if (owned.has(tcb)) continue;
      entries.push({
        state: FREEBSD_NAME[tcb.state],
        family: familyOf(tcb.local),
        local: tcb.local.port,
        remote: tcb.remote.port,
        owned: false,
      });
    }
    const count = entries.filter(
      (e) =>
        e.state === a.state &&
        (a.families.length === 0 || a.families.includes(e.family)) &&
        (!a.ownedOnly || e.owned) &&
        (a.port === undefined || e.local === a.port || e.remote === a.port),
    ).length;
    // `grep -c STATE | grep N` succeeds when the count's text contains N.
    if (!String(count).includes(a.expect)) {
      const all = entries.map((e) => `${e.state}${e.owned ? "" : " (no fd)"}`).join(", ") || "none";
      throw new Stop(
        "failed",
        `${count} socket(s) in ${a.state}, the script expects ${a.expect} (tcplab's sockets: ${all})`,
        {
          fields: [{ field: `sockets in ${a.state}`, expected: a.expect, actual: String(count) }],
        },
      );
    }
  }

  private code(code: string): void {
    const m = ASSERT_STATE.exec(code.trim());
    const wantName = m?.[1];
    const want = wantName === undefined ? undefined : TCPI_STATES[wantName];
    if (wantName === undefined || want === undefined)
      throw new Stop("unsupported", `code snippet %{ ${code} }%`);
    const got = this.connectionState();
    if (got !== want) {
      const gotName = Object.entries(TCPI_STATES).find(([, s]) => s === got)?.[0] ?? String(got);
      throw new Stop("failed", `tcpi_state is ${gotName}, the script asserts ${wantName}`, {
        fields: [{ field: "tcpi_state", expected: wantName, actual: gotName }],
      });
    }
  }

  /** The state of the connection under test (packetdrill's socket under test). */
  private connectionState(): State {
    const { host, sockets } = this.world();
    const k = this.conn;
    const match = (t: TcbView) => t.local.port === k.localPort && t.remote.port === k.remotePort;
    const live = host.connections().find(match);
    if (live !== undefined) return live.state;
    const held = sockets.list().find((i) => i.tcb !== undefined && match(i.tcb));
    if (held?.tcb !== undefined) return held.tcb.state;
    return k.phase === "listening" ? State.Listen : State.Closed;
  }
}

export { FREEBSD_STATES };
