/** An IPv4 address as an unsigned 32-bit number (host order): cheap to compare and hash. */
export type Ipv4Addr = number;

export interface Endpoint {
  readonly addr: Ipv4Addr;
  readonly port: number;
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

export function formatEndpoint(ep: Endpoint): string {
  return `${formatIpv4Addr(ep.addr)}.${ep.port}`;
}

/** Like parseIpv4Addr but for literals known to be valid (tests, defaults). */
export function ip(text: string): Ipv4Addr {
  const addr = parseIpv4Addr(text);
  if (addr === undefined) throw new Error(`not an IPv4 address: ${text}`);
  return addr;
}
