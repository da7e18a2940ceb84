/**
 * RFC 864 Character Generator over TCP: lines of 72 printable ASCII
 * characters (codes 32..126, 95 of them) ended by CR LF; each line starts
 * one character further along than the one before, so the pattern repeats
 * every 95 lines. Sent until the peer closes or resets; what the peer sends
 * is read and discarded.
 */
import type { Connection, Net } from "../api/net.ts";
import { type Service, type ServiceOptions, tcpService } from "./service.ts";

export const CHARGEN_PORT = 19;
export const CHARGEN_LINE = 72;
const FIRST = 32;
const COUNT = 95;

/** The 95-line period of the pattern: 95 × 74 bytes. */
export function chargenPeriod(): Uint8Array {
  const out = new Uint8Array(COUNT * (CHARGEN_LINE + 2));
  let at = 0;
  for (let line = 0; line < COUNT; line++) {
    for (let i = 0; i < CHARGEN_LINE; i++) out[at++] = FIRST + ((line + i) % COUNT);
    out[at++] = 13;
    out[at++] = 10;
  }
  return out;
}

const PERIOD = chargenPeriod();

export async function chargenConnection(conn: Connection): Promise<void> {
  let peerDone = false;
  // RFC 864: "data sent is discarded"; the peer's FIN (or reset) ends the stream.
  const reading = (async () => {
    try {
      for await (const _ of conn) {
        // discarded
      }
    } catch {
      // a reset ends the writer below too
    }
    peerDone = true;
  })();
  // Several periods per write keeps the send buffer full without a copy per line.
  const chunk = new Uint8Array(PERIOD.length * 8);
  for (let i = 0; i < 8; i++) chunk.set(PERIOD, i * PERIOD.length);
  while (!peerDone) await conn.write(chunk);
  await reading;
  await conn.end();
}

export function startChargen(net: Net, port = CHARGEN_PORT, opts: ServiceOptions = {}): Service {
  return tcpService(net, "chargen", port, chargenConnection, opts);
}
