/** UDP codec (RFC 768). */
import { be16 } from "./bytes.ts";
import {
  checksumAccumulate,
  checksumFinish,
  corruptChecksum,
  type IpAddrValue,
  ipPseudoHeaderSum,
  type SameFamily,
} from "./checksum.ts";
import { IpProto } from "./ipv4.ts";
import { drop, ok, type Parsed } from "./result.ts";

export const UDP_HEADER_LEN = 8;

export interface UdpDatagram {
  readonly srcPort: number;
  readonly dstPort: number;
  /** As received; 0 means the sender did not compute one. */
  readonly checksum: number;
  /** A view of the datagram's data, bounded by the UDP length field. */
  readonly payload: Uint8Array;
}

export interface UdpParseOptions {
  /** Default true. */
  readonly verifyChecksum?: boolean;
}

/**
 * Parses a UDP datagram (the IP payload). Bytes past the UDP length field
 * are ignored; a length field shorter than the header or longer than the
 * bytes is a bad length. Over IPv6 (addresses of four words) a zero
 * checksum is a drop.
 */
export function parseUdp<A extends IpAddrValue>(
  bytes: Uint8Array,
  src: A,
  dst: SameFamily<A>,
  opts?: UdpParseOptions,
): Parsed<UdpDatagram> {
  if (bytes.length < UDP_HEADER_LEN) {
    return drop("truncated", `${bytes.length} bytes, udp header needs ${UDP_HEADER_LEN}`);
  }
  const length = be16(bytes, 4);
  if (length < UDP_HEADER_LEN || length > bytes.length) {
    return drop("bad-length", `udp length ${length}, ${bytes.length} bytes`);
  }
  const checksum = be16(bytes, 6);
  // RFC 768: an all-zero checksum means "not computed" and is accepted; not
  // over IPv6, where the checksum is mandatory (RFC 8200 §8.1).
  if (checksum === 0 && typeof src !== "number" && opts?.verifyChecksum !== false) {
    return drop("udp-zero-checksum", "udp over ipv6 must carry a checksum");
  }
  if (checksum !== 0 && opts?.verifyChecksum !== false) {
    const sum = checksumAccumulate(
      bytes.subarray(0, length),
      ipPseudoHeaderSum(src, dst, IpProto.UDP, length),
    );
    if (checksumFinish(sum) !== 0) return drop("bad-checksum", "udp");
  }
  return ok({
    srcPort: be16(bytes, 0),
    dstPort: be16(bytes, 2),
    checksum,
    payload: bytes.subarray(UDP_HEADER_LEN, length),
  });
}

export interface UdpRepr {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly payload: Uint8Array;
}

export interface UdpEmitOptions {
  /** "none" sends 0 (not computed); "bad" sends a wrong value. Default "good". */
  readonly checksum?: "good" | "bad" | "none";
}

/** Bytes emitUdp writes for `d`. */
export function udpLength(d: Pick<UdpRepr, "payload">): number {
  return UDP_HEADER_LEN + d.payload.length;
}

/** Writes header + payload at buf[offset]; returns the bytes written. */
export function emitUdp<A extends IpAddrValue>(
  d: UdpRepr,
  src: A,
  dst: SameFamily<A>,
  buf: Uint8Array,
  offset = 0,
  opts?: UdpEmitOptions,
): number {
  const length = udpLength(d);
  if (length > 0xffff) throw new RangeError(`udp length ${length}`);
  if (offset + length > buf.length) throw new RangeError("buffer too small for udp datagram");
  const b = buf;
  const o = offset;
  b[o] = (d.srcPort >>> 8) & 0xff;
  b[o + 1] = d.srcPort & 0xff;
  b[o + 2] = (d.dstPort >>> 8) & 0xff;
  b[o + 3] = d.dstPort & 0xff;
  b[o + 4] = length >>> 8;
  b[o + 5] = length & 0xff;
  b[o + 6] = 0;
  b[o + 7] = 0;
  b.set(d.payload, o + UDP_HEADER_LEN);
  const mode = opts?.checksum ?? "good";
  if (mode !== "none") {
    let sum = checksumFinish(
      checksumAccumulate(
        b.subarray(o, o + length),
        ipPseudoHeaderSum(src, dst, IpProto.UDP, length),
      ),
    );
    // RFC 768, RFC 8200 §8.1: a computed zero is transmitted as all ones (0 means "none").
    if (sum === 0) sum = 0xffff;
    if (mode === "bad") sum = corruptChecksum(sum);
    b[o + 6] = sum >>> 8;
    b[o + 7] = sum & 0xff;
  }
  return length;
}
