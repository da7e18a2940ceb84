import type { Connection, Net, Server } from "../api/net.ts";

/** A running built-in service. */
export interface Service {
  readonly name: string;
  readonly protocol: "tcp" | "udp";
  readonly port: number;
  /** Stops listening and aborts the connections still open. */
  close(): void;
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
): Service {
  const open = new Set<Connection>();
  let server: Server | undefined;
  server = net.listen(port, (conn) => {
    open.add(conn);
    handle(conn)
      .catch(() => conn.destroy())
      .finally(() => {
        conn.close();
        open.delete(conn);
      });
  });
  return {
    name,
    protocol: "tcp",
    port,
    close() {
      server?.close();
      server = undefined;
      for (const conn of open) conn.destroy();
      open.clear();
    },
  };
}
