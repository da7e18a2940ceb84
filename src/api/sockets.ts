import type { Instant } from "../clock/time.ts";
import type { Attachment } from "../runtime/attach.ts";
import type { Host, StackError } from "../stack/host.ts";
import type { PeerFamily } from "../stack/port-table.ts";
import { isValidPort } from "../stack/ports.ts";
import type { UdpSocket } from "../stack/udp-socket.ts";
import type { Listener } from "../tcp/listener.ts";
import type { TcpSettings } from "../tcp/settings.ts";
import { State, stateName } from "../tcp/state.ts";
import type { TcbEvents, TcbSendOptions, TcbView } from "../tcp/view.ts";
import { DeadlineHeap } from "../util/deadline-heap.ts";
import { type Endpoint, familyOf, type Ipv4Addr } from "../wire/addr.ts";
import {
  fromEndpoint,
  type IpEndpoint,
  ipEndpointEqual,
  parseIpAddr,
  parseIpEndpoint,
} from "../wire/ip-addr.ts";
import {
  IPV6_UNSPECIFIED,
  type Ipv6Addr,
  ipv4FromMapped,
  ipv4MappedIpv6,
  ipv6Equal,
  isIpv6Unspecified,
} from "../wire/ipv6-addr.ts";
import { type ErrorCode, SocketError } from "./errors.ts";

/** A socket id, like a file descriptor (the first is 3, and the lowest free id is reused). */
export type Fd = number;
export type SocketType = "tcp" | "udp";
export type ShutdownHow = "rd" | "wr" | "rdwr";
/** A socket's address family, fixed when it is made. */
export type AddressFamily = "AF_INET" | "AF_INET6";
/** An address as the calls take it: text (`10.0.0.2`, `fd00::2`) or a value of either family. */
export type SockAddr = string | Ipv4Addr | Ipv6Addr;

/** How send() takes its bytes (TCP). */
export interface SendFlags {
  /**
   * The caller never writes to the bytes again (a shared read-only block):
   * the send buffer keeps them as they are instead of copying them.
   */
  readonly immutable?: boolean;
  /**
   * MSG_EOF (4.4BSD, for T/TCP): shutdown(wr) right after the last byte,
   * before a segment is formed, so the FIN leaves with the last data
   * (RFC 9293 §3.10.4) instead of in a segment of its own.
   */
  readonly eof?: boolean;
}

/** Socket options and their value types. SO_ERROR is read-only (and reading clears it). */
export interface SocketOptions {
  TCP_NODELAY: boolean;
  SO_RCVBUF: number;
  SO_SNDBUF: number;
  SO_REUSEADDR: boolean;
  /** Keep-alive probes on an idle connection (RFC 1122 §4.2.3.6); timings from the host's TCP settings. */
  SO_KEEPALIVE: boolean;
  /** Seconds to linger on close; 0 makes close() abort with a RST; undefined is the default (no linger). */
  SO_LINGER: number | undefined;
  SO_ERROR: ErrorCode | undefined;
  /**
   * AF_INET6 only, set before bind (RFC 3493 §5.3): IPv6 peers only. Off by
   * default, as Linux's net.ipv6.bindv6only=0: the socket takes IPv4 peers
   * too and names them `::ffff:a.b.c.d` (RFC 4291 §2.5.5.2).
   */
  IPV6_V6ONLY: boolean;
}
export type SocketOption = keyof SocketOptions;
export type WritableOption = Exclude<SocketOption, "SO_ERROR">;

/** Readiness, as poll(2) reports it. */
export interface PollResult {
  readonly readable: boolean;
  readonly writable: boolean;
  readonly error: boolean;
  readonly hup: boolean;
}

export interface UdpRecv {
  readonly data: Uint8Array;
  readonly from: Endpoint;
}

/** A description of a socket for the lab's socket table. */
export interface SocketInfo {
  readonly fd: Fd;
  readonly type: SocketType;
  readonly nonBlocking: boolean;
  readonly local: Endpoint | undefined;
  readonly remote: Endpoint | undefined;
  /** RFC state name of the TCB, "LISTEN", "UNCONNECTED", or "BOUND"/"UNBOUND" for UDP. */
  readonly state: string;
  readonly tcb: TcbView | undefined;
}

/** Tcb.send's options for SendFlags, made once (send is on the data path). */
const IMMUTABLE: TcbSendOptions = { immutable: true };
const EOF: TcbSendOptions = { close: true };
const IMMUTABLE_EOF: TcbSendOptions = { immutable: true, close: true };

const MIN_BUF = 256;
const MAX_BUF = 64 * 1024 * 1024;

interface BaseSock {
  readonly fd: Fd;
  /** 4 for AF_INET, 6 for AF_INET6. */
  readonly family: 4 | 6;
  /** IPV6_V6ONLY (AF_INET6 only). */
  v6Only: boolean;
  /**
   * An AF_INET6 socket bound to an address of one family: IPv6 for its own
   * IPv6 address, IPv4 for `::ffff:` and its own IPv4 address; undefined
   * while unbound or bound to `::`.
   */
  scope: PeerFamily | undefined;
  nonBlocking: boolean;
  closed: boolean;
  /** Blocked calls, retried on every event of the socket (an array: rarely more than two, and a Set's table would be most of an idle socket). */
  readonly waiters: Waiter[];
}

/** A blocked call: `attempt` again until it has a result, then `resolve` with it. */
interface Waiter {
  readonly attempt: () => unknown;
  readonly resolve: (value: unknown) => void;
}

interface TcpSock extends BaseSock {
  readonly type: "tcp";
  noDelay: boolean;
  keepAlive: boolean;
  rcvBuf: number | undefined;
  sndBuf: number | undefined;
  reuseAddr: boolean;
  linger: number | undefined;
  boundPort: number | undefined;
  listener: Listener | undefined;
  tcb: TcbView | undefined;
  /** The error to report once (SO_ERROR, or the next send/recv). */
  pendingError: ErrorCode | undefined;
  /** True once a failure of the connection was reported to the user. */
  errorReported: boolean;
  rdShut: boolean;
  wrShut: boolean;
  /** This socket's observer on its TCB (detached on close). */
  watch: TcbWatch | undefined;
}

interface UdpSock extends BaseSock {
  readonly type: "udp";
  rcvBuf: number | undefined;
  reuseAddr: boolean;
  udp: UdpSocket | undefined;
  peer: Endpoint | undefined;
  /** An ICMP error to report once (SO_ERROR, or the next recv). */
  pendingError: ErrorCode | undefined;
}

type Sock = TcpSock | UdpSock;

function err(code: ErrorCode, detail?: string): SocketError {
  return new SocketError(code, detail);
}

function fromStack(e: StackError): SocketError {
  return err(e);
}

/** States in which our FIN has been acknowledged or the connection is gone. */
function finAcked(state: State): boolean {
  return state === State.FinWait2 || state === State.TimeWait || state === State.Closed;
}

/**
 * A socket's observer on its TCB: methods, not closures, so each socket
 * costs one small object however many connections are open.
 */
class TcbWatch implements TcbEvents {
  constructor(
    private readonly sockets: Sockets,
    private readonly sock: TcpSock,
  ) {}
  stateChanged(t: TcbView): void {
    this.sockets.tcbEvent(this.sock, t, false);
  }
  readable(t: TcbView): void {
    this.sockets.tcbEvent(this.sock, t, true);
  }
  writable(t: TcbView): void {
    this.sockets.tcbEvent(this.sock, t, false);
  }
  closed(t: TcbView): void {
    this.sockets.tcbEvent(this.sock, t, false);
  }
}

/**
 * BSD-like sockets over one Host and its Attachment.
 *
 * Conventions: every call *returns* its result or a `SocketError` (test with
 * `instanceof SocketError` / `isSocketError`) and never throws for bad
 * arguments or network failures. Calls that may block (`connect`, `accept`,
 * `send`, `recv`, `recvFrom`) return a Promise of the same; in non-blocking
 * mode (`setNonBlocking`) that promise is already settled with EINPROGRESS or
 * EAGAIN when the call cannot complete at once. Blocked calls complete from
 * TCB events, never by polling.
 */
export class Sockets {
  readonly host: Host;
  readonly attachment: Attachment;
  private readonly socks = new Map<Fd, Sock>();
  private readonly byListener = new Map<Listener, TcpSock>();
  /** Closed fds below nextFd, lowest first (a heap keyed by the fd itself): no scan per socket(). */
  private readonly freeFds = new DeadlineHeap<Fd>();
  private nextFd = 3;

  constructor(host: Host, attachment: Attachment) {
    this.host = host;
    this.attachment = attachment;
    const prev = host.events.acceptable;
    host.events.acceptable = (listener, port) => {
      prev?.(listener, port);
      const sock = this.byListener.get(listener);
      if (sock !== undefined) this.wake(sock);
    };
  }

  private now(): Instant {
    return this.attachment.clock.now();
  }

  private flush(): void {
    this.attachment.flush();
  }

  // ───────────────────────────── lifecycle ─────────────────────────────

  /**
   * A new socket. An AF_INET6 socket takes IPv4 peers too, as
   * `::ffff:a.b.c.d` (RFC 3493 §3.7), unless IPV6_V6ONLY is set.
   */
  socket(type: SocketType, family: AddressFamily = "AF_INET"): Fd | SocketError {
    if (type !== "tcp" && type !== "udp") return err("EINVAL", `socket type ${String(type)}`);
    if (family !== "AF_INET" && family !== "AF_INET6") return err("EAFNOSUPPORT", String(family));
    const fd = this.allocateFd();
    const base = {
      fd,
      family: family === "AF_INET6" ? (6 as const) : (4 as const),
      v6Only: false,
      scope: undefined as PeerFamily | undefined,
      nonBlocking: false,
      closed: false,
      waiters: [] as Waiter[],
    };
    if (type === "tcp") {
      this.socks.set(fd, {
        ...base,
        type,
        noDelay: false,
        keepAlive: false,
        rcvBuf: undefined,
        sndBuf: undefined,
        reuseAddr: false,
        linger: undefined,
        boundPort: undefined,
        listener: undefined,
        tcb: undefined,
        pendingError: undefined,
        errorReported: false,
        rdShut: false,
        wrShut: false,
        watch: undefined,
      });
    } else {
      this.socks.set(fd, {
        ...base,
        type,
        rcvBuf: undefined,
        reuseAddr: false,
        udp: undefined,
        peer: undefined,
        pendingError: undefined,
      });
    }
    return fd;
  }

  /** O_NONBLOCK. */
  setNonBlocking(fd: Fd, on: boolean): undefined | SocketError {
    const sock = this.get(fd);
    if (sock instanceof SocketError) return sock;
    sock.nonBlocking = on;
    return undefined;
  }

  /**
   * Binds to `port` (and `addr`: the host's own address of the socket's
   * family, or the wildcard), or to an endpoint's text: `10.0.0.1:80`, `[fd00::1]:80`.
   */
  bind(fd: Fd, port: number | string, addr?: SockAddr): undefined | SocketError {
    const sock = this.get(fd);
    if (sock instanceof SocketError) return sock;
    if (typeof port === "string") {
      if (addr !== undefined) return err("EINVAL", "an endpoint's text and an address");
      const ep = this.endpointOf(sock, port, undefined);
      if (ep instanceof SocketError) return ep;
      return this.bind(fd, ep.port, ep.addr);
    }
    if (!isValidPort(port)) return err("EINVAL", `port ${port}`);
    if (this.isBound(sock)) return err("EINVAL", "already bound");
    let scope: PeerFamily | undefined;
    if (addr !== undefined) {
      const a = this.parseAddr(sock, addr);
      if (a instanceof SocketError) return a;
      const mapped = a.family === 6 ? ipv4FromMapped(a.addr) : undefined;
      // Linux's __inet6_bind: a mapped address on an IPv6-only socket is EINVAL.
      if (mapped !== undefined && sock.v6Only) return err("EINVAL", "an IPv4-mapped address");
      // One address per host and family: bind to it or to the wildcard.
      if (a.family === 6 && mapped === undefined) {
        const own = this.host.addr6;
        if (!isIpv6Unspecified(a.addr) && (own === undefined || !ipv6Equal(a.addr, own)))
          return err("EADDRNOTAVAIL");
        if (!isIpv6Unspecified(a.addr)) scope = 6;
      } else {
        const v4 = mapped ?? (a.addr as Ipv4Addr);
        if (v4 !== 0 && v4 !== this.host.addr) return err("EADDRNOTAVAIL");
        if (mapped !== undefined) scope = 4;
      }
    }
    sock.scope = scope;
    if (sock.type === "udp") {
      const udp = this.host.udpBind(
        port,
        sock.rcvBuf ?? this.host.udpQueueBytes,
        this.peerFamilies(sock),
      );
      if (typeof udp === "string") {
        sock.scope = undefined;
        return fromStack(udp);
      }
      this.setUdp(sock, udp);
      return undefined;
    }
    const p = port === 0 ? this.host.allocateTcpPort() : port;
    if (p === undefined || (port !== 0 && this.tcpPortBusy(sock, port))) {
      sock.scope = undefined;
      return err("EADDRINUSE", port === 0 ? undefined : `port ${port}`);
    }
    sock.boundPort = p;
    return undefined;
  }

  /** Whether the socket has a local port (bound, listening or connected). */
  private isBound(sock: Sock): boolean {
    return sock.type === "udp"
      ? sock.udp !== undefined
      : sock.boundPort !== undefined || sock.tcb !== undefined;
  }

  /**
   * Whether binding TCP `port` conflicts: with a listener taking peers of a
   * family this socket takes always; with another such bound socket or a
   * live connection unless both sides set SO_REUSEADDR (a simplification of
   * BSD's rules that keeps the common "restart a server while its old
   * connections sit in TIME-WAIT" case working). An AF_INET socket and an
   * IPv6-only AF_INET6 one never conflict (Linux: their addresses differ).
   */
  private tcpPortBusy(sock: TcpSock, port: number): boolean {
    const families = this.peerFamilies(sock);
    for (const f of [4, 6] as const) {
      if (families !== undefined && families !== f) continue;
      if (this.host.listenerOn(port, f) !== undefined) return true;
    }
    for (const other of this.socks.values()) {
      if (other === sock || other.type !== "tcp" || other.boundPort !== port) continue;
      if (!familiesOverlap(families, this.peerFamilies(other))) continue;
      if (!(sock.reuseAddr && other.reuseAddr)) return true;
    }
    return !sock.reuseAddr && this.host.tcpPortConnected(port);
  }

  /**
   * The families of the peers a socket takes (both: undefined): an AF_INET
   * socket IPv4's; an AF_INET6 one IPv6's with IPV6_V6ONLY, else those of
   * the address it is bound to, both for `::` (RFC 3493 §3.7, §5.3). So an
   * AF_INET6 socket on `::` without IPV6_V6ONLY conflicts with an AF_INET
   * one on its port, as on Linux, and an IPv6-only one does not.
   */
  private peerFamilies(sock: Sock): PeerFamily | undefined {
    if (sock.family === 4) return 4;
    return sock.v6Only ? 6 : sock.scope;
  }

  listen(fd: Fd, backlog = 128): undefined | SocketError {
    const sock = this.getTcp(fd);
    if (sock instanceof SocketError) return sock;
    if (sock.tcb !== undefined) return err("EISCONN");
    if (!Number.isInteger(backlog)) return err("EINVAL", `backlog ${backlog}`);
    // Like Linux: a negative backlog means 0; listen() on a listener only adjusts it (here: no-op).
    if (sock.listener !== undefined) return undefined;
    if (sock.boundPort === undefined) {
      const bound = this.bind(fd, 0);
      if (bound instanceof SocketError) return bound;
    }
    const port = sock.boundPort as number;
    const listener = this.host.listen(port, Math.max(0, backlog), {
      settings: this.settingsOf(sock),
      family: this.peerFamilies(sock),
    });
    if (typeof listener === "string") return fromStack(listener);
    sock.listener = listener;
    this.byListener.set(listener, sock);
    return undefined;
  }

  accept(fd: Fd): Promise<Fd | SocketError> {
    const sock = this.getTcp(fd);
    if (sock instanceof SocketError) return Promise.resolve(sock);
    if (sock.listener === undefined) return Promise.resolve(err("EINVAL", "not listening"));
    const listener = sock.listener;
    return this.block(sock, () => {
      if (sock.closed) return err("EBADF");
      const tcb = listener.accept();
      if (tcb === undefined) return sock.nonBlocking ? err("EAGAIN") : undefined;
      return this.adopt(sock, tcb);
    });
  }

  /** A new fd for an accepted connection; it inherits the listener's options. */
  private adopt(parent: TcpSock, tcb: TcbView): Fd {
    const fd = this.socket("tcp", parent.family === 6 ? "AF_INET6" : "AF_INET") as Fd;
    const sock = this.socks.get(fd) as TcpSock;
    sock.noDelay = parent.noDelay;
    sock.rcvBuf = parent.rcvBuf;
    sock.sndBuf = parent.sndBuf;
    sock.linger = parent.linger;
    sock.keepAlive = parent.keepAlive;
    sock.v6Only = parent.v6Only;
    sock.scope = parent.scope;
    sock.boundPort = tcb.local.port;
    this.bindTcb(sock, tcb);
    if (parent.noDelay) tcb.setNoDelay(true);
    if (parent.keepAlive) tcb.setKeepAlive(true, this.now());
    if (tcb.state === State.Closed && tcb.error !== undefined) sock.pendingError = tcb.error;
    return fd;
  }

  /** Connects to `addr` and `port`, or to an endpoint's text (`[fd00::2]:80`) without a port. */
  connect(fd: Fd, addr: SockAddr, port?: number): Promise<undefined | SocketError> {
    const sock = this.get(fd);
    if (sock instanceof SocketError) return Promise.resolve(sock);
    const peer = this.peerOf(sock, addr, port);
    if (peer instanceof SocketError) return Promise.resolve(peer);
    if (peer.port === 0) return Promise.resolve(err("EINVAL", "port 0"));
    if (sock.type === "udp") {
      // UDP connect only fixes the default peer.
      if (sock.udp === undefined) {
        const bound = this.bind(fd, 0);
        if (bound instanceof SocketError) return Promise.resolve(bound);
      }
      sock.peer = peer;
      return Promise.resolve(undefined);
    }
    if (sock.listener !== undefined) return Promise.resolve(err("EINVAL", "listening socket"));
    if (sock.tcb !== undefined) {
      const s = sock.tcb.state;
      if (s === State.SynSent || s === State.SynReceived) return Promise.resolve(err("EALREADY"));
      return Promise.resolve(err("EISCONN"));
    }
    const tcb = this.host.connect(peer, this.now(), {
      localPort: sock.boundPort ?? 0,
      settings: this.settingsOf(sock),
    });
    if (typeof tcb === "string") return Promise.resolve(fromStack(tcb));
    sock.boundPort = tcb.local.port;
    this.bindTcb(sock, tcb);
    if (sock.noDelay) tcb.setNoDelay(true);
    this.flush();
    if (sock.nonBlocking) return Promise.resolve(err("EINPROGRESS"));
    return this.block(sock, () => {
      if (sock.closed) return err("EBADF");
      const state = tcb.state;
      if (state === State.SynSent || state === State.SynReceived) return undefined;
      if (state === State.Closed && tcb.error !== undefined)
        return this.takeError(sock) ?? err(tcb.error);
      return null; // connected (or already past ESTABLISHED)
    }).then((r) => (r === null ? undefined : r));
  }

  /** Per-connection TCP settings from the socket options. */
  private settingsOf(sock: TcpSock): Partial<TcpSettings> {
    const s: { -readonly [K in keyof TcpSettings]?: TcpSettings[K] } = {};
    if (sock.rcvBuf !== undefined) s.rcvBuf = sock.rcvBuf;
    if (sock.sndBuf !== undefined) s.sndBuf = sock.sndBuf;
    if (sock.noDelay) s.nagle = false;
    if (sock.keepAlive) s.keepAlive = true;
    return s;
  }

  private bindTcb(sock: TcpSock, tcb: TcbView): void {
    sock.tcb = tcb;
    sock.watch = new TcbWatch(this, sock);
    tcb.observe(sock.watch);
  }

  /** internal (TcbWatch): an event of `sock`'s TCB. */
  tcbEvent(sock: TcpSock, t: TcbView, readable: boolean): void {
    // After shutdown(rd), arriving data is read and dropped so the window stays open.
    if (readable && sock.rdShut && t.recvAvailable > 0) t.recv(t.recvAvailable, this.now());
    // Record a failure before waking anyone: stateChanged(→CLOSED) comes before closed().
    if (t.error !== undefined && t.state === State.Closed && !sock.errorReported) {
      sock.pendingError = t.error;
    }
    this.wake(sock);
  }

  // ───────────────────────────── data ─────────────────────────────

  /**
   * Queues `data` for sending. Blocking mode: resolves once every byte is in
   * the send buffer. Non-blocking: the bytes that fit now, or EAGAIN.
   */
  send(fd: Fd, data: Uint8Array, flags?: SendFlags): Promise<number | SocketError> {
    const sock = this.get(fd);
    if (sock instanceof SocketError) return Promise.resolve(sock);
    if (!(data instanceof Uint8Array)) return Promise.resolve(err("EINVAL", "data must be bytes"));
    const eof = flags?.eof === true;
    if (sock.type === "udp") {
      if (eof) return Promise.resolve(err("EOPNOTSUPP", "MSG_EOF on a UDP socket"));
      if (sock.peer === undefined) return Promise.resolve(err("EDESTADDRREQ"));
      return Promise.resolve(this.sendDatagram(sock, sock.peer, data));
    }
    if (eof && data.length === 0) return Promise.resolve(this.shutdown(fd, "wr") ?? 0);
    const opts = flags?.immutable === true ? IMMUTABLE : undefined;
    let sent = 0;
    return this.block(sock, () => {
      if (sock.closed) return sent > 0 ? sent : err("EBADF");
      const tcb = sock.tcb;
      if (tcb === undefined) return err("ENOTCONN");
      if (sock.wrShut) return sent > 0 ? sent : err("EPIPE");
      const pending = this.takeError(sock);
      if (pending !== undefined) return sent > 0 ? sent : pending;
      if (data.length === sent) return sent;
      // The failure (if any) was reported above; from now on writing is a broken pipe, as in BSD.
      if (tcb.state === State.Closed) return sent > 0 ? sent : err("EPIPE");
      const rest = sent === 0 ? data : data.subarray(sent);
      // The last bytes with MSG_EOF: the Tcb closes before forming segments (FIN with them).
      const last = eof && rest.length <= tcb.sendSpace;
      const r = tcb.send(
        rest,
        this.now(),
        last ? (opts === undefined ? EOF : IMMUTABLE_EOF) : opts,
      );
      if (typeof r === "string") {
        if (r !== "EPIPE") sock.errorReported = true;
        return sent > 0 ? sent : err(r);
      }
      if (last) sock.wrShut = true;
      sent += r;
      if (r > 0) this.flush();
      if (sent === data.length) return sent;
      if (sock.nonBlocking) return sent > 0 ? sent : err("EAGAIN");
      return undefined;
    });
  }

  /**
   * Reads up to `max` bytes. An empty array means end of stream (the peer's
   * FIN, or our shutdown(rd)). Blocking mode waits for data; non-blocking
   * returns EAGAIN.
   */
  recv(fd: Fd, max = 65536): Promise<Uint8Array | SocketError> {
    const sock = this.get(fd);
    if (sock instanceof SocketError) return Promise.resolve(sock);
    if (!Number.isInteger(max) || max <= 0) return Promise.resolve(err("EINVAL", `length ${max}`));
    if (sock.type === "udp") {
      return this.recvFrom(fd, max).then((r) => (r instanceof SocketError ? r : r.data));
    }
    return this.block(sock, () => this.tryRecv(sock, max));
  }

  private tryRecv(sock: TcpSock, max: number): Uint8Array | SocketError | undefined {
    if (sock.closed) return err("EBADF");
    const tcb = sock.tcb;
    if (tcb === undefined) return err("ENOTCONN");
    if (sock.rdShut) return new Uint8Array(0);
    if (tcb.recvAvailable > 0) {
      const data = tcb.recv(max, this.now());
      this.flush(); // reading may open the window: a window update goes out at once
      return data;
    }
    if (tcb.peerClosed) return new Uint8Array(0);
    const pending = this.takeError(sock);
    if (pending !== undefined) return pending;
    if (tcb.state === State.Closed) return new Uint8Array(0);
    return sock.nonBlocking ? err("EAGAIN") : undefined;
  }

  /**
   * UDP: sends one datagram (binding an ephemeral port first if needed) to
   * `addr` and `port`, or to an endpoint's text (`[fd00::2]:7`) without a port.
   */
  sendTo(fd: Fd, data: Uint8Array, addr: SockAddr, port?: number): number | SocketError {
    const sock = this.get(fd);
    if (sock instanceof SocketError) return sock;
    if (sock.type !== "udp") return err("EOPNOTSUPP", "sendTo on a TCP socket");
    if (!(data instanceof Uint8Array)) return err("EINVAL", "data must be bytes");
    const to = this.peerOf(sock, addr, port);
    if (to instanceof SocketError) return to;
    return this.sendDatagram(sock, to, data);
  }

  /** One datagram to `to` (as on the wire: an IPv4 peer unmapped). */
  private sendDatagram(sock: UdpSock, to: Endpoint, data: Uint8Array): number | SocketError {
    if (to.port === 0) return err("EINVAL", "port 0");
    if (sock.udp === undefined) {
      const bound = this.bind(sock.fd, 0);
      if (bound instanceof SocketError) return bound;
    }
    const r = (sock.udp as UdpSocket).sendTo(to, data);
    if (typeof r === "string") return err(r);
    this.flush();
    return r;
  }

  /** UDP: the next datagram (truncated to `max` bytes, the rest discarded, as recvfrom(2) does). */
  recvFrom(fd: Fd, max = 65536): Promise<UdpRecv | SocketError> {
    const sock = this.get(fd);
    if (sock instanceof SocketError) return Promise.resolve(sock);
    if (sock.type !== "udp") return Promise.resolve(err("EOPNOTSUPP", "recvFrom on a TCP socket"));
    if (!Number.isInteger(max) || max <= 0) return Promise.resolve(err("EINVAL", `length ${max}`));
    return this.block(sock, () => {
      if (sock.closed) return err("EBADF");
      const udp = sock.udp;
      if (udp === undefined) return err("EINVAL", "not bound");
      // Linux's __skb_try_recv_datagram: a pending error is reported before any datagram.
      const pending = this.takeError(sock);
      if (pending !== undefined) return pending;
      // The host delivers only datagrams of the families the socket was bound for.
      const msg = udp.recvFrom();
      if (msg === undefined) return sock.nonBlocking ? err("EAGAIN") : undefined;
      const data = msg.data.length > max ? msg.data.slice(0, max) : msg.data;
      return { data, from: sock.family === 6 ? this.familyForm(sock, msg.from) : msg.from };
    });
  }

  // ───────────────────────────── closing ─────────────────────────────

  shutdown(fd: Fd, how: ShutdownHow): undefined | SocketError {
    const sock = this.getTcp(fd);
    if (sock instanceof SocketError) return sock;
    if (how !== "rd" && how !== "wr" && how !== "rdwr") return err("EINVAL", `how ${String(how)}`);
    const tcb = sock.tcb;
    if (tcb === undefined) return err("ENOTCONN");
    if (tcb.state === State.SynSent) return err("ENOTCONN");
    const now = this.now();
    if ((how === "wr" || how === "rdwr") && !sock.wrShut) {
      sock.wrShut = true;
      // RFC 9293 §3.10.4: CLOSE means "I have no more to send" — a FIN after queued data.
      tcb.close(now);
    }
    if ((how === "rd" || how === "rdwr") && !sock.rdShut) {
      sock.rdShut = true;
      // Discard what is buffered, so the window stays open and readers see EOF.
      if (tcb.recvAvailable > 0) tcb.recv(tcb.recvAvailable, now);
    }
    this.flush();
    this.wake(sock);
    return undefined;
  }

  /**
   * Releases the fd. A connection is closed gracefully (FIN after queued
   * data) and lives on in the host until CLOSED; with unread received data,
   * or SO_LINGER 0, it is aborted with a RST instead (RFC 1122 §4.2.2.13,
   * RFC 2525 §2.17). Blocked calls on the fd complete with EBADF.
   */
  close(fd: Fd): undefined | SocketError {
    const sock = this.get(fd);
    if (sock instanceof SocketError) return sock;
    sock.closed = true;
    this.socks.delete(fd);
    this.freeFds.set(fd, fd);
    const now = this.now();
    if (sock.type === "udp") {
      sock.udp?.close();
    } else if (sock.listener !== undefined) {
      this.byListener.delete(sock.listener);
      this.host.unlisten(sock.boundPort as number, now, this.peerFamilies(sock));
    } else if (sock.tcb !== undefined) {
      const tcb = sock.tcb;
      if (tcb.state !== State.Closed) {
        if (sock.linger === 0 || (!sock.rdShut && tcb.recvAvailable > 0)) tcb.abort(now);
        else if (!sock.wrShut) tcb.close(now);
      }
      if (sock.watch !== undefined) tcb.unobserve(sock.watch);
    }
    this.flush();
    this.wake(sock);
    return undefined;
  }

  /**
   * Resolves once everything written (and our FIN, after shutdown(wr)) is
   * acknowledged, or with the connection's error. Used by `Connection.end()`.
   */
  drained(fd: Fd): Promise<undefined | SocketError> {
    const sock = this.getTcp(fd);
    if (sock instanceof SocketError) return Promise.resolve(sock);
    const tcb = sock.tcb;
    if (tcb === undefined) return Promise.resolve(err("ENOTCONN"));
    return this.block(sock, () => {
      if (tcb.state === State.Closed && tcb.error !== undefined) return err(tcb.error);
      if (tcb.sendQueued > 0) return undefined;
      if (sock.wrShut && !finAcked(tcb.state)) return undefined;
      return null;
    }).then((r) => (r === null ? undefined : r));
  }

  // ───────────────────────────── options ─────────────────────────────

  setsockopt<K extends WritableOption>(
    fd: Fd,
    opt: K,
    value: SocketOptions[K],
  ): undefined | SocketError {
    const sock = this.get(fd);
    if (sock instanceof SocketError) return sock;
    const v: unknown = value;
    switch (opt as WritableOption) {
      case "TCP_NODELAY": {
        if (sock.type !== "tcp") return err("ENOPROTOOPT");
        if (typeof v !== "boolean") return err("EINVAL", "TCP_NODELAY takes a boolean");
        sock.noDelay = v;
        sock.tcb?.setNoDelay(v, this.now());
        this.flush(); // turning Nagle off may release a held segment
        return undefined;
      }
      case "SO_RCVBUF":
      case "SO_SNDBUF": {
        if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) {
          return err("EINVAL", `${opt} takes a positive integer`);
        }
        // Like Linux, values are clamped rather than refused; they apply to connections opened later.
        const size = Math.min(MAX_BUF, Math.max(MIN_BUF, v));
        if (opt === "SO_RCVBUF") sock.rcvBuf = size;
        else if (sock.type === "tcp") sock.sndBuf = size;
        if (opt === "SO_RCVBUF" && sock.type === "udp" && sock.udp !== undefined)
          sock.udp.queueLimit = size;
        return undefined;
      }
      case "SO_KEEPALIVE": {
        if (sock.type !== "tcp") return err("ENOPROTOOPT");
        if (typeof v !== "boolean") return err("EINVAL", "SO_KEEPALIVE takes a boolean");
        sock.keepAlive = v;
        sock.tcb?.setKeepAlive(v, this.now());
        this.flush(); // the keep-alive deadline joins (or leaves) the host's timers
        return undefined;
      }
      case "SO_REUSEADDR":
        if (typeof v !== "boolean") return err("EINVAL", "SO_REUSEADDR takes a boolean");
        sock.reuseAddr = v;
        return undefined;
      case "SO_LINGER":
        if (sock.type !== "tcp") return err("ENOPROTOOPT");
        if (v !== undefined && (typeof v !== "number" || !Number.isInteger(v) || v < 0)) {
          return err("EINVAL", "SO_LINGER takes seconds ≥ 0 or undefined");
        }
        sock.linger = v as number | undefined;
        return undefined;
      case "IPV6_V6ONLY":
        // An IPPROTO_IPV6 option: Linux's ip_setsockopt has none (ENOPROTOOPT);
        // once the socket has a port it is EINVAL (do_ipv6_setsockopt).
        if (sock.family !== 6) return err("ENOPROTOOPT", "IPV6_V6ONLY on an AF_INET socket");
        if (typeof v !== "boolean") return err("EINVAL", "IPV6_V6ONLY takes a boolean");
        if (this.isBound(sock)) return err("EINVAL", "IPV6_V6ONLY after bind");
        sock.v6Only = v;
        return undefined;
      default:
        return err("ENOPROTOOPT", String(opt));
    }
  }

  getsockopt<K extends SocketOption>(fd: Fd, opt: K): SocketOptions[K] | SocketError {
    const sock = this.get(fd);
    if (sock instanceof SocketError) return sock;
    const value = this.readOption(sock, opt);
    return value as SocketOptions[K] | SocketError;
  }

  private readOption(sock: Sock, opt: SocketOption): SocketOptions[SocketOption] | SocketError {
    switch (opt) {
      case "TCP_NODELAY":
        return sock.type === "tcp" ? sock.noDelay : err("ENOPROTOOPT");
      case "SO_RCVBUF":
        return (
          sock.rcvBuf ??
          (sock.type === "tcp" ? this.host.tcpSettings.rcvBuf : this.host.udpQueueBytes)
        );
      case "SO_SNDBUF":
        return sock.type === "tcp" ? (sock.sndBuf ?? this.host.tcpSettings.sndBuf) : 65535;
      case "SO_KEEPALIVE":
        return sock.type === "tcp" ? sock.keepAlive : err("ENOPROTOOPT");
      case "SO_REUSEADDR":
        return sock.reuseAddr;
      case "SO_LINGER":
        return sock.type === "tcp" ? sock.linger : err("ENOPROTOOPT");
      case "IPV6_V6ONLY":
        return sock.family === 6 ? sock.v6Only : err("ENOPROTOOPT");
      case "SO_ERROR":
        // Reading SO_ERROR clears it (how a non-blocking connect learns its outcome).
        return this.takeError(sock)?.code;
      default:
        return err("ENOPROTOOPT", String(opt));
    }
  }

  // ───────────────────────────── inspection ─────────────────────────────

  poll(fd: Fd): PollResult | SocketError {
    const sock = this.get(fd);
    if (sock instanceof SocketError) return sock;
    if (sock.type === "udp") {
      const error = sock.pendingError !== undefined;
      return { readable: (sock.udp?.queued ?? 0) > 0 || error, writable: true, error, hup: false };
    }
    if (sock.listener !== undefined) {
      return {
        readable: sock.listener.acceptQueue.length > 0,
        writable: false,
        error: false,
        hup: false,
      };
    }
    const tcb = sock.tcb;
    if (tcb === undefined) return { readable: false, writable: false, error: false, hup: true };
    const error = sock.pendingError !== undefined;
    const closed = tcb.state === State.Closed;
    const connecting = tcb.state === State.SynSent || tcb.state === State.SynReceived;
    return {
      readable: tcb.recvAvailable > 0 || tcb.peerClosed || sock.rdShut || error || closed,
      writable: !connecting && !closed && !sock.wrShut && tcb.sendSpace > 0,
      error,
      hup: closed || (tcb.peerClosed && sock.wrShut),
    };
  }

  info(fd: Fd): SocketInfo | SocketError {
    const sock = this.get(fd);
    if (sock instanceof SocketError) return sock;
    return this.describe(sock);
  }

  /** Every open socket, by fd. */
  list(): SocketInfo[] {
    return [...this.socks.values()].sort((a, b) => a.fd - b.fd).map((s) => this.describe(s));
  }

  private describe(sock: Sock): SocketInfo {
    if (sock.type === "udp") {
      return {
        fd: sock.fd,
        type: "udp",
        nonBlocking: sock.nonBlocking,
        local: sock.udp ? this.ownEndpoint(sock, sock.udp.port) : undefined,
        remote: sock.peer,
        state: sock.udp ? "BOUND" : "UNBOUND",
        tcb: undefined,
      };
    }
    const tcb = sock.tcb;
    let state = "UNCONNECTED";
    if (sock.listener !== undefined) state = "LISTEN";
    else if (tcb !== undefined) state = stateName(tcb.state);
    return {
      fd: sock.fd,
      type: "tcp",
      nonBlocking: sock.nonBlocking,
      local:
        tcb?.local ??
        (sock.boundPort !== undefined ? this.ownEndpoint(sock, sock.boundPort) : undefined),
      remote: tcb?.remote,
      state,
      tcb,
    };
  }

  /** Our address of the socket's family with `port` (IPv6: `::` on a host without one). */
  private ownEndpoint(sock: Sock, port: number): Endpoint {
    if (sock.family === 4 || sock.scope === 4) return { addr: this.host.addr, port };
    return { family: 6, addr: this.host.addr6 ?? IPV6_UNSPECIFIED, port };
  }

  /** getsockname(2): the local endpoint in the socket's family's form (EINVAL while unbound). */
  getsockname(fd: Fd): IpEndpoint | SocketError {
    const sock = this.get(fd);
    if (sock instanceof SocketError) return sock;
    const local = this.describe(sock).local;
    return local === undefined ? err("EINVAL", "not bound") : this.familyForm(sock, local);
  }

  /** getpeername(2): the peer's endpoint in the socket's family's form. */
  getpeername(fd: Fd): IpEndpoint | SocketError {
    const sock = this.get(fd);
    if (sock instanceof SocketError) return sock;
    const remote = this.describe(sock).remote;
    return remote === undefined ? err("ENOTCONN") : this.familyForm(sock, remote);
  }

  /**
   * An endpoint as the socket names it: an AF_INET6 socket names an IPv4
   * one `::ffff:a.b.c.d` (RFC 3493 §3.7), the Host files it as IPv4.
   */
  private familyForm(sock: Sock, ep: Endpoint): IpEndpoint {
    if (ep.family === 6) return ep;
    if (sock.family === 6) return { family: 6, addr: ipv4MappedIpv6(ep.addr >>> 0), port: ep.port };
    return { family: 4, addr: ep.addr >>> 0, port: ep.port };
  }

  /** The TCB behind a socket (for the lab and the stream adapter). */
  tcbOf(fd: Fd): TcbView | undefined {
    const sock = this.socks.get(fd);
    return sock?.type === "tcp" ? sock.tcb : undefined;
  }

  // ───────────────────────────── internals ─────────────────────────────

  /** The lowest free fd: the smallest one closed and not reused yet, else the next new one. */
  private allocateFd(): Fd {
    const lowest = this.freeFds.first();
    if (lowest === undefined) return this.nextFd++;
    this.freeFds.delete(lowest.item);
    return lowest.item;
  }

  private get(fd: Fd): Sock | SocketError {
    const sock = this.socks.get(fd);
    return sock ?? err("EBADF", `#${fd}`);
  }

  private getTcp(fd: Fd): TcpSock | SocketError {
    const sock = this.get(fd);
    if (sock instanceof SocketError) return sock;
    if (sock.type !== "tcp") return err("EOPNOTSUPP", "not a TCP socket");
    return sock;
  }

  /**
   * An address of the socket's family (an IPv4-mapped one stays IPv6 here).
   * Text of the other family is EAFNOSUPPORT; text that is no address is
   * EINVAL, naming it.
   */
  private parseAddr(sock: Sock, addr: SockAddr): Endpoint | SocketError {
    let ep: Endpoint;
    if (typeof addr === "number") {
      if (!Number.isInteger(addr) || addr < 0 || addr > 0xffffffff) return err("EINVAL", "address");
      ep = { addr: addr >>> 0, port: 0 };
    } else if (isIpv6Value(addr)) {
      ep = { family: 6, addr, port: 0 };
    } else if (typeof addr === "string") {
      const a = parseIpAddr(addr);
      if (a === undefined)
        return err("EINVAL", `address "${addr}" is neither IPv4 (10.0.0.2) nor IPv6 (fd00::2)`);
      ep = a.family === 6 ? { family: 6, addr: a.addr, port: 0 } : { addr: a.addr, port: 0 };
    } else {
      return err("EINVAL", "address");
    }
    const family = familyOf(ep);
    if (family !== sock.family) {
      const want = sock.family === 6 ? "AF_INET6" : "AF_INET";
      return err("EAFNOSUPPORT", `an IPv${family} address on an ${want} socket`);
    }
    return ep;
  }

  /**
   * A peer for connect/sendTo as the Host takes it: `::ffff:a.b.c.d` is the
   * IPv4 peer it names (RFC 3493 §3.7). An IPv6-only socket cannot reach
   * one: ENETUNREACH, as Linux's tcp_v6_connect and udpv6_sendmsg say. Nor
   * can a socket bound to an address of the other family (our choice: its
   * packets would need a source it has not got).
   */
  private peerOf(sock: Sock, addr: SockAddr, port: number | undefined): Endpoint | SocketError {
    const ep = this.endpointOf(sock, addr, port);
    if (ep instanceof SocketError || ep.family !== 6) return ep;
    const v4 = ipv4FromMapped(ep.addr);
    const family = v4 === undefined ? 6 : 4;
    if (sock.v6Only && family === 4)
      return err("ENETUNREACH", "an IPv4-mapped peer on an IPV6_V6ONLY socket");
    if (sock.scope !== undefined && sock.scope !== family)
      return err(
        "ENETUNREACH",
        `an IPv${family} peer on a socket bound to an IPv${sock.scope} address`,
      );
    return v4 === undefined ? ep : { addr: v4, port: ep.port };
  }

  /** `addr` with `port`, or, without a port, an endpoint's text (`10.0.0.2:80`, `[fd00::2]:80`). */
  private endpointOf(sock: Sock, addr: SockAddr, port: number | undefined): Endpoint | SocketError {
    if (port === undefined) {
      if (typeof addr !== "string") return err("EINVAL", "no port");
      const ep = parseIpEndpoint(addr);
      if (ep === undefined)
        return err("EINVAL", `endpoint "${addr}" is neither 10.0.0.2:80 nor [fd00::2]:80`);
      const a = this.parseAddr(sock, ep.addr);
      return a instanceof SocketError ? a : { ...a, port: ep.port };
    }
    if (!isValidPort(port)) return err("EINVAL", `port ${port}`);
    const a = this.parseAddr(sock, addr);
    return a instanceof SocketError ? a : { ...a, port };
  }

  private setUdp(sock: UdpSock, udp: UdpSocket): void {
    sock.udp = udp;
    udp.onReadable = () => this.wake(sock);
    // RFC 1122 §4.1.3.3 leaves the how to the API. As Linux's udp_err (without
    // IP_RECVERR): a hard error (port unreachable: ECONNREFUSED …) about a
    // datagram to the peer the socket is connected to is reported once; an
    // unconnected socket cannot tell whose datagram it was, and soft errors pass.
    udp.onError = (_udp, e) => {
      const peer = sock.peer;
      if (!e.hard || peer === undefined || !ipEndpointEqual(fromEndpoint(peer), fromEndpoint(e.to)))
        return;
      sock.pendingError = e.errno;
      this.wake(sock);
    };
  }

  /** The socket's error, once: later calls on a TCP socket see EOF / EPIPE like BSD. */
  private takeError(sock: Sock): SocketError | undefined {
    const code = sock.pendingError;
    if (code === undefined) return undefined;
    sock.pendingError = undefined;
    if (sock.type === "tcp") sock.errorReported = true;
    return err(code);
  }

  /**
   * Runs `attempt` now; if it returns undefined ("would block"), parks it on
   * the socket and re-runs it on every event of that socket until it returns
   * a result.
   */
  private block<T>(sock: Sock, attempt: () => T | undefined): Promise<T> {
    const first = attempt();
    if (first !== undefined) return Promise.resolve(first);
    // A record, not a closure over a closure: an idle blocked read stays small.
    const { promise, resolve } = Promise.withResolvers<T>();
    sock.waiters.push({ attempt, resolve: resolve as (value: unknown) => void });
    return promise;
  }

  private waking = new Set<Sock>();
  private again = new Set<Sock>();

  private wake(sock: Sock): void {
    if (sock.waiters.length === 0) return;
    // Attempts call into the TCB, which may raise events for this socket again: run once more then.
    if (this.waking.has(sock)) {
      this.again.add(sock);
      return;
    }
    this.waking.add(sock);
    try {
      do {
        this.again.delete(sock);
        for (const w of [...sock.waiters]) {
          const r = w.attempt();
          if (r === undefined) continue;
          const i = sock.waiters.indexOf(w);
          if (i >= 0) sock.waiters.splice(i, 1);
          w.resolve(r);
        }
      } while (this.again.has(sock) && sock.waiters.length > 0);
    } finally {
      this.waking.delete(sock);
      this.again.delete(sock);
    }
  }
}

/** Four 32-bit words: an IPv6 address value. */
function isIpv6Value(addr: unknown): addr is Ipv6Addr {
  return (
    Array.isArray(addr) &&
    addr.length === 4 &&
    addr.every((w) => typeof w === "number" && Number.isInteger(w) && w >= 0 && w <= 0xffffffff)
  );
}

/** Whether two sockets' peer families (undefined: both) share one. */
function familiesOverlap(a: PeerFamily | undefined, b: PeerFamily | undefined): boolean {
  return a === undefined || b === undefined || a === b;
}
