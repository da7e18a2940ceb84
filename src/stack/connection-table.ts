import type { DrivenTcb } from "../tcp/view.ts";
import type { Endpoint } from "../wire/addr.ts";
import { ipEndpointKey } from "../wire/ip-addr.ts";

/**
 * The host's TCBs by 4-tuple (our address is the host's one): by local
 * port, then by the peer's address and port (`ipEndpointKey`): for an IPv4
 * peer one number (48 bits, exact in a double), so a lookup per packet
 * builds no key string; for an IPv6 peer a short string, never equal to a number.
 */
export class ConnectionTable {
  private readonly byPort = new Map<number, Map<number | string, DrivenTcb>>();

  private static key(remote: Endpoint): number | string {
    return ipEndpointKey(remote);
  }

  get(localPort: number, remote: Endpoint): DrivenTcb | undefined {
    return this.byPort.get(localPort)?.get(ConnectionTable.key(remote));
  }

  has(localPort: number, remote: Endpoint): boolean {
    return this.get(localPort, remote) !== undefined;
  }

  set(tcb: DrivenTcb): void {
    const port = tcb.local.port;
    let m = this.byPort.get(port);
    if (m === undefined) {
      m = new Map();
      this.byPort.set(port, m);
    }
    m.set(ConnectionTable.key(tcb.remote), tcb);
  }

  /** Removes `tcb` if it is the one filed under its 4-tuple; whether it was. */
  delete(tcb: DrivenTcb): boolean {
    const port = tcb.local.port;
    const m = this.byPort.get(port);
    const key = ConnectionTable.key(tcb.remote);
    if (m?.get(key) !== tcb) return false;
    m.delete(key);
    if (m.size === 0) this.byPort.delete(port);
    return true;
  }

  /** Whether any connection uses local port `port`. */
  portInUse(port: number): boolean {
    return this.byPort.has(port);
  }
}
