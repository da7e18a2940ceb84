/**
 * IPv6 addresses: the text forms of RFC 4291 §2.2 in, RFC 5952's canonical
 * text out.
 *
 * An address is four unsigned 32-bit numbers, most significant first. Why
 * not the 16 bytes as they arrive: a Uint8Array would be a copy per packet
 * (or a view that keeps the whole packet alive) and needs a loop to compare
 * and a string to be a Map key. Why not a bigint: it allocates on every
 * read and its arithmetic is slow. Four numbers compare with four `===`,
 * read and write as four big-endian words without a subarray, add straight
 * into the pseudo-header sum as 16-bit halves, feed the ISN and SYN-cookie
 * hashes as the 32-bit words they already take for IPv4, and make an exact
 * Map key of eight UTF-16 code units (`ipv6Key`) without hex formatting.
 */
import { formatIpv4Addr, type Ipv4Addr, parseIpv4Addr } from "./addr.ts";
import { be32, put32 } from "./bytes.ts";

export type Ipv6Addr = readonly [number, number, number, number];

/** `::`, the unspecified address (RFC 4291 §2.5.2). */
export const IPV6_UNSPECIFIED: Ipv6Addr = [0, 0, 0, 0];
/** `::1`, the loopback address (RFC 4291 §2.5.3). */
export const IPV6_LOOPBACK: Ipv6Addr = [0, 0, 0, 1];

/** The address in bytes at..at+15 (the caller has checked they exist). */
export function readIpv6Addr(bytes: Uint8Array, at: number): Ipv6Addr {
  return [be32(bytes, at), be32(bytes, at + 4), be32(bytes, at + 8), be32(bytes, at + 12)];
}

/** Writes the address into buf[at..at+15]. */
export function writeIpv6Addr(addr: Ipv6Addr, buf: Uint8Array, at: number): void {
  for (let w = 0; w < 4; w++) put32(buf, at + 4 * w, addr[w]!);
}

export function ipv6Equal(a: Ipv6Addr, b: Ipv6Addr): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];
}

/**
 * An exact Map key for the address: its eight 16-bit groups as eight UTF-16
 * code units. Not text to show (lone surrogates are fine in a key).
 */
export function ipv6Key(a: Ipv6Addr): string {
  return String.fromCharCode(
    a[0] >>> 16,
    a[0] & 0xffff,
    a[1] >>> 16,
    a[1] & 0xffff,
    a[2] >>> 16,
    a[2] & 0xffff,
    a[3] >>> 16,
    a[3] & 0xffff,
  );
}

/** ff00::/8 (RFC 4291 §2.7). */
export function isIpv6Multicast(a: Ipv6Addr): boolean {
  return a[0] >>> 24 === 0xff;
}

/** fe80::/10 (RFC 4291 §2.5.6). */
export function isIpv6LinkLocal(a: Ipv6Addr): boolean {
  return a[0] >>> 22 === 0xfe80 >>> 6;
}

export function isIpv6Unspecified(a: Ipv6Addr): boolean {
  return ipv6Equal(a, IPV6_UNSPECIFIED);
}

export function isIpv6Loopback(a: Ipv6Addr): boolean {
  return ipv6Equal(a, IPV6_LOOPBACK);
}

/** `::ffff:a.b.c.d`, an IPv4 node seen through an IPv6 socket (RFC 4291 §2.5.5.2). */
export function ipv4MappedIpv6(v4: Ipv4Addr): Ipv6Addr {
  return [0, 0, 0xffff, v4 >>> 0];
}

export function isIpv4Mapped(a: Ipv6Addr): boolean {
  return a[0] === 0 && a[1] === 0 && a[2] === 0xffff;
}

/** The IPv4 address inside an IPv4-mapped address, else undefined. */
export function ipv4FromMapped(a: Ipv6Addr): Ipv4Addr | undefined {
  return isIpv4Mapped(a) ? a[3] : undefined;
}

const GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Colon-separated 16-bit groups; "" is no group. Undefined on any bad group. */
function groups(text: string): number[] | undefined {
  if (text === "") return [];
  const out: number[] = [];
  for (const g of text.split(":")) {
    if (!GROUP.test(g)) return undefined;
    out.push(Number.parseInt(g, 16));
  }
  return out;
}

/**
 * Parses the three text forms of RFC 4291 §2.2: eight groups of one to four
 * hex digits; `::` once, for one or more zero groups; and a dotted IPv4
 * address in place of the last two groups. Any case; no zone index
 * (RFC 4007 §11), no prefix length. Undefined for anything else.
 */
export function parseIpv6Addr(text: string): Ipv6Addr | undefined {
  // The longest form is six groups and a dotted quad: 45 characters.
  if (text.length < 2 || text.length > 45) return undefined;
  let head = text;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(":");
  if (lastColon < 0) return undefined;
  const last = text.slice(lastColon + 1);
  if (last.includes(".")) {
    const v4 = parseIpv4Addr(last);
    if (v4 === undefined) return undefined;
    tail = [v4 >>> 16, v4 & 0xffff];
    // Keep a "::" that ends right before the IPv4 part; drop a single ':'.
    head = text.slice(0, text.endsWith(`::${last}`) ? lastColon + 1 : lastColon);
  }
  const halves = head.split("::");
  if (halves.length > 2) return undefined;
  const left = groups(halves[0]!);
  if (left === undefined) return undefined;
  let all: number[];
  if (halves.length === 1) {
    all = [...left, ...tail];
    if (all.length !== 8) return undefined;
  } else {
    const right = groups(halves[1]!);
    if (right === undefined) return undefined;
    const present = left.length + right.length + tail.length;
    if (present > 7) return undefined; // "::" stands for at least one group
    all = [...left, ...new Array<number>(8 - present).fill(0), ...right, ...tail];
  }
  return [
    ((all[0]! << 16) | all[1]!) >>> 0,
    ((all[2]! << 16) | all[3]!) >>> 0,
    ((all[4]! << 16) | all[5]!) >>> 0,
    ((all[6]! << 16) | all[7]!) >>> 0,
  ];
}

/**
 * RFC 5952 §4: lowercase hex without leading zeros (§4.1, §4.3); the
 * longest run of two or more zero groups becomes `::`, the first such run
 * on a tie (§4.2); a single zero group stays "0" (§4.2.2). An IPv4-mapped
 * address ends in dotted decimal (§5).
 */
export function formatIpv6Addr(a: Ipv6Addr): string {
  if (isIpv4Mapped(a)) return `::ffff:${formatIpv4Addr(a[3])}`;
  const g: number[] = [];
  for (const w of a) g.push(w >>> 16, w & 0xffff);
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number) =>
    g
      .slice(from, to)
      .map((v) => v.toString(16))
      .join(":");
  if (bestAt < 0) return hex(0, 8);
  return `${hex(0, bestAt)}::${hex(bestAt + bestLen, 8)}`;
}

/** Like parseIpv6Addr but for literals known to be valid (tests, defaults). */
export function ip6(text: string): Ipv6Addr {
  const addr = parseIpv6Addr(text);
  if (addr === undefined) throw new Error(`not an IPv6 address: ${text}`);
  return addr;
}
