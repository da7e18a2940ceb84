/**
 * How the lab names connections: by the socket id (`#3`) they have now or
 * had last. A connection keeps its name after `close` released the id, shown
 * as `(#3)`, so the state table, the ladder, checks and `inject` can still
 * speak of it while it closes.
 */
import type { TcbView } from "../tcp/view.ts";
import type { LabHost } from "./world.ts";

export class SocketNames {
  /** The socket id each TCB was last seen under, per host. */
  private readonly memory = new Map<string, Map<number, TcbView>>();
  /** Peer ISNs chosen by `inject` for connections whose IRS is not known yet. */
  readonly injectBases = new WeakMap<TcbView, number>();

  /** `#3`, `(#3)` for a TCB whose socket id was closed, or `-`. */
  idOf(host: LabHost): (tcb: TcbView) => string {
    const open = new Map<TcbView, number>();
    for (const s of host.sockets.list()) if (s.tcb !== undefined) open.set(s.tcb, s.fd);
    const memory = this.memory.get(host.name);
    return (tcb) => {
      const fd = open.get(tcb);
      if (fd !== undefined) return `#${fd}`;
      if (memory !== undefined) for (const [id, t] of memory) if (t === tcb) return `(#${id})`;
      return "-";
    };
  }

  /** The TCB a socket id names now or named last (after close), if any. */
  tcbById(host: LabHost, fd: number): TcbView | undefined {
    return host.sockets.tcbOf(fd) ?? this.memory.get(host.name)?.get(fd);
  }

  /** Whether a closed socket id still names a connection. */
  remembers(host: LabHost, fd: number): boolean {
    return this.memory.get(host.name)?.has(fd) ?? false;
  }

  /** Notes the ids the hosts' sockets have now (after every command). */
  remember(hosts: readonly LabHost[]): void {
    for (const h of hosts) {
      let memory = this.memory.get(h.name);
      if (memory === undefined) {
        memory = new Map();
        this.memory.set(h.name, memory);
      }
      for (const s of h.sockets.list()) {
        if (s.tcb !== undefined) memory.set(s.fd, s.tcb);
        else memory.delete(s.fd);
      }
    }
  }

  /** A fresh world: nothing to remember. */
  clear(): void {
    this.memory.clear();
  }
}
