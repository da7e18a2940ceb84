/**
 * Shared by the kernel-interop suites: the root/CI gate, unique namespace
 * names, `tcplab serve` as a subprocess, bounded waits, and the hashes the
 * kernel's tools are checked against. All traffic stays inside namespaces
 * these helpers create, and every one of them is removed.
 */
import { expect } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type SocketApi, withSockets } from "../../src/api/hosts.ts";
import {
  createNetns,
  type ExecResult,
  execInNetns,
  type Netns,
  netnsExists,
} from "../../src/link/netns.ts";
import { bytesStreamSha256 } from "../../src/services/http.ts";
import {
  type KernelHost,
  type KernelHostOptions,
  startKernelHost,
} from "../../src/runtime/kernel-host.ts";

const isRoot = process.getuid?.() === 0;
const inCi = process.env.CI === "true";
/** Skip only when not root and not in CI (in CI a missing privilege must fail, not skip). */
export const skipKernel = !isRoot && !inCi;
if (skipKernel) {
  console.warn(
    "test/interop skipped: needs root for TUN devices and namespaces (sudo bun test test/interop)",
  );
}

let serial = 0;
/** tcplab-k<pid>-<n>: unique per run and per test. */
export const uniqueNetnsName = (): string => `tcplab-k${process.pid}-${++serial}`;

const namespaces: Netns[] = [];
const hosts: KernelHost[] = [];
const children: Bun.Subprocess[] = [];
const tempDirs: string[] = [];

/** Namespaces made by serve subprocesses (removed by serve itself, unless a test failed first). */
const serveNamespaces: string[] = [];

/**
 * Each suite's afterAll: stops leftover children (SIGTERM, so serve removes
 * its namespace; SIGKILL after a bounded wait), closes hosts, removes
 * namespaces — including a serve namespace a killed serve left — and temp dirs.
 */
export async function cleanupAll(): Promise<void> {
  const live = children.splice(0).filter((c) => c.exitCode === null && c.signalCode === null);
  for (const c of live) c.kill("SIGTERM");
  await Promise.race([Promise.all(live.map((c) => c.exited)), Bun.sleep(5000)]);
  for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const h of hosts.splice(0)) await h.close();
  for (const ns of namespaces.splice(0)) await ns.remove();
  for (const name of serveNamespaces.splice(0)) {
    if (!netnsExists(name)) continue;
    Bun.spawnSync(["ip", "netns", "del", name]);
    rmSync(`/run/tcplab/${name}.pid`, { force: true });
  }
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export async function freshNetns(): Promise<Netns> {
  const ns = await createNetns(uniqueNetnsName());
  namespaces.push(ns);
  return ns;
}

/** A kernel host with sockets in a fresh namespace (or the one given), closed after the suite if the test does not. */
export async function kernelHost(opts: KernelHostOptions = {}): Promise<KernelHost & SocketApi> {
  const kh = withSockets(
    await startKernelHost({ netns: uniqueNetnsName(), tunName: "tl0", ...opts }),
  );
  hosts.push(kh);
  return kh;
}

export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "tcplab-interop-"));
  tempDirs.push(d);
  return d;
}

/** Poll `cond` every 10 ms until it holds or `ms` pass; returns whether it held. */
export async function waitFor(cond: () => boolean | Promise<boolean>, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) return false;
    await Bun.sleep(10);
  }
  return true;
}

/** `promise`'s value, or a rejection naming `what` after `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** `ip netns exec NAME bash -c SCRIPT` with pipefail, bounded by `timeoutMs`. */
export function nsBash(ns: string, script: string, timeoutMs = 20_000): Promise<ExecResult> {
  return execInNetns(ns, ["bash", "-c", `set -o pipefail; ${script}`], {
    timeoutMs,
    spawned: (proc) => children.push(proc),
  });
}

/** SHA-256 (hex) of /bytes/N's body, from the stream's own definition (no server). */
export { bytesStreamSha256 };

/**
 * `n` seeded pseudo-random bytes, made `chunk` bytes at a time (a different
 * generator from the server's, so an echo of the server's own stream cannot pass).
 */
export function* seededChunks(n: number, seed: number, chunk = 1 << 20): Generator<Uint8Array> {
  let a = seed >>> 0 || 1;
  for (let left = n; left > 0; left -= chunk) {
    const out = new Uint8Array(Math.min(chunk, left));
    const words = new Uint32Array(out.buffer, 0, out.length >>> 2);
    for (let i = 0; i < words.length; i++) {
      // mulberry32 step
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      words[i] = (t ^ (t >>> 14)) >>> 0;
    }
    for (let i = words.length * 4; i < out.length; i++) out[i] = i & 0xff;
    yield out;
  }
}

export function sha256Hex(chunks: Iterable<Uint8Array>): string {
  const h = new Bun.CryptoHasher("sha256");
  for (const c of chunks) h.update(c);
  return h.digest("hex");
}

// ───────────────────────────── tcplab serve ─────────────────────────────

const TCPLAB = new URL("../../cli/tcplab.ts", import.meta.url).pathname;

export interface ReadyLine {
  ready: true;
  netns: string;
  addr: string;
  peer: string;
  /** tcplab's and the kernel's IPv6 addresses; null when the device has no IPv6. */
  addr6: string | null;
  peer6: string | null;
  mtu: number;
  tun: string;
  offload: { requested: boolean; granted: string; refused?: string };
  services: { tcp: number[]; udp: number[] };
  pcap?: string;
  pid: number;
}

export interface StoppedLine {
  stopped: true;
  reason: string;
  stats: { packets: Record<string, number>; drops: Record<string, number> };
  tun: Record<string, number>;
}

export interface ServeRun {
  readonly proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  readonly ready: ReadyLine;
  readonly netns: string;
  /** SIGTERM, then the exit code, the stopped line and stderr (bounded wait). */
  stop(
    signal?: "SIGTERM" | "SIGINT",
  ): Promise<{ code: number | null; stopped: StoppedLine; stderr: string }>;
}

/** Lines of a stream, one at a time. */
class LineReader {
  private buffered = "";
  private readonly decoder = new TextDecoder();
  constructor(
    private readonly reader: { read(): Promise<{ done: boolean; value?: Uint8Array }> },
  ) {}

  async next(): Promise<string | null> {
    for (;;) {
      const nl = this.buffered.indexOf("\n");
      if (nl >= 0) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        return line;
      }
      const r = await this.reader.read();
      if (r.done) {
        const rest = this.buffered;
        this.buffered = "";
        return rest === "" ? null : rest;
      }
      this.buffered += this.decoder.decode(r.value, { stream: true });
    }
  }
}

/** Run `tcplab serve` with `args` and return at once (for the failure cases). */
export async function runServeToEnd(
  args: string[],
  timeoutMs = 15_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = Bun.spawn([process.execPath, TCPLAB, "serve", ...args], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  children.push(proc);
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const [stdout, stderr] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ]);
  await proc.exited;
  clearTimeout(timer);
  return { code: proc.exitCode, stdout, stderr };
}

/** Start `tcplab serve` in a fresh namespace and wait (bounded) for its ready line. */
export async function startServe(extra: string[] = []): Promise<ServeRun> {
  const netns = uniqueNetnsName();
  serveNamespaces.push(netns);
  const proc = Bun.spawn([process.execPath, TCPLAB, "serve", "--netns", netns, ...extra], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  children.push(proc);
  const lines = new LineReader(proc.stdout.getReader());
  const first = await within(lines.next(), 20_000, "serve ready line").catch(
    (e: Error) => e.message,
  );
  let ready: ReadyLine;
  try {
    ready = JSON.parse(first ?? "") as ReadyLine;
    if (ready.ready !== true) throw new Error("not ready");
  } catch {
    proc.kill("SIGKILL");
    throw new Error(`serve did not start: ${first} ${await new Response(proc.stderr).text()}`);
  }
  return {
    proc,
    ready,
    netns,
    async stop(signal = "SIGTERM") {
      proc.kill(signal);
      const line = await within(lines.next(), 15_000, "serve stopped line");
      const code = await within(proc.exited, 15_000, "serve exit");
      const stderr = await new Response(proc.stderr).text();
      expect(netnsExists(netns)).toBe(false);
      expect(existsSync(`/run/tcplab/${netns}.pid`)).toBe(false);
      return { code, stopped: JSON.parse(line ?? "{}") as StoppedLine, stderr };
    },
  };
}

/** The kernel's ICMP counters inside `ns` (/proc/net/snmp, "Icmp:" rows). */
export async function kernelIcmpCounters(ns: string): Promise<Record<string, number>> {
  const r = await nsBash(ns, "cat /proc/net/snmp");
  const rows = r.stdout.split("\n").filter((l) => l.startsWith("Icmp:"));
  const names = (rows[0] ?? "").split(/\s+/).slice(1);
  const values = (rows[1] ?? "").split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(names.map((n, i) => [n, values[i] ?? 0]));
}

/** The kernel's ICMPv6 counters inside `ns` (/proc/net/snmp6, "Icmp6…" rows). */
export async function kernelIcmp6Counters(ns: string): Promise<Record<string, number>> {
  const r = await nsBash(ns, "cat /proc/net/snmp6");
  const rows = r.stdout.split("\n").filter((l) => l.startsWith("Icmp6"));
  return Object.fromEntries(rows.map((l) => l.split(/\s+/)).map(([k, v]) => [k, Number(v)]));
}

/**
 * The kernel pings `addr` from inside `ns`, 5 echoes at each size: all are
 * answered, and the reply's size (ICMP header + data, as iputils prints it)
 * says the data came back whole.
 */
export async function expectPings(
  ns: string,
  addr: string,
  sizes: readonly number[],
): Promise<void> {
  const six = addr.includes(":") ? "-6 " : "";
  for (const size of sizes) {
    const r = await nsBash(ns, `ping ${six}-n -c 5 -i 0.05 -W 2 -s ${size} ${addr}`, 15_000);
    expect(r.stdout).toContain("5 packets transmitted, 5 received");
    expect(r.stdout).toContain(`${size + 8} bytes from ${addr}`);
    expect(r.exitCode).toBe(0);
  }
}

/**
 * Probes a closed UDP port of `addr` with `nc -u -z` from inside `ns`: nc
 * fails when the kernel got a port unreachable (ECONNREFUSED). Returns how
 * many Destination Unreachables the kernel counted meanwhile (`counters`
 * reads them: kernelIcmpCounters or kernelIcmp6Counters, `field` names the row).
 */
export async function probeClosedUdp(
  ns: string,
  addr: string,
  counters: (ns: string) => Promise<Record<string, number>>,
  field: string,
): Promise<number> {
  const six = addr.includes(":") ? "-6 " : "";
  const before = await counters(ns);
  const probe = await nsBash(ns, `nc ${six}-u -z -v -w 1 ${addr} 9999`);
  expect(probe.exitCode).toBe(1);
  const after = await counters(ns);
  return (after[field] ?? 0) - (before[field] ?? 0);
}

/**
 * curl GETs `base`/bytes/`n` from inside `ns` (curl's own options in
 * `curlArgs`): status 200, `n` bytes, and the SHA-256 of the stream
 * /bytes/N defines. Logs the rate.
 */
export async function expectBytes(
  ns: string,
  base: string,
  n: number,
  curlArgs = "",
): Promise<void> {
  const t0 = performance.now();
  const r = await nsBash(
    ns,
    `curl ${curlArgs} -sS --fail -w '%{stderr}%{size_download} %{http_code}' '${base}/bytes/${n}' | sha256sum`,
    60_000,
  );
  const secs = (performance.now() - t0) / 1000;
  console.log(
    `[interop]   GET ${base}/bytes/${n}: ${secs.toFixed(2)} s, ${(n / 1e6 / secs).toFixed(1)} MB/s`,
  );
  expect(r.exitCode).toBe(0);
  expect(r.stderr).toBe(`${n} 200`);
  expect(r.stdout.split(" ")[0]).toBe(bytesStreamSha256(n));
}

/** Wait until a kernel TCP listener on `port` exists in `ns` (bounded). */
export async function kernelListening(ns: string, port: number, ms = 10_000): Promise<boolean> {
  return waitFor(async () => {
    const r = await nsBash(ns, `ss -Hltn 'sport = :${port}'`, 5000);
    return r.stdout.includes(`:${port}`);
  }, ms);
}

/** Elapsed ms of `fn`, logged with `label` so the suite reports each case's time. */
export async function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    console.log(`[interop] ${label}: ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  }
}

/**
 * Runs a command as nobody: not root and without CAP_NET_ADMIN, so opening a
 * TUN device fails as it does for a user who forgot sudo. The one capability
 * kept, CAP_DAC_READ_SEARCH, only lets it read the checkout and its current
 * directory, which may be a 0700 directory of root's (a mktemp clone).
 */
export const AS_NOBODY: readonly string[] = [
  "setpriv",
  "--reuid=65534",
  "--regid=65534",
  "--clear-groups",
  "--inh-caps=-all,+dac_read_search",
  "--ambient-caps=-all,+dac_read_search",
];
