/** The host's TCBs by 4-tuple, peers of either family in one table (ipEndpointKey). */
import { describe, expect, test } from "bun:test";
import { ConnectionTable } from "../../src/stack/connection-table.ts";
import { Tcb } from "../../src/tcp/tcb.ts";
import { type Endpoint, ip } from "../../src/wire/addr.ts";
import { ip6 } from "../../src/wire/ipv6-addr.ts";
import { opts } from "../tcp/helpers.ts";

const LOCAL6: Endpoint = { family: 6, addr: ip6("fd00::2"), port: 80 };
const PEER6: Endpoint = { family: 6, addr: ip6("fd00::1"), port: 40000 };
const LOCAL4: Endpoint = { addr: ip("10.0.0.2"), port: 80 };

const tcbOf = (local: Endpoint, remote: Endpoint) => Tcb.connect(opts({ local, remote }));

describe("ConnectionTable", () => {
  test("finds an IPv6 4-tuple by the peer's address and port, and by nothing else", () => {
    const table = new ConnectionTable();
    const tcb = tcbOf(LOCAL6, PEER6);
    table.set(tcb);
    // A fresh record for the same peer: the key is the value, not the object.
    expect(table.get(80, { family: 6, addr: ip6("fd00::1"), port: 40000 })).toBe(tcb);
    expect(table.has(80, PEER6)).toBe(true);
    expect(table.get(81, PEER6)).toBeUndefined();
    expect(table.get(80, { ...PEER6, port: 40001 })).toBeUndefined();
    for (const other of ["fd01::1", "fd00:0:0:1::1", "fd00::1:0:0:1", "fd00::101"]) {
      expect(table.get(80, { family: 6, addr: ip6(other), port: 40000 })).toBeUndefined();
    }
    expect(table.portInUse(80)).toBe(true);
  });

  test("IPv4 and IPv6 peers share a local port without meeting", () => {
    const table = new ConnectionTable();
    const v6 = tcbOf(LOCAL6, PEER6);
    // An IPv4 peer whose address is the IPv6 one's last word, on the same port.
    const v4 = tcbOf(LOCAL4, { addr: 1, port: 40000 });
    table.set(v6);
    table.set(v4);
    expect(table.get(80, PEER6)).toBe(v6);
    expect(table.get(80, { addr: 1, port: 40000 })).toBe(v4);
    expect(table.get(80, { family: 4, addr: 1, port: 40000 })).toBe(v4);
    expect(table.delete(v6)).toBe(true);
    expect(table.get(80, PEER6)).toBeUndefined();
    expect(table.get(80, { addr: 1, port: 40000 })).toBe(v4);
    expect(table.delete(v4)).toBe(true);
    expect(table.portInUse(80)).toBe(false);
  });

  test("deletes an IPv6 TCB only if it is the one filed under its 4-tuple", () => {
    const table = new ConnectionTable();
    const filed = tcbOf(LOCAL6, PEER6);
    const stale = tcbOf(LOCAL6, PEER6);
    table.set(filed);
    expect(table.delete(stale)).toBe(false);
    expect(table.get(80, PEER6)).toBe(filed);
    expect(table.delete(filed)).toBe(true);
    expect(table.portInUse(80)).toBe(false);
  });
});
