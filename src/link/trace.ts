import type { Clock } from "../clock/clock.ts";
import type { Instant } from "../clock/time.ts";
import { formatIpPacket } from "../wire/format6.ts";
import { type Offload, softwareSegments } from "../wire/offload.ts";
import { type LinkEnd, tapLink } from "./link.ts";

/** `>` is a packet leaving tcplab, `<` one arriving (packetdrill's convention). */
export type TraceDir = ">" | "<";

export interface TraceLine {
  time: Instant;
  dir: TraceDir;
  /** A copy of the bytes, safe to keep. */
  packet: Uint8Array;
  /** The packet in one tcpdump-style line. */
  text: string;
  /** The tap's name, when it was given one (e.g. the host or link it watches). */
  name?: string;
}

export type PacketFormatter = (packet: Uint8Array) => string;

/**
 * The display form, `0.012345 > 10.0.0.1.43512 > 10.0.0.2.80: Flags [S], ...`:
 * seconds with 6 decimals, the direction, then the packet line without its
 * leading "IP " (the direction already stands where tcpdump puts it), and
 * the tap's name first if it has one.
 */
export function formatTraceLine(line: TraceLine): string {
  const text = line.text.startsWith("IP ") ? line.text.slice(3) : line.text;
  const stamp = `${(line.time / 1000).toFixed(6)} ${line.dir} ${text}`;
  return line.name === undefined ? stamp : `${line.name} ${stamp}`;
}

/**
 * A tap that reports every packet sent (`>`) and received (`<`) through
 * `inner` to `sink`, with the clock's time, then passes it on unchanged.
 */
export function trace(
  inner: LinkEnd,
  sink: (line: TraceLine) => void,
  clock: Clock,
  name?: string,
  format: PacketFormatter = formatIpPacket,
): LinkEnd {
  const line = (dir: TraceDir, packet: Uint8Array, copy: boolean): void => {
    const l: TraceLine = {
      time: clock.now(),
      dir,
      packet: copy ? packet.slice() : packet,
      text: format(packet),
    };
    if (name !== undefined) l.name = name;
    sink(l);
  };
  // An offloaded packet is shown as the segments the peer's TCP receives (as pcapTap records them).
  const record = (dir: TraceDir, packet: Uint8Array, offload: Offload | undefined): void => {
    if (offload === undefined) line(dir, packet, true);
    else for (const p of softwareSegments(packet, offload)) line(dir, p, p === packet);
  };
  return tapLink(inner, (dir, packet, offload) =>
    record(dir === "out" ? ">" : "<", packet, offload),
  );
}
