/** Whole-packet conveniences over the IPv6 codecs, like packet.ts for IPv4. */
import { emitIcmpv6, type Icmpv6Message, icmpv6Length, parseIcmpv6 } from "./icmpv6.ts";
import {
  emitIpv6,
  type Ipv6Drop,
  type Ipv6Packet,
  type Ipv6Repr,
  ipv6HeaderLength,
  isIpv6Fragment,
  NextHeader,
  parseIpv6,
} from "./ipv6.ts";
import type { Ipv6Addr } from "./ipv6-addr.ts";
import { drop, ok, type Parsed } from "./result.ts";
import { emitTcp, parseTcp, tcpLength } from "./tcp.ts";
import type { TcpSegment } from "./tcp-types.ts";
import { emitUdp, parseUdp, type UdpDatagram, type UdpRepr, udpLength } from "./udp.ts";

/** IPv6 header fields a caller may set when building a packet (hop limit, extension headers, …). */
export type Ip6BuildOptions = Omit<Partial<Ipv6Repr>, "src" | "dst" | "nextHeader">;

/**
 * Builds header chain + upper-layer message of `length` bytes, written by
 * `write(buf, offset)` right after the headers.
 */
function build(
  src: Ipv6Addr,
  dst: Ipv6Addr,
  nextHeader: number,
  length: number,
  opts: Ip6BuildOptions | undefined,
  write: (buf: Uint8Array, offset: number) => void,
): Uint8Array {
  const { checksum: _ignored, ...ip } = (opts ?? {}) as Ip6BuildOptions & { checksum?: unknown };
  const repr: Ipv6Repr = { ...ip, src, dst, nextHeader };
  const hl = ipv6HeaderLength(repr);
  const buf = new Uint8Array(hl + length);
  emitIpv6(repr, length, buf, 0);
  write(buf, hl);
  return buf;
}

/** A whole IPv6 packet carrying `seg`. */
export function buildTcpPacket6(
  src: Ipv6Addr,
  dst: Ipv6Addr,
  seg: TcpSegment,
  opts?: Ip6BuildOptions & { readonly checksum?: "good" | "bad" },
): Uint8Array {
  const mode = opts?.checksum === "bad" ? { checksum: "bad" as const } : undefined;
  return build(src, dst, NextHeader.TCP, tcpLength(seg), opts, (buf, at) =>
    emitTcp(seg, src, dst, buf, at, mode),
  );
}

/** A whole IPv6 packet carrying a UDP datagram ("none" writes a zero checksum, which IPv6 forbids). */
export function buildUdpPacket6(
  src: Ipv6Addr,
  dst: Ipv6Addr,
  d: UdpRepr,
  opts?: Ip6BuildOptions & { readonly checksum?: "good" | "bad" | "none" },
): Uint8Array {
  const mode = opts?.checksum ? { checksum: opts.checksum } : undefined;
  return build(src, dst, NextHeader.UDP, udpLength(d), opts, (buf, at) =>
    emitUdp(d, src, dst, buf, at, mode),
  );
}

/** A whole IPv6 packet carrying an ICMPv6 message. */
export function buildIcmpv6Packet(
  src: Ipv6Addr,
  dst: Ipv6Addr,
  msg: Icmpv6Message,
  opts?: Ip6BuildOptions & { readonly checksum?: "good" | "bad" },
): Uint8Array {
  const mode = opts?.checksum === "bad" ? { checksum: "bad" as const } : undefined;
  return build(src, dst, NextHeader.ICMPV6, icmpv6Length(msg), opts, (buf, at) =>
    emitIcmpv6(msg, src, dst, buf, at, mode),
  );
}

/** An IPv6 packet decoded down to its upper layer. */
export type DecodedPacket6 =
  | { readonly ip: Ipv6Packet; readonly kind: "tcp"; readonly tcp: TcpSegment }
  | { readonly ip: Ipv6Packet; readonly kind: "udp"; readonly udp: UdpDatagram }
  | { readonly ip: Ipv6Packet; readonly kind: "icmpv6"; readonly icmpv6: Icmpv6Message }
  /** A fragment: the upper layer can only be read after reassembly. */
  | { readonly ip: Ipv6Packet; readonly kind: "fragment" }
  | { readonly ip: Ipv6Packet; readonly kind: "other" };

/**
 * Parses IPv6 and, unless the packet is a fragment, its TCP/UDP/ICMPv6
 * payload. Anything else comes back as "other" (the caller decides: a
 * Parameter Problem code 1 for an unknown Next Header, RFC 8200 §4). A drop
 * keeps parseIpv6's `paramProblem`.
 */
export function parsePacket6(
  bytes: Uint8Array,
  opts?: { readonly verifyChecksum?: boolean },
): Parsed<DecodedPacket6> | Ipv6Drop {
  const parsed = parseIpv6(bytes);
  if (!parsed.ok) return parsed;
  const ip = parsed.value;
  if (isIpv6Fragment(ip)) return ok({ ip, kind: "fragment" });
  const { src, dst } = ip.header;
  switch (ip.protocol) {
    case NextHeader.TCP: {
      const r = parseTcp(ip.payload, src, dst, opts);
      return r.ok ? ok({ ip, kind: "tcp", tcp: r.value }) : drop(r.drop, r.detail);
    }
    case NextHeader.UDP: {
      const r = parseUdp(ip.payload, src, dst, opts);
      return r.ok ? ok({ ip, kind: "udp", udp: r.value }) : drop(r.drop, r.detail);
    }
    case NextHeader.ICMPV6: {
      const r = parseIcmpv6(ip.payload, src, dst, opts);
      return r.ok ? ok({ ip, kind: "icmpv6", icmpv6: r.value }) : drop(r.drop, r.detail);
    }
    default:
      return ok({ ip, kind: "other" });
  }
}
