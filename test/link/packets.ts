/** Small packet builders and matchers shared by the link tests. */
import { ip } from "../../src/wire/addr.ts";
import { buildTcpPacket, parsePacket, tcpSegment } from "../../src/wire/packet.ts";
import { Flag } from "../../src/wire/tcp-types.ts";

export const A = ip("10.0.0.1");
export const B = ip("10.0.0.2");

export function syn(seq = 1000, srcPort = 43512): Uint8Array {
  return buildTcpPacket(
    A,
    B,
    tcpSegment({ srcPort, dstPort: 80, seq, flags: Flag.SYN, window: 65535 }),
  );
}

export function data(seq: number, text: string, from = A, to = B): Uint8Array {
  const payload = new TextEncoder().encode(text);
  const [srcPort, dstPort] = from === A ? [43512, 80] : [80, 43512];
  return buildTcpPacket(
    from,
    to,
    tcpSegment({
      srcPort,
      dstPort,
      seq,
      ack: 1,
      flags: Flag.ACK | Flag.PSH,
      window: 65535,
      payload,
    }),
  );
}

function flagsOf(packet: Uint8Array): number | undefined {
  const parsed = parsePacket(packet, { verifyChecksum: false });
  return parsed.ok && parsed.value.kind === "tcp" ? parsed.value.tcp.flags : undefined;
}

export function isSyn(packet: Uint8Array): boolean {
  const flags = flagsOf(packet);
  return flags !== undefined && (flags & Flag.SYN) !== 0;
}

export function seqOf(packet: Uint8Array): number | undefined {
  const parsed = parsePacket(packet, { verifyChecksum: false });
  return parsed.ok && parsed.value.kind === "tcp" ? parsed.value.tcp.seq : undefined;
}

export function bitDistance(x: Uint8Array, y: Uint8Array): number {
  let bits = 0;
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    let d = (x[i] ?? 0) ^ (y[i] ?? 0);
    while (d) {
      bits += d & 1;
      d >>>= 1;
    }
  }
  return bits;
}

/** A data packet whose index (seq and payload) survives any one bit flip: read it back with tagOf. */
export function taggedData(index: number): Uint8Array {
  const payload = new Uint8Array(12);
  const v = new DataView(payload.buffer);
  for (const at of [0, 4, 8]) v.setUint32(at, index);
  return buildTcpPacket(
    A,
    B,
    tcpSegment({
      srcPort: 43512,
      dstPort: 80,
      seq: index,
      flags: Flag.ACK,
      window: 65535,
      payload,
    }),
  );
}

/** Majority of the three copies in the last 12 bytes. */
export function tagOf(packet: Uint8Array): number {
  const v = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  const end = packet.length;
  const [x, y, z] = [v.getUint32(end - 12), v.getUint32(end - 8), v.getUint32(end - 4)];
  return x === y || x === z ? x : y;
}
