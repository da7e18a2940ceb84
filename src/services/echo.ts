/** RFC 862 Echo over TCP: every byte received is sent back; the peer's FIN is answered with ours. */
import type { Connection, Net } from "../api/net.ts";
import { type Service, type ServiceOptions, tcpService } from "./service.ts";

export const ECHO_PORT = 7;

export async function echoConnection(conn: Connection): Promise<void> {
  // A plain loop (no async iterator): an idle connection waits in one read.
  for (let chunk = await conn.read(); chunk !== null; chunk = await conn.read()) {
    await conn.write(chunk);
  }
  await conn.end();
}

export function startEcho(net: Net, port = ECHO_PORT, opts: ServiceOptions = {}): Service {
  return tcpService(net, "echo", port, echoConnection, opts);
}
