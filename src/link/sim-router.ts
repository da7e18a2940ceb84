/**
 * The router in the middle of the simulated path, as far as the path's MTU
 * concerns it: what it does with a packet larger than its next hop carries.
 *
 * - DF set: it may not cut the packet (RFC 791 §3.2), so it drops it and
 *   answers the sender with ICMP Destination Unreachable, code 4,
 *   "fragmentation needed and DF set", carrying the next hop's MTU (RFC
 *   1191 §4, RFC 1812 §4.3.2.2 / §5.2.7.1) and quoting the packet's IP
 *   header and first 8 bytes of data (RFC 792).
 * - DF clear: it fragments the packet (RFC 791 §3.2, RFC 1812 §5.2.6): a
 *   fragment is cut again, its offsets and last MF kept.
 *
 * It answers no ICMP error with another (RFC 1812 §4.3.2.7) and sends no
 * error about a fragment other than the first; it does not rate-limit its
 * messages (RFC 1812 §4.3.2.8 would let it).
 *
 * An IPv6 router never fragments (RFC 8200 §5): a larger packet is dropped
 * and answered with ICMPv6 Packet Too Big carrying the next hop's MTU (RFC
 * 4443 §3.2) — never about an ICMPv6 error (§2.4(e)).
 */
import type { Ipv4Addr } from "../wire/addr.ts";
import { buildIcmpPacket } from "../wire/packet.ts";
import { icmpErrorQuote, IcmpType, IcmpUnreachable } from "../wire/icmp.ts";
import { IpProto, ipv4ReprOf, parseIpv4 } from "../wire/ipv4.ts";
import { ipv4Packets } from "../wire/ipv4-fragment.ts";
import { icmpv6ErrorQuote, isIcmpv6Error } from "../wire/icmpv6.ts";
import { findUpperLayer, IPV6_HEADER_LEN, NextHeader } from "../wire/ipv6.ts";
import { type Ipv6Addr, readIpv6Addr } from "../wire/ipv6-addr.ts";
import { buildIcmpv6Packet } from "../wire/packet6.ts";

export type TooBig =
  | { readonly kind: "reply"; readonly icmp: Uint8Array }
  | { readonly kind: "fragments"; readonly packets: Uint8Array[] }
  | { readonly kind: "drop" };

/** What the router at `router` does with `packet`, larger than `mtu`. */
export function tooBigForPath(packet: Uint8Array, mtu: number, router: Ipv4Addr): TooBig {
  const parsed = parseIpv4(packet);
  if (!parsed.ok) return { kind: "drop" };
  const { header, payload } = parsed.value;
  if (!header.dontFragment) {
    // RFC 791 §3.2, RFC 1812 §5.2.6: cut it (a fragment keeps its offset and MF).
    const packets = ipv4Packets(ipv4ReprOf(header), payload, mtu);
    return packets === undefined ? { kind: "drop" } : { kind: "fragments", packets };
  }
  if (header.fragmentOffset !== 0) return { kind: "drop" };
  if (header.protocol === IpProto.ICMP) {
    const type = payload[0];
    if (type !== IcmpType.ECHO_REQUEST && type !== IcmpType.ECHO_REPLY) return { kind: "drop" };
  }
  const icmp = buildIcmpPacket(router, header.src, {
    type: "dest-unreachable",
    code: IcmpUnreachable.FRAG_NEEDED,
    nextHopMtu: mtu,
    original: icmpErrorQuote(packet).slice(),
  });
  return { kind: "reply", icmp };
}

/** What the IPv6 router at `router` does with `packet`, larger than `mtu`: Packet Too Big, or a silent drop. */
export function tooBigForPath6(packet: Uint8Array, mtu: number, router: Ipv6Addr): TooBig {
  if (packet.length < IPV6_HEADER_LEN) return { kind: "drop" };
  const end = findUpperLayer(packet, packet[6]!, IPV6_HEADER_LEN);
  if (end === undefined) return { kind: "drop" };
  if (end.protocol === NextHeader.ICMPV6 && end.fragmentOffset === undefined) {
    const type = packet[end.at];
    if (type === undefined || isIcmpv6Error(type)) return { kind: "drop" };
  }
  const icmp = buildIcmpv6Packet(router, readIpv6Addr(packet, 8), {
    type: "packet-too-big",
    mtu,
    original: icmpv6ErrorQuote(packet).slice(),
  });
  return { kind: "reply", icmp };
}
