/**
 * A TUN device as a tcplab link: whole IPv4 packets between the Linux
 * kernel (at `localAddr` on the device) and tcplab (at `peerAddr`).
 *
 * The device is created from inside the lab's network namespace (the
 * calling thread enters it with setns(2) for the few synchronous calls that
 * create and configure the device, then returns), so it exists only there.
 * Configuration is our own ioctls, not iproute2. Reading happens on a worker
 * thread blocked in poll(2) (see tun-reader-worker.ts); writing is one
 * write(2) per packet on the calling thread: a TUN write never blocks, it
 * hands the packet straight to the kernel's IP input.
 */
import { readFileSync } from "node:fs";
import { parseIpv4Addr } from "../wire/addr.ts";
import type { LinkEnd, PacketHandler } from "./link.ts";
import { enterNetns, NETNS_DIR, type Netns, netnsExists, validNetnsName } from "./netns.ts";
import { TunError } from "./tun-error.ts";
import { EAGAIN, errno, libc } from "./tun-libc.ts";
import { type OpenedTun, openConfiguredTun, validIfName } from "./tun-open.ts";
import { requireLinuxRoot } from "./tun-preflight.ts";
import { WorkerReader } from "./tun-reader.ts";

export { TunError } from "./tun-error.ts";

export const DEFAULT_TUN_NAME = "tcplab0";
export const DEFAULT_TUN_MTU = 1500;
const MIN_MTU = 68; // RFC 791: every internet module must forward 68 octets

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
}

export interface TunStats {
  packetsIn: number;
  bytesIn: number;
  packetsOut: number;
  bytesOut: number;
  /** Times the reader woke up with packets (packetsIn / readWakeups = batch size). */
  readWakeups: number;
  /** Packets read that were not IPv4 (dropped here; the link carries IPv4 only). */
  droppedNotIpv4: number;
  /** Packets read before anyone called onReceive. */
  droppedNoReceiver: number;
  /** Packets not written: too long for the MTU, empty, or the write failed. */
  droppedOut: number;
  writeErrors: number;
  /** Times the reader found the hand-off full (the stack was behind; the kernel's queue took the excess). */
  readerStalls: number;
}

export interface TunDevice extends LinkEnd {
  readonly name: string;
  readonly fd: number;
  readonly localAddr: string;
  readonly peerAddr: string;
  readonly stats: Readonly<TunStats>;
  /** Why the device stopped delivering packets, if it did (set before onError fires). */
  readonly error: string | undefined;
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
    droppedNotIpv4: 0,
    droppedNoReceiver: 0,
    droppedOut: 0,
    writeErrors: 0,
    readerStalls: 0,
  };
  error: string | undefined;
  private receiver: PacketHandler | undefined;
  private batchEnd: (() => void) | undefined;
  private errorHandler: ((message: string) => void) | undefined;
  private readonly reader: WorkerReader;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly opened: OpenedTun,
    readonly mtu: number,
    readonly localAddr: string,
    readonly peerAddr: string,
    queueBytes: number | undefined,
    /** Runs `fn` inside the device's namespace. */
    private readonly inNetns: <T>(fn: () => T) => T,
  ) {
    this.reader = new WorkerReader(
      opened.fd,
      mtu,
      {
        batch: (packets, bytes) => this.deliver(packets, bytes),
        failed: (message) => {
          this.error = message;
          this.errorHandler?.(message);
        },
      },
      queueBytes,
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

  private deliver(packets: readonly Uint8Array[], bytes: number): void {
    const s = this.counts;
    s.readWakeups++;
    s.packetsIn += packets.length;
    s.bytesIn += bytes;
    try {
      for (const p of packets) {
        if (this.closing !== undefined) return;
        // The link carries IPv4 only; the kernel may still emit the odd IPv6 packet.
        if (p.length === 0 || p[0]! >> 4 !== 4) {
          s.droppedNotIpv4++;
          continue;
        }
        const receiver = this.receiver;
        if (receiver === undefined) {
          s.droppedNoReceiver++;
          continue;
        }
        receiver(p);
      }
    } finally {
      // One wake-up's packets are one burst (LinkEnd.onBatchEnd).
      this.batchEnd?.();
    }
  }

  send(packet: Uint8Array): void {
    const s = this.counts;
    if (this.closing !== undefined || packet.length === 0 || packet.length > this.mtu) {
      s.droppedOut++;
      return;
    }
    const n = Number(libc().write(this.opened.fd, packet, packet.length));
    if (n === packet.length) {
      s.packetsOut++;
      s.bytesOut += n;
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
 * up and start reading. Fails with a one-line TunError.
 */
export async function openTun(opts: TunOptions): Promise<TunDevice> {
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
  requireLinuxRoot();

  const cfg = { name, mtu, localAddr, peerAddr };
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
    return new Tun(opened, mtu, opts.localAddr, opts.peerAddr, opts.queueBytes, inNetns);
  } catch (err) {
    libc().close(opened.fd);
    throw err instanceof TunError
      ? err
      : new TunError("io-failed", `could not start reading ${name}: ${String(err)}`);
  }
}
