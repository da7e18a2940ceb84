/**
 * System calls of packetdrill scripts performed on tcplab's Sockets.
 *
 * A call starts now and completes now or later (a blocking accept, read,
 * connect …): `startSyscall` returns a `complete()` to poll, which returns
 * undefined while the call blocks. The outcome is what the C call would
 * return (a number, or -1 and an errno name) plus any difference in values
 * the call writes back (getsockopt's option, poll's revents). Comparing the
 * return value with the script's is the runner's job (`checkResult`).
 */

import { SocketError } from "../../api/errors.ts";
import type { SocketOption, Sockets, WritableOption } from "../../api/sockets.ts";
import { State } from "../../tcp/state.ts";
import type { Personality } from "../../tcp/personality.ts";
import { settingsForFamily } from "../../tcp/settings.ts";
import type { IpFamily } from "../../wire/addr.ts";
import { formatTraceEndpoint, type IpEndpoint } from "../../wire/ip-addr.ts";
import type { Expr, SyscallResult, SyscallStatement } from "../script/index.ts";
import type { FieldDiff } from "./report.ts";

export interface CallOutcome {
  /** The C return value: 0, a count, an fd, or -1 with `errno`. */
  readonly ret: number;
  readonly errno?: string;
  /** Values written back that differ from the script's (getsockopt, poll). */
  readonly diffs: readonly FieldDiff[];
  /** Runs once the outcome matched the script (fd bookkeeping). */
  readonly commit?: () => void;
  /** A line for the trace: the ends a new connection's socket names. */
  readonly note?: string;
}

export type Started =
  | { readonly kind: "unsupported"; readonly reason: string }
  | { readonly kind: "call"; readonly complete: () => CallOutcome | undefined };

/** What a call needs from the runner. */
export interface SyscallHost {
  readonly sockets: Sockets;
  readonly personality: Personality;
  /** The script's fd → tcplab's fd. */
  readonly fds: Map<number, number>;
  readonly bindPort: number;
  /** The family of the script's packets (the MSS a socket offers before it knows the peer's). */
  readonly family: IpFamily;
  /** What `socket(..., …)` opens, as packetdrill's socket_domain: AF_INET6 under ipv6 and ipv4-mapped-ipv6. */
  readonly domain: "AF_INET" | "AF_INET6";
  /** The peer's address as the script's sockets name it (::ffff:10.0.0.1 under ipv4-mapped-ipv6). */
  readonly remoteAddr: string;
  readonly connectPort: number;
  /** Virtual now in ms (poll timeouts). */
  now(): number;
  /** A connect or listen changed what packets belong to (packetdrill's socket under test). */
  connected(liveFd: number): void;
  listening(liveFd: number): void;
  /** Whether this fd's connection has learned the peer's MSS (for SO_RCVBUF rounding). */
  mssKnown(liveFd: number): boolean;
}

// ---- symbols -------------------------------------------------------------

const POLL = {
  POLLIN: 0x1,
  POLLPRI: 0x2,
  POLLOUT: 0x4,
  POLLERR: 0x8,
  POLLHUP: 0x10,
  POLLNVAL: 0x20,
};

function symbols(p: Personality): Readonly<Record<string, number>> {
  return {
    AF_INET: 2,
    PF_INET: 2,
    SOCK_STREAM: 1,
    IPPROTO_TCP: 6,
    IPPROTO_IP: 0,
    F_GETFL: 3,
    F_SETFL: 4,
    O_RDWR: p.sockets.oRdwr,
    O_RDONLY: 0,
    O_WRONLY: 1,
    O_NONBLOCK: p.sockets.oNonblock,
    SHUT_RD: 0,
    SHUT_WR: 1,
    SHUT_RDWR: 2,
    MSG_PEEK: 0x2,
    ...POLL,
    POLLRDNORM: POLL.POLLIN,
    POLLWRNORM: POLL.POLLOUT,
  };
}

/** An integer from an expression: a number, a known symbol, `A | B`, or `[N]`. */
export function intOf(
  e: Expr | undefined,
  syms: Readonly<Record<string, number>>,
): number | undefined {
  if (e === undefined) return undefined;
  switch (e.kind) {
    case "int":
      return e.value;
    case "word":
      return syms[e.name];
    case "or": {
      let v = 0;
      for (const o of e.operands) {
        const x = intOf(o, syms);
        if (x === undefined) return undefined;
        v |= x;
      }
      return v;
    }
    case "array":
      return e.items.length === 1 ? intOf(e.items[0], syms) : undefined;
    default:
      return undefined;
  }
}

function show(e: Expr | undefined): string {
  if (e === undefined) return "(missing)";
  switch (e.kind) {
    case "ellipsis":
      return "...";
    case "int":
      return e.text;
    case "word":
      return e.name;
    case "string":
      return JSON.stringify(e.value) + (e.ellipsis ? "..." : "");
    case "or":
      return e.operands.map(show).join(" | ");
    case "array":
      return `[${e.items.map(show).join(", ")}]`;
    case "struct":
      return `{${e.fields.map((f) => (f.name ? `${f.name}=${show(f.value)}` : show(f.value))).join(", ")}}`;
    case "call":
      return `${e.name}(${e.args.map(show).join(", ")})`;
    case "assign":
      return `${e.name}=${show(e.value)}`;
  }
}

/** EWOULDBLOCK is EAGAIN on every system packetdrill runs on. */
function sameErrno(a: string, b: string): boolean {
  const norm = (x: string) => (x === "EWOULDBLOCK" ? "EAGAIN" : x);
  return norm(a) === norm(b);
}

/** socket()'s domains by name; `...` is the script's --ip_version. */
const DOMAINS: Readonly<Record<string, "AF_INET" | "AF_INET6">> = {
  AF_INET: "AF_INET",
  PF_INET: "AF_INET",
  AF_INET6: "AF_INET6",
  PF_INET6: "AF_INET6",
};

const SUPPORTED = new Set([
  "socket",
  "bind",
  "listen",
  "accept",
  "connect",
  "read",
  "recv",
  "write",
  "send",
  "shutdown",
  "close",
  "fcntl",
  "getsockopt",
  "setsockopt",
  "poll",
]);

/** Why a call cannot run at all (before the script starts), or undefined. */
export function unsupportedSyscall(st: SyscallStatement): string | undefined {
  if (!SUPPORTED.has(st.name)) return `system call ${st.name}() is not supported by the runner`;
  if (st.name === "socket") {
    const type = st.args[1];
    if (type?.kind === "word" && type.name !== "SOCK_STREAM") {
      return `socket(…, ${type.name}, …): only SOCK_STREAM (TCP) sockets are supported`;
    }
    const dom = st.args[0];
    if (dom?.kind === "word" && DOMAINS[dom.name] === undefined) {
      return `socket(${dom.name}, …): only AF_INET and AF_INET6 sockets are supported`;
    }
  }
  return undefined;
}

// ---- result checking -----------------------------------------------------

/** The differences between what a call returned and the script's `= …` part. */
export function checkResult(
  expected: SyscallResult,
  got: CallOutcome,
  syms: Readonly<Record<string, number>>,
): FieldDiff[] {
  const diffs: FieldDiff[] = [];
  const gotText =
    got.ret < 0 && got.errno !== undefined ? `${got.ret} ${got.errno}` : String(got.ret);
  if (expected.value.kind !== "ellipsis") {
    const want = intOf(expected.value, syms);
    if (want === undefined) {
      diffs.push({ field: "result", expected: show(expected.value), actual: gotText });
    } else if (want !== got.ret) {
      const wantText = expected.errno !== undefined ? `${want} ${expected.errno}` : String(want);
      diffs.push({ field: "result", expected: wantText, actual: gotText });
    } else if (expected.errno !== undefined && !sameErrno(expected.errno, got.errno ?? "")) {
      diffs.push({ field: "errno", expected: expected.errno, actual: got.errno ?? "none" });
    }
  }
  return diffs;
}

// ---- calls -----------------------------------------------------------------

const ok = (ret: number, diffs: FieldDiff[] = [], commit?: () => void): CallOutcome =>
  commit === undefined ? { ret, diffs } : { ret, diffs, commit };
const fail = (e: SocketError): CallOutcome => ({ ret: -1, errno: e.code, diffs: [] });

/** Completes when the promise settles (on a later microtask, or when a blocked call wakes). */
function fromPromise<T>(p: Promise<T>, convert: (v: T) => CallOutcome): Started {
  let out: CallOutcome | undefined;
  void p.then((v) => {
    out = convert(v);
  });
  return { kind: "call", complete: () => out };
}

const now = (o: CallOutcome): Started => ({ kind: "call", complete: () => o });
const unsup = (reason: string): Started => ({ kind: "unsupported", reason });

/** `accepted fd 4: ::ffff:10.0.0.2.8080 to ::ffff:10.0.0.1.40000`, from getsockname and getpeername. */
function ends(s: Sockets, fd: number, what: string): string {
  const local = s.getsockname(fd);
  const peer = s.getpeername(fd);
  const text = (e: IpEndpoint | SocketError) =>
    e instanceof SocketError ? e.code : formatTraceEndpoint(e);
  return `${what} fd ${fd}: ${text(local)} to ${text(peer)}`;
}

export function startSyscall(st: SyscallStatement, h: SyscallHost): Started {
  const syms = symbols(h.personality);
  const early = unsupportedSyscall(st);
  if (early !== undefined) return unsup(early);
  const a = st.args;
  const s = h.sockets;

  if (st.name === "socket") {
    const dom = a[0];
    const fd = s.socket("tcp", dom?.kind === "word" ? (DOMAINS[dom.name] ?? h.domain) : h.domain);
    if (fd instanceof SocketError) return now(fail(fd));
    const scriptFd = intOf(st.result.value, syms);
    return now(ok(fd, [], () => h.fds.set(scriptFd ?? fd, fd)));
  }

  // Every other call takes an fd first.
  const scriptFd = intOf(a[0], syms);
  if (st.name !== "poll" && scriptFd === undefined)
    return unsup(`${st.name}(${show(a[0])}, …): the fd must be a number`);
  const fd = scriptFd === undefined ? -1 : (h.fds.get(scriptFd) ?? 1_000_000 + scriptFd);

  switch (st.name) {
    case "bind": {
      if (a[1]?.kind !== "ellipsis") return unsup(`bind with an explicit address ${show(a[1])}`);
      const r = s.bind(fd, h.bindPort);
      return now(r instanceof SocketError ? fail(r) : ok(0));
    }
    case "listen": {
      const backlog = intOf(a[1], syms);
      if (backlog === undefined) return unsup(`listen backlog ${show(a[1])}`);
      const r = s.listen(fd, backlog);
      return now(r instanceof SocketError ? fail(r) : ok(0, [], () => h.listening(fd)));
    }
    case "accept": {
      const want = intOf(st.result.value, syms);
      return fromPromise(s.accept(fd), (r) =>
        r instanceof SocketError
          ? fail(r)
          : // packetdrill's CHECK_FD: any fd satisfies an expected fd ≥ 0; it is mapped.
            {
              ret: want !== undefined && want >= 0 ? want : r,
              diffs: [],
              commit: () => h.fds.set(want ?? r, r),
              note: ends(s, r, "accepted"),
            },
      );
    }
    case "connect": {
      if (a[1]?.kind !== "ellipsis") return unsup(`connect to an explicit address ${show(a[1])}`);
      const p = s.connect(fd, h.remoteAddr, h.connectPort);
      // The SYN is queued at once, blocking or not: packets now belong to this connection.
      if (s.tcbOf(fd) !== undefined) h.connected(fd);
      return fromPromise(p, (r) =>
        r instanceof SocketError ? fail(r) : { ...ok(0), note: ends(s, fd, "connected") },
      );
    }
    case "read":
    case "recv": {
      const max = intOf(a[2], syms);
      if (max === undefined) return unsup(`${st.name} length ${show(a[2])}`);
      const flags = st.name === "recv" ? (intOf(a[3], syms) ?? 0) : 0;
      if (flags & ~syms.MSG_PEEK!) return unsup(`recv flags ${show(a[3])}`);
      const tcb = s.tcbOf(fd);
      if (flags & syms.MSG_PEEK! && tcb !== undefined && tcb.recvAvailable > 0) {
        // MSG_PEEK: what a read would return, left in the queue.
        return now(ok(tcb.peek(max).length));
      }
      if (max === 0) return now(ok(0));
      return fromPromise(s.recv(fd, max), (r) =>
        r instanceof SocketError ? fail(r) : ok(r.length),
      );
    }
    case "write":
    case "send": {
      const n = intOf(a[2], syms);
      if (n === undefined) return unsup(`${st.name} length ${show(a[2])}`);
      if (st.name === "send" && (intOf(a[3], syms) ?? 0) !== 0)
        return unsup(`send flags ${show(a[3])}`);
      const buf = a[1];
      // packetdrill writes zeros for `...`; a string is written as its bytes.
      const data = new Uint8Array(n);
      if (buf?.kind === "string") data.set(new TextEncoder().encode(buf.value).subarray(0, n));
      return fromPromise(s.send(fd, data), (r) => (r instanceof SocketError ? fail(r) : ok(r)));
    }
    case "shutdown": {
      const how = intOf(a[1], syms);
      const map = ["rd", "wr", "rdwr"] as const;
      const h2 = how === undefined ? undefined : map[how];
      if (h2 === undefined) return unsup(`shutdown how ${show(a[1])}`);
      const r = s.shutdown(fd, h2);
      return now(r instanceof SocketError ? fail(r) : ok(0));
    }
    case "close": {
      const r = s.close(fd);
      return now(
        r instanceof SocketError
          ? fail(r)
          : ok(0, [], () => scriptFd !== undefined && h.fds.delete(scriptFd)),
      );
    }
    case "fcntl":
      return fcntl(st, fd, h, syms);
    case "getsockopt":
      return getsockopt(st, fd, h, syms);
    case "setsockopt":
      return setsockopt(st, fd, h, syms);
    case "poll":
      return poll(st, h, syms);
    default:
      return unsup(`system call ${st.name}()`);
  }
}

function fcntl(
  st: SyscallStatement,
  fd: number,
  h: SyscallHost,
  syms: Readonly<Record<string, number>>,
): Started {
  const cmd = intOf(st.args[1], syms);
  const info = h.sockets.info(fd);
  if (info instanceof SocketError) return now(fail(info));
  const { oRdwr, oNonblock } = h.personality.sockets;
  if (cmd === syms.F_GETFL) return now(ok(oRdwr | (info.nonBlocking ? oNonblock : 0)));
  if (cmd === syms.F_SETFL) {
    const flags = intOf(st.args[2], syms);
    if (flags === undefined) return unsup(`fcntl F_SETFL ${show(st.args[2])}`);
    const r = h.sockets.setNonBlocking(fd, (flags & oNonblock) !== 0);
    return now(r instanceof SocketError ? fail(r) : ok(0));
  }
  return unsup(`fcntl command ${show(st.args[1])}`);
}

const SOCKOPT: Readonly<Record<string, SocketOption>> = {
  SO_RCVBUF: "SO_RCVBUF",
  SO_SNDBUF: "SO_SNDBUF",
  SO_REUSEADDR: "SO_REUSEADDR",
  SO_ERROR: "SO_ERROR",
  SO_LINGER: "SO_LINGER",
  TCP_NODELAY: "TCP_NODELAY",
};

function optName(e: Expr | undefined): string | undefined {
  return e?.kind === "word" ? e.name : undefined;
}

function getsockopt(
  st: SyscallStatement,
  fd: number,
  h: SyscallHost,
  syms: Readonly<Record<string, number>>,
): Started {
  const name = optName(st.args[2]) ?? show(st.args[2]);
  const wantExpr = st.args[3];
  const want = wantExpr?.kind === "array" ? wantExpr.items[0] : wantExpr;
  let actual: number | string;
  if (name === "TCP_MAXSEG") {
    const tcb = h.sockets.tcbOf(fd);
    // Before the peer's MSS is known: the MSS we would offer, MTU − 40 or − 60 by the script's family.
    actual =
      tcb !== undefined && h.mssKnown(fd)
        ? tcb.sndMss
        : settingsForFamily(h.sockets.host.tcpSettings, h.family).mss;
  } else {
    const opt = SOCKOPT[name];
    if (opt === undefined || opt === "SO_LINGER") return unsup(`getsockopt ${name}`);
    const v = h.sockets.getsockopt(fd, opt);
    if (v instanceof SocketError) return now(fail(v));
    if (opt === "SO_ERROR") actual = v === undefined ? 0 : String(v);
    else if (typeof v === "boolean") actual = v ? 1 : 0;
    else if (typeof v === "number") actual = opt === "SO_RCVBUF" ? rcvBufView(v, fd, h) : v;
    else return unsup(`getsockopt ${name}`);
  }
  const diffs: FieldDiff[] = [];
  if (want !== undefined && want.kind !== "ellipsis") {
    if (typeof actual === "string" || (want.kind === "word" && syms[want.name] === undefined)) {
      // An errno name (SO_ERROR): compare names, 0 meaning none.
      const w = want.kind === "word" ? want.name : show(want);
      const g = String(actual);
      if (!sameErrno(w, g)) diffs.push({ field: name, expected: w, actual: g });
    } else {
      const w = intOf(want, syms);
      if (w !== actual) diffs.push({ field: name, expected: show(want), actual: String(actual) });
    }
  }
  return now(ok(0, diffs));
}

/**
 * SO_RCVBUF as the personality reports it: FreeBSD rounds the receive buffer
 * up to a multiple of the MSS once the connection knows it (tcp_mss()).
 * This is the socket layer's report only: tcplab's engine keeps its buffer
 * (capped at 65535 without window scaling), so the window after unread data
 * differs from FreeBSD's (docs/conformance.md, rcvbuf-window).
 */
function rcvBufView(v: number, fd: number, h: SyscallHost): number {
  const tcb = h.sockets.tcbOf(fd);
  if (h.personality.sockets.rcvBufRounding !== "mss" || tcb === undefined || !h.mssKnown(fd))
    return v;
  const mss = tcb.sndMss;
  return Math.ceil(v / mss) * mss;
}

function setsockopt(
  st: SyscallStatement,
  fd: number,
  h: SyscallHost,
  syms: Readonly<Record<string, number>>,
): Started {
  const name = optName(st.args[2]) ?? show(st.args[2]);
  const valueExpr = st.args[3];
  const opt = SOCKOPT[name];
  if (opt === undefined || opt === "SO_ERROR") return unsup(`setsockopt ${name}`);
  let r: undefined | SocketError;
  if (opt === "SO_LINGER") {
    const fields = valueExpr?.kind === "struct" ? valueExpr.fields : undefined;
    const onoff = intOf(
      fields?.find((f) => f.name === "l_onoff")?.value ?? fields?.[0]?.value,
      syms,
    );
    const secs = intOf(
      fields?.find((f) => f.name === "l_linger")?.value ?? fields?.[1]?.value,
      syms,
    );
    if (onoff === undefined || secs === undefined)
      return unsup(`setsockopt SO_LINGER ${show(valueExpr)}`);
    r = h.sockets.setsockopt(fd, "SO_LINGER", onoff ? secs : undefined);
  } else {
    const v = intOf(valueExpr, syms);
    if (v === undefined) return unsup(`setsockopt ${name} ${show(valueExpr)}`);
    const w = opt as WritableOption;
    r =
      w === "TCP_NODELAY" || w === "SO_REUSEADDR"
        ? h.sockets.setsockopt(fd, w, v !== 0)
        : h.sockets.setsockopt(fd, w as "SO_RCVBUF" | "SO_SNDBUF", v);
  }
  return now(r instanceof SocketError ? fail(r) : ok(0));
}

function poll(
  st: SyscallStatement,
  h: SyscallHost,
  syms: Readonly<Record<string, number>>,
): Started {
  const list = st.args[0];
  const timeout = intOf(st.args[2], syms);
  if (list?.kind !== "array" || timeout === undefined)
    return unsup(`poll(${st.args.map(show).join(", ")})`);
  const entries: { fd: number; events: number; revents: Expr | undefined }[] = [];
  for (const item of list.items) {
    if (item.kind !== "struct") return unsup(`poll entry ${show(item)}`);
    const get = (n: string) => item.fields.find((f) => f.name === n)?.value;
    const sfd = intOf(get("fd"), syms);
    const events = intOf(get("events"), syms) ?? 0;
    if (sfd === undefined) return unsup(`poll entry ${show(item)}`);
    entries.push({ fd: h.fds.get(sfd) ?? 1_000_000 + sfd, events, revents: get("revents") });
  }
  const deadline = timeout < 0 ? Number.POSITIVE_INFINITY : h.now() + timeout;
  const revents = (fd: number, events: number): number => {
    const r = h.sockets.poll(fd);
    if (r instanceof SocketError) return POLL.POLLNVAL;
    let v = 0;
    if (r.readable) v |= POLL.POLLIN;
    if (r.writable) v |= POLL.POLLOUT;
    if (r.error) v |= POLL.POLLERR;
    if (r.hup) v |= POLL.POLLHUP;
    // POLLERR, POLLHUP and POLLNVAL are reported whether asked for or not.
    return v & (events | POLL.POLLERR | POLL.POLLHUP | POLL.POLLNVAL);
  };
  return {
    kind: "call",
    complete: () => {
      const got = entries.map((e) => revents(e.fd, e.events));
      const ready = got.filter((v) => v !== 0).length;
      if (ready === 0 && h.now() < deadline) return undefined;
      const diffs: FieldDiff[] = [];
      entries.forEach((e, i) => {
        if (e.revents === undefined || e.revents.kind === "ellipsis") return;
        const want = intOf(e.revents, syms) ?? 0;
        if (want !== got[i])
          diffs.push({
            field: `revents of fd ${e.fd}`,
            expected: show(e.revents),
            actual: pollNames(got[i] ?? 0),
          });
      });
      return ok(ready, diffs);
    },
  };
}

function pollNames(v: number): string {
  const names = Object.entries(POLL)
    .filter(([, bit]) => v & bit)
    .map(([n]) => n);
  return names.length === 0 ? "0" : names.join("|");
}

/** The state names `tcpi_state` may be compared with, for each RFC state. */
export const TCPI_STATES: Readonly<Record<string, State>> = {
  TCPI_CLOSED: State.Closed,
  TCPI_CLOSE: State.Closed,
  TCPI_LISTEN: State.Listen,
  TCPI_SYN_SENT: State.SynSent,
  TCPI_SYN_RECEIVED: State.SynReceived,
  TCPI_SYN_RECV: State.SynReceived,
  TCPI_ESTABLISHED: State.Established,
  TCPI_CLOSE_WAIT: State.CloseWait,
  TCPI_FIN_WAIT_1: State.FinWait1,
  TCPI_FIN_WAIT1: State.FinWait1,
  TCPI_CLOSING: State.Closing,
  TCPI_LAST_ACK: State.LastAck,
  TCPI_FIN_WAIT_2: State.FinWait2,
  TCPI_FIN_WAIT2: State.FinWait2,
  TCPI_TIME_WAIT: State.TimeWait,
};

export { symbols };
