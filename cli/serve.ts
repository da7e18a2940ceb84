/**
 * `tcplab serve`: a headless tcplab host on a TUN device inside a network
 * namespace, running the built-in services (TCP echo 7, discard 9, chargen
 * 19, HTTP 80; UDP echo 7) until SIGINT or SIGTERM. The kernel's tools reach
 * it from inside the namespace: `ip netns exec tcplab curl http://10.0.0.2/`,
 * and over IPv6 at fd00::2 (the kernel is fd00::1).
 *
 * stdout: one JSON line when ready, one when stopped. Errors: one line on
 * stderr; exit 1 (kernel world unavailable) or 2 (bad arguments).
 */
import { parseArgs } from "node:util";
import { withSockets } from "../src/api/hosts.ts";
import { type Duration, ms, ZERO } from "../src/clock/time.ts";
import { DEFAULT_NETNS, validNetnsName } from "../src/link/netns.ts";
import { DEFAULT_TUN_MTU, DEFAULT_TUN_NAME } from "../src/link/tun.ts";
import { TunError } from "../src/link/tun-error.ts";
import { validIfName } from "../src/link/tun-open.ts";
import {
  DEFAULT_KERNEL_ADDR,
  DEFAULT_KERNEL_PEER,
  type KernelHost,
  offloadByDefault,
  startKernelHost,
} from "../src/runtime/kernel-host.ts";
import {
  DEFAULT_HTTP_KEEPALIVE,
  DEFAULT_IDLE_TIMEOUT,
  type RunningServices,
  startServices,
} from "../src/services/index.ts";
import type { TcpSettings } from "../src/tcp/settings.ts";
import { stateName } from "../src/tcp/state.ts";
import { parseIpv4Addr } from "../src/wire/addr.ts";
import { parseArgsError } from "./args.ts";

export const SERVE_USAGE =
  "usage: tcplab serve [--netns NAME] [--addr A.B.C.D] [--peer A.B.C.D] [--mtu BYTES] [--pcap FILE] [--tun NAME] [--no-offload] [--idle-timeout S] [--http-keepalive S] [--keepalive S]";

const SERVE_HELP = `${SERVE_USAGE}

Runs a tcplab host on a TUN device inside network namespace NAME (created,
and removed on exit), with TCP echo 7, discard 9, chargen 19, HTTP 80 and
UDP echo 7 on its address. Reach it with the kernel's tools from inside:
  ip netns exec tcplab curl http://10.0.0.2/bytes/1048576 | sha256sum
It is also fd00::2 over IPv6 (the kernel fd00::1; not with --mtu under
1280): ip netns exec tcplab ping -6 fd00::2
Prints one JSON line when ready; stops on SIGINT or SIGTERM (exit 0).
Needs root.

  --netns NAME   namespace to create (default ${DEFAULT_NETNS})
  --addr A       tcplab's address (default ${DEFAULT_KERNEL_ADDR})
  --peer A       the kernel's address on the device (default ${DEFAULT_KERNEL_PEER})
  --mtu BYTES    device and host MTU, 68..65535 (default ${DEFAULT_TUN_MTU})
  --pcap FILE    record every packet to FILE (classic pcap, raw IP)
  --tun NAME     interface name (default ${DEFAULT_TUN_NAME})
  --no-offload   no TUN offloads: every packet on the device one segment,
                 checksummed by tcplab (default: checksum and TSO offloads,
                 64 KiB IPv4 super-segments both ways; IPv6 has the checksum
                 offload only; also TCPLAB_OFFLOAD=off).
                 The ready line says what the kernel granted.
  --idle-timeout S    echo, discard, chargen close a connection whose peer
                      sent nothing for S seconds (default ${DEFAULT_IDLE_TIMEOUT / 1000}; 0: never)
  --http-keepalive S  HTTP closes a persistent connection idle S seconds
                      (default ${DEFAULT_HTTP_KEEPALIVE / 1000}; 0: never)
  --keepalive S       TCP keep-alive on every connection: the first probe
                      after S idle seconds, then every S/3 (at least 1 s),
                      dropped after 3 unanswered (default: off)
  --help         this text

A pcap (--pcap) records the segments the peer's TCP receives: a
super-segment as the segments the kernel cuts it into, checksums filled in.

HTTP: GET / (a page), GET /bytes/N (N bytes of a repeated xorshift32 block, see
src/services/http.ts), POST /sha256 (hex SHA-256 of the body).`;

interface ServeArgs {
  readonly netns: string;
  readonly addr: string;
  readonly peer: string;
  readonly mtu: number;
  readonly pcap: string | undefined;
  readonly tun: string;
  readonly idleTimeout: Duration;
  readonly httpKeepAlive: Duration;
  /** Keep-alive idle time, or undefined (off). */
  readonly keepAlive: Duration | undefined;
  /** TUN offloads (--no-offload turns them off). */
  readonly offload: boolean;
}

class ServeUsageError extends Error {}

function usage(message: string): never {
  throw new ServeUsageError(`tcplab serve: ${message}\n${SERVE_USAGE}`);
}

/** The options, checked; a ServeUsageError names the bad one. "help" when --help was given. */
export function parseServeArgs(argv: readonly string[]): ServeArgs | "help" {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        netns: { type: "string" },
        addr: { type: "string" },
        peer: { type: "string" },
        mtu: { type: "string" },
        pcap: { type: "string" },
        tun: { type: "string" },
        "idle-timeout": { type: "string" },
        "http-keepalive": { type: "string" },
        keepalive: { type: "string" },
        "no-offload": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    // parseArgs names the offending option ("Unknown option '--x'", "Option '--mtu <value>' argument missing").
    usage(parseArgsError(e));
  }
  if (values.help === true) return "help";
  const str = (name: string, fallback: string): string => {
    const v = values[name];
    return typeof v === "string" ? v : fallback;
  };
  const netns = str("netns", DEFAULT_NETNS);
  if (!validNetnsName(netns)) {
    usage(`--netns "${netns}" is not a usable namespace name (letters, digits, '-', '_', '.')`);
  }
  const addr = str("addr", DEFAULT_KERNEL_ADDR);
  if (parseIpv4Addr(addr) === undefined) usage(`--addr "${addr}" is not an IPv4 address`);
  const peer = str("peer", DEFAULT_KERNEL_PEER);
  if (parseIpv4Addr(peer) === undefined) usage(`--peer "${peer}" is not an IPv4 address`);
  if (peer === addr) usage(`--addr and --peer are both ${addr}: they must differ`);
  const mtuText = str("mtu", String(DEFAULT_TUN_MTU));
  const mtu = /^[0-9]{1,5}$/.test(mtuText) ? Number(mtuText) : Number.NaN;
  if (!(mtu >= 68 && mtu <= 65535))
    usage(`--mtu must be a whole number in 68..65535, got "${mtuText}"`);
  const tun = str("tun", DEFAULT_TUN_NAME);
  if (!validIfName(tun)) {
    usage(
      `--tun "${tun}" is not a usable interface name (at most 15 letters, digits, '-', '_', '.')`,
    );
  }
  const pcapValue = values.pcap;
  const pcap = typeof pcapValue === "string" ? pcapValue : undefined;
  if (pcap === "") usage("--pcap needs a file name");
  const seconds = (name: string, fallback: Duration | undefined): Duration | undefined => {
    const v = values[name];
    if (typeof v !== "string") return fallback;
    const n = /^[0-9]{1,6}(\.[0-9]{1,3})?$/.test(v) ? Number(v) : Number.NaN;
    if (!Number.isFinite(n)) usage(`--${name} must be a number of seconds, got "${v}"`);
    return ms(Math.round(n * 1000));
  };
  const idleTimeout = seconds("idle-timeout", DEFAULT_IDLE_TIMEOUT) ?? ZERO;
  const httpKeepAlive = seconds("http-keepalive", DEFAULT_HTTP_KEEPALIVE) ?? ZERO;
  const keepAlive = seconds("keepalive", undefined);
  if (keepAlive !== undefined && keepAlive < 1000) usage("--keepalive must be at least 1 second");
  const offload = values["no-offload"] !== true && offloadByDefault();
  return { netns, addr, peer, mtu, pcap, tun, idleTimeout, httpKeepAlive, keepAlive, offload };
}

/** TCP settings for --keepalive S: probes after S idle, every S/3 (≥ 1 s), 3 unanswered drop it. */
function keepAliveSettings(idle: Duration | undefined): Partial<TcpSettings> {
  if (idle === undefined) return {};
  return {
    keepAlive: true,
    keepAliveIdle: idle,
    keepAliveInterval: ms(Math.max(1000, Math.round(idle / 3))),
    keepAliveCount: 3,
  };
}

/** Runs `serve` until SIGINT/SIGTERM; resolves with the exit code once everything is cleaned up. */
export async function runServe(argv: readonly string[]): Promise<number> {
  let args: ServeArgs | "help";
  try {
    args = parseServeArgs(argv);
  } catch (e) {
    if (!(e instanceof ServeUsageError)) throw e;
    console.error(e.message);
    return 2;
  }
  if (args === "help") {
    console.log(SERVE_HELP);
    return 0;
  }

  let kh: KernelHost;
  try {
    kh = await startKernelHost({
      netns: args.netns,
      addr: args.addr,
      peer: args.peer,
      mtu: args.mtu,
      tunName: args.tun,
      offload: args.offload,
      host: { tcp: keepAliveSettings(args.keepAlive) },
      // Our own signal handlers below close gracefully, then remove the namespace.
      cleanupOnExit: false,
      ...(args.pcap !== undefined ? { pcap: args.pcap } : {}),
    });
  } catch (e) {
    if (!(e instanceof TunError)) throw e;
    console.error(`tcplab serve: ${e.message}`);
    return 1;
  }

  let services: RunningServices;
  try {
    const { net, sockets } = withSockets(kh);
    services = startServices(net, sockets, {
      idleTimeout: args.idleTimeout,
      httpKeepAlive: args.httpKeepAlive,
    });
  } catch (e) {
    await kh.close();
    console.error(`tcplab serve: could not start the services: ${(e as Error).message}`);
    return 1;
  }

  // Whatever ends the process from here on, the namespace goes with it.
  const removeOnExit = () => kh.netns.removeSync();
  process.on("exit", removeOnExit);

  // The TUN reader keeps the process alive; this makes it explicit and independent of it.
  const keepAlive = setInterval(() => {}, 1 << 30);
  let stopping = false;
  let resolveStop: (reason: string) => void = () => {};
  const stopped = new Promise<string>((resolve) => {
    resolveStop = resolve;
  });
  const onSignal = (signal: "SIGINT" | "SIGTERM") => {
    if (stopping) {
      // A second signal while cleaning up: stop at once (the namespace still goes).
      kh.netns.removeSync();
      process.exit(signal === "SIGINT" ? 130 : 143);
    }
    stopping = true;
    resolveStop(signal);
  };
  const onInt = () => onSignal("SIGINT");
  const onTerm = () => onSignal("SIGTERM");
  // SIGUSR1: a full garbage collection, then one status line (connections by
  // state, services, counters, memory), for load scripts: memory figures
  // without the garbage of the moment.
  const onStatus = () => {
    Bun.gc(true);
    console.log(JSON.stringify(statusLine(kh, services)));
  };
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  process.on("SIGUSR1", onStatus);
  // A device that goes away (the namespace deleted under us) also ends the run.
  kh.tun.onError((message) => {
    stopping = true;
    resolveStop(`device error: ${message}`);
  });

  console.log(
    JSON.stringify({
      ready: true,
      netns: kh.netns.name,
      addr: args.addr,
      peer: args.peer,
      // The IPv6 twins (null when the MTU is under IPv6's 1280).
      addr6: kh.tun.peerAddr6 ?? null,
      peer6: kh.tun.localAddr6 ?? null,
      mtu: args.mtu,
      tun: kh.tun.name,
      // What the kernel granted: "csum+tso4", or "none" and why.
      offload: kh.tun.offload,
      services: services.ports,
      ...(args.pcap !== undefined ? { pcap: args.pcap } : {}),
      pid: process.pid,
    }),
  );

  const reason = await stopped;
  const serviceStats = serviceCounts(services);
  services.close();
  kh.attachment.flush(); // the RSTs of aborted connections
  const stats = kh.host.stats();
  const tun = { ...kh.tun.stats, kernelDropped: kh.tun.kernelDropped() ?? null };
  await kh.close();
  clearInterval(keepAlive);
  process.off("exit", removeOnExit);
  process.off("SIGINT", onInt);
  process.off("SIGTERM", onTerm);
  process.off("SIGUSR1", onStatus);
  console.log(JSON.stringify({ stopped: true, reason, stats, tun, services: serviceStats }));
  return reason.startsWith("device error") ? 1 : 0;
}

/** Open and idle-closed connections per TCP service. */
function serviceCounts(services: RunningServices): Record<string, unknown> {
  return Object.fromEntries(
    services.list.flatMap((sv) => (sv.stats === undefined ? [] : [[sv.name, sv.stats()]])),
  );
}

/** What SIGUSR1 prints: the connection table by state, the services, the counters, the device. */
function statusLine(kh: KernelHost, services: RunningServices): Record<string, unknown> {
  const connections: Record<string, number> = {};
  for (const tcb of kh.host.connections()) {
    const name = stateName(tcb.state);
    connections[name] = (connections[name] ?? 0) + 1;
  }
  return {
    status: true,
    connections,
    services: serviceCounts(services),
    stats: kh.host.stats(),
    tun: { ...kh.tun.stats, kernelDropped: kh.tun.kernelDropped() ?? null },
    ...memoryKiB(),
  };
}

/** RSS, and the JavaScript heap and the memory outside it (array buffers) within it, in KiB. */
function memoryKiB(): Record<string, number> {
  const m = process.memoryUsage();
  const kib = (n: number) => Math.round(n / 1024);
  return { rssKiB: kib(m.rss), heapKiB: kib(m.heapUsed), externalKiB: kib(m.external) };
}

if (import.meta.main) {
  process.exitCode = await runServe(process.argv.slice(2));
  process.exit();
}
