/** Whole-packet conveniences over the codecs, for the stack, tests and the lab. */
import type { Ipv4Addr } from "./addr.ts";
import { emitIcmp, type IcmpMessage, icmpLength, parseIcmp } from "./icmp.ts";
import {
  emitIpv4,
  IpProto,
  type Ipv4Packet,
  type Ipv4Repr,
  ipv4HeaderLength,
  isFragment,
  parseIpv4,
} from "./ipv4.ts";
import { drop, ok, type Parsed } from "./result.ts";
import { emitTcp, parseTcp, tcpLength } from "./tcp.ts";
import type { TcpSegment } from "./tcp-types.ts";
import { emitUdp, parseUdp, type UdpDatagram, type UdpRepr, udpLength } from "./udp.ts";

/** IP header fields a caller may set when building a packet (ttl, identification, ...). */
export type IpBuildOptions = Omit<Partial<Ipv4Repr>, "src" | "dst" | "protocol">;

export interface BuildOptions extends IpBuildOptions {
  /** The transport checksum; "bad" makes it fail verification. Default "good". */
  readonly checksum?: "good" | "bad";
}

function ipRepr(src: Ipv4Addr, dst: Ipv4Addr, protocol: number, opts?: IpBuildOptions): Ipv4Repr {
  const { checksum: _ignored, ...ip } = (opts ?? {}) as IpBuildOptions & { checksum?: unknown };
  return { ...ip, src, dst, protocol };
}

/** A whole IPv4 packet carrying `seg`. */
export function buildTcpPacket(
  src: Ipv4Addr,
  dst: Ipv4Addr,
  seg: TcpSegment,
  opts?: BuildOptions,
): Uint8Array {
  const repr = ipRepr(src, dst, IpProto.TCP, opts);
  const hl = ipv4HeaderLength(repr);
  const len = tcpLength(seg);
  const buf = new Uint8Array(hl + len);
  emitIpv4(repr, len, buf, 0);
  emitTcp(seg, src, dst, buf, hl, opts?.checksum === "bad" ? { checksum: "bad" } : undefined);
  return buf;
}

/** A whole IPv4 packet carrying a UDP datagram. */
export function buildUdpPacket(
  src: Ipv4Addr,
  dst: Ipv4Addr,
  d: UdpRepr,
  opts?: IpBuildOptions & { readonly checksum?: "good" | "bad" | "none" },
): Uint8Array {
  const repr = ipRepr(src, dst, IpProto.UDP, opts);
  const hl = ipv4HeaderLength(repr);
  const len = udpLength(d);
  const buf = new Uint8Array(hl + len);
  emitIpv4(repr, len, buf, 0);
  emitUdp(d, src, dst, buf, hl, opts?.checksum ? { checksum: opts.checksum } : undefined);
  return buf;
}

/** A whole IPv4 packet carrying an ICMP message. */
export function buildIcmpPacket(
  src: Ipv4Addr,
  dst: Ipv4Addr,
  msg: IcmpMessage,
  opts?: BuildOptions,
): Uint8Array {
  const repr = ipRepr(src, dst, IpProto.ICMP, opts);
  const hl = ipv4HeaderLength(repr);
  const len = icmpLength(msg);
  const buf = new Uint8Array(hl + len);
  emitIpv4(repr, len, buf, 0);
  emitIcmp(msg, buf, hl, opts?.checksum === "bad" ? { checksum: "bad" } : undefined);
  return buf;
}

/** A segment with defaults: seq 0, ack 0, no flags, window 0, urg 0, no options, no data. */
export function tcpSegment(
  fields: Partial<TcpSegment> & { readonly srcPort: number; readonly dstPort: number },
): TcpSegment {
  return {
    seq: 0,
    ack: 0,
    flags: 0,
    window: 0,
    urgentPointer: 0,
    options: [],
    payload: new Uint8Array(0),
    ...fields,
  };
}

/** A packet decoded down to its transport. */
export type DecodedPacket =
  | { readonly ip: Ipv4Packet; readonly kind: "tcp"; readonly tcp: TcpSegment }
  | { readonly ip: Ipv4Packet; readonly kind: "udp"; readonly udp: UdpDatagram }
  | { readonly ip: Ipv4Packet; readonly kind: "icmp"; readonly icmp: IcmpMessage }
  /** A fragment: the transport can only be read after reassembly. */
  | { readonly ip: Ipv4Packet; readonly kind: "fragment" }
  | { readonly ip: Ipv4Packet; readonly kind: "other" };

/**
 * Parses IPv4 and, unless the packet is a fragment, its TCP/UDP/ICMP payload.
 * Other protocols come back as "other" (the caller decides whether that is
 * "unsupported-protocol").
 */
export function parsePacket(
  bytes: Uint8Array,
  opts?: { readonly verifyChecksum?: boolean },
): Parsed<DecodedPacket> {
  const parsed = parseIpv4(bytes, opts);
  if (!parsed.ok) return parsed;
  const ip = parsed.value;
  const { header, payload } = ip;
  if (isFragment(header)) return ok({ ip, kind: "fragment" });
  switch (header.protocol) {
    case IpProto.TCP: {
      const tcp = parseTcp(payload, header.src, header.dst, opts);
      return tcp.ok ? ok({ ip, kind: "tcp", tcp: tcp.value }) : drop(tcp.drop, tcp.detail);
    }
    case IpProto.UDP: {
      const udp = parseUdp(payload, header.src, header.dst, opts);
      return udp.ok ? ok({ ip, kind: "udp", udp: udp.value }) : drop(udp.drop, udp.detail);
    }
    case IpProto.ICMP: {
      const icmp = parseIcmp(payload, opts);
      return icmp.ok ? ok({ ip, kind: "icmp", icmp: icmp.value }) : drop(icmp.drop, icmp.detail);
    }
    default:
      return ok({ ip, kind: "other" });
  }
}
