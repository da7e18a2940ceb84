/** RFC 863 Discard over TCP: read and throw away until the peer closes, then close. */
import type { Connection, Net } from "../api/net.ts";
import { type Service, type ServiceOptions, tcpService } from "./service.ts";

export const DISCARD_PORT = 9;

export async function discardConnection(conn: Connection): Promise<void> {
  // A plain loop (no async iterator): an idle connection waits in one read.
  while ((await conn.read()) !== null) {
    // discarded
  }
  await conn.end();
}

export function startDiscard(net: Net, port = DISCARD_PORT, opts: ServiceOptions = {}): Service {
  return tcpService(net, "discard", port, discardConnection, opts);
}
