import { expect } from "bun:test";
import { EPOCH, type Instant, instant } from "../../src/clock/time.ts";
import { Host, type HostOptions } from "../../src/stack/host.ts";
import type { Listener } from "../../src/tcp/listener.ts";
import { State } from "../../src/tcp/state.ts";
import type { TcpSettings } from "../../src/tcp/settings.ts";
import type { TcbView } from "../../src/tcp/view.ts";
import { ip } from "../../src/wire/addr.ts";
import { emitIpv4, type Ipv4Repr, parseIpv4 } from "../../src/wire/ipv4.ts";

export const A = ip("10.0.0.1");
export const B = ip("10.0.0.2");

export function host(name: "a" | "b", opts: Partial<HostOptions> = {}): Host {
  return new Host({
    name,
    addr: name === "a" ? A : B,
    isn: { fixed: name === "a" ? 1000 : 5000 },
    ...opts,
  });
}

/**
 * Cuts `payload` into IPv4 fragments by hand (independent of the stack's own
 * fragmenter): `cuts` are the byte offsets where a new fragment starts.
 */
export function fragments(repr: Ipv4Repr, payload: Uint8Array, cuts: number[]): Uint8Array[] {
  const starts = [0, ...cuts];
  return starts.map((start, i) => {
    const end = starts[i + 1] ?? payload.length;
    const piece = payload.subarray(start, end);
    const pkt = new Uint8Array(20 + piece.length);
    emitIpv4(
      { ...repr, fragmentOffset: start, moreFragments: end < payload.length },
      piece.length,
      pkt,
    );
    pkt.set(piece, 20);
    return pkt;
  });
}

/** Exchanges packets between two hosts until neither has output (no loss, no delay). */
export function pump(a: Host, b: Host, now: Instant, maxRounds = 1000): void {
  for (let i = 0; i < maxRounds; i++) {
    const fromA = a.takeOutput();
    const fromB = b.takeOutput();
    if (fromA.length === 0 && fromB.length === 0) return;
    for (const p of fromA) b.receive(p, now);
    for (const p of fromB) a.receive(p, now);
  }
  throw new Error("pump: hosts never went quiet");
}

/** The parsed packets a host emitted. */
export function parsed(packets: Uint8Array[]) {
  return packets.map((p) => {
    const r = parseIpv4(p);
    if (!r.ok) throw new Error(`host emitted a bad packet: ${r.drop}`);
    return r.value;
  });
}

export function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** `n` connections a → b:80, handshakes done and accepted at b. */
export function connected(
  n: number,
  tcp: Partial<TcpSettings> = {},
): { a: Host; b: Host; clients: TcbView[]; servers: TcbView[] } {
  const a = host("a", { tcp });
  const b = host("b", { tcp });
  const listener = b.listen(80, n) as Listener;
  const clients: TcbView[] = [];
  for (let i = 0; i < n; i++) {
    const tcb = a.connect({ addr: B, port: 80 }, EPOCH);
    if (typeof tcb === "string") throw new Error(tcb);
    clients.push(tcb);
  }
  pump(a, b, EPOCH);
  const servers: TcbView[] = [];
  for (let t = listener.accept(); t !== undefined; t = listener.accept()) servers.push(t);
  expect(servers.length).toBe(n);
  return { a, b, clients, servers };
}

/** Packets and timers between a and b until both are quiet (at most `limit` ms on); returns the time. */
export function settle(a: Host, b: Host, now: number, limit = 10_000): number {
  let t = now;
  for (;;) {
    pump(a, b, instant(t));
    const next = Math.min(a.pollAt() ?? Infinity, b.pollAt() ?? Infinity);
    if (next > now + limit) return t;
    t = Math.max(t, next);
    a.poll(instant(t));
    b.poll(instant(t));
  }
}

/** Runs a's timers, losing everything it sends, until `tcb` closes. */
export function loseUntilClosed(a: Host, tcb: TcbView): void {
  for (let t = a.pollAt(); t !== undefined && tcb.state !== State.Closed; t = a.pollAt()) {
    a.poll(t);
    a.takeOutput();
  }
}
