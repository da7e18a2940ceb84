import { describe, expect, test } from "bun:test";
import { EPOCH } from "../../src/clock/time.ts";
import type { Host } from "../../src/stack/host.ts";
import { Listener } from "../../src/tcp/listener.ts";
import { State } from "../../src/tcp/state.ts";
import type { TcbView } from "../../src/tcp/view.ts";
import { ip6 } from "../../src/wire/ipv6-addr.ts";
import { B, host, pump } from "./util.ts";

const A6 = ip6("fd00::1");
const B6 = ip6("fd00::2");

function pair(): { a: Host; b: Host } {
  return { a: host("a", { addr6: A6 }), b: host("b", { addr6: B6 }) };
}

function listener(l: Listener | string): Listener {
  if (!(l instanceof Listener)) throw new Error(`listen: ${l}`);
  return l;
}

describe("the listener table: one listener per port and family (RFC 3493 §3.7)", () => {
  test("an IPv4 and an IPv6 listener share a port; a third of either family is EADDRINUSE", () => {
    const { b } = pair();
    listener(b.listen(80, 4, { family: 4 }));
    listener(b.listen(80, 4, { family: 6 }));
    expect(b.listen(80, 4, { family: 4 })).toBe("EADDRINUSE");
    expect(b.listen(80, 4, { family: 6 })).toBe("EADDRINUSE");
    expect(b.listen(80, 4)).toBe("EADDRINUSE");
    expect(b.listeners().map((l) => l.port)).toEqual([80, 80]);
  });

  test("a listener for both families takes the port for both", () => {
    const { b } = pair();
    const both = listener(b.listen(80, 4));
    expect(b.listen(80, 4, { family: 4 })).toBe("EADDRINUSE");
    expect(b.listen(80, 4, { family: 6 })).toBe("EADDRINUSE");
    expect(b.listenerOn(80, 4)).toBe(both);
    expect(b.listenerOn(80, 6)).toBe(both);
    expect(b.listeners()).toHaveLength(1);
  });

  test("a SYN goes to the listener of its family", () => {
    const { a, b } = pair();
    const l4 = listener(b.listen(80, 4, { family: 4 }));
    const l6 = listener(b.listen(80, 4, { family: 6 }));
    const c4 = a.connect({ addr: B, port: 80 }, EPOCH) as TcbView;
    const c6 = a.connect({ family: 6, addr: B6, port: 80 }, EPOCH) as TcbView;
    pump(a, b, EPOCH);
    expect(c4.state).toBe(State.Established);
    expect(c6.state).toBe(State.Established);
    const s4 = l4.accept();
    const s6 = l6.accept();
    expect(s4?.remote).toEqual({ addr: a.addr, port: c4.local.port });
    expect(s6?.remote).toEqual({ family: 6, addr: A6, port: c6.local.port });
    expect(l4.accept()).toBeUndefined();
    expect(l6.accept()).toBeUndefined();
  });

  test("closing one family's listener leaves the other; a SYN for the closed one is reset", () => {
    const { a, b } = pair();
    listener(b.listen(80, 4, { family: 4 }));
    const l6 = listener(b.listen(80, 4, { family: 6 }));
    b.unlisten(80, EPOCH, 4);
    expect(b.listenerOn(80, 4)).toBeUndefined();
    expect(b.listenerOn(80, 6)).toBe(l6);
    const c4 = a.connect({ addr: B, port: 80 }, EPOCH) as TcbView;
    const c6 = a.connect({ family: 6, addr: B6, port: 80 }, EPOCH) as TcbView;
    pump(a, b, EPOCH);
    expect(c4.state).toBe(State.Closed);
    expect(c4.error).toBe("ECONNREFUSED");
    expect(c6.state).toBe(State.Established);
    expect(b.stats().packets["tcp.rst-out"]).toBe(1);
  });

  test("UDP: one socket per port and family; each takes its family's datagrams", () => {
    const { a, b } = pair();
    const u4 = b.udpBind(9, undefined, 4);
    const u6 = b.udpBind(9, undefined, 6);
    if (typeof u4 === "string" || typeof u6 === "string") throw new Error("bind");
    expect(b.udpBind(9, undefined, 4)).toBe("EADDRINUSE");
    expect(b.udpBind(9)).toBe("EADDRINUSE");
    const c = a.udpBind(0);
    if (typeof c === "string") throw new Error("bind");
    c.sendTo({ addr: B, port: 9 }, Uint8Array.of(4));
    c.sendTo({ family: 6, addr: B6, port: 9 }, Uint8Array.of(6));
    pump(a, b, EPOCH);
    expect(u4.recvFrom()?.data).toEqual(Uint8Array.of(4));
    expect(u4.recvFrom()).toBeUndefined();
    expect(u6.recvFrom()?.data).toEqual(Uint8Array.of(6));
    expect(u6.recvFrom()).toBeUndefined();
    u4.close();
    expect(b.udpBind(9)).toBe("EADDRINUSE");
    u6.close();
    expect(typeof b.udpBind(9)).toBe("object");
  });
});
