/**
 * Offloads: what a device that checksums and segments for its driver says
 * about a packet (Linux's virtio_net_hdr on a TUN device opened with
 * IFF_VNET_HDR), and the same work done in software — cutting a TCP
 * super-segment into the segments a peer receives, completing a partial
 * checksum — for taps, fault rules and links without the offload.
 *
 * Segmentation is IPv4's only; an IPv6 packet's partial checksum is
 * completed (`completeChecksum6`). The cut follows Linux's
 * tcp_gso_segment and inet_gso_segment: every segment carries the
 * super-segment's headers; sequence numbers advance by gsoSize; FIN and PSH
 * stay on the last segment only, CWR on the first only; IP IDs count up
 * from the super-segment's.
 */
import {
  checksumAccumulate,
  checksumFinish,
  pseudoHeaderSum,
  pseudoHeaderSum6,
} from "./checksum.ts";
import { IpProto } from "./ipv4.ts";
import { findUpperLayer, IPV6_HEADER_LEN } from "./ipv6.ts";
import { readIpv6Addr } from "./ipv6-addr.ts";
import { Flag } from "./tcp-types.ts";

export interface Offload {
  /**
   * "partial": the transport checksum field holds only the pseudo-header
   * sum (over the whole transport length); the device completes it
   * (VIRTIO_NET_HDR_F_NEEDS_CSUM, Linux's CHECKSUM_PARTIAL). "valid": the
   * device verified it (VIRTIO_NET_HDR_F_DATA_VALID). Either way the
   * receiver does not verify it again.
   */
  readonly checksum: "partial" | "valid";
  /**
   * TCP segmentation: the payload is cut into segments of this many bytes
   * (the last may be shorter); 0 when the packet is one segment.
   */
  readonly gsoSize: number;
}

export const CHECKSUM_PARTIAL: Offload = Object.freeze({ checksum: "partial", gsoSize: 0 });
export const CHECKSUM_VALID: Offload = Object.freeze({ checksum: "valid", gsoSize: 0 });

/** One shared record per segment size: none is allocated per packet. */
const tcpGsoCache = new Map<number, Offload>();

/** A TCP super-segment of `gsoSize`-byte segments, checksum partial. */
export function tcpGso(gsoSize: number): Offload {
  let o = tcpGsoCache.get(gsoSize);
  if (o === undefined) {
    o = Object.freeze({ checksum: "partial", gsoSize });
    tcpGsoCache.set(gsoSize, o);
  }
  return o;
}

/**
 * What a partial checksum field holds: the folded pseudo-header sum, not
 * complemented (Linux's ~csum_tcpudp_magic(…, 0)). Summing the transport
 * bytes with it in place and complementing gives the full checksum.
 */
export function partialChecksum(
  src: number,
  dst: number,
  protocol: number,
  length: number,
): number {
  return ~checksumFinish(pseudoHeaderSum(src, dst, protocol, length)) & 0xffff;
}

function be16(b: Uint8Array, i: number): number {
  return (b[i]! << 8) | b[i + 1]!;
}

function put16(b: Uint8Array, i: number, v: number): void {
  b[i] = (v >>> 8) & 0xff;
  b[i + 1] = v & 0xff;
}

/** Offset of the transport checksum field from the transport header: TCP 16, UDP 6. */
export function checksumOffset(protocol: number): number | undefined {
  if (protocol === IpProto.TCP) return 16;
  if (protocol === IpProto.UDP) return 6;
  return undefined;
}

/** The IPv4 header's length, total length (within the bytes) and protocol; undefined if not IPv4. */
function ipv4Shape(p: Uint8Array): { ihl: number; total: number; protocol: number } | undefined {
  if (p.length < 20 || p[0]! >> 4 !== 4) return undefined;
  const ihl = (p[0]! & 0x0f) * 4;
  const total = Math.min(be16(p, 2), p.length);
  if (ihl < 20 || total < ihl) return undefined;
  return { ihl, total, protocol: p[9]! };
}

function src32(p: Uint8Array): number {
  return ((p[12]! << 24) | (p[13]! << 16) | (p[14]! << 8) | p[15]!) >>> 0;
}

function dst32(p: Uint8Array): number {
  return ((p[16]! << 24) | (p[17]! << 16) | (p[18]! << 8) | p[19]!) >>> 0;
}

/** Writes the full transport checksum of IPv4 packet `p` (bytes ihl..total) in place. */
function fillChecksum(p: Uint8Array, ihl: number, total: number, protocol: number): void {
  const off = checksumOffset(protocol);
  if (off === undefined || ihl + off + 2 > total) return;
  const at = ihl + off;
  p[at] = 0;
  p[at + 1] = 0;
  const pseudo = pseudoHeaderSum(src32(p), dst32(p), protocol, total - ihl);
  let sum = checksumFinish(checksumAccumulate(p, pseudo, ihl, total));
  // RFC 768: a computed UDP checksum of zero is sent as all ones.
  if (sum === 0 && protocol === IpProto.UDP) sum = 0xffff;
  put16(p, at, sum);
}

function fillIpChecksum(p: Uint8Array, ihl: number): void {
  p[10] = 0;
  p[11] = 0;
  put16(p, 10, checksumFinish(checksumAccumulate(p, 0, 0, ihl)));
}

/**
 * Writes the full TCP or UDP checksum of IPv6 packet `p` in place, over the
 * IPv6 pseudo-header (RFC 8200 §8.1) — for a packet whose device left it
 * partial. False, and `p` untouched, when `p` is no unfragmented IPv6 TCP
 * or UDP packet whose transport header fits.
 */
export function completeChecksum6(p: Uint8Array): boolean {
  if (p.length < IPV6_HEADER_LEN || p[0]! >> 4 !== 6) return false;
  const total = Math.min(IPV6_HEADER_LEN + be16(p, 4), p.length);
  const end = findUpperLayer(p.subarray(0, total), p[6]!, IPV6_HEADER_LEN);
  if (end === undefined || end.fragmentOffset !== undefined) return false;
  const off = checksumOffset(end.protocol);
  if (off === undefined || end.at + off + 2 > total) return false;
  const at = end.at + off;
  p[at] = 0;
  p[at + 1] = 0;
  const src = readIpv6Addr(p, 8);
  const dst = readIpv6Addr(p, 24);
  const pseudo = pseudoHeaderSum6(src, dst, end.protocol, total - end.at);
  let sum = checksumFinish(checksumAccumulate(p, pseudo, end.at, total));
  // RFC 8200 §8.1: a computed UDP checksum of zero is sent as all ones.
  if (sum === 0 && end.protocol === IpProto.UDP) sum = 0xffff;
  put16(p, at, sum);
  return true;
}

/**
 * The packets a peer receives for `packet` sent with `offload`, each a
 * fresh copy with every checksum filled in: a super-segment is cut into
 * its segments, a partial checksum completed. A packet without offload, or
 * with a checksum the device vouched for and no segmentation, is returned
 * as it is.
 */
export function softwareSegments(packet: Uint8Array, offload: Offload | undefined): Uint8Array[] {
  if (offload === undefined) return [packet];
  const shape = ipv4Shape(packet);
  if (shape === undefined) return [packet];
  const { ihl, total, protocol } = shape;
  const gso = offload.gsoSize;
  if (protocol !== IpProto.TCP || gso <= 0 || ihl + 20 > total) {
    if (offload.checksum === "valid") return [packet];
    const copy = packet.slice(0, total);
    fillChecksum(copy, ihl, total, protocol);
    return [copy];
  }
  const doff = (packet[ihl + 12]! >> 4) * 4;
  const hdr = ihl + doff;
  const payload = total - hdr;
  if (doff < 20 || payload <= gso) {
    const copy = packet.slice(0, total);
    fillChecksum(copy, ihl, total, protocol);
    return [copy];
  }
  const count = Math.ceil(payload / gso);
  const id0 = be16(packet, 4);
  const seq0 = be32(packet, ihl + 4);
  const flags = packet[ihl + 13]!;
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const len = Math.min(gso, payload - i * gso);
    const seg = new Uint8Array(hdr + len);
    seg.set(packet.subarray(0, hdr));
    seg.set(packet.subarray(hdr + i * gso, hdr + i * gso + len), hdr);
    put16(seg, 2, hdr + len);
    put16(seg, 4, (id0 + i) & 0xffff);
    fillIpChecksum(seg, ihl);
    put32(seg, ihl + 4, (seq0 + i * gso) >>> 0);
    let f = flags;
    if (i < count - 1) f &= ~(Flag.FIN | Flag.PSH);
    if (i > 0) f &= ~Flag.CWR;
    seg[ihl + 13] = f;
    fillChecksum(seg, ihl, hdr + len, protocol);
    out.push(seg);
  }
  return out;
}

function be32(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}

function put32(b: Uint8Array, i: number, v: number): void {
  b[i] = (v >>> 24) & 0xff;
  b[i + 1] = (v >>> 16) & 0xff;
  b[i + 2] = (v >>> 8) & 0xff;
  b[i + 3] = v & 0xff;
}
