/**
 * A packet of either family decoded down to its transport, for readers that
 * show or match packets (traces, the lab, fault rules) and need not care
 * which IP carried them. The family comes from the version nibble; each
 * family's own parser does the work, so nothing here validates twice.
 */
import type { IpAddr } from "./ip-addr.ts";
import { type DecodedPacket, parsePacket } from "./packet.ts";
import { type DecodedPacket6, parsePacket6 } from "./packet6.ts";
import { ok, type Parsed } from "./result.ts";

type Ip4Addr = Extract<IpAddr, { readonly family: 4 }>;
type Ip6Addr = Extract<IpAddr, { readonly family: 6 }>;

/**
 * `kind` narrows the transport as in DecodedPacket/DecodedPacket6 ("icmp" is
 * IPv4's, "icmpv6" IPv6's); `family` narrows `ip` and the addresses.
 * `protocol` is the upper layer's number: IPv4's Protocol field, or the Next
 * Header the IPv6 chain ended on (RFC 8200 §4; in a fragment, the first
 * header of the fragmentable part).
 */
export type DecodedIpPacket =
  | (DecodedPacket & {
      readonly family: 4;
      readonly src: Ip4Addr;
      readonly dst: Ip4Addr;
      readonly protocol: number;
    })
  | (DecodedPacket6 & {
      readonly family: 6;
      readonly src: Ip6Addr;
      readonly dst: Ip6Addr;
      readonly protocol: number;
    });

/**
 * parsePacket or parsePacket6 by the version field (anything but 6 goes to
 * IPv4's parser, which names a wrong version). Never throws; a bad packet is
 * the family parser's named drop.
 */
export function parseIpPacket(
  bytes: Uint8Array,
  opts?: { readonly verifyChecksum?: boolean },
): Parsed<DecodedIpPacket> {
  if (bytes.length > 0 && bytes[0]! >> 4 === 6) {
    const p = parsePacket6(bytes, opts);
    if (!p.ok) return p;
    const { header } = p.value.ip;
    return ok({
      ...p.value,
      family: 6,
      src: { family: 6, addr: header.src },
      dst: { family: 6, addr: header.dst },
      protocol: p.value.ip.protocol,
    });
  }
  const p = parsePacket(bytes, opts);
  if (!p.ok) return p;
  const { header } = p.value.ip;
  return ok({
    ...p.value,
    family: 4,
    src: { family: 4, addr: header.src },
    dst: { family: 4, addr: header.dst },
    protocol: header.protocol,
  });
}
