import type { Connection, Net, Server } from "../api/net.ts";
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
 * A TCP service: `handle` runs once per accepted connection; whatever it
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
  let server: Server | undefined;
  server = net.listen(
    port,
    (conn) => {
      open.add(conn);
      idle?.watch(conn);
      handle(conn)
        .catch(() => conn.destroy())
        .finally(() => {
          conn.close();
          open.delete(conn);
          idle?.forget(conn);
        });
    },
    LISTEN_BACKLOG,
  );
  return {
    name,
    protocol: "tcp",
    port,
    stats: () => ({ open: open.size, idleClosed: idle?.closed ?? 0 }),
    close() {
      server?.close();
      server = undefined;
      idle?.stop();
      for (const conn of open) conn.destroy();
      open.clear();
    },
  };
}
