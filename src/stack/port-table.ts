/**
 * What a host's ports are bound to, per address family: a port holds one
 * item for IPv4 peers and one for IPv6 peers, or one item that takes both
 * (a dual-stack socket, RFC 3493 §3.7). An AF_INET and an IPv6-only AF_INET6
 * socket share a port this way, as on Linux.
 */
export type PeerFamily = 4 | 6;

export class PortTable<T> {
  /** By port: [the IPv4 peers' item, the IPv6 peers' item]; a dual-stack item fills both. */
  private readonly byPort = new Map<number, [T | undefined, T | undefined]>();

  /** The item taking peers of `family` on `port`. */
  get(port: number, family: PeerFamily): T | undefined {
    return this.byPort.get(port)?.[family === 6 ? 1 : 0];
  }

  /** Whether anything is bound to `port`. */
  has(port: number): boolean {
    return this.byPort.has(port);
  }

  /** Whether `port` is free for peers of `family` (of both when undefined). */
  free(port: number, family: PeerFamily | undefined): boolean {
    const slots = this.byPort.get(port);
    if (slots === undefined) return true;
    if (family === undefined) return slots[0] === undefined && slots[1] === undefined;
    return slots[family === 6 ? 1 : 0] === undefined;
  }

  /** Files `item` for peers of `family` (both when undefined); the caller checked `free`. */
  set(port: number, family: PeerFamily | undefined, item: T): void {
    let slots = this.byPort.get(port);
    if (slots === undefined) {
      slots = [undefined, undefined];
      this.byPort.set(port, slots);
    }
    if (family !== 6) slots[0] = item;
    if (family !== 4) slots[1] = item;
  }

  /** Removes `item` from `port`, for whichever families it took; whether it was there. */
  delete(port: number, item: T): boolean {
    const slots = this.byPort.get(port);
    if (slots === undefined) return false;
    let found = false;
    for (const i of [0, 1] as const) {
      if (slots[i] !== item) continue;
      slots[i] = undefined;
      found = true;
    }
    if (slots[0] === undefined && slots[1] === undefined) this.byPort.delete(port);
    return found;
  }

  /** Every item once, by port, with its port. */
  entries(): { port: number; item: T }[] {
    const out: { port: number; item: T }[] = [];
    for (const [port, [v4, v6]] of this.byPort) {
      if (v4 !== undefined) out.push({ port, item: v4 });
      if (v6 !== undefined && v6 !== v4) out.push({ port, item: v6 });
    }
    return out;
  }
}
