/**
 * Just enough IPv4/ICMP to answer the kernel's pings by hand, independent of
 * src/wire: the interop tests prove the TUN read and write paths, not our
 * codecs.
 */

/** RFC 1071 Internet checksum over `bytes`. */
export function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < bytes.length; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (bytes.length % 2 === 1) sum += bytes[bytes.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export interface EchoRequest {
  readonly src: string;
  readonly dst: string;
  readonly id: number;
  readonly seq: number;
}

function addr(bytes: Uint8Array, at: number): string {
  return `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}`;
}

/** The echo request in `packet`, or undefined if it is anything else or damaged. */
export function parseEchoRequest(packet: Uint8Array): EchoRequest | undefined {
  if (packet.length < 28 || packet[0]! >> 4 !== 4) return undefined;
  const ihl = (packet[0]! & 0x0f) * 4;
  const total = (packet[2]! << 8) | packet[3]!;
  if (ihl < 20 || total !== packet.length || packet[9] !== 1) return undefined;
  if (checksum(packet.subarray(0, ihl)) !== 0) return undefined;
  const icmp = packet.subarray(ihl);
  if (icmp[0] !== 8 || icmp[1] !== 0 || checksum(icmp) !== 0) return undefined;
  return {
    src: addr(packet, 12),
    dst: addr(packet, 16),
    id: (icmp[4]! << 8) | icmp[5]!,
    seq: (icmp[6]! << 8) | icmp[7]!,
  };
}

/** An echo reply to `request` (RFC 792): addresses swapped, type 0, same id/seq/data. */
export function buildEchoReply(request: Uint8Array): Uint8Array {
  const ihl = (request[0]! & 0x0f) * 4;
  const icmpLen = request.length - ihl;
  const out = new Uint8Array(20 + icmpLen);
  const v = new DataView(out.buffer);
  out[0] = 0x45;
  v.setUint16(2, out.length);
  v.setUint16(4, 0x7a7a); // identification
  out[8] = 64; // TTL
  out[9] = 1; // ICMP
  out.set(request.subarray(16, 20), 12); // src = request's dst
  out.set(request.subarray(12, 16), 16); // dst = request's src
  v.setUint16(10, checksum(out.subarray(0, 20)));
  out.set(request.subarray(ihl), 20);
  out[20] = 0; // echo reply
  out[21] = 0;
  v.setUint16(22, 0);
  v.setUint16(22, checksum(out.subarray(20)));
  return out;
}
