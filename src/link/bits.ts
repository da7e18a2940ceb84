import type { Rng } from "../util/rng.ts";

/** Flips exactly one bit, chosen uniformly, in place; returns its bit offset (or -1 if empty). */
export function flipRandomBit(packet: Uint8Array, rng: Rng): number {
  if (packet.length === 0) return -1;
  const bit = rng.int(packet.length * 8);
  const index = bit >>> 3;
  packet[index] = packet[index]! ^ (0x80 >>> (bit & 7));
  return bit;
}
