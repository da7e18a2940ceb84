/**
 * A link carries whole IPv4 packets from one side to the other. Faults, taps
 * and pcap writers wrap a link and are links themselves:
 * `pcap(trace(faults(wire)))`.
 */
export type PacketHandler = (packet: Uint8Array) => void;

export interface LinkEnd {
  /** Hand a packet to the link for delivery to the other side. */
  send(packet: Uint8Array): void;
  /** Register the receiver of packets arriving at this side (one receiver). */
  onReceive(handler: PacketHandler): void;
  /** Largest IPv4 packet this link carries. */
  readonly mtu: number;
}
