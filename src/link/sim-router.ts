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
 */
import type { Ipv4Addr } from "../wire/addr.ts";
import { buildIcmpPacket } from "../wire/packet.ts";
import { icmpErrorQuote, IcmpType, IcmpUnreachable } from "../wire/icmp.ts";
import { IpProto, ipv4ReprOf, parseIpv4 } from "../wire/ipv4.ts";
import { ipv4Packets } from "../wire/ipv4-fragment.ts";

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
