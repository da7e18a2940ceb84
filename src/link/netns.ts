/**
 * The network namespace tcplab's kernel world lives in. tcplab creates it
 * (named `tcplab` unless told otherwise), owns it, and removes it on exit —
 * normal exit, SIGINT or SIGTERM. The kernel peer (ping, nc, curl) runs
 * inside it, and so does the TUN device, so no packet ever reaches the
 * machine's own namespace.
 *
 * Namespaces are created and deleted with iproute2 (`ip netns add/del`), so
 * they are named bind mounts under /run/netns that `ip netns exec` and other
 * tools understand. Ownership is a marker file /run/tcplab/NAME.pid holding the
 * owner's pid and start time: a namespace with a marker whose owner is gone is
 * a leftover of a crashed run and is removed on the next start; a namespace
 * without one is someone else's and is never touched.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { TunError } from "./tun-error.ts";
import {
  AF_INET,
  CLONE_NEWNET,
  cstr,
  errno,
  IFF_UP,
  ifreq,
  libc,
  O_CLOEXEC,
  SIOCGIFFLAGS,
  SIOCSIFFLAGS,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  strerror,
  sysctlHere,
} from "./tun-libc.ts";
import { notRootError, requireIproute2, requireLinuxRoot } from "./tun-preflight.ts";

export const DEFAULT_NETNS = "tcplab";
export const NETNS_DIR = "/run/netns";
export const DEFAULT_MARKER_DIR = "/run/tcplab";

export interface NetnsOptions {
  /** Remove the namespace when the process exits or gets SIGINT/SIGTERM (default true). */
  readonly cleanupOnExit?: boolean;
  /** Where ownership markers live (default /run/tcplab). */
  readonly markerDir?: string;
}

export interface ExecOptions {
  /** Kill the command (SIGKILL) after this long; default 10 s. */
  readonly timeoutMs?: number;
  readonly stdin?: string | Uint8Array;
}

export interface ExecResult {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/**
 * Runs `argv` inside the named namespace (`ip netns exec NAME …`) and collects
 * its output; the command is killed (SIGKILL) when `timeoutMs` runs out, so a
 * hung peer never hangs its caller. `spawned` sees the process, for callers
 * that keep a list of children to clean up.
 */
export async function execInNetns(
  name: string,
  argv: readonly string[],
  opts: ExecOptions & { readonly spawned?: (proc: Bun.Subprocess) => void } = {},
): Promise<ExecResult> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const proc = Bun.spawn(["ip", "netns", "exec", name, ...argv], {
    stdin: opts.stdin === undefined ? "ignore" : new Blob([opts.stdin]),
    stdout: "pipe",
    stderr: "pipe",
  });
  opts.spawned?.(proc);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
  }, timeoutMs);
  try {
    const [stdout, stderr] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
    ]);
    await proc.exited;
    return {
      exitCode: proc.exitCode,
      signal: proc.signalCode === null ? null : String(proc.signalCode),
      stdout,
      stderr,
      timedOut,
    };
  } finally {
    clearTimeout(timer);
  }
}

export interface SpawnOptions {
  /** "pipe" to read the peer's output; default "ignore". */
  readonly stdout?: "pipe" | "ignore" | "inherit";
  readonly stderr?: "pipe" | "ignore" | "inherit";
  readonly stdin?: "pipe" | "ignore" | "inherit";
}

/** What createNetns found and did before creating the namespace. */
export interface NetnsStart {
  /** A namespace left by a crashed run (marker owner gone) was removed. */
  readonly removedStale: boolean;
}

export interface Netns {
  readonly name: string;
  /** /run/netns/NAME: the handle `setns(2)` and `ip netns exec` use. */
  readonly path: string;
  readonly start: NetnsStart;
  /** Run a command inside the namespace and collect its output (bounded by a timeout). */
  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Start a long-running peer inside the namespace; it is killed by `remove()`. */
  spawn(argv: readonly string[], opts?: SpawnOptions): Bun.Subprocess;
  /**
   * Run `fn` synchronously with the calling thread inside the namespace.
   * Sockets and TUN devices created in `fn` belong to the namespace for
   * good; the thread returns home before `enter` returns.
   */
  enter<T>(fn: () => T): T;
  /** Kill spawned peers, delete the namespace and its marker. Idempotent. */
  remove(): Promise<void>;
  /** As `remove`, synchronously (for exit handlers). */
  removeSync(): void;
  readonly removed: boolean;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function validNetnsName(name: string): boolean {
  return NAME_RE.test(name);
}

export function netnsExists(name: string): boolean {
  return existsSync(`${NETNS_DIR}/${name}`);
}

interface Marker {
  readonly pid: number;
  /** Field 22 of /proc/PID/stat, to tell a reused pid from the owner. */
  readonly startTime: string;
}

function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return rest[19]; // field 22 overall
  } catch {
    return undefined;
  }
}

function readMarker(path: string): Marker | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, "utf8"));
    if (typeof parsed !== "object" || parsed === null) return undefined;
    const pid = Reflect.get(parsed, "pid");
    const startTime = Reflect.get(parsed, "startTime");
    if (typeof pid !== "number" || typeof startTime !== "string") return undefined;
    return { pid, startTime };
  } catch {
    return undefined;
  }
}

function ownerAlive(marker: Marker): boolean {
  return processStartTime(marker.pid) === marker.startTime;
}

function runIp(args: readonly string[]): { ok: boolean; stderr: string } {
  const res = Bun.spawnSync(["ip", ...args], { stdout: "ignore", stderr: "pipe" });
  return { ok: res.exitCode === 0, stderr: res.stderr.toString().trim() };
}

/**
 * Decide whether a namespace called `name` may be (re)created: remove a
 * crashed run's leftover, refuse anything that is not ours or still in use.
 */
function clearStale(name: string, markerPath: string): NetnsStart {
  const exists = netnsExists(name);
  const marker = existsSync(markerPath) ? readMarker(markerPath) : undefined;
  if (exists && marker === undefined) {
    throw new TunError(
      "netns-not-ours",
      `network namespace "${name}" exists and was not created by tcplab: choose another name, or delete it with \`ip netns del ${name}\``,
    );
  }
  if (marker !== undefined && ownerAlive(marker)) {
    if (exists) {
      throw new TunError(
        "netns-in-use",
        `network namespace "${name}" is in use by tcplab (pid ${marker.pid}): stop that run or choose another name`,
      );
    }
  }
  let removedStale = false;
  if (exists) {
    const res = runIp(["netns", "del", name]);
    if (!res.ok) {
      throw new TunError(
        "configure-failed",
        `could not remove the leftover network namespace "${name}" of a crashed run (${res.stderr}): delete it with \`ip netns del ${name}\``,
      );
    }
    removedStale = true;
  }
  rmSync(markerPath, { force: true });
  return { removedStale };
}

/** Bring an interface up from inside the current namespace (used for `lo`). */
function linkUpHere(ifname: string): void {
  const c = libc();
  const sock = c.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) {
    const e = errno();
    throw new TunError(
      "configure-failed",
      `could not open a socket to configure ${ifname}: ${strerror(e)}`,
      e,
    );
  }
  try {
    const req = ifreq(ifname);
    if (c.ioctl(sock, SIOCGIFFLAGS, req.bytes) < 0) {
      const e = errno();
      throw new TunError(
        "configure-failed",
        `could not read the flags of ${ifname}: ${strerror(e)}`,
        e,
      );
    }
    req.view.setUint16(16, req.view.getUint16(16, true) | IFF_UP, true);
    if (c.ioctl(sock, SIOCSIFFLAGS, req.bytes) < 0) {
      const e = errno();
      throw new TunError("configure-failed", `could not bring ${ifname} up: ${strerror(e)}`, e);
    }
  } finally {
    c.close(sock);
  }
}

/** Run `fn` with the calling thread in the namespace at `nsPath`, then return home. */
export function enterNetns<T>(nsPath: string, fn: () => T): T {
  const c = libc();
  const home = c.open(cstr("/proc/thread-self/ns/net"), O_CLOEXEC);
  if (home < 0) {
    const e = errno();
    throw new TunError(
      "configure-failed",
      `could not open this thread's network namespace: ${strerror(e)}`,
      e,
    );
  }
  try {
    const target = c.open(cstr(nsPath), O_CLOEXEC);
    if (target < 0) {
      const e = errno();
      throw new TunError(
        "netns-missing",
        `network namespace ${nsPath} does not exist: create it first (tcplab does this itself with createNetns)`,
        e,
      );
    }
    try {
      if (c.setns(target, CLONE_NEWNET) < 0) {
        const e = errno();
        throw e === 1
          ? notRootError()
          : new TunError("configure-failed", `setns(${nsPath}) failed: ${strerror(e)}`, e);
      }
    } finally {
      c.close(target);
    }
    let outcome: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: fn() };
    } catch (error) {
      outcome = { ok: false, error };
    }
    if (c.setns(home, CLONE_NEWNET) < 0) {
      // Staying in the lab namespace would silently move every later socket
      // of this thread there: better to stop loudly.
      const e = errno();
      throw new Error(`could not return to the original network namespace: ${strerror(e)}`);
    }
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  } finally {
    c.close(home);
  }
}

// --- exit cleanup: one set of process hooks for all live namespaces ---

const live = new Set<NetnsImpl>();
let hooked = false;

function removeAllSync(): void {
  for (const ns of [...live]) ns.removeSync();
}

function onSignal(signal: "SIGINT" | "SIGTERM"): void {
  // Count before removing: removeAllSync() takes our own listeners off, and
  // counted afterwards an application's handler would look like ours alone.
  const othersHandle = process.listenerCount(signal) > 1;
  removeAllSync();
  // If nobody else handles the signal, keep its default meaning: exit.
  if (!othersHandle) process.exit(signal === "SIGINT" ? 130 : 143);
}
const onSigint = () => onSignal("SIGINT");
const onSigterm = () => onSignal("SIGTERM");

function track(ns: NetnsImpl): void {
  live.add(ns);
  if (!hooked) {
    hooked = true;
    process.on("exit", removeAllSync);
    process.on("SIGINT", onSigint);
    process.on("SIGTERM", onSigterm);
  }
}

function untrack(ns: NetnsImpl): void {
  live.delete(ns);
  if (hooked && live.size === 0) {
    hooked = false;
    process.off("exit", removeAllSync);
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigterm);
  }
}

class NetnsImpl implements Netns {
  readonly path: string;
  private readonly peers = new Set<Bun.Subprocess>();
  private gone = false;

  constructor(
    readonly name: string,
    private readonly markerPath: string,
    readonly start: NetnsStart,
  ) {
    this.path = `${NETNS_DIR}/${name}`;
  }

  get removed(): boolean {
    return this.gone;
  }

  enter<T>(fn: () => T): T {
    if (this.gone)
      throw new TunError("netns-missing", `network namespace "${this.name}" was removed`);
    return enterNetns(this.path, fn);
  }

  exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return execInNetns(this.name, argv, opts);
  }

  spawn(argv: readonly string[], opts: SpawnOptions = {}): Bun.Subprocess {
    if (this.gone)
      throw new TunError("netns-missing", `network namespace "${this.name}" was removed`);
    const proc = Bun.spawn(["ip", "netns", "exec", this.name, ...argv], {
      stdin: opts.stdin ?? "ignore",
      stdout: opts.stdout ?? "ignore",
      stderr: opts.stderr ?? "ignore",
    });
    this.peers.add(proc);
    void proc.exited.then(() => this.peers.delete(proc));
    return proc;
  }

  async remove(): Promise<void> {
    if (this.gone) return;
    const peers = [...this.peers];
    for (const p of peers) p.kill("SIGTERM");
    // Bounded wait for peers to go, then insist.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 2000);
    });
    await Promise.race([Promise.all(peers.map((p) => p.exited)), timeout]);
    clearTimeout(timer);
    this.removeSync();
  }

  removeSync(): void {
    if (this.gone) return;
    this.gone = true;
    for (const p of this.peers) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
    this.peers.clear();
    if (netnsExists(this.name)) runIp(["netns", "del", this.name]);
    rmSync(this.markerPath, { force: true });
    untrack(this);
  }
}

/**
 * Create tcplab's namespace `name` (default "tcplab") with `lo` up, after
 * removing the leftover of a crashed run of ours under that name.
 */
export async function createNetns(
  name: string = DEFAULT_NETNS,
  opts: NetnsOptions = {},
): Promise<Netns> {
  requireLinuxRoot();
  requireIproute2();
  if (!validNetnsName(name)) {
    throw new TunError(
      "bad-name",
      `"${name}" is not a usable namespace name: use letters, digits, '-', '_' or '.'`,
    );
  }
  const markerDir = opts.markerDir ?? DEFAULT_MARKER_DIR;
  const markerPath = `${markerDir}/${name}.pid`;
  const start = clearStale(name, markerPath);

  const add = runIp(["netns", "add", name]);
  if (!add.ok) {
    throw new TunError(
      "configure-failed",
      `could not create network namespace "${name}": ${add.stderr || "ip netns add failed"}`,
    );
  }
  mkdirSync(markerDir, { recursive: true });
  const marker: Marker = { pid: process.pid, startTime: processStartTime(process.pid) ?? "" };
  writeFileSync(markerPath, JSON.stringify(marker));

  const ns = new NetnsImpl(name, markerPath, start);
  if (opts.cleanupOnExit ?? true) track(ns);
  try {
    ns.enter(() => {
      linkUpHere("lo");
      // IPv6 stays off unless asked for, per device (tun-open.ts turns it on
      // for tcplab's TUN device only): no router solicitations or MLD
      // reports down every new device.
      sysctlHere("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
      sysctlHere("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
    });
  } catch (err) {
    ns.removeSync();
    throw err;
  }
  return ns;
}
