import { formatIpv6Addr, type Ipv6Addr } from "./ipv6-addr.ts";

/** An IPv4 address as an unsigned 32-bit number (host order): cheap to compare and hash. */
export type Ipv4Addr = number;

/**
 * An address and port of either family. `family` is optional on the IPv4
 * side so every `{ addr, port }` written before IPv6 stays an IPv4 endpoint;
 * narrow with `family === 6`.
 */
export type Endpoint = Ipv4Endpoint | Ipv6Endpoint;

export type IpFamily = 4 | 6;

export interface Ipv4Endpoint {
  readonly family?: 4;
  readonly addr: Ipv4Addr;
  readonly port: number;
}

export interface Ipv6Endpoint {
  readonly family: 6;
  readonly addr: Ipv6Addr;
  readonly port: number;
}

export function familyOf(ep: Endpoint): IpFamily {
  return ep.family ?? 4;
}

export function parseIpv4Addr(text: string): Ipv4Addr | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value >>> 0;
}

export function formatIpv4Addr(addr: Ipv4Addr): string {
  return `${addr >>> 24}.${(addr >>> 16) & 0xff}.${(addr >>> 8) & 0xff}.${addr & 0xff}`;
}

/** tcpdump's form: `10.0.0.1.80`, `fd00::1.80`. */
export function formatEndpoint(ep: Endpoint): string {
  if (ep.family === 6) return `${formatIpv6Addr(ep.addr)}.${ep.port}`;
  return `${formatIpv4Addr(ep.addr)}.${ep.port}`;
}

/** Like parseIpv4Addr but for literals known to be valid (tests, defaults). */
export function ip(text: string): Ipv4Addr {
  const addr = parseIpv4Addr(text);
  if (addr === undefined) throw new Error(`not an IPv4 address: ${text}`);
  return addr;
}
