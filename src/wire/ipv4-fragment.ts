import { emitIpv4, IPV4_HEADER_LEN, type Ipv4Repr } from "./ipv4.ts";

/**
 * IPv4 output with fragmentation (RFC 791 §2.3, §3.2 "Fragmentation"): a
 * datagram larger than the MTU is cut into pieces whose data, except the
 * last, is a multiple of 8 bytes. Returns undefined when the datagram does
 * not fit and DF forbids cutting it (the caller counts the drop).
 */
export function ipv4Packets(
  repr: Ipv4Repr,
  payload: Uint8Array,
  mtu: number,
): Uint8Array[] | undefined {
  const headerLength = IPV4_HEADER_LEN + (repr.options?.length ?? 0);
  if (headerLength + payload.length <= mtu) {
    const packet = new Uint8Array(headerLength + payload.length);
    emitIpv4(repr, payload.length, packet, 0);
    packet.set(payload, headerLength);
    return [packet];
  }
  if (repr.dontFragment) return undefined;
  // Options are copied into every fragment here; RFC 791 lets a host copy
  // only those with the "copied" bit, which matters only to routers reading them.
  const chunk = Math.floor((mtu - headerLength) / 8) * 8;
  if (chunk <= 0) return undefined;
  const packets: Uint8Array[] = [];
  // A fragment cut again (a router's work, RFC 791 §3.2) keeps its offset and its MF.
  const base = repr.fragmentOffset ?? 0;
  for (let offset = 0; offset < payload.length; offset += chunk) {
    const piece = payload.subarray(offset, Math.min(payload.length, offset + chunk));
    const last = offset + piece.length >= payload.length;
    const packet = new Uint8Array(headerLength + piece.length);
    emitIpv4(
      {
        ...repr,
        fragmentOffset: base + offset,
        moreFragments: !last || repr.moreFragments === true,
        dontFragment: false,
      },
      piece.length,
      packet,
      0,
    );
    packet.set(piece, headerLength);
    packets.push(packet);
  }
  return packets;
}
