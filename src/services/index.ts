/**
 * The built-in services of `tcplab serve`, on tcplab's own address:
 * TCP echo 7, discard 9, chargen 19, HTTP 80; UDP echo 7.
 */
import type { Net } from "../api/net.ts";
import type { Sockets } from "../api/sockets.ts";
import { CHARGEN_PORT, startChargen } from "./chargen.ts";
import { DISCARD_PORT, startDiscard } from "./discard.ts";
import { ECHO_PORT, startEcho } from "./echo.ts";
import { HTTP_PORT, startHttp } from "./http.ts";
import type { Service } from "./service.ts";
import { startUdpEcho, UDP_ECHO_PORT } from "./udp-echo.ts";

export type { Service } from "./service.ts";
export { ByteStream, BYTES_SEED, deterministicBytes } from "./http.ts";
export { chargenPeriod } from "./chargen.ts";

export interface RunningServices {
  readonly list: readonly Service[];
  /** Ports by protocol, as `serve` reports them. */
  readonly ports: { readonly tcp: number[]; readonly udp: number[] };
  close(): void;
}

/** Starts every built-in service; if one cannot bind, the ones started are stopped and it throws. */
export function startServices(net: Net, sockets: Sockets): RunningServices {
  const list: Service[] = [];
  const starters = [
    () => startEcho(net, ECHO_PORT),
    () => startDiscard(net, DISCARD_PORT),
    () => startChargen(net, CHARGEN_PORT),
    () => startHttp(net, HTTP_PORT),
    () => startUdpEcho(sockets, UDP_ECHO_PORT),
  ];
  try {
    for (const start of starters) list.push(start());
  } catch (e) {
    for (const s of list) s.close();
    throw e;
  }
  return {
    list,
    ports: {
      tcp: list.filter((s) => s.protocol === "tcp").map((s) => s.port),
      udp: list.filter((s) => s.protocol === "udp").map((s) => s.port),
    },
    close() {
      for (const s of list) s.close();
    },
  };
}
