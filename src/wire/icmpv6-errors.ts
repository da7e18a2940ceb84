/**
 * What an ICMPv6 error says to a transport (RFC 4443 §2.4(d), §3): the
 * packet it quotes, read as far as the ports and TCP's sequence number,
 * and the error a socket reports for it — chosen as the IPv4 side chooses
 * (icmp-errors.ts), so a connection of either family fails alike.
 */
import { type IcmpErrorMeaning, type QuotedTransport, quotedTransport } from "./icmp-errors.ts";
import { Icmpv6ParamProblem } from "./icmpv6.ts";
import { type Ipv6Header, NextHeader, parseIpv6Quote } from "./ipv6.ts";
import { drop, ok, type Parsed } from "./result.ts";

/** Offset of the fixed header's Next Header field (RFC 8200 §3). */
const NEXT_HEADER_AT = 6;

const SOFT: IcmpErrorMeaning = { errno: "EHOSTUNREACH", hard: false };

/**
 * Destination Unreachable codes 0–6 (RFC 4443 §3.1). Hard, as RFC 1122
 * §4.2.3.9 and RFC 5461 §4 name IPv4's: a port unreachable (code 4), and
 * the administrative refusals — code 1 and its subsets 5 and 6, like
 * IPv4's codes 9, 10 and 13. No route (0), beyond scope (2) and address
 * unreachable (3) are a path that may come back: soft.
 */
const UNREACHABLE: readonly IcmpErrorMeaning[] = [
  { errno: "ENETUNREACH", hard: false }, // 0 no route to destination
  { errno: "EHOSTUNREACH", hard: true }, // 1 administratively prohibited
  SOFT, // 2 beyond scope of source address
  SOFT, // 3 address unreachable
  { errno: "ECONNREFUSED", hard: true }, // 4 port unreachable
  { errno: "EHOSTUNREACH", hard: true }, // 5 source address failed ingress/egress policy
  { errno: "EHOSTUNREACH", hard: true }, // 6 reject route to destination
];

/**
 * The error a Destination Unreachable, Time Exceeded or Parameter Problem
 * means. A Parameter Problem code 1 pointing at the Next Header that names
 * the transport (`atTransport`) says the peer has no such protocol: hard,
 * ENOPROTOOPT, like IPv4's protocol unreachable. Other Parameter Problems
 * (a field or option of ours the peer did not like) and Time Exceeded are
 * soft; so is a code past the table.
 */
export function icmpv6ErrorMeaning(
  type: "dest-unreachable" | "time-exceeded" | "parameter-problem",
  code: number,
  atTransport = false,
): IcmpErrorMeaning {
  if (type === "dest-unreachable") return UNREACHABLE[code] ?? SOFT;
  if (type === "parameter-problem" && code === Icmpv6ParamProblem.UNRECOGNIZED_NEXT_HEADER) {
    return atTransport ? { errno: "ENOPROTOOPT", hard: true } : SOFT;
  }
  return SOFT;
}

/** The packet an ICMPv6 error is about, as far as a transport needs it. */
export interface QuotedPacket6 extends QuotedTransport {
  /** Its fixed header as the router saw it (the hop limit may differ from ours). */
  readonly header: Ipv6Header;
  /** The upper-layer protocol, past any extension headers. */
  readonly protocol: number;
  /**
   * Offset of the Next Header field naming the transport when it is the
   * fixed header's (6: where a Parameter Problem about our TCP or UDP
   * points — we send no extension headers with either); else undefined.
   */
  readonly protocolAt: number | undefined;
}

/**
 * Reads the quote of an ICMPv6 error. "truncated" when it holds less than
 * the header chain and 8 bytes of the transport header, or a fragment
 * other than the first (no ports in it).
 */
export function parseQuotedPacket6(original: Uint8Array): Parsed<QuotedPacket6> {
  const q = parseIpv6Quote(original);
  if (!q.ok) return q;
  const { header, protocol, transport, fragmentOffset } = q.value;
  if (fragmentOffset !== undefined) {
    return drop("truncated", `a fragment at offset ${fragmentOffset} quoted: no transport header`);
  }
  const t = quotedTransport(transport);
  if (!t.ok) return t;
  return ok({
    header,
    protocol,
    // The fixed header names the transport itself only when no extension header came between.
    protocolAt: header.nextHeader === protocol ? NEXT_HEADER_AT : undefined,
    ...t.value,
  });
}

/** Whether a Parameter Problem's pointer names the quoted packet's transport protocol. */
export function pointsAtTransport(q: QuotedPacket6, pointer: number): boolean {
  return (
    q.protocolAt === pointer && (q.protocol === NextHeader.TCP || q.protocol === NextHeader.UDP)
  );
}
