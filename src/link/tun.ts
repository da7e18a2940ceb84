/**
 * A TUN device as a tcplab link: whole IP packets between the Linux kernel
 * (at `localAddr` on the device, and `localAddr6` with IPv6) and tcplab (at
 * `peerAddr`, `peerAddr6`).
 *
 * The device is created from inside the lab's network namespace (the
 * calling thread enters it with setns(2) for the few synchronous calls that
 * create and configure the device, then returns), so it exists only there.
 * Configuration is our own ioctls, not iproute2. Reading happens on a worker
 * thread blocked in poll(2) (see tun-reader-worker.ts); writing is one
 * write(2) per packet on the calling thread: a TUN write never blocks, it
 * hands the packet straight to the kernel's IP input.
 *
 * With offloads (TunOptions.offload) every read and write carries a
 * virtio_net_hdr: the kernel hands us TCP super-segments of up to 64 KiB
 * with partial checksums and takes ours the same way (TUNSETOFFLOAD with
 * checksum and TSO4), so one write(2) carries up to 44 segments of 1448
 * bytes. What the kernel refuses is done in software here instead. IPv6
 * has the checksum offload only: the host takes no IPv6 super-segments
 * (TSO6 is not asked for, so the kernel cuts its own) and verifies IPv6
 * checksums itself, so a partial one is completed here on the way in.
 */
import { ptr } from "bun:ffi";
import { readFileSync } from "node:fs";
import { parseIpv4Addr } from "../wire/addr.ts";
import { IPV6_MIN_MTU } from "../wire/ipv6.ts";
import { type Ipv6Addr, parseIpv6Addr } from "../wire/ipv6-addr.ts";
import {
  checksumOffset,
  completeChecksum6,
  type Offload,
  softwareSegments,
} from "../wire/offload.ts";
import type { LinkEnd, LinkOffloads, PacketHandler } from "./link.ts";
import { enterNetns, NETNS_DIR, type Netns, netnsExists, validNetnsName } from "./netns.ts";
import { TunError } from "./tun-error.ts";
import {
  EAGAIN,
  errno,
  libc,
  TUN_F_CSUM,
  TUN_F_TSO4,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VNET_HDR_LEN,
} from "./tun-libc.ts";
import {
  type OpenedTun,
  offloadNames,
  openConfiguredTun,
  TUN_PREFIX6,
  type TunOffloadGrant,
  validIfName,
} from "./tun-open.ts";
import { requireLinuxRoot } from "./tun-preflight.ts";
import { WorkerReader } from "./tun-reader.ts";

export { TunError } from "./tun-error.ts";

export const DEFAULT_TUN_NAME = "tcplab0";
export const DEFAULT_TUN_MTU = 1500;
const MIN_MTU = 68; // RFC 791: every internet module must forward 68 octets
/** The largest super-segment: an IPv4 total length (Linux's GSO_LEGACY_MAX_SIZE less one). */
const MAX_SUPER_SEGMENT = 0xffff;

/** A 64-bit little-endian pointer into an iovec (addresses stay below 2^53). */
function setPointer(v: DataView, at: number, p: number): void {
  v.setUint32(at, p % 0x1_0000_0000, true);
  v.setUint32(at + 4, Math.floor(p / 0x1_0000_0000), true);
}

export interface TunOptions {
  /** Interface name (default "tcplab0"); at most 15 characters. */
  readonly name?: string;
  /** Namespace to create the device in: a Netns from createNetns, or the name of one. Default: the current one. */
  readonly netns?: string | Netns;
  /** Default 1500. */
  readonly mtu?: number;
  /** The kernel's side of the link, e.g. "10.0.0.1". */
  readonly localAddr: string;
  /**
   * Memory of the hand-off from the reader thread to the stack (default
   * 2 MiB): a fixed ring; when the stack is behind, the kernel's device
   * queue drops the excess (TunStats.readerStalls, TunDevice.kernelDropped).
   */
  readonly queueBytes?: number;
  /** tcplab's side, e.g. "10.0.0.2". */
  readonly peerAddr: string;
  /**
   * The kernel's IPv6 address, e.g. "fd00::1": IPv6 is turned on for this
   * device (only), with this address as a /64. Given with `peerAddr6`, or not at all.
   */
  readonly localAddr6?: string;
  /** tcplab's IPv6 address, e.g. "fd00::2", in the kernel's /64. */
  readonly peerAddr6?: string;
  /**
   * Ask the kernel for checksum and segmentation offloads (IFF_VNET_HDR,
   * TUNSETOFFLOAD): super-segments both ways. Default false: every packet
   * on the device is one segment, as the lab shows them.
   */
  readonly offload?: boolean;
}

/** A device's offloads as `tcplab serve` reports them. */
export interface TunOffloadState {
  /** Offloads were asked for. */
  readonly requested: boolean;
  /** "csum+tso4+tso6", or "none". */
  readonly granted: string;
  /** Why less was granted than asked, if so. */
  readonly refused?: string;
}

export interface TunStats {
  packetsIn: number;
  bytesIn: number;
  packetsOut: number;
  bytesOut: number;
  /** Times the reader woke up with packets (packetsIn / readWakeups = batch size). */
  readWakeups: number;
  /** Packets read that were neither IPv4 nor IPv6 (dropped here). */
  droppedNotIp: number;
  /** Packets read before anyone called onReceive. */
  droppedNoReceiver: number;
  /** Packets not written: too long for the MTU, empty, or the write failed. */
  droppedOut: number;
  writeErrors: number;
  /** Times the reader found the hand-off full (the stack was behind; the kernel's queue took the excess). */
  readerStalls: number;
  /** TCP super-segments read (each counted once in packetsIn). */
  superIn: number;
  /** TCP super-segments written (each counted once in packetsOut). */
  superOut: number;
}

export interface TunDevice extends LinkEnd {
  readonly name: string;
  readonly fd: number;
  readonly localAddr: string;
  readonly peerAddr: string;
  /** The IPv6 addresses, when the device carries IPv6. */
  readonly localAddr6: string | undefined;
  readonly peerAddr6: string | undefined;
  readonly stats: Readonly<TunStats>;
  /** Why the device stopped delivering packets, if it did (set before onError fires). */
  readonly error: string | undefined;
  /** What the kernel granted of the offloads asked for. */
  readonly offload: TunOffloadState;
  onError(handler: (message: string) => void): void;
  /**
   * Packets the kernel dropped at the device's queue because tcplab did not
   * read them in time (the interface's transmit drops, read inside its
   * namespace); undefined once closed or when unreadable.
   */
  kernelDropped(): number | undefined;
  /** Stop reading and close the device (the kernel removes the interface). Idempotent. */
  close(): Promise<void>;
  readonly closed: boolean;
}

function addr6Option(label: string, text: string): Ipv6Addr {
  const addr = parseIpv6Addr(text);
  if (addr === undefined) {
    throw new TunError("bad-address", `${label} "${text}" is not an IPv6 address (like fd00::1)`);
  }
  return addr;
}

/** The kernel's IPv6 address, checked against tcplab's: both given or neither, one /64. */
function ipv6Options(opts: TunOptions, mtu: number): Ipv6Addr | undefined {
  const { localAddr6, peerAddr6 } = opts;
  if (localAddr6 === undefined && peerAddr6 === undefined) return undefined;
  if (localAddr6 === undefined || peerAddr6 === undefined) {
    throw new TunError(
      "bad-address",
      "IPv6 needs both addresses: the kernel's (localAddr6) and tcplab's (peerAddr6)",
    );
  }
  const local = addr6Option("local IPv6 address", localAddr6);
  const peer = addr6Option("peer IPv6 address", peerAddr6);
  // TUN_PREFIX6 is 64: the first two words are the prefix.
  if (
    local[0] !== peer[0] ||
    local[1] !== peer[1] ||
    (local[2] === peer[2] && local[3] === peer[3])
  ) {
    throw new TunError(
      "bad-address",
      `IPv6 addresses ${localAddr6} and ${peerAddr6} must differ within one /${TUN_PREFIX6}`,
    );
  }
  // RFC 8200 §5: every link carries 1280 bytes; Linux turns IPv6 off on a device with less.
  if (mtu < IPV6_MIN_MTU) {
    throw new TunError(
      "configure-failed",
      `MTU ${mtu} is too small for IPv6: use ${IPV6_MIN_MTU} or more`,
    );
  }
  return local;
}

function addrOption(label: string, text: string): number {
  const addr = parseIpv4Addr(text);
  if (addr === undefined) {
    throw new TunError("bad-address", `${label} "${text}" is not an IPv4 address (like 10.0.0.1)`);
  }
  return addr;
}

class Tun implements TunDevice {
  private readonly counts: TunStats = {
    packetsIn: 0,
    bytesIn: 0,
    packetsOut: 0,
    bytesOut: 0,
    readWakeups: 0,
    droppedNotIp: 0,
    droppedNoReceiver: 0,
    droppedOut: 0,
    writeErrors: 0,
    readerStalls: 0,
    superIn: 0,
    superOut: 0,
  };
  error: string | undefined;
  private receiver: PacketHandler | undefined;
  private batchEnd: (() => void) | undefined;
  private errorHandler: ((message: string) => void) | undefined;
  private readonly reader: WorkerReader;
  private closing: Promise<void> | undefined;
  readonly offloads: LinkOffloads | undefined;
  readonly offload: TunOffloadState;
  /** With a virtio_net_hdr: the header of the next write, and the iovec pair that writes it with the packet. */
  private readonly vnet: { hdr: Uint8Array; iov: DataView; iovPtr: number } | undefined;

  constructor(
    private readonly opened: OpenedTun,
    readonly mtu: number,
    readonly localAddr: string,
    readonly peerAddr: string,
    readonly localAddr6: string | undefined,
    readonly peerAddr6: string | undefined,
    queueBytes: number | undefined,
    /** Runs `fn` inside the device's namespace. */
    private readonly inNetns: <T>(fn: () => T) => T,
  ) {
    const grant: TunOffloadGrant = opened.offload;
    const tso = (grant.flags & TUN_F_TSO4) !== 0;
    this.offloads =
      (grant.flags & TUN_F_CSUM) !== 0
        ? { checksum: true, gsoMaxBytes: tso ? MAX_SUPER_SEGMENT : 0 }
        : undefined;
    this.offload = {
      requested: grant.vnetHdr || grant.refused !== undefined,
      granted: offloadNames(grant.flags),
      ...(grant.refused !== undefined ? { refused: grant.refused } : {}),
    };
    if (grant.vnetHdr) {
      const hdr = new Uint8Array(VNET_HDR_LEN);
      const iovBytes = new Uint8Array(32); // struct iovec[2] { void *base; size_t len; }
      const iov = new DataView(iovBytes.buffer);
      setPointer(iov, 0, ptr(hdr));
      iov.setUint32(8, VNET_HDR_LEN, true);
      // The record keeps both buffers (the DataView holds the iovec's) alive while their addresses are in use.
      this.vnet = { hdr, iov, iovPtr: ptr(iovBytes) };
    }
    const packetMax = tso ? MAX_SUPER_SEGMENT : mtu;
    this.reader = new WorkerReader(
      opened.fd,
      grant.vnetHdr ? VNET_HDR_LEN + packetMax : mtu,
      {
        batch: (packets, offloads, bytes) => this.deliver(packets, offloads, bytes),
        failed: (message) => {
          this.error = message;
          this.errorHandler?.(message);
        },
      },
      queueBytes,
      grant.vnetHdr ? VNET_HDR_LEN : 0,
    );
  }

  get stats(): Readonly<TunStats> {
    this.counts.readerStalls = this.reader.stalls;
    return this.counts;
  }

  kernelDropped(): number | undefined {
    if (this.closing !== undefined) return undefined;
    try {
      // /proc/thread-self/net follows the calling thread's namespace.
      const text = this.inNetns(() => readFileSync("/proc/thread-self/net/dev", "utf8"));
      const line = text.split("\n").find((l) => l.trim().startsWith(`${this.name}:`));
      // Receive fields, then transmit: bytes packets errs drop … (the 4th transmit field).
      const fields = line?.split(":")[1]?.trim().split(/\s+/);
      const drop = Number(fields?.[11]);
      return Number.isFinite(drop) ? drop : undefined;
    } catch {
      return undefined;
    }
  }

  get name(): string {
    return this.opened.name;
  }

  get fd(): number {
    return this.opened.fd;
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  private deliver(
    packets: readonly Uint8Array[],
    offloads: readonly (Offload | undefined)[] | undefined,
    bytes: number,
  ): void {
    const s = this.counts;
    s.readWakeups++;
    s.packetsIn += packets.length;
    s.bytesIn += bytes;
    try {
      for (let i = 0; i < packets.length; i++) {
        const p = packets[i] as Uint8Array;
        if (this.closing !== undefined) return;
        const version = p.length === 0 ? 0 : p[0]! >> 4;
        if (version !== 4 && version !== 6) {
          s.droppedNotIp++;
          continue;
        }
        const receiver = this.receiver;
        if (receiver === undefined) {
          s.droppedNoReceiver++;
          continue;
        }
        let offload = offloads?.[i];
        if (version === 6 && offload !== undefined) {
          // The host checks IPv6 checksums itself: one the kernel left to the device is filled in.
          if (offload.checksum === "partial") completeChecksum6(p);
          offload = undefined;
        }
        if (offload !== undefined && offload.gsoSize > 0) s.superIn++;
        receiver(p, offload);
      }
    } finally {
      // One wake-up's packets are one burst (LinkEnd.onBatchEnd).
      this.batchEnd?.();
    }
  }

  send(packet: Uint8Array, offload?: Offload): void {
    const s = this.counts;
    const gso = offload?.gsoSize ?? 0;
    const max = gso > 0 ? MAX_SUPER_SEGMENT : this.mtu;
    if (this.closing !== undefined || packet.length === 0 || packet.length > max) {
      s.droppedOut++;
      return;
    }
    const vnet = this.vnet;
    const kernelDoes =
      offload === undefined ||
      offload.checksum === "valid" ||
      (this.offloads !== undefined && (gso === 0 || this.offloads.gsoMaxBytes >= packet.length));
    if (!kernelDoes || vnet === undefined) {
      // What the device does not take is done here: cut, checksums completed.
      if (offload === undefined || offload.checksum === "valid") this.write(packet, undefined);
      else for (const p of softwareSegments(packet, offload)) this.write(p, undefined);
      return;
    }
    const hdr = vnet.hdr;
    hdr.fill(0);
    if (offload !== undefined && offload.checksum === "partial") {
      // struct virtio_net_hdr, little-endian: the checksum from csum_start to the end goes at csum_start + csum_offset.
      const ihl = (packet[0]! & 0x0f) * 4;
      const field = checksumOffset(packet[9]!) ?? 0;
      hdr[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
      hdr[6] = ihl & 0xff;
      hdr[7] = ihl >>> 8;
      hdr[8] = field;
      if (gso > 0) {
        const hdrLen = ihl + (packet[ihl + 12]! >> 4) * 4;
        hdr[1] = VIRTIO_NET_HDR_GSO_TCPV4;
        hdr[2] = hdrLen & 0xff;
        hdr[3] = hdrLen >>> 8;
        hdr[4] = gso & 0xff;
        hdr[5] = gso >>> 8;
      }
    }
    this.write(packet, vnet);
    if (gso > 0) s.superOut++;
  }

  /** One write(2) — a writev(2) of header and packet with a virtio_net_hdr. */
  private write(packet: Uint8Array, vnet: Tun["vnet"]): void {
    const s = this.counts;
    const fd = this.opened.fd;
    let want = packet.length;
    let n: number;
    if (this.vnet === undefined) {
      n = Number(libc().write(fd, packet, want));
    } else {
      if (vnet === undefined) this.vnet.hdr.fill(0);
      const iov = this.vnet.iov;
      setPointer(iov, 16, ptr(packet));
      iov.setUint32(24, want, true);
      want += VNET_HDR_LEN;
      n = Number(libc().writev(fd, this.vnet.iovPtr, 2));
    }
    if (n === want) {
      s.packetsOut++;
      s.bytesOut += packet.length;
      return;
    }
    s.droppedOut++;
    // EAGAIN would mean a full queue: a loss the protocols above recover from.
    if (n < 0 && errno() !== EAGAIN) s.writeErrors++;
  }

  onReceive(handler: PacketHandler): void {
    this.receiver = handler;
  }

  onBatchEnd(handler: () => void): void {
    this.batchEnd = handler;
  }

  onError(handler: (message: string) => void): void {
    this.errorHandler = handler;
  }

  close(): Promise<void> {
    if (this.closing === undefined) {
      this.closing = this.reader.stop().then(() => {
        libc().close(this.opened.fd);
      });
    }
    return this.closing;
  }
}

/**
 * Create a TUN device `name` (in `netns` when given), set its MTU and the
 * point-to-point addresses localAddr (kernel) → peerAddr (tcplab), bring it
 * up — with localAddr6/peerAddr6, IPv6 on it too — and start reading. Fails with a one-line TunError.
 */
export async function openTun(opts: TunOptions): Promise<TunDevice> {
  const offload = opts.offload ?? false;
  const name = opts.name ?? DEFAULT_TUN_NAME;
  const mtu = opts.mtu ?? DEFAULT_TUN_MTU;
  if (!validIfName(name)) {
    throw new TunError(
      "bad-name",
      `"${name}" is not a usable interface name: at most 15 letters, digits, '-', '_' or '.'`,
    );
  }
  if (!Number.isInteger(mtu) || mtu < MIN_MTU || mtu > 65535) {
    throw new TunError("configure-failed", `MTU ${mtu} is out of range: use ${MIN_MTU}..65535`);
  }
  const localAddr = addrOption("local address", opts.localAddr);
  const peerAddr = addrOption("peer address", opts.peerAddr);
  const localAddr6 = ipv6Options(opts, mtu);
  requireLinuxRoot();

  const cfg = {
    name,
    mtu,
    localAddr,
    peerAddr,
    offload,
    ...(localAddr6 !== undefined ? { localAddr6 } : {}),
  };
  let inNetns: <T>(fn: () => T) => T;
  if (opts.netns === undefined) {
    inNetns = (fn) => fn();
  } else if (typeof opts.netns === "string") {
    const ns = opts.netns;
    if (!validNetnsName(ns) || !netnsExists(ns)) {
      throw new TunError(
        "netns-missing",
        `network namespace "${ns}" does not exist: create it first (createNetns("${ns}"))`,
      );
    }
    inNetns = (fn) => enterNetns(`${NETNS_DIR}/${ns}`, fn);
  } else {
    const ns = opts.netns;
    if (ns.removed || !netnsExists(ns.name)) {
      throw new TunError(
        "netns-missing",
        `network namespace "${ns.name}" was removed: create it again`,
      );
    }
    inNetns = (fn) => ns.enter(fn);
  }
  const opened = inNetns(() => openConfiguredTun(cfg));
  try {
    return new Tun(
      opened,
      mtu,
      opts.localAddr,
      opts.peerAddr,
      opts.localAddr6,
      opts.peerAddr6,
      opts.queueBytes,
      inNetns,
    );
  } catch (err) {
    libc().close(opened.fd);
    throw err instanceof TunError
      ? err
      : new TunError("io-failed", `could not start reading ${name}: ${String(err)}`);
  }
}
