import { closeSync, openSync, writeSync } from "node:fs";
import type { Clock } from "../clock/clock.ts";
import { type Instant, instant } from "../clock/time.ts";
import { type Offload, softwareSegments } from "../wire/offload.ts";
import { type LinkEnd, tapLink } from "./link.ts";

/** Classic libpcap format ("tcpdump" format), as described in the pcap file-format draft. */
export const PCAP_MAGIC = 0xa1b2c3d4;
export const PCAP_MAGIC_NANOS = 0xa1b23c4d;
/** Bare IPv4/IPv6 packets, no link-layer header: what a TUN device carries. */
export const LINKTYPE_RAW = 101;
export const PCAP_DEFAULT_SNAPLEN = 65535;

const GLOBAL_HEADER_LEN = 24;
const RECORD_HEADER_LEN = 16;

/** Where a writer's bytes go. */
export interface PcapSink {
  write(bytes: Uint8Array): void;
  close(): void;
}

/** Collects the file in memory (for tests and for the lab's "save capture"). */
export class MemoryPcapSink implements PcapSink {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;

  write(bytes: Uint8Array): void {
    this.chunks.push(bytes.slice());
    this.length += bytes.length;
  }

  close(): void {}

  /** The whole file so far. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }
}

/** Writes to a file descriptor, buffering up to `bufferSize` bytes between writes. */
export class FilePcapSink implements PcapSink {
  private readonly fd: number;
  private readonly buffer: Uint8Array;
  private used = 0;
  private closed = false;

  constructor(path: string, bufferSize = 64 * 1024) {
    this.fd = openSync(path, "w");
    this.buffer = new Uint8Array(bufferSize);
  }

  write(bytes: Uint8Array): void {
    if (this.closed) throw new Error("pcap file is closed");
    if (this.used + bytes.length > this.buffer.length) this.flush();
    if (bytes.length > this.buffer.length) {
      this.writeAll(bytes);
      return;
    }
    this.buffer.set(bytes, this.used);
    this.used += bytes.length;
  }

  /** Pushes buffered records to the file, so a reader can see them now. */
  flush(): void {
    if (this.used === 0) return;
    this.writeAll(this.buffer.subarray(0, this.used));
    this.used = 0;
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    closeSync(this.fd);
    this.closed = true;
  }

  private writeAll(bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done);
  }
}

export interface PcapWriterOptions {
  snaplen?: number;
  linktype?: number;
}

/** Writes a classic pcap stream: one global header, then one record per packet. */
export class PcapWriter {
  readonly snaplen: number;
  readonly linktype: number;
  private records = 0;

  constructor(
    private readonly sink: PcapSink,
    options: PcapWriterOptions = {},
  ) {
    this.snaplen = options.snaplen ?? PCAP_DEFAULT_SNAPLEN;
    this.linktype = options.linktype ?? LINKTYPE_RAW;
    const header = new Uint8Array(GLOBAL_HEADER_LEN);
    const v = new DataView(header.buffer);
    // Little-endian, like most writers; readers detect byte order from the magic.
    v.setUint32(0, PCAP_MAGIC, true);
    v.setUint16(4, 2, true); // version 2.4
    v.setUint16(6, 4, true);
    v.setInt32(8, 0, true); // thiszone: timestamps are UTC
    v.setUint32(12, 0, true); // sigfigs
    v.setUint32(16, this.snaplen, true);
    v.setUint32(20, this.linktype, true);
    this.sink.write(header);
  }

  /** Packets written so far. */
  get count(): number {
    return this.records;
  }

  /** Records `packet` at clock time `time` (ms), truncated to the snaplen. */
  write(time: Instant, packet: Uint8Array): void {
    const captured = Math.min(packet.length, this.snaplen);
    const record = new Uint8Array(RECORD_HEADER_LEN + captured);
    const v = new DataView(record.buffer);
    const micros = Math.max(0, Math.round(time * 1000));
    v.setUint32(0, Math.floor(micros / 1_000_000), true);
    v.setUint32(4, micros % 1_000_000, true);
    v.setUint32(8, captured, true);
    v.setUint32(12, packet.length, true);
    record.set(packet.subarray(0, captured), RECORD_HEADER_LEN);
    this.sink.write(record);
    this.records++;
  }

  close(): void {
    this.sink.close();
  }
}

/** A writer to a file at `path` (created or truncated); call close() to flush. */
export function pcapFile(path: string, options?: PcapWriterOptions): PcapWriter {
  return new PcapWriter(new FilePcapSink(path), options);
}

/** A writer into memory; `bytes()` returns the file so far. */
export function pcapMemory(options?: PcapWriterOptions): {
  writer: PcapWriter;
  bytes: () => Uint8Array;
} {
  const sink = new MemoryPcapSink();
  return { writer: new PcapWriter(sink, options), bytes: () => sink.bytes() };
}

/**
 * A tap that records every packet sent and received through `inner`,
 * stamped with the clock. An offloaded packet is recorded as the segments
 * the peer's TCP receives — a super-segment cut, checksums completed
 * (softwareSegments) — not as the bytes that crossed the TUN device.
 */
export function pcapTap(inner: LinkEnd, writer: PcapWriter, clock: Clock): LinkEnd {
  const record = (packet: Uint8Array, offload: Offload | undefined): void => {
    const now = clock.now();
    if (offload === undefined) writer.write(now, packet);
    else for (const p of softwareSegments(packet, offload)) writer.write(now, p);
  };
  return tapLink(inner, (_dir, packet, offload) => record(packet, offload));
}

export interface PcapRecord {
  /** Milliseconds since the epoch of the capture's clock. */
  time: Instant;
  /** Captured bytes (possibly truncated to the snaplen). */
  packet: Uint8Array;
  /** Length of the packet on the wire. */
  originalLength: number;
}

export interface PcapContents {
  linktype: number;
  snaplen: number;
  records: PcapRecord[];
}

export class PcapFormatError extends Error {
  override name = "PcapFormatError";
}

/**
 * Reads a classic pcap file (either byte order, micro- or nanosecond
 * timestamps). A file-level reader for tests and tools: it throws
 * PcapFormatError on a file it cannot read, naming what is wrong.
 */
export function readPcap(bytes: Uint8Array): PcapContents {
  if (bytes.length < GLOBAL_HEADER_LEN) throw new PcapFormatError("shorter than a pcap header");
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let little: boolean;
  let fractionPerSecond: number;
  const magicLe = v.getUint32(0, true);
  const magicBe = v.getUint32(0, false);
  if (magicLe === PCAP_MAGIC || magicBe === PCAP_MAGIC) {
    little = magicLe === PCAP_MAGIC;
    fractionPerSecond = 1_000_000;
  } else if (magicLe === PCAP_MAGIC_NANOS || magicBe === PCAP_MAGIC_NANOS) {
    little = magicLe === PCAP_MAGIC_NANOS;
    fractionPerSecond = 1_000_000_000;
  } else {
    throw new PcapFormatError(`bad magic 0x${magicBe.toString(16)}`);
  }
  const major = v.getUint16(4, little);
  if (major !== 2) throw new PcapFormatError(`unsupported version ${major}`);
  const snaplen = v.getUint32(16, little);
  const linktype = v.getUint32(20, little) & 0x0fffffff; // high bits: FCS info
  const records: PcapRecord[] = [];
  let at = GLOBAL_HEADER_LEN;
  while (at < bytes.length) {
    if (at + RECORD_HEADER_LEN > bytes.length) {
      throw new PcapFormatError(`record header truncated at offset ${at}`);
    }
    const seconds = v.getUint32(at, little);
    const fraction = v.getUint32(at + 4, little);
    const captured = v.getUint32(at + 8, little);
    const originalLength = v.getUint32(at + 12, little);
    const start = at + RECORD_HEADER_LEN;
    if (start + captured > bytes.length) {
      throw new PcapFormatError(`record data truncated at offset ${at}`);
    }
    records.push({
      time: instant(seconds * 1000 + (fraction * 1000) / fractionPerSecond),
      packet: bytes.slice(start, start + captured),
      originalLength,
    });
    at = start + captured;
  }
  return { linktype, snaplen, records };
}
