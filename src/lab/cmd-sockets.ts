/** Socket commands, Socklab style: every socket has an id like `#3`. */
import { SocketError } from "../api/errors.ts";
import type { Fd } from "../api/sockets.ts";
import { stateName } from "../tcp/state.ts";
import type { Endpoint } from "../wire/addr.ts";
import { formatIpAddr, type IpAddr } from "../wire/ip-addr.ts";
import { type AddrValue, portHint } from "./addr-arg.ts";
import { escapeBytes, unescapeBytes } from "./args.ts";
import type { Args, CommandContext, Registry } from "./registry.ts";
import type { LabEngine } from "./session.ts";
import { formatEp } from "./state-view.ts";
import type { Block, Line } from "./view.ts";
import type { LabHost } from "./world.ts";

type Ctx = CommandContext<LabEngine>;

export function err(message: string, usage?: string): Block {
  return usage === undefined ? { kind: "error", message } : { kind: "error", message, usage };
}

export function text(...lines: (string | Line)[]): Block {
  return { kind: "text", lines: lines.map((l) => (typeof l === "string" ? [{ text: l }] : l)) };
}

export function hint(message: string): Line {
  return [{ text: message, tone: "muted" }];
}

function sockErr(what: string, e: SocketError, usage: string): Block {
  return err(`${what}: ${e.message}`, usage);
}

/**
 * A new non-blocking socket: lab calls never wait; the clock decides when
 * things happen. An AF_INET6 one is IPv6-only (IPV6_V6ONLY), so `-4` and
 * `-6` each name one family and may share a port.
 */
function newSocket(host: LabHost, type: "tcp" | "udp", family: 4 | 6 = 4): Fd | SocketError {
  const fd = host.sockets.socket(type, family === 6 ? "AF_INET6" : "AF_INET");
  if (fd instanceof SocketError) return fd;
  host.sockets.setNonBlocking(fd, true);
  if (family === 6) host.sockets.setsockopt(fd, "IPV6_V6ONLY", true);
  return fd;
}

/**
 * The address an `addr` argument names: as written, or, with `-6`, the
 * IPv6 address of the host it names (`connect b 80 -6` → fd00::2).
 */
export function addrFor(ctx: Ctx, v: AddrValue, six: boolean): IpAddr | { error: string } {
  if (!six || v.ip.family === 6) return v.ip;
  if (v.host === undefined)
    return {
      error: `-6 picks a host's IPv6 address: give a host name or an IPv6 address, not ${formatIpAddr(v.ip)}`,
    };
  const h = ctx.engine.hostNamed(v.host);
  if (h?.addr6 === undefined) return { error: `${v.host} has no IPv6 address` };
  return { family: 6, addr: h.addr6 };
}

/**
 * The family switch of `listen` and `udp bind`: `-6` for AF_INET6, else
 * AF_INET. An IPv6 socket needs the host to have an IPv6 address (the
 * kernel world's host has none yet).
 */
function familyFlag(ctx: Ctx, a: Args, what: string, usage: string): 4 | 6 | Block {
  if (a.has("4") && a.has("6")) return err(`${what}: -4 or -6, not both`, usage);
  if (!a.has("6")) return 4;
  return ctx.host.addr6 === undefined
    ? err(`${what} -6: ${ctx.host.name} has no IPv6 address`, usage)
    : 6;
}

/** The host's own endpoint of `family` on `port` (a listener takes its peers there). */
function own(host: LabHost, family: 4 | 6, port: number): Endpoint {
  return family === 6 && host.addr6 !== undefined
    ? { family: 6, addr: host.addr6, port }
    : { addr: host.addr, port };
}

function pausedHint(ctx: Ctx): Line[] {
  return ctx.engine.clock.mode === "paused"
    ? [hint("the clock is paused: `step` delivers what is on the wire")]
    : [];
}

/** Text of a `send`/`udp sendto` argument: surrounding quotes removed, escapes read. */
export function readText(raw: string): Uint8Array | { error: string } {
  let t = raw;
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) t = t.slice(1, -1);
  return unescapeBytes(t);
}

/** The most one `send --bytes` generates: the send buffer takes what fits, the rest is refused. */
const MAX_SEND_BYTES = 64 * 1024 * 1024;
/** Bytes of a read that `recv` prints; it counts the rest. */
const RECV_SHOWN = 256;

const USAGE = {
  listen: "listen PORT [BACKLOG] [-4|-6]",
  connect: "connect ADDR PORT [-6] [--port LOCAL]  (or ADDR:PORT, [IPV6]:PORT)",
  accept: "accept [#ID]",
  send: "send #ID TEXT | send #ID --bytes N",
  recv: "recv #ID [N]",
  shutdown: "shutdown #ID rd|wr|rdwr",
  close: "close #ID",
  abort: "abort #ID",
  sockopt: "sockopt #ID NAME [VALUE]",
  udpBind: "udp bind PORT [-4|-6]",
  udpSendto: "udp sendto #ID ADDR PORT TEXT",
  udpRecv: "udp recv #ID",
} as const;

const SOCKOPTS = [
  "nodelay",
  "keepalive",
  "rcvbuf",
  "sndbuf",
  "reuseaddr",
  "linger",
  "error",
] as const;

export function registerSocketCommands(reg: Registry<LabEngine>): void {
  reg.add({
    name: "listen",
    usage: USAGE.listen,
    summary: "passive open: a listening socket on PORT",
    help: [
      "Creates a TCP socket, binds it to PORT and listens (RFC 9293 §3.10.1, passive OPEN).",
      "Handshakes complete without you; `accept` takes a finished connection from the queue.",
      "BACKLOG bounds the queue of completed connections (default 16).",
      "-4 (the default) listens for IPv4 peers (AF_INET), -6 for IPv6 peers (AF_INET6, fd00::/64):",
      "an IPv4 and an IPv6 listener may share a port, each taking the peers of its family.",
      "Example: b: listen 80    b: listen 80 -6",
    ],
    args: [
      { name: "PORT", kind: "port" },
      { name: "BACKLOG", kind: "int", optional: true, max: 4096 },
    ],
    flags: [{ name: "4" }, { name: "6" }],
    run(ctx, a) {
      const { sockets } = ctx.host;
      const port = a.num("PORT") as number;
      const backlog = a.num("BACKLOG") ?? 16;
      const family = familyFlag(ctx, a, "listen", USAGE.listen);
      if (typeof family === "object") return [family];
      const fd = newSocket(ctx.host, "tcp", family);
      if (fd instanceof SocketError) return [sockErr("listen", fd, USAGE.listen)];
      const bound = sockets.bind(fd, port);
      const listened = bound ?? sockets.listen(fd, backlog);
      if (listened instanceof SocketError) {
        sockets.close(fd);
        return [sockErr("listen", listened, USAGE.listen)];
      }
      return [
        text([
          { text: `#${fd}`, tone: "accent" },
          { text: ` listening on ${formatEp(own(ctx.host, family, port))} (backlog ${backlog})` },
        ]),
      ];
    },
  });

  reg.add({
    name: "connect",
    usage: USAGE.connect,
    summary: "active open: a SYN to ADDR PORT",
    help: [
      "Creates a TCP socket and connects it (RFC 9293 §3.10.1, active OPEN): the SYN leaves at once",
      "and the connection waits in SYN-SENT. ADDR is an IPv4 address, an IPv6 address or a host name",
      "(a, b); the port may be written with it: 10.0.0.2:80, [fd00::2]:80 (RFC 5952 §6: brackets",
      "around an IPv6 address with a port). -6 takes the named host's IPv6 address (b: fd00::2).",
      "The call does not block: watch the state table while the handshake goes on.",
      "--port LOCAL binds the local port first (else an ephemeral one is picked): two hosts",
      "connecting to each other's bound ports open simultaneously (RFC 9293 §3.5, figure 8).",
      "Example: connect 10.0.0.2 80    connect [fd00::2]:80    connect b 80 -6    connect b 80 --port 7000",
    ],
    args: [
      { name: "ADDR", kind: "addr", withPort: true },
      { name: "PORT", kind: "port", optional: true },
    ],
    flags: [{ name: "port", value: "int" }, { name: "6" }],
    async run(ctx, a) {
      const dest = a.addr("ADDR") as AddrValue;
      const addr = addrFor(ctx, dest, a.has("6"));
      if ("error" in addr) return [err(`connect: ${addr.error}`, USAGE.connect)];
      const written = a.num("PORT");
      if (dest.port !== undefined && written !== undefined)
        return [
          err(
            `connect: the port twice (:${dest.port} and ${written}): give it once`,
            USAGE.connect,
          ),
        ];
      const port = dest.port ?? written;
      if (port === undefined) {
        // fd00::2:80 is an address (its last group 0x80): a port needs the brackets.
        const six = addr.family === 6 ? portHint(formatIpAddr(addr)) : "";
        return [err(`connect: missing PORT${six}`, USAGE.connect)];
      }
      if (port < 1)
        return [err("connect: PORT should be a port number 1–65535, got 0", USAGE.connect)];
      const local = a.num("port");
      if (local !== undefined && (local < 1 || local > 65535)) {
        return [err(`connect: --port takes 1 to 65535, got ${local}`, USAGE.connect)];
      }
      const fd = newSocket(ctx.host, "tcp", addr.family);
      if (fd instanceof SocketError) return [sockErr("connect", fd, USAGE.connect)];
      if (local !== undefined) {
        const bound = ctx.host.sockets.bind(fd, local);
        if (bound instanceof SocketError) {
          ctx.host.sockets.close(fd);
          return [sockErr("connect", bound, USAGE.connect)];
        }
      }
      const r = await ctx.host.sockets.connect(fd, addr.addr, port);
      if (r instanceof SocketError && r.code !== "EINPROGRESS") {
        ctx.host.sockets.close(fd);
        return [sockErr("connect", r, USAGE.connect)];
      }
      const tcb = ctx.host.sockets.tcbOf(fd);
      const where = tcb !== undefined ? `${formatEp(tcb.local)} → ${formatEp(tcb.remote)}` : "";
      return [
        text(
          [
            { text: `#${fd}`, tone: "accent" },
            { text: ` ${where} ` },
            { text: tcb !== undefined ? stateName(tcb.state) : "connected", tone: "state" },
          ],
          ...pausedHint(ctx),
        ),
      ];
    },
  });

  reg.add({
    name: "accept",
    usage: USAGE.accept,
    summary: "take a completed connection from a listener",
    help: [
      "Takes the oldest connection whose handshake is complete from the listener's accept queue",
      "and gives it a new socket id. Without #ID, the host's first listener with a completed",
      "connection is used (or its first listener, if none has one yet).",
      "An empty queue is not an error: the handshake has not finished yet.",
    ],
    args: [{ name: "#ID", kind: "socket", optional: true }],
    async run(ctx, a) {
      const { sockets } = ctx.host;
      let fd = a.num("#ID");
      if (fd === undefined) {
        // As an application waiting on all its listeners would: the first one ready.
        const listeners = sockets.list().filter((s) => s.state === "LISTEN");
        const ready = listeners.find((s) => {
          const p = sockets.poll(s.fd);
          return !(p instanceof SocketError) && p.readable;
        });
        const l = ready ?? listeners[0];
        if (l === undefined)
          return [err(`accept: no listening socket on ${ctx.host.name}`, USAGE.accept)];
        fd = l.fd;
      }
      const r = await sockets.accept(fd);
      if (r instanceof SocketError) {
        if (r.code === "EAGAIN") {
          return [
            text(
              `nothing to accept yet: the accept queue of #${fd} is empty`,
              hint(
                "a connection enters the queue when its handshake completes (SYN-RECEIVED → ESTABLISHED)",
              ),
            ),
          ];
        }
        return [sockErr("accept", r, USAGE.accept)];
      }
      sockets.setNonBlocking(r, true);
      const tcb = sockets.tcbOf(r);
      return [
        text([
          { text: `#${r}`, tone: "accent" },
          {
            text: ` accepted on #${fd}: ${tcb ? `${formatEp(tcb.local)} ← ${formatEp(tcb.remote)} ` : ""}`,
          },
          { text: tcb ? stateName(tcb.state) : "", tone: "state" },
        ]),
      ];
    },
  });

  reg.add({
    name: "send",
    usage: USAGE.send,
    summary: "queue bytes for sending on a connection",
    help: [
      "Puts TEXT (escapes: \\r \\n \\t \\\\ \\xHH; quotes optional) in the send buffer (RFC 9293 §3.10.2).",
      "--bytes N sends N generated bytes instead. Segments leave as the window, Nagle and MSS allow.",
      'Example: send #3 "GET / HTTP/1.0\\r\\n\\r\\n"',
    ],
    args: [
      { name: "#ID", kind: "socket" },
      { name: "TEXT", kind: "text", optional: true },
    ],
    flags: [{ name: "bytes", value: "int" }],
    async run(ctx, a) {
      const fd = a.num("#ID") as number;
      let data: Uint8Array;
      const n = a.num("bytes");
      const raw = a.str("TEXT");
      if (n !== undefined) {
        if (raw !== undefined) return [err("send: give TEXT or --bytes N, not both", USAGE.send)];
        if (n > MAX_SEND_BYTES) {
          return [
            err(
              `send: --bytes ${n} is more than one send takes: at most ${MAX_SEND_BYTES} (64 MiB); send again as the buffer drains`,
              USAGE.send,
            ),
          ];
        }
        data = new Uint8Array(n);
        for (let i = 0; i < n; i++) data[i] = 0x61 + (i % 26); // abc…z, so a reader can follow offsets
      } else {
        if (raw === undefined) return [err("send: missing TEXT (or --bytes N)", USAGE.send)];
        const r = readText(raw);
        if (!(r instanceof Uint8Array)) return [err(`send: ${r.error}`, USAGE.send)];
        data = r;
      }
      if (data.length === 0) return [err("send: nothing to send", USAGE.send)];
      const r = await ctx.host.sockets.send(fd, data);
      if (r instanceof SocketError) {
        if (r.code === "EAGAIN")
          return [text("the send buffer is full: nothing queued (wait for ACKs)")];
        return [sockErr("send", r, USAGE.send)];
      }
      const tcb = ctx.host.sockets.tcbOf(fd);
      return [
        text(
          `#${fd} queued ${r} of ${data.length} bytes${r < data.length ? " (send buffer full)" : ""}`,
          ...(tcb !== undefined ? [hint(`send queue now ${tcb.sendQueued} bytes`)] : []),
          ...pausedHint(ctx),
        ),
      ];
    },
  });

  reg.add({
    name: "recv",
    usage: USAGE.recv,
    summary: "read received bytes from a connection",
    help: [
      "Reads up to N bytes (default: all available) in order (RFC 9293 §3.10.3).",
      "Reading frees receive buffer space, which may open the window (a window update).",
    ],
    args: [
      { name: "#ID", kind: "socket" },
      { name: "N", kind: "int", optional: true, min: 1 },
    ],
    async run(ctx, a) {
      const fd = a.num("#ID") as number;
      const r = await ctx.host.sockets.recv(fd, a.num("N") ?? 65536);
      if (r instanceof SocketError) {
        if (r.code === "EAGAIN") return [text(`#${fd}: nothing to read yet`)];
        return [sockErr("recv", r, USAGE.recv)];
      }
      if (r.length === 0) {
        // Zero bytes is the end of the stream: a FIN read, or a connection that is over.
        const tcb = ctx.engine.tcbById(ctx.host, fd);
        const why =
          tcb?.error !== undefined
            ? `the connection ended with ${tcb.error}`
            : tcb?.finReceived
              ? "the peer's FIN was read"
              : "the connection is closed";
        return [text(`#${fd}: end of stream (${why})`)];
      }
      // A long read is counted in full and shown in part: a window's worth of
      // bytes would fill the screen.
      const shown = r.length > RECV_SHOWN ? r.subarray(0, RECV_SHOWN) : r;
      const part = shown.length < r.length ? ` (the first ${RECV_SHOWN} shown)` : "";
      const more = shown.length < r.length ? "…" : "";
      return [
        text(`#${fd} read ${r.length} bytes${part}:`, [
          { text: `"${escapeBytes(shown)}"${more}`, tone: "accent" },
        ]),
      ];
    },
  });

  reg.add({
    name: "shutdown",
    usage: USAGE.shutdown,
    summary: "half-close: stop reading, writing or both",
    help: [
      "wr sends a FIN after queued data (RFC 9293 §3.10.4, CLOSE): you can still receive.",
      "rd discards what arrives from now on; rdwr does both.",
    ],
    args: [
      { name: "#ID", kind: "socket" },
      { name: "HOW", kind: "word", values: ["rd", "wr", "rdwr"] },
    ],
    run(ctx, a) {
      const fd = a.num("#ID") as number;
      const how = a.str("HOW") as "rd" | "wr" | "rdwr";
      const r = ctx.host.sockets.shutdown(fd, how);
      if (r instanceof SocketError) return [sockErr("shutdown", r, USAGE.shutdown)];
      return [text(`#${fd} shut down (${how})`, ...pausedHint(ctx))];
    },
  });

  reg.add({
    name: "close",
    usage: USAGE.close,
    summary: "close a socket (a FIN for a connection)",
    help: [
      "Releases the id. A connection closes gracefully (RFC 9293 §3.10.4): FIN after queued data;",
      "the TCB lives on through FIN-WAIT/TIME-WAIT or LAST-ACK (shown as (#ID) in `state`).",
      "With unread data it is aborted with a RST instead (RFC 1122 §4.2.2.13).",
    ],
    args: [{ name: "#ID", kind: "socket" }],
    run(ctx, a) {
      const fd = a.num("#ID") as number;
      const r = ctx.host.sockets.close(fd);
      if (r instanceof SocketError) return [sockErr("close", r, USAGE.close)];
      return [text(`#${fd} closed`, ...pausedHint(ctx))];
    },
  });

  reg.add({
    name: "abort",
    usage: USAGE.abort,
    summary: "abort a connection with a RST",
    help: [
      "ABORT (RFC 9293 §3.10.5): a RST goes out if the connection is synchronized and the TCB is",
      "deleted at once — no FIN, no TIME-WAIT. (SO_LINGER 0, then close.)",
    ],
    args: [{ name: "#ID", kind: "socket" }],
    run(ctx, a) {
      const fd = a.num("#ID") as number;
      const { sockets } = ctx.host;
      const info = sockets.info(fd);
      if (!(info instanceof SocketError) && info.type !== "tcp") {
        return [err(`abort: #${fd} is not a TCP socket`, USAGE.abort)];
      }
      const set = sockets.setsockopt(fd, "SO_LINGER", 0);
      if (set instanceof SocketError) return [sockErr("abort", set, USAGE.abort)];
      const r = sockets.close(fd);
      if (r instanceof SocketError) return [sockErr("abort", r, USAGE.abort)];
      return [text(`#${fd} aborted`)];
    },
  });

  reg.add({
    name: "sockopt",
    usage: USAGE.sockopt,
    summary: "read or set a socket option",
    help: [
      "Options: nodelay on|off (TCP_NODELAY, Nagle off), keepalive on|off (SO_KEEPALIVE: probes after",
      "the idle time `set keepAliveIdle` gives), rcvbuf N, sndbuf N (bytes; apply to",
      "connections opened later), reuseaddr on|off, linger off|SECONDS, error (SO_ERROR, read-only).",
      "Without VALUE, shows the current value.",
    ],
    args: [
      { name: "#ID", kind: "socket" },
      { name: "NAME", kind: "word", values: SOCKOPTS },
      { name: "VALUE", kind: "word", optional: true, open: true, values: ["on", "off"] },
    ],
    run: (ctx, a) => sockopt(ctx, a),
  });

  reg.add({
    name: "udp bind",
    usage: USAGE.udpBind,
    summary: "a UDP socket bound to PORT",
    help: [
      "Creates a UDP socket on PORT (0 picks an ephemeral port): -4 (the default) an AF_INET one,",
      "-6 an AF_INET6 one, which sends to and receives from IPv6 addresses only.",
    ],
    args: [{ name: "PORT", kind: "int", max: 65535 }],
    flags: [{ name: "4" }, { name: "6" }],
    run(ctx, a) {
      const port = a.num("PORT") as number;
      const family = familyFlag(ctx, a, "udp bind", USAGE.udpBind);
      if (typeof family === "object") return [family];
      const fd = newSocket(ctx.host, "udp", family);
      if (fd instanceof SocketError) return [sockErr("udp bind", fd, USAGE.udpBind)];
      const r = ctx.host.sockets.bind(fd, port);
      if (r instanceof SocketError) {
        ctx.host.sockets.close(fd);
        return [sockErr("udp bind", r, USAGE.udpBind)];
      }
      const info = ctx.host.sockets.info(fd);
      const local = info instanceof SocketError ? undefined : info.local;
      return [
        text([
          { text: `#${fd}`, tone: "accent" },
          { text: ` UDP bound to ${local ? formatEp(local) : port}` },
        ]),
      ];
    },
  });

  reg.add({
    name: "udp sendto",
    usage: USAGE.udpSendto,
    summary: "send one UDP datagram",
    help: [
      "Sends TEXT (same escapes as send) as one datagram to ADDR PORT; ADDR is of the socket's",
      "family (a host name names its IPv6 address on a socket bound with -6).",
    ],
    args: [
      { name: "#ID", kind: "socket" },
      { name: "ADDR", kind: "addr" },
      { name: "PORT", kind: "port" },
      { name: "TEXT", kind: "text" },
    ],
    run(ctx, a) {
      const fd = a.num("#ID") as number;
      const data = readText(a.str("TEXT") as string);
      if (!(data instanceof Uint8Array)) return [err(`udp sendto: ${data.error}`, USAGE.udpSendto)];
      const info = ctx.host.sockets.info(fd);
      const six = !(info instanceof SocketError) && info.local?.family === 6;
      const dest = a.addr("ADDR") as AddrValue;
      if (six && dest.host === undefined && dest.ip.family === 4)
        return [
          err(
            `udp sendto: #${fd} is an IPv6 socket (udp bind -6): give an IPv6 address or a host name`,
            USAGE.udpSendto,
          ),
        ];
      const to = addrFor(ctx, dest, six);
      if ("error" in to) return [err(`udp sendto: ${to.error}`, USAGE.udpSendto)];
      const r = ctx.host.sockets.sendTo(fd, data, to.addr, a.num("PORT") as number);
      if (r instanceof SocketError) return [sockErr("udp sendto", r, USAGE.udpSendto)];
      return [text(`#${fd} sent a datagram of ${r} bytes`, ...pausedHint(ctx))];
    },
  });

  reg.add({
    name: "udp recv",
    usage: USAGE.udpRecv,
    summary: "read one UDP datagram",
    help: ["Reads the next queued datagram and shows who sent it."],
    args: [{ name: "#ID", kind: "socket" }],
    async run(ctx, a) {
      const fd = a.num("#ID") as number;
      const r = await ctx.host.sockets.recvFrom(fd);
      if (r instanceof SocketError) {
        if (r.code === "EAGAIN") return [text(`#${fd}: no datagram queued`)];
        return [sockErr("udp recv", r, USAGE.udpRecv)];
      }
      return [
        text(`#${fd} datagram of ${r.data.length} bytes from ${formatEp(r.from)}:`, [
          { text: `"${escapeBytes(r.data)}"`, tone: "accent" },
        ]),
      ];
    },
  });
}

function onOff(v: string): boolean | undefined {
  const t = v.toLowerCase();
  if (t === "on" || t === "1" || t === "true" || t === "yes") return true;
  if (t === "off" || t === "0" || t === "false" || t === "no") return false;
  return undefined;
}

function sockopt(ctx: Ctx, a: Args): Block[] {
  const fd = a.num("#ID") as number;
  const name = a.str("NAME") as (typeof SOCKOPTS)[number];
  const value = a.str("VALUE");
  const { sockets } = ctx.host;
  const show = (v: unknown) => [text(`#${fd} ${name} = ${v === undefined ? "off" : String(v)}`)];
  const fail = (e: SocketError) => [sockErr("sockopt", e, USAGE.sockopt)];
  const bad = (why: string) => [err(`sockopt: ${why}`, USAGE.sockopt)];
  switch (name) {
    case "nodelay":
    case "keepalive":
    case "reuseaddr": {
      const opt =
        name === "nodelay" ? "TCP_NODELAY" : name === "keepalive" ? "SO_KEEPALIVE" : "SO_REUSEADDR";
      if (value === undefined) {
        const v = sockets.getsockopt(fd, opt);
        return v instanceof SocketError ? fail(v) : show(v ? "on" : "off");
      }
      const b = onOff(value);
      if (b === undefined) return bad(`${name} takes on or off, got "${value}"`);
      const r = sockets.setsockopt(fd, opt, b);
      return r instanceof SocketError ? fail(r) : show(b ? "on" : "off");
    }
    case "rcvbuf":
    case "sndbuf": {
      const opt = name === "rcvbuf" ? "SO_RCVBUF" : "SO_SNDBUF";
      if (value === undefined) {
        const v = sockets.getsockopt(fd, opt);
        return v instanceof SocketError ? fail(v) : show(v);
      }
      if (!/^\d+$/.test(value) || Number(value) <= 0)
        return bad(`${name} takes a size in bytes, got "${value}"`);
      const r = sockets.setsockopt(fd, opt, Number(value));
      if (r instanceof SocketError) return fail(r);
      const v = sockets.getsockopt(fd, opt);
      return v instanceof SocketError ? fail(v) : show(v);
    }
    case "linger": {
      if (value === undefined) {
        const v = sockets.getsockopt(fd, "SO_LINGER");
        return v instanceof SocketError ? fail(v) : show(v === undefined ? "off" : `${v} s`);
      }
      const secs =
        value.toLowerCase() === "off"
          ? undefined
          : /^\d+$/.test(value)
            ? Number(value)
            : Number.NaN;
      if (secs !== undefined && Number.isNaN(secs))
        return bad(`linger takes off or seconds, got "${value}"`);
      const r = sockets.setsockopt(fd, "SO_LINGER", secs);
      return r instanceof SocketError ? fail(r) : show(secs === undefined ? "off" : `${secs} s`);
    }
    case "error": {
      if (value !== undefined) return bad("error is read-only");
      const v = sockets.getsockopt(fd, "SO_ERROR");
      return v instanceof SocketError ? fail(v) : show(v ?? "none");
    }
  }
}
