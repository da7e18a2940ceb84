/**
 * The few libc calls the TUN driver and the namespace code need, through
 * bun:ffi. Linux x86-64/arm64 only (struct layouts and ioctl numbers below
 * are Linux's). Loaded lazily so that importing this module never fails on a
 * machine without libc.so.6 (macOS, the simulated world).
 *
 * errno: Bun has no errno-returning FFI calls, so `errno()` reads the
 * thread-local through `__errno_location()` right after the failing call, on
 * the same thread, before any other JS runs.
 */
import { dlopen, FFIType, type Pointer, ptr, read } from "bun:ffi";

// <fcntl.h>
export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;
export const F_GETFL = 3;
export const F_SETFL = 4;

// <sched.h>
export const CLONE_NEWNET = 0x40000000;

// <poll.h>
export const POLLIN = 0x1;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;
export const POLLNVAL = 0x20;

// <sys/eventfd.h>
export const EFD_CLOEXEC = O_CLOEXEC;
export const EFD_NONBLOCK = O_NONBLOCK;

// <sys/socket.h>
export const AF_INET = 2;
export const AF_INET6 = 10;
export const SOCK_DGRAM = 2;
export const SOCK_CLOEXEC = O_CLOEXEC;

// <linux/if_tun.h>: TUNSETIFF = _IOW('T', 202, int)
export const TUNSETIFF = 0x400454ca;
/** _IOR('T', 207, unsigned int): the IFF_* flags this kernel's TUN driver knows. */
export const TUNGETFEATURES = 0x800454cf;
/** _IOW('T', 208, unsigned int): the TUN_F_* offloads the driver may hand us and take from us. */
export const TUNSETOFFLOAD = 0x400454d0;
export const IFF_TUN = 0x0001;
export const IFF_NO_PI = 0x1000;
/** Every read and write starts with a struct virtio_net_hdr. */
export const IFF_VNET_HDR = 0x4000;
export const TUN_F_CSUM = 0x01;
export const TUN_F_TSO4 = 0x02;
export const TUN_F_TSO6 = 0x04;

// <linux/virtio_net.h>: struct virtio_net_hdr, 10 bytes, little-endian on
// little-endian hosts (the legacy layout TUN uses unless told otherwise).
export const VNET_HDR_LEN = 10;
export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
export const VIRTIO_NET_HDR_F_DATA_VALID = 2;
export const VIRTIO_NET_HDR_GSO_NONE = 0;
export const VIRTIO_NET_HDR_GSO_TCPV4 = 1;
export const VIRTIO_NET_HDR_GSO_TCPV6 = 4;
export const VIRTIO_NET_HDR_GSO_ECN = 0x80;

// <linux/sockios.h>
export const SIOCGIFFLAGS = 0x8913;
export const SIOCSIFFLAGS = 0x8914;
export const SIOCSIFADDR = 0x8916;
export const SIOCSIFDSTADDR = 0x8918;
export const SIOCSIFMTU = 0x8922;
export const SIOCGIFINDEX = 0x8933;

// <net/if.h>
export const IFF_UP = 0x1;
export const IFF_RUNNING = 0x40;
export const IFNAMSIZ = 16;
/** sizeof(struct ifreq) on 64-bit Linux: 16-byte name + 24-byte union. */
export const IFREQ_SIZE = 40;

// <errno.h>
export const EPERM = 1;
export const ENOENT = 2;
export const EINTR = 4;
export const EAGAIN = 11;
export const EACCES = 13;
export const EBUSY = 16;
export const EEXIST = 17;
export const ENODEV = 19;
export const EINVAL = 22;

function load() {
  return dlopen("libc.so.6", {
    open: { args: [FFIType.cstring, FFIType.i32], returns: FFIType.i32 },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
    read: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64_fast },
    write: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64_fast },
    writev: { args: [FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i64_fast },
    // ioctl and fcntl are variadic; passing the third argument as a fixed
    // pointer/long is what the x86-64 and aarch64 calling conventions allow.
    ioctl: { args: [FFIType.i32, FFIType.u64, FFIType.ptr], returns: FFIType.i32 },
    fcntl: { args: [FFIType.i32, FFIType.i32, FFIType.i64], returns: FFIType.i32 },
    poll: { args: [FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
    eventfd: { args: [FFIType.u32, FFIType.i32], returns: FFIType.i32 },
    setns: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    strerror: { args: [FFIType.i32], returns: FFIType.cstring },
    __errno_location: { args: [], returns: FFIType.ptr },
  });
}

export type Libc = ReturnType<typeof load>["symbols"];

let cached: Libc | undefined;

/** The libc symbols, loaded on first use. Throws if libc cannot be loaded. */
export function libc(): Libc {
  if (cached === undefined) cached = load().symbols;
  return cached;
}

export function errno(): number {
  const where = libc().__errno_location();
  return where === null ? 0 : read.i32(where, 0);
}

export function strerror(code: number): string {
  return String(libc().strerror(code));
}

/** A NUL-terminated copy of `text` for `const char *` arguments. */
export function cstr(text: string): Uint8Array {
  const bytes = new TextEncoder().encode(`${text}\0`);
  return bytes;
}

export function pointerOf(bytes: Uint8Array): Pointer {
  return ptr(bytes);
}

/** A zeroed `struct ifreq` with `ifr_name` set. */
export function ifreq(name: string): { bytes: Uint8Array; view: DataView } {
  const bytes = new Uint8Array(IFREQ_SIZE);
  const encoded = new TextEncoder().encode(name);
  bytes.set(encoded.subarray(0, IFNAMSIZ - 1));
  return { bytes, view: new DataView(bytes.buffer) };
}

/** Writes a `struct sockaddr_in` (port 0) into the ifreq union at offset 16. */
export function setIfreqAddr(view: DataView, addr: number): void {
  view.setUint16(16, AF_INET, true); // sin_family, host order
  view.setUint16(18, 0, false); // sin_port
  view.setUint32(20, addr >>> 0, false); // sin_addr, network order
}

/**
 * A `struct in6_ifreq` (<linux/ipv6.h>): the address, its prefix length and
 * the interface index — what SIOCSIFADDR takes on an AF_INET6 socket.
 */
export function in6Ifreq(words: readonly number[], prefixLen: number, ifindex: number): Uint8Array {
  const bytes = new Uint8Array(24);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < 4; i++) view.setUint32(i * 4, (words[i] ?? 0) >>> 0, false);
  view.setUint32(16, prefixLen, true);
  view.setInt32(20, ifindex, true);
  return bytes;
}

/**
 * Writes a sysctl of the calling thread's namespace: /proc/sys/net is
 * resolved against the opener's namespace, so this must be a plain open(2)
 * on this thread (node:fs may run on another). False when the file is
 * absent (a kernel without IPv6) or the write fails.
 */
export function sysctlHere(path: string, value: string): boolean {
  const c = libc();
  const fd = c.open(cstr(path), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bytes = new TextEncoder().encode(value);
  const n = Number(c.write(fd, bytes, bytes.length));
  c.close(fd);
  return n === bytes.length;
}

/** Result of a syscall wrapper: the value, or the errno it failed with. */
export type SysResult = { ok: true; value: number } | { ok: false; errno: number };

export function check(value: number): SysResult {
  return value < 0 ? { ok: false, errno: errno() } : { ok: true, value };
}
