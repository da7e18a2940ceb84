import type { Connection, Net, Server } from "../api/net.ts";
import type { AddressFamily, Sockets } from "../api/sockets.ts";
import { type Duration, ZERO } from "../clock/time.ts";
import { IdleReaper } from "./idle.ts";

/** A running built-in service. */
export interface Service {
  readonly name: string;
  readonly protocol: "tcp" | "udp";
  readonly port: number;
  /** Connections open now, and closed because their peer went quiet (TCP services). */
  readonly stats?: () => { readonly open: number; readonly idleClosed: number };
  /** Stops listening and aborts the connections still open. */
  close(): void;
}

/**
 * The services' accept and half-open queues: a burst of clients beyond it
 * gets SYN cookies while the half-open queue is full, but finds no room
 * while the accept queue is (Linux's somaxconn is 4096).
 */
export const LISTEN_BACKLOG = 1024;

export interface ServiceOptions {
  /** Close a connection whose peer has sent nothing for this long (0: never). */
  readonly idleTimeout?: Duration;
}

/**
 * The families a service listens on: AF_INET, and AF_INET6 too when the
 * host has an IPv6 address — two sockets on one port, each taking the peers
 * of its family (the AF_INET6 one with IPV6_V6ONLY, so IPv4 peers keep
 * their own form).
 */
export function serviceFamilies(sockets: Sockets): AddressFamily[] {
  return sockets.host.addr6 === undefined ? ["AF_INET"] : ["AF_INET", "AF_INET6"];
}

/**
 * A TCP service, on both families (`serviceFamilies`) with one set of
 * connections: `handle` runs once per accepted connection; whatever it
 * throws ends that connection only (a peer's reset is not the server's problem).
 */
export function tcpService(
  net: Net,
  name: string,
  port: number,
  handle: (conn: Connection) => Promise<void>,
  opts: ServiceOptions = {},
): Service {
  const open = new Set<Connection>();
  const idle =
    (opts.idleTimeout ?? 0) > 0
      ? new IdleReaper(net.sockets.attachment.clock, opts.idleTimeout ?? ZERO, (c) => c.close())
      : undefined;
  const onConnection = (conn: Connection): void => {
    open.add(conn);
    idle?.watch(conn);
    handle(conn)
      .catch(() => conn.destroy())
      .finally(() => {
        conn.close();
        open.delete(conn);
        idle?.forget(conn);
      });
  };
  const servers: Server[] = [];
  for (const family of serviceFamilies(net.sockets)) {
    try {
      const v6Only = family === "AF_INET6" ? { v6Only: true } : {};
      servers.push(net.listen(port, onConnection, LISTEN_BACKLOG, family, v6Only));
    } catch (e) {
      for (const s of servers) s.close();
      throw e;
    }
  }
  return {
    name,
    protocol: "tcp",
    port,
    stats: () => ({ open: open.size, idleClosed: idle?.closed ?? 0 }),
    close() {
      for (const s of servers.splice(0)) s.close();
      idle?.stop();
      for (const conn of open) conn.destroy();
      open.clear();
    },
  };
}
