/**
 * The pure parts of IPv6 fragmentation (RFC 8200 §4.5): cutting a packet
 * into fragments, the rules a reassembler applies to each piece, and
 * rebuilding the packet from the first fragment and the data. The buffer
 * that holds pieces between packets belongs to the stack; parseIpv6 already
 * checks each fragment alone (its length, its end, RFC 7112's whole header
 * chain in the first).
 */
import { be16, put16 } from "./bytes.ts";
import {
  emitFragmentHeader,
  FRAGMENT_HEADER_LEN,
  holdsHeaderChain,
  IPV6_HEADER_LEN,
  IPV6_MAX_PAYLOAD_LEN,
  type Ipv6FragmentInfo,
  NextHeader,
} from "./ipv6.ts";
import { type Ipv6Addr, ipv6Key } from "./ipv6-addr.ts";

/** RFC 8200 §4.5: reassembly is abandoned 60 s after the first-arriving fragment. */
export const IPV6_REASSEMBLY_TIMEOUT_MS = 60_000;

/** RFC 8200 §4.5: a packet's fragments share source, destination and Identification (not the protocol). */
export function ipv6FragmentKey(src: Ipv6Addr, dst: Ipv6Addr, identification: number): string {
  return `${ipv6Key(src)}${ipv6Key(dst)}${identification >>> 0}`;
}

/**
 * Where the unfragmentable part of a packet ends (RFC 8200 §4.5: the fixed
 * header and every header up to and including the Routing header, else
 * the Hop-by-Hop header, else none), and the offset of the Next Header
 * field that names the first fragmentable header.
 */
function unfragmentablePart(packet: Uint8Array, end: number): { end: number; namedAt: number } {
  let nh = packet[6]!;
  let nhAt = 6;
  let at = IPV6_HEADER_LEN;
  let part = { end: IPV6_HEADER_LEN, namedAt: 6 };
  while (
    nh === NextHeader.HOP_BY_HOP ||
    nh === NextHeader.DESTINATION ||
    nh === NextHeader.ROUTING
  ) {
    if (at + 2 > end) throw new RangeError(`header ${nh} at ${at} runs past the packet`);
    const next = at + (packet[at + 1]! + 1) * 8;
    if (next > end) throw new RangeError(`header ${nh} at ${at} runs past the packet`);
    nhAt = at;
    if (nh !== NextHeader.DESTINATION) part = { end: next, namedAt: nhAt };
    nh = packet[at]!;
    at = next;
  }
  if (nh === NextHeader.FRAGMENT) throw new RangeError("the packet is a fragment already");
  return part;
}

export type FragmentationResult =
  | { readonly ok: true; readonly packets: readonly Uint8Array[] }
  | {
      readonly ok: false;
      /** No room for 8 bytes of data after the unfragmentable part; or the first fragment cannot hold the header chain (RFC 7112 §5). */
      readonly reason: "mtu-too-small" | "header-chain-too-long";
    };

/**
 * Cuts a whole IPv6 packet (one we built: malformed input throws
 * RangeError) into packets of at most `mtu` bytes. A packet that fits
 * comes back as it is: no atomic fragments (RFC 8021). Otherwise each
 * fragment is the unfragmentable part, a Fragment header with `identification`
 * and the offset in 8-byte units, and a piece of the rest whose length is a
 * multiple of 8 except in the last (RFC 8200 §4.5). The first fragment
 * must hold the whole header chain (RFC 7112 §5).
 */
export function fragmentIpv6(
  packet: Uint8Array,
  mtu: number,
  identification: number,
): FragmentationResult {
  if (packet.length < IPV6_HEADER_LEN || packet[0]! >> 4 !== 6) {
    throw new RangeError("not an IPv6 packet");
  }
  const end = IPV6_HEADER_LEN + be16(packet, 4);
  if (end > packet.length) throw new RangeError("payload length past the packet");
  if (end <= mtu) return { ok: true, packets: [packet.subarray(0, end)] };
  const part = unfragmentablePart(packet, end);
  const firstNh = packet[part.namedAt]!;
  const chunk = Math.floor((mtu - part.end - FRAGMENT_HEADER_LEN) / 8) * 8;
  if (chunk <= 0) return { ok: false, reason: "mtu-too-small" };
  const rest = packet.subarray(part.end, end);
  if (!holdsHeaderChain(rest.subarray(0, chunk), firstNh)) {
    return { ok: false, reason: "header-chain-too-long" };
  }
  const packets: Uint8Array[] = [];
  const headerLength = part.end + FRAGMENT_HEADER_LEN;
  for (let offset = 0; offset < rest.length; offset += chunk) {
    const piece = rest.subarray(offset, Math.min(rest.length, offset + chunk));
    const out = new Uint8Array(headerLength + piece.length);
    out.set(packet.subarray(0, part.end));
    out[part.namedAt] = NextHeader.FRAGMENT;
    const plen = headerLength - IPV6_HEADER_LEN + piece.length;
    put16(out, 4, plen);
    const more = offset + piece.length < rest.length;
    emitFragmentHeader({ nextHeader: firstNh, offset, more, identification }, out, part.end);
    out.set(piece, headerLength);
    packets.push(out);
  }
  return { ok: true, packets };
}

/** A piece held for reassembly: its data spans [start, end) of the fragmentable part. */
export interface FragmentSpan {
  readonly start: number;
  readonly end: number;
}

/**
 * What a reassembler does with a new piece [start, end), given the pieces
 * it holds (sorted, not overlapping) and the total length if the last
 * fragment has come:
 * - "fits": keep it;
 * - "same-span": a held piece covers exactly these bytes — if the bytes
 *   are the same it is a duplicate from the network, dropped alone (RFC 8200
 *   §4.5 allows this), else it is an overlap;
 * - "overlap": abandon the whole datagram, every piece held and to come,
 *   without an ICMP error (RFC 5722 §4, RFC 8200 §4.5);
 * - "bad-end": a last fragment that disagrees with the known end, or data
 *   past it — as untrustworthy as an overlap, and treated the same.
 */
export function placeFragment(
  held: readonly FragmentSpan[],
  start: number,
  end: number,
  more: boolean,
  total: number | undefined,
): "fits" | "same-span" | "overlap" | "bad-end" {
  if (!more) {
    if (total !== undefined && total !== end) return "bad-end";
    const last = held[held.length - 1];
    if (last !== undefined && last.end > end) return "bad-end";
  } else if (total !== undefined && end > total) {
    return "bad-end";
  }
  // The first held piece that ends after `start` is the only one that can overlap first.
  let lo = 0;
  let hi = held.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (held[mid]!.end <= start) lo = mid + 1;
    else hi = mid;
  }
  const p = held[lo];
  if (p === undefined || p.start >= end) return "fits";
  return p.start === start && p.end === end ? "same-span" : "overlap";
}

/**
 * The packet rebuilt from its fragments: the first fragment's unfragmentable
 * part (only the offset-0 fragment's headers are kept, and its Next Header,
 * RFC 8200 §4.5) with the Fragment header taken out, then `data`, the whole
 * fragmentable part. Undefined when the result would pass 65535 bytes of
 * payload. Parse the result again: its headers after the unfragmentable part
 * have not been processed yet.
 */
export function reassembleIpv6(
  first: Uint8Array,
  fragment: Ipv6FragmentInfo,
  data: Uint8Array,
): Uint8Array | undefined {
  const plen = fragment.at - IPV6_HEADER_LEN + data.length;
  if (plen > IPV6_MAX_PAYLOAD_LEN) return undefined;
  const out = new Uint8Array(fragment.at + data.length);
  out.set(first.subarray(0, fragment.at));
  out[fragment.namedAt] = fragment.nextHeader;
  put16(out, 4, plen);
  out.set(data, fragment.at);
  return out;
}
