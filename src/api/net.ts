import { Duplex } from "node:stream";
import type { Instant } from "../clock/time.ts";
import { type IpEndpoint, parseIpAddr, parseIpEndpoint } from "../wire/ip-addr.ts";
import { SocketError } from "./errors.ts";
import type { AddressFamily, Fd, SendFlags, SockAddr, Sockets } from "./sockets.ts";

/** A recv() result as read() gives it: bytes, null at end of stream, or a rejection. */
function chunkOrEnd(r: Uint8Array | SocketError): Uint8Array | null {
  const data = check(r);
  return data.length === 0 ? null : data;
}

/** A Sockets result, or undefined where it failed (a closed or unconnected socket). */
function orUndefined<T>(r: T | SocketError): T | undefined {
  return r instanceof SocketError ? undefined : r;
}

/** Unwraps a Sockets result: a SocketError becomes a rejection. */
function check<T>(r: T | SocketError): T {
  if (r instanceof SocketError) throw r;
  return r;
}

export interface WriteOptions {
  /** The bytes are never written again (a shared read-only block): queued without a copy. */
  readonly immutable?: boolean;
}

const IMMUTABLE: SendFlags = { immutable: true };
const EOF: SendFlags = { eof: true };
const IMMUTABLE_EOF: SendFlags = { immutable: true, eof: true };

/** The family of an address as `connect` takes it (text of neither family is left for `Sockets` to refuse). */
function familyOf(addr: SockAddr, port: number | undefined): AddressFamily {
  if (typeof addr === "number") return "AF_INET";
  if (typeof addr !== "string") return "AF_INET6";
  const family = port === undefined ? parseIpEndpoint(addr)?.family : parseIpAddr(addr)?.family;
  return family === 6 ? "AF_INET6" : "AF_INET";
}

export interface ListenOptions {
  /** IPV6_V6ONLY on an AF_INET6 listener: IPv6 peers only (Linux's default is off: both). */
  readonly v6Only?: boolean;
}

export interface ConnectOptions {
  readonly localPort?: number;
  readonly noDelay?: boolean;
}

/**
 * Promise and stream style over `Sockets`, for application code:
 *
 * ```ts
 * const conn = await net.connect("10.0.0.2", 80); // or ("fd00::2", 80), ("[fd00::2]:80")
 * await conn.write(bytes);
 * for await (const chunk of conn) …;
 * await conn.end();
 * ```
 *
 * Failures reject with `SocketError` (`err.code` is "ECONNREFUSED", …).
 */
export class Net {
  constructor(readonly sockets: Sockets) {}

  /** A connection to `addr` and `port`, or to an endpoint's text without a port; the family is the address's. */
  async connect(addr: SockAddr, port?: number, opts: ConnectOptions = {}): Promise<Connection> {
    const s = this.sockets;
    const fd = check(s.socket("tcp", familyOf(addr, port)));
    try {
      if (opts.noDelay) check(s.setsockopt(fd, "TCP_NODELAY", true));
      if (opts.localPort !== undefined) check(s.bind(fd, opts.localPort));
      check(await s.connect(fd, addr, port));
    } catch (e) {
      s.close(fd);
      throw e;
    }
    return new Connection(s, fd);
  }

  /**
   * Listens on `port`. Connections are delivered to `onConnection` if given,
   * else through the Server's async iterator / accept(). `family`: the
   * peers it takes (AF_INET6: both families, IPv4's as `::ffff:a.b.c.d`,
   * unless `opts.v6Only`; see `Sockets.socket`).
   */
  listen(
    port: number,
    onConnection?: (conn: Connection) => void,
    backlog = 128,
    family: AddressFamily = "AF_INET",
    opts: ListenOptions = {},
  ): Server {
    const s = this.sockets;
    const fd = check(s.socket("tcp", family));
    const v6Only =
      opts.v6Only === undefined ? undefined : s.setsockopt(fd, "IPV6_V6ONLY", opts.v6Only);
    const bound = v6Only ?? s.bind(fd, port);
    const listening = bound ?? s.listen(fd, backlog);
    if (listening instanceof SocketError) {
      s.close(fd);
      throw listening;
    }
    const server = new Server(s, fd);
    if (onConnection !== undefined) {
      void (async () => {
        for await (const conn of server) onConnection(conn);
      })();
    }
    return server;
  }
}

export class Server implements AsyncIterable<Connection> {
  private closed = false;

  constructor(
    private readonly sockets: Sockets,
    readonly fd: Fd,
  ) {}

  get port(): number {
    const info = this.sockets.info(this.fd);
    return info instanceof SocketError ? 0 : (info.local?.port ?? 0);
  }

  /** The next connection; rejects with EBADF once the server is closed. */
  async accept(): Promise<Connection> {
    const fd = check(await this.sockets.accept(this.fd));
    return new Connection(this.sockets, fd);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sockets.close(this.fd);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Connection> {
    while (!this.closed) {
      const fd = await this.sockets.accept(this.fd);
      if (fd instanceof SocketError) {
        if (fd.code === "EBADF") return;
        throw fd;
      }
      yield new Connection(this.sockets, fd);
    }
  }
}

export class Connection implements AsyncIterable<Uint8Array> {
  private closed = false;

  constructor(
    private readonly sockets: Sockets,
    readonly fd: Fd,
  ) {}

  /**
   * Our end as getsockname(2) names it: on an AF_INET6 socket with an IPv4
   * peer, `::ffff:a.b.c.d` (RFC 3493 §3.7), not the IPv4 form the TCB keeps.
   */
  get local(): IpEndpoint | undefined {
    return orUndefined(this.sockets.getsockname(this.fd));
  }

  /** The peer as getpeername(2) names it, in the socket's family's form (as `local`). */
  get remote(): IpEndpoint | undefined {
    return orUndefined(this.sockets.getpeername(this.fd));
  }

  /** When a segment last came from the peer (undefined once the socket is closed). */
  get lastHeard(): Instant | undefined {
    return this.closed ? undefined : this.sockets.tcbOf(this.fd)?.lastHeard;
  }

  /**
   * Resolves once every byte is in the send buffer (not yet acknowledged).
   * `immutable`: `data` is never written again, so it is queued without a copy.
   */
  async write(data: Uint8Array, opts?: WriteOptions): Promise<void> {
    check(await this.sockets.send(this.fd, data, opts?.immutable === true ? IMMUTABLE : undefined));
  }

  /** Up to `max` bytes; null at end of stream. */
  read(max = 65536): Promise<Uint8Array | null> {
    // No async frame of its own: a server's idle connection waits in one promise.
    return this.sockets.recv(this.fd, max).then(chunkOrEnd);
  }

  /** Reads until end of stream and returns everything. */
  async readAll(): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of this) {
      parts.push(chunk);
      total += chunk.length;
    }
    const all = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    return all;
  }

  /**
   * Half-close: sends FIN after the queued data; resolves when all of it,
   * FIN included, is acknowledged. With `last`, those bytes are written
   * first and the FIN leaves in their last segment (MSG_EOF), as with
   * Node's `socket.end(data)`.
   */
  async end(last?: Uint8Array, opts?: WriteOptions): Promise<void> {
    if (last === undefined) check(this.sockets.shutdown(this.fd, "wr"));
    else
      check(await this.sockets.send(this.fd, last, opts?.immutable === true ? IMMUTABLE_EOF : EOF));
    check(await this.sockets.drained(this.fd));
  }

  /** Releases the socket (graceful close; a RST if unread data remains). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sockets.close(this.fd);
  }

  /** Aborts the connection with a RST. */
  destroy(): void {
    if (this.closed) return;
    this.sockets.setsockopt(this.fd, "SO_LINGER", 0);
    this.close();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      const chunk = await this.read();
      if (chunk === null) return;
      yield chunk;
    }
  }

  /** A Node-style Duplex over this connection. */
  toDuplex(): Duplex {
    const conn = this;
    return new Duplex({
      read() {
        conn.read().then(
          (chunk) => this.push(chunk),
          (e: unknown) => this.destroy(e as Error),
        );
      },
      write(chunk: Uint8Array, _enc, cb) {
        conn.write(chunk).then(() => cb(), cb);
      },
      final(cb) {
        conn.end().then(() => cb(), cb);
      },
      destroy(error, cb) {
        if (error) conn.destroy();
        else conn.close();
        cb(error);
      },
    });
  }
}
