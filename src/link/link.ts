import type { Offload } from "../wire/offload.ts";

/**
 * A link carries whole IPv4 packets from one side to the other. Faults, taps
 * and pcap writers wrap a link and are links themselves:
 * `pcap(trace(faults(wire)))`.
 *
 * A link with offloads (a TUN device with a virtio_net_hdr) also carries
 * each packet's Offload: a partial checksum, a TCP super-segment. It
 * delivers them with their Offload, and takes them from a sender that saw
 * them in `offloads`. A wrapper passes the Offload on with the packet, or
 * does the work in software first (softwareSegments) where it must look at
 * single segments.
 */
export type PacketHandler = (packet: Uint8Array, offload?: Offload) => void;

/** What a link takes on send: partial TCP checksums, super-segments up to gsoMaxBytes. */
export interface LinkOffloads {
  readonly checksum: boolean;
  /** Largest super-segment (IPv4 total length) the link cuts; 0: none. */
  readonly gsoMaxBytes: number;
}

export interface LinkEnd {
  /** Hand a packet to the link for delivery to the other side. */
  send(packet: Uint8Array, offload?: Offload): void;
  /** Register the receiver of packets arriving at this side (one receiver). */
  onReceive(handler: PacketHandler): void;
  /**
   * Optional, for links that deliver arrivals in bursts (the TUN device: all
   * the packets of one reader wake-up, synchronously one after another):
   * `handler` runs after each burst — after the last packet the link
   * delivered, in the same task, also when the burst ended in drops — so a
   * receiver may hold its output until then and answer a burst of ACKs with
   * one output pass. A link that lacks it delivers packets one by one (the
   * simulated wire: its order of events stays exactly as scheduled). A
   * wrapper forwards it only if it delivers synchronously what it receives.
   */
  onBatchEnd?(handler: () => void): void;
  /** Largest IPv4 packet this link carries (a super-segment's segments included). */
  readonly mtu: number;
  /** The offloads `send` takes; absent: none (every packet whole, checksummed). */
  readonly offloads?: LinkOffloads;
}

/**
 * A link that shows every packet to `see` — `out` on its way to `inner`,
 * `in` on its way up — and passes it on unchanged, with its Offload. It
 * delivers synchronously, so the inner link's bursts are its own.
 */
export function tapLink(
  inner: LinkEnd,
  see: (dir: "in" | "out", packet: Uint8Array, offload: Offload | undefined) => void,
): LinkEnd {
  return {
    get mtu() {
      return inner.mtu;
    },
    get offloads() {
      return inner.offloads;
    },
    send(packet, offload) {
      see("out", packet, offload);
      inner.send(packet, offload);
    },
    onReceive(handler) {
      inner.onReceive((packet, offload) => {
        see("in", packet, offload);
        handler(packet, offload);
      });
    },
    ...(inner.onBatchEnd === undefined
      ? {}
      : { onBatchEnd: (handler: () => void) => inner.onBatchEnd?.(handler) }),
  };
}
