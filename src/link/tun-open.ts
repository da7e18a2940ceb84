/**
 * Opening and configuring a TUN device with our own system calls: open
 * /dev/net/tun, TUNSETIFF (IFF_TUN | IFF_NO_PI: whole IP packets, no
 * 4-byte packet-information prefix), then MTU, point-to-point addresses and
 * IFF_UP through the classic SIOCSIF* ioctls on an AF_INET datagram socket;
 * for IPv6, the device's own sysctls and SIOCSIFADDR on an AF_INET6 socket.
 * Everything here is synchronous so that it can run while the calling thread
 * is inside the lab namespace (see `enterNetns`).
 */
import type { Ipv6Addr } from "../wire/ipv6-addr.ts";
import { NOT_ROOT_HINT, TunError } from "./tun-error.ts";
import {
  AF_INET,
  AF_INET6,
  cstr,
  EACCES,
  EBUSY,
  EEXIST,
  EINVAL,
  ENODEV,
  ENOENT,
  EPERM,
  errno,
  IFF_NO_PI,
  IFF_RUNNING,
  IFF_TUN,
  IFF_UP,
  IFNAMSIZ,
  ifreq,
  in6Ifreq,
  libc,
  O_CLOEXEC,
  O_NONBLOCK,
  O_RDWR,
  SIOCGIFFLAGS,
  SIOCGIFINDEX,
  SIOCSIFADDR,
  SIOCSIFDSTADDR,
  SIOCSIFFLAGS,
  SIOCSIFMTU,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  setIfreqAddr,
  strerror,
  sysctlHere,
  TUN_F_CSUM,
  TUN_F_TSO4,
  TUN_F_TSO6,
  TUNGETFEATURES,
  TUNSETIFF,
  TUNSETOFFLOAD,
  IFF_VNET_HDR,
} from "./tun-libc.ts";

export interface TunConfig {
  /** Interface name; empty lets the kernel choose (tun0, tun1, ...). */
  readonly name: string;
  readonly mtu: number;
  /** The kernel's address on the link (host order). */
  readonly localAddr: number;
  /** The far end's address: tcplab's own (host order). */
  readonly peerAddr: number;
  /**
   * The kernel's IPv6 address on the link (a /64 on the device, so the far
   * end's address in it is reached through the device); none: IPv6 stays
   * off on the device.
   */
  readonly localAddr6?: Ipv6Addr;
  /** Open with O_NONBLOCK (default true). */
  readonly nonBlocking?: boolean;
  /** Ask for IFF_VNET_HDR and checksum/segmentation offloads (default false). */
  readonly offload?: boolean;
}

/** What the kernel granted of the offloads asked for (TunConfig.offload). */
export interface TunOffloadGrant {
  /** Reads and writes carry a virtio_net_hdr. */
  readonly vnetHdr: boolean;
  /** The TUN_F_* bits TUNSETOFFLOAD accepted (0: none). */
  readonly flags: number;
  /** Why less than everything was granted, in a few words; undefined when all was. */
  readonly refused: string | undefined;
}

export interface OpenedTun {
  readonly fd: number;
  readonly name: string;
  readonly offload: TunOffloadGrant;
}

const NO_OFFLOAD: TunOffloadGrant = { vnetHdr: false, flags: 0, refused: undefined };

/**
 * What to ask TUNSETOFFLOAD for, most first: a kernel refuses a set with a
 * bit it lacks (EINVAL). Not TSO6: the host neither takes nor sends IPv6
 * super-segments, so the kernel cuts its IPv6 segments itself.
 */
const OFFLOAD_TRIES = [TUN_F_CSUM | TUN_F_TSO4, TUN_F_CSUM] as const;

/** The prefix the kernel's IPv6 address gets on the device. */
export const TUN_PREFIX6 = 64;

const IFNAME_RE = /^[A-Za-z0-9_.-]*$/;

export function validIfName(name: string): boolean {
  return name.length < IFNAMSIZ && IFNAME_RE.test(name) && name !== "." && name !== "..";
}

function fail(what: string, e: number): TunError {
  if (e === EPERM || e === EACCES) {
    return new TunError("not-root", `tcplab needs root to ${what}: ${NOT_ROOT_HINT}`, e);
  }
  return new TunError("configure-failed", `could not ${what}: ${strerror(e)}`, e);
}

/** Open /dev/net/tun and attach it to a new TUN interface in the current namespace. */
export function openTunFd(name: string, nonBlocking: boolean, offload = false): OpenedTun {
  const c = libc();
  const flags = O_RDWR | O_CLOEXEC | (nonBlocking ? O_NONBLOCK : 0);
  const fd = c.open(cstr("/dev/net/tun"), flags);
  if (fd < 0) {
    const e = errno();
    if (e === ENOENT || e === ENODEV) {
      throw new TunError(
        "no-tun-device",
        "/dev/net/tun is missing: load the tun module (`modprobe tun`) or, in a container, pass --device /dev/net/tun --cap-add NET_ADMIN",
        e,
      );
    }
    throw fail("open /dev/net/tun", e);
  }
  let vnetHdr = false;
  let refused: string | undefined;
  if (offload) {
    const features = new Uint32Array(1);
    if (c.ioctl(fd, TUNGETFEATURES, features) < 0) {
      refused = `TUNGETFEATURES failed: ${strerror(errno())}`;
    } else if (((features[0] ?? 0) & IFF_VNET_HDR) === 0) {
      refused = "the TUN driver has no IFF_VNET_HDR";
    } else {
      vnetHdr = true;
    }
  }
  const req = ifreq(name);
  req.view.setUint16(16, IFF_TUN | IFF_NO_PI | (vnetHdr ? IFF_VNET_HDR : 0), true);
  if (c.ioctl(fd, TUNSETIFF, req.bytes) < 0) {
    const e = errno();
    c.close(fd);
    if (e === EBUSY || e === EINVAL || e === EEXIST) {
      // EBUSY: a TUN device of that name is open; EINVAL: the name belongs to
      // a device of another kind.
      throw new TunError(
        "name-taken",
        `the interface name "${name}" is already taken: pick another name (--tun NAME) or remove that interface`,
        e,
      );
    }
    throw fail("create a TUN device", e);
  }
  const end = req.bytes.indexOf(0);
  const actual = new TextDecoder().decode(req.bytes.subarray(0, end < 0 ? IFNAMSIZ : end));
  if (!vnetHdr) return { fd, name: actual, offload: { ...NO_OFFLOAD, refused } };
  let granted = 0;
  for (const want of OFFLOAD_TRIES) {
    // The argument is the flags themselves, passed where the pointer goes.
    if (c.ioctl(fd, TUNSETOFFLOAD, want) === 0) {
      granted = want;
      break;
    }
    refused ??= `TUNSETOFFLOAD refused ${offloadNames(want)}: ${strerror(errno())}`;
  }
  return { fd, name: actual, offload: { vnetHdr, flags: granted, refused } };
}

/** "csum+tso4+tso6" for TUN_F_* bits. */
export function offloadNames(flags: number): string {
  const names: string[] = [];
  if (flags & TUN_F_CSUM) names.push("csum");
  if (flags & TUN_F_TSO4) names.push("tso4");
  if (flags & TUN_F_TSO6) names.push("tso6");
  return names.length === 0 ? "none" : names.join("+");
}

/** MTU, point-to-point addresses, link up — for the interface `name` in the current namespace. */
export function configureTun(name: string, mtu: number, localAddr: number, peerAddr: number): void {
  const c = libc();
  const sock = c.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) throw fail("open a configuration socket", errno());
  try {
    const ioctl = (request: number, fill: (v: DataView) => void, what: string) => {
      const req = ifreq(name);
      fill(req.view);
      if (c.ioctl(sock, request, req.bytes) < 0) throw fail(`${what} of ${name}`, errno());
      return req.view;
    };
    ioctl(SIOCSIFMTU, (v) => v.setInt32(16, mtu, true), `set the MTU (${mtu})`);
    // On a point-to-point device SIOCSIFADDR gives a /32 local address and
    // SIOCSIFDSTADDR names the peer, which installs the host route
    // "peer dev NAME": traffic to tcplab really goes through the device.
    ioctl(SIOCSIFADDR, (v) => setIfreqAddr(v, localAddr), "set the local address");
    ioctl(SIOCSIFDSTADDR, (v) => setIfreqAddr(v, peerAddr), "set the peer address");
    const flags = ioctl(SIOCGIFFLAGS, () => {}, "read the flags").getUint16(16, true);
    ioctl(SIOCSIFFLAGS, (v) => v.setUint16(16, flags | IFF_UP | IFF_RUNNING, true), "bring up");
  } finally {
    c.close(sock);
  }
}

/**
 * IPv6 on the interface `name` only (the namespace keeps it off elsewhere):
 * no link-local address (addr_gen_mode 1), no router advertisements taken
 * and no solicitations sent, then `addr`/64. A TUN device is layer 3 and
 * IFF_NOARP: the kernel runs no neighbour discovery (RFC 4861) and no
 * duplicate address detection (RFC 4862 §5.4) on it, so the address is
 * usable at once and nothing on the device needs answering but IPv6 itself.
 */
export function configureTun6(name: string, addr: Ipv6Addr): void {
  const conf = `/proc/sys/net/ipv6/conf/${name}`;
  // Order matters: the address mode must be set before IPv6 comes up on the device.
  for (const [key, value] of [
    ["addr_gen_mode", "1"],
    ["accept_ra", "0"],
    ["router_solicitations", "0"],
    ["disable_ipv6", "0"],
  ] as const) {
    if (!sysctlHere(`${conf}/${key}`, value)) {
      throw new TunError(
        "configure-failed",
        `could not set ${conf}/${key}: is IPv6 available in this kernel? (ipv6.disable=1 on the kernel command line turns it off)`,
      );
    }
  }
  const c = libc();
  const sock = c.socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) throw fail("open an IPv6 configuration socket", errno());
  try {
    const req = ifreq(name);
    if (c.ioctl(sock, SIOCGIFINDEX, req.bytes) < 0) throw fail(`find ${name}'s index`, errno());
    const ifindex = req.view.getInt32(16, true);
    if (c.ioctl(sock, SIOCSIFADDR, in6Ifreq(addr, TUN_PREFIX6, ifindex)) < 0) {
      throw fail(`set the IPv6 address of ${name}`, errno());
    }
  } finally {
    c.close(sock);
  }
}

/** Open and configure in the current namespace; the fd is closed again on failure. */
export function openConfiguredTun(cfg: TunConfig): OpenedTun {
  const opened = openTunFd(cfg.name, cfg.nonBlocking ?? true, cfg.offload ?? false);
  try {
    configureTun(opened.name, cfg.mtu, cfg.localAddr, cfg.peerAddr);
    if (cfg.localAddr6 !== undefined) configureTun6(opened.name, cfg.localAddr6);
  } catch (err) {
    libc().close(opened.fd);
    throw err;
  }
  return opened;
}
