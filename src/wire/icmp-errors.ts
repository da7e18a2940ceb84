/**
 * What an ICMP error says to a transport: the datagram it quotes (RFC 792:
 * the IP header and the first 64 bits of data — ports and, for TCP, the
 * sequence number) and the error a socket reports for it (RFC 1122
 * §3.2.2.1, §4.2.3.9; the errno names are those Linux's icmp_err_convert
 * and FreeBSD's icmp_errmap give).
 */
import { type Ipv4Header, parseIpv4Quote } from "./ipv4.ts";
import { drop, ok, type Parsed } from "./result.ts";

/** RFC 792: an error quotes at least 8 bytes of the datagram's data. */
export const QUOTED_DATA_BYTES = 8;

/** The errors an ICMP message can mean to a socket. */
export type IcmpErrno =
  | "ENETUNREACH"
  | "EHOSTUNREACH"
  | "ENOPROTOOPT"
  | "ECONNREFUSED"
  | "EMSGSIZE"
  | "EOPNOTSUPP"
  | "EHOSTDOWN"
  | "ENONET";

export interface IcmpErrorMeaning {
  readonly errno: IcmpErrno;
  /**
   * RFC 1122 §4.2.3.9: a hard error says the peer cannot be reached at all
   * (protocol or port unreachable, and the administrative codes RFC 1812
   * added); a soft one may pass (a route may come back).
   */
  readonly hard: boolean;
}

/** Destination Unreachable codes 0–15 (RFC 792, RFC 1122 §3.2.2.1, RFC 1812 §5.2.7.1). */
const UNREACHABLE: readonly IcmpErrorMeaning[] = [
  { errno: "ENETUNREACH", hard: false }, // 0 net unreachable
  { errno: "EHOSTUNREACH", hard: false }, // 1 host unreachable
  { errno: "ENOPROTOOPT", hard: true }, // 2 protocol unreachable
  { errno: "ECONNREFUSED", hard: true }, // 3 port unreachable
  { errno: "EMSGSIZE", hard: false }, // 4 fragmentation needed and DF set (RFC 1191)
  { errno: "EOPNOTSUPP", hard: false }, // 5 source route failed
  { errno: "ENETUNREACH", hard: true }, // 6 destination network unknown
  { errno: "EHOSTDOWN", hard: true }, // 7 destination host unknown
  { errno: "ENONET", hard: true }, // 8 source host isolated
  { errno: "ENETUNREACH", hard: true }, // 9 network administratively prohibited
  { errno: "EHOSTUNREACH", hard: true }, // 10 host administratively prohibited
  { errno: "ENETUNREACH", hard: false }, // 11 network unreachable for TOS
  { errno: "EHOSTUNREACH", hard: false }, // 12 host unreachable for TOS
  { errno: "EHOSTUNREACH", hard: true }, // 13 communication administratively prohibited
  { errno: "EHOSTUNREACH", hard: true }, // 14 host precedence violation
  { errno: "EHOSTUNREACH", hard: true }, // 15 precedence cutoff in effect
];

const SOFT_UNREACHABLE: IcmpErrorMeaning = { errno: "EHOSTUNREACH", hard: false };

/**
 * The error a Destination Unreachable or Time Exceeded means. A code past
 * the table is a soft "host unreachable"; Time Exceeded (a TTL that ran out
 * on a loop, or a reassembly timeout) is soft: the next try may pass.
 */
export function icmpErrorMeaning(
  type: "dest-unreachable" | "time-exceeded",
  code: number,
): IcmpErrorMeaning {
  if (type === "time-exceeded") return SOFT_UNREACHABLE;
  return UNREACHABLE[code] ?? SOFT_UNREACHABLE;
}

/** The datagram an ICMP error is about, as far as a transport needs it. */
export interface QuotedDatagram extends QuotedTransport {
  /** Its IP header as the router saw it (TTL and checksum may differ from ours). */
  readonly header: Ipv4Header;
}

/**
 * Reads the quote of an ICMP error. "truncated" when it holds less than a
 * header and 8 bytes of data (RFC 792), or a header that is not IPv4.
 * Neither the quoted checksum nor the ports are judged here.
 */
export function parseQuotedDatagram(original: Uint8Array): Parsed<QuotedDatagram> {
  const q = parseIpv4Quote(original);
  if (!q.ok) return q;
  const t = quotedTransport(q.value.transport);
  return t.ok ? ok({ header: q.value.header, ...t.value }) : t;
}

/** What a transport reads of a quote's first 8 bytes of data: ports and TCP's sequence number. */
export interface QuotedTransport {
  /** The first 16 bits of data: the source port of TCP and UDP. */
  readonly srcPort: number;
  /** The next 16 bits: the destination port. */
  readonly dstPort: number;
  /** Bits 32–63: TCP's sequence number (UDP's length and checksum). */
  readonly seq: number;
}

/** The ports and sequence number at the start of quoted transport bytes; "truncated" under 8 bytes. */
export function quotedTransport(t: Uint8Array): Parsed<QuotedTransport> {
  if (t.length < QUOTED_DATA_BYTES) {
    return drop("truncated", `${t.length} bytes of data quoted, ${QUOTED_DATA_BYTES} needed`);
  }
  return ok({
    srcPort: (t[0]! << 8) | t[1]!,
    dstPort: (t[2]! << 8) | t[3]!,
    seq: ((t[4]! << 24) | (t[5]! << 16) | (t[6]! << 8) | t[7]!) >>> 0,
  });
}
