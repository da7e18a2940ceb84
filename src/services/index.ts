/**
 * The built-in services of `tcplab serve`, on tcplab's own address:
 * TCP echo 7, discard 9, chargen 19, HTTP 80; UDP echo 7.
 */
import type { Net } from "../api/net.ts";
import type { Sockets } from "../api/sockets.ts";
import { type Duration, ms } from "../clock/time.ts";
import { CHARGEN_PORT, startChargen } from "./chargen.ts";
import { DISCARD_PORT, startDiscard } from "./discard.ts";
import { ECHO_PORT, startEcho } from "./echo.ts";
import { HTTP_PORT, startHttp } from "./http.ts";
import type { Service } from "./service.ts";
import { startUdpEcho, UDP_ECHO_PORT } from "./udp-echo.ts";

export { chargenPeriod } from "./chargen.ts";
export {
  BYTES_PERIOD,
  BYTES_SEED,
  ByteStream,
  bytesBlock,
  bytesStreamSha256,
  deterministicBytes,
} from "./http.ts";
export type { Service, ServiceOptions } from "./service.ts";

export interface RunningServices {
  readonly list: readonly Service[];
  /** Ports by protocol, as `serve` reports them. */
  readonly ports: { readonly tcp: number[]; readonly udp: number[] };
  close(): void;
}

/** Echo, discard and chargen close a connection whose peer has sent nothing for this long. */
export const DEFAULT_IDLE_TIMEOUT: Duration = ms(300_000);
/** HTTP closes a persistent connection idle this long between requests (RFC 9112 §9.8 leaves it to us). */
export const DEFAULT_HTTP_KEEPALIVE: Duration = ms(15_000);

export interface ServicesOptions {
  /** Echo, discard, chargen: close after this long without a segment from the peer (0: never). */
  readonly idleTimeout?: Duration;
  /** HTTP: the same for persistent connections (0: never). */
  readonly httpKeepAlive?: Duration;
}

/** Starts every built-in service; if one cannot bind, the ones started are stopped and it throws. */
export function startServices(
  net: Net,
  sockets: Sockets,
  opts: ServicesOptions = {},
): RunningServices {
  const list: Service[] = [];
  const idle = { idleTimeout: opts.idleTimeout ?? DEFAULT_IDLE_TIMEOUT };
  const starters = [
    () => startEcho(net, ECHO_PORT, idle),
    () => startDiscard(net, DISCARD_PORT, idle),
    () => startChargen(net, CHARGEN_PORT, idle),
    () => startHttp(net, HTTP_PORT, { idleTimeout: opts.httpKeepAlive ?? DEFAULT_HTTP_KEEPALIVE }),
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
