/**
 * Addresses and endpoints tagged with their family, for a host that speaks
 * IPv4 and IPv6. An `IpEndpoint` is an `Endpoint` (addr.ts) whose `family`
 * is always written, so it goes wherever an `Endpoint` goes, and
 * `fromEndpoint` tags an `Endpoint` whose IPv4 side left it out.
 */
import { type Endpoint, formatIpv4Addr, type Ipv4Addr, parseIpv4Addr } from "./addr.ts";
import {
  formatIpv6Addr,
  type Ipv6Addr,
  ipv4FromMapped,
  ipv6Equal,
  ipv6Key,
  parseIpv6Addr,
} from "./ipv6-addr.ts";

export type IpAddr =
  | { readonly family: 4; readonly addr: Ipv4Addr }
  | { readonly family: 6; readonly addr: Ipv6Addr };

export type IpEndpoint =
  | { readonly family: 4; readonly addr: Ipv4Addr; readonly port: number }
  | { readonly family: 6; readonly addr: Ipv6Addr; readonly port: number };

export function ipv4Addr(addr: Ipv4Addr): IpAddr {
  return { family: 4, addr: addr >>> 0 };
}

export function ipv6Addr(addr: Ipv6Addr): IpAddr {
  return { family: 6, addr };
}

/** An endpoint as a tagged one (the inverse is a plain assignment). */
export function fromEndpoint(ep: Endpoint): IpEndpoint {
  if (ep.family === 6) return ep;
  return { family: 4, addr: ep.addr >>> 0, port: ep.port };
}

/** Dotted quad or RFC 4291 text, whichever it is. */
export function parseIpAddr(text: string): IpAddr | undefined {
  const v4 = parseIpv4Addr(text);
  if (v4 !== undefined) return { family: 4, addr: v4 };
  const v6 = parseIpv6Addr(text);
  return v6 === undefined ? undefined : { family: 6, addr: v6 };
}

export function formatIpAddr(a: IpAddr): string {
  return a.family === 4 ? formatIpv4Addr(a.addr) : formatIpv6Addr(a.addr);
}

export function ipAddrEqual(a: IpAddr, b: IpAddr): boolean {
  if (a.family === 4) return b.family === 4 && a.addr === b.addr;
  return b.family === 6 && ipv6Equal(a.addr, b.addr);
}

export function ipEndpointEqual(a: IpEndpoint, b: IpEndpoint): boolean {
  return a.port === b.port && ipAddrEqual(a, b);
}

/**
 * An IPv4-mapped IPv6 address as the IPv4 address it stands for; any other
 * address as it is. A dual-stack host files an IPv4 peer under one key
 * however a socket spells it (RFC 4291 §2.5.5.2, RFC 3493 §3.7).
 */
export function unmapIpAddr(a: IpAddr): IpAddr {
  if (a.family === 4) return a;
  const v4 = ipv4FromMapped(a.addr);
  return v4 === undefined ? a : { family: 4, addr: v4 };
}

/**
 * A Map key for (address, port): for IPv4 the same 48-bit number
 * `ConnectionTable` uses today, for IPv6 a string of nine UTF-16 units. The
 * two kinds never collide in one Map, so both families can share it.
 */
export function ipEndpointKey(ep: Endpoint): number | string {
  if (ep.family !== 6) return (ep.addr >>> 0) * 65536 + ep.port;
  return ipv6Key(ep.addr) + String.fromCharCode(ep.port);
}

/** `10.0.0.1:80`, `[fd00::1]:80` (RFC 5952 §6: brackets around an address with a port). */
export function formatIpEndpoint(ep: Endpoint): string {
  return ep.family !== 6
    ? `${formatIpv4Addr(ep.addr)}:${ep.port}`
    : `[${formatIpv6Addr(ep.addr)}]:${ep.port}`;
}

/** tcpdump's form for traces: `10.0.0.1.80`, `fd00::1.80`. */
export function formatTraceEndpoint(ep: IpEndpoint): string {
  return `${formatIpAddr(ep)}.${ep.port}`;
}

const PORT = /^\d{1,5}$/;

/** Parses `10.0.0.1:80` or `[fd00::1]:80`; undefined for anything else or a port over 65535. */
export function parseIpEndpoint(text: string): IpEndpoint | undefined {
  const colon = text.lastIndexOf(":");
  if (colon < 0) return undefined;
  const portText = text.slice(colon + 1);
  if (!PORT.test(portText)) return undefined;
  const port = Number(portText);
  if (port > 0xffff) return undefined;
  const host = text.slice(0, colon);
  if (host.startsWith("[") && host.endsWith("]")) {
    const v6 = parseIpv6Addr(host.slice(1, -1));
    return v6 === undefined ? undefined : { family: 6, addr: v6, port };
  }
  const v4 = parseIpv4Addr(host);
  return v4 === undefined ? undefined : { family: 4, addr: v4, port };
}
