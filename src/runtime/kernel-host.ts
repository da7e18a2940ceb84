/**
 * The kernel world's tcplab host: a Host on a TUN device inside a network
 * namespace, bound to a RealClock. The Linux kernel at `peer` and `peer6`
 * (inside the namespace) is the other end; tcplab is at `addr` and `addr6`. Used by `tcplab serve`
 * and the interop tests; their sockets go above it (src/api, `withSockets`).
 */
import type { Clock } from "../clock/clock.ts";
import { RealClock } from "../clock/real-clock.ts";
import type { LinkEnd } from "../link/link.ts";
import { createNetns, DEFAULT_NETNS, type Netns } from "../link/netns.ts";
import { type PcapWriter, pcapFile, pcapTap } from "../link/pcap.ts";
import { DEFAULT_TUN_MTU, DEFAULT_TUN_NAME, openTun, type TunDevice } from "../link/tun.ts";
import { TunError } from "../link/tun-error.ts";
import { Host, type HostOptions } from "../stack/host.ts";
import { BULK_BUFFERS } from "../tcp/settings.ts";
import { parseIpv4Addr } from "../wire/addr.ts";
import { IPV6_MIN_MTU } from "../wire/ipv6.ts";
import { ip6 } from "../wire/ipv6-addr.ts";
import { type AttachOptions, type Attachment, attach } from "./attach.ts";
import { cryptoRandom32, cryptoSecret } from "./entropy.ts";

export const DEFAULT_KERNEL_ADDR = "10.0.0.2";
export const DEFAULT_KERNEL_PEER = "10.0.0.1";
/** The IPv6 twins: tcplab fd00::2, the kernel fd00::1, as with IPv4's .2 and .1. */
export const DEFAULT_KERNEL_ADDR6 = "fd00::2";
export const DEFAULT_KERNEL_PEER6 = "fd00::1";

export interface KernelHostOptions {
  /**
   * The namespace: a name to create (and remove on close; default "tcplab"),
   * or a Netns the caller created and keeps (several hosts may share one).
   */
  readonly netns?: string | Netns;
  /** tcplab's address (default 10.0.0.2). */
  readonly addr?: string;
  /** The kernel's address on the device (default 10.0.0.1). */
  readonly peer?: string;
  /**
   * tcplab's IPv6 address (default fd00::2, unless the MTU is under IPv6's
   * 1280), or false for a device and a host without IPv6.
   */
  readonly addr6?: string | false;
  /** The kernel's IPv6 address on the device, in addr6's /64 (default fd00::1). */
  readonly peer6?: string;
  /** MTU of the device and the host (default 1500). */
  readonly mtu?: number;
  /** Record every packet to this pcap file (path), or to this writer. */
  readonly pcap?: string | PcapWriter;
  /** Interface name (default "tcplab0"). */
  readonly tunName?: string;
  /**
   * TUN offloads (TunOptions.offload): super-segments and partial
   * checksums both ways. Default on, unless the environment says
   * TCPLAB_OFFLOAD=off (to run a suite both ways).
   */
  readonly offload?: boolean;
  /**
   * Wraps the device before the host sees it, e.g. fault rules:
   * `(tun, clock) => faults(tun, { clock, in: { loss: 0.05 } })`. A pcap
   * tap, if any, goes outside it (it records what the host sends and gets).
   */
  readonly wrapLink?: (tun: LinkEnd, clock: Clock) => LinkEnd;
  /** Defaults to a new RealClock (closed by close()). */
  readonly clock?: Clock;
  /** Host name shown by the lab (default "tcplab"). */
  readonly name?: string;
  /**
   * When this call creates the namespace: also remove it from process exit
   * and SIGINT/SIGTERM hooks (default true). A caller with its own signal
   * handling passes false and removes it itself (close(), or
   * netns.removeSync() on exit).
   */
  readonly cleanupOnExit?: boolean;
  /**
   * More Host options (TCP settings, ISN …). TCP buffers default to
   * BULK_BUFFERS (1 MiB each) here; `host.tcp` overrides them.
   */
  readonly host?: Omit<HostOptions, "name" | "addr" | "addr6" | "mtu">;
  /** How the attachment reports a throw from the host (default: to stderr). */
  readonly attach?: AttachOptions;
}

export interface KernelHost {
  readonly host: Host;
  readonly tun: TunDevice;
  readonly netns: Netns;
  readonly clock: Clock;
  /** The link the host is attached to: the device, wrapped (wrapLink, pcap tap) if asked. */
  readonly link: LinkEnd;
  readonly attachment: Attachment;
  /** The pcap writer, when recording. */
  readonly pcap: PcapWriter | undefined;
  /**
   * Detach, close the device (and the pcap file and clock, if
   * startKernelHost opened them), and remove the namespace if it created
   * it. Idempotent.
   */
  close(): Promise<void>;
}

/** Offloads unless TCPLAB_OFFLOAD=off (or 0, no, false). */
export function offloadByDefault(): boolean {
  const v = (process.env.TCPLAB_OFFLOAD ?? "").toLowerCase();
  return !["off", "0", "no", "false"].includes(v);
}

/**
 * Create (or join) the namespace, open the TUN device in it, and attach a
 * fresh Host to it. Fails with a one-line TunError (not root, no
 * /dev/net/tun, a name in use, a bad address); nothing is left behind then.
 */
export async function startKernelHost(opts: KernelHostOptions = {}): Promise<KernelHost> {
  const addrText = opts.addr ?? DEFAULT_KERNEL_ADDR;
  const peerText = opts.peer ?? DEFAULT_KERNEL_PEER;
  const addr = parseIpv4Addr(addrText);
  if (addr === undefined) {
    throw new TunError(
      "bad-address",
      `address "${addrText}" is not an IPv4 address (like 10.0.0.2)`,
    );
  }
  if (parseIpv4Addr(peerText) === undefined) {
    throw new TunError("bad-address", `peer "${peerText}" is not an IPv4 address (like 10.0.0.1)`);
  }
  if (addrText === peerText) {
    throw new TunError("bad-address", `address and peer are both ${addrText}: they must differ`);
  }
  const mtu = opts.mtu ?? DEFAULT_TUN_MTU;
  // openTun checks these (addresses, one /64, an MTU IPv6 can use) before anything exists.
  // RFC 8200 §5: a link under 1280 bytes carries no IPv6, so by default such a device has none.
  const v6Off = opts.addr6 === false || (opts.addr6 === undefined && mtu < IPV6_MIN_MTU);
  const addr6Text = v6Off ? undefined : (opts.addr6 ?? DEFAULT_KERNEL_ADDR6);
  const peer6Text = addr6Text === undefined ? undefined : (opts.peer6 ?? DEFAULT_KERNEL_PEER6);

  // The pcap file first: a bad path fails before anything exists in the kernel.
  const ownPcap = typeof opts.pcap === "string";
  let pcap: PcapWriter | undefined;
  try {
    pcap = typeof opts.pcap === "string" ? pcapFile(opts.pcap) : opts.pcap;
  } catch (err) {
    throw new TunError("io-failed", `could not open the pcap file: ${(err as Error).message}`);
  }

  const ownNetns = typeof opts.netns !== "object";
  let netns: Netns | undefined;
  let tun: TunDevice | undefined;
  const ownClock = opts.clock === undefined;
  const clock = opts.clock ?? new RealClock();
  let attachment: Attachment;
  let host: Host;
  try {
    netns =
      typeof opts.netns === "object"
        ? opts.netns
        : await createNetns(opts.netns ?? DEFAULT_NETNS, {
            cleanupOnExit: opts.cleanupOnExit ?? true,
          });
    tun = await openTun({
      netns,
      name: opts.tunName ?? DEFAULT_TUN_NAME,
      mtu,
      localAddr: peerText,
      peerAddr: addrText,
      ...(addr6Text !== undefined ? { localAddr6: peer6Text, peerAddr6: addr6Text } : {}),
      offload: opts.offload ?? offloadByDefault(),
    });
    const inner = opts.wrapLink === undefined ? tun : opts.wrapLink(tun, clock);
    const link: LinkEnd = pcap === undefined ? inner : pcapTap(inner, pcap, clock);
    host = new Host({
      ...opts.host,
      tcp: { ...BULK_BUFFERS, ...opts.host?.tcp },
      name: opts.name ?? "tcplab",
      addr,
      ...(addr6Text !== undefined ? { addr6: ip6(addr6Text) } : {}),
      mtu,
      // What the device does for the host: partial checksums, super-segments.
      ...(link.offloads !== undefined ? { offload: link.offloads } : {}),
      // A real peer: challenge-ACK budgets, IP ID keys, ISNs and SYN cookies it cannot predict.
      random: opts.host?.random ?? cryptoRandom32(),
      isn: opts.host?.isn ?? { secret: cryptoSecret() },
      cookieSecret: opts.host?.cookieSecret ?? cryptoSecret(),
    });
    attachment = attach(host, link, clock, opts.attach ?? {});
  } catch (err) {
    // Leave nothing behind: device, namespace, file, timers.
    await tun?.close();
    if (ownNetns) await netns?.remove();
    if (ownPcap) pcap?.close();
    if (ownClock && clock instanceof RealClock) clock.close();
    throw err;
  }
  const link = attachment.link;
  const dev = tun;
  const ns = netns;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      attachment.detach();
      await dev.close();
      if (ownPcap) pcap?.close();
      if (ownClock && clock instanceof RealClock) clock.close();
      if (ownNetns) await ns.remove();
    })();
    return closing;
  };

  return { host, tun: dev, netns: ns, clock, link, attachment, pcap, close };
}
