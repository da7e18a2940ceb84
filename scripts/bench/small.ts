/**
 * The bench's small-packet figures, each beside a kernel baseline measured
 * in the same run over the veth pair (scripts/bench/kernel-pair.ts), with
 * the same client tools from the kernel side:
 *
 *   request/response  one connection, 64-byte echoes back to back (like
 *                     netperf TCP_RR): the load client's `rr` mode against
 *                     serve's echo (7) and a Bun echo server on the kernel's
 *                     TCP (the same runtime above the stack on both sides)
 *   connections/s     ab -c 32 for a few seconds, HTTP/1.0 GET / (a new
 *                     connection per request, the server closes first),
 *                     against serve's HTTP (80) and Bun.serve on the kernel,
 *                     whose body is as long as tcplab's page
 *   ping              ping -i 0.002 round trips through serve, p50 and p99;
 *                     the kernel over veth, the kernel answering itself in
 *                     serve's namespace, and a bare echo (bare-echo.ts: a
 *                     process answering on a TUN device of its own through
 *                     the same reader, no stack — the floor of the design)
 *   idle memory       serve's RSS (after a full collection) per idle
 *                     ESTABLISHED connection; the kernel's: the slab memory
 *                     of its TCP sockets (TCP, sock_inode_cache, filp,
 *                     dentry, eventpoll) per socket, both ends of each
 *                     connection being the kernel's
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createNetns } from "../../src/link/netns.ts";
import { client, idleClients, TCPLAB, tool } from "../load/env.ts";
import type { KernelPair } from "./kernel-pair.ts";
import { KERNEL_SERVER_ADDR } from "./kernel-pair.ts";
import { waitListening } from "./ns-exec.ts";
import type { ServeProc } from "./serve-proc.ts";

export interface SmallFigure {
  readonly name: string;
  readonly unit: string;
  readonly tcplab: number | null;
  readonly kernel: number | null;
  /** tcplab / kernel. */
  readonly ratio: number | null;
  /** The target, in words. */
  readonly target: string;
  /** Whether the target is met (undefined: no target or not measured). */
  readonly met?: boolean;
  readonly note?: string;
  readonly error?: string;
}

export interface SmallBench {
  readonly figures: readonly SmallFigure[];
  readonly commands: Record<string, string>;
}

const ECHO_PORT = 7;
const KERNEL_HTTP_PORT = 8080;
const RR_SIZE = 64;
const AB_CONCURRENCY = 32;

type Log = (s: string) => void;

function ratioOf(t: number | null, k: number | null): number | null {
  return t !== null && k !== null && k > 0 ? Math.round((t / k) * 1000) / 1000 : null;
}

function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? null;
}

/** Round trips of `ping -i 0.002` in µs, sorted. */
async function pingTimes(netns: string, host: string, count: number): Promise<number[]> {
  const r = await tool(
    netns,
    ["ping", "-n", "-c", String(count), "-i", "0.002", "-W", "1", host],
    count * 10 + 10_000,
  );
  return [...r.out.matchAll(/time=([\d.]+) ms/g)]
    .map((m) => Number(m[1]) * 1000)
    .sort((a, b) => a - b);
}

/** Ping round trips to a bare echo (scripts/bench/bare-echo.ts, a process of its own), sorted µs. */
async function bareEchoTimes(count: number): Promise<number[]> {
  const ns = await createNetns(`tcplab-bench-e${process.pid}`);
  const child = Bun.spawn([process.execPath, join(import.meta.dir, "bare-echo.ts"), ns.name], {
    stdout: "pipe",
    stderr: "inherit",
  });
  try {
    const first = await Promise.race([
      child.stdout
        .getReader()
        .read()
        .then((r) => new TextDecoder().decode(r.value ?? new Uint8Array())),
      Bun.sleep(10_000).then(() => "timeout"),
    ]);
    if (!first.startsWith("ready")) throw new Error(`the bare echo did not start: ${first}`);
    return await pingTimes(ns.name, "10.0.0.2", count);
  } finally {
    child.kill("SIGTERM");
    await Promise.race([child.exited, Bun.sleep(3000)]);
    if (child.exitCode === null) child.kill("SIGKILL");
    await ns.remove();
  }
}

function parseAb(out: string): { perSecond: number; failed: number; complete: number } {
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? Number.NaN);
  return {
    perSecond: num(/Requests per second:\s+([\d.]+)/),
    failed: num(/Failed requests:\s+(\d+)/),
    complete: num(/Complete requests:\s+(\d+)/),
  };
}

function abArgv(host: string, port: number, seconds: number): string[] {
  return [
    "ab",
    "-q",
    "-s",
    "10",
    "-t",
    String(seconds),
    "-n",
    "1000000",
    "-c",
    String(AB_CONCURRENCY),
    `http://${host}:${port}/`,
  ];
}

/** Bytes the kernel keeps in the slab caches of a TCP socket (active objects × size). */
function socketSlabBytes(): number {
  const caches = new Set([
    "TCP",
    "sock_inode_cache",
    "filp",
    "dentry",
    "eventpoll_epi",
    "eventpoll_pwq",
  ]);
  let total = 0;
  for (const line of readFileSync("/proc/slabinfo", "utf8").split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f[0] === undefined || !caches.has(f[0])) continue;
    total += Number(f[1]) * Number(f[3]); // active_objs × objsize
  }
  return total;
}

/** The kernel side's servers in the pair's server namespace: a Bun echo and Bun.serve. */
async function kernelServers(pair: KernelPair, page: string): Promise<void> {
  const code = `
import { createServer } from "node:net";
createServer((s) => { s.setNoDelay(true); s.on("data", (d) => s.write(d)); s.on("error", () => {}); })
  .listen(${ECHO_PORT}, "${KERNEL_SERVER_ADDR}");
const body = ${JSON.stringify(page)};
Bun.serve({ hostname: "${KERNEL_SERVER_ADDR}", port: ${KERNEL_HTTP_PORT}, fetch: () => new Response(body, { headers: { "Content-Type": "text/html" } }) });
setInterval(() => {}, 1 << 30);`;
  pair.server.spawn([process.execPath, "-e", code], { stderr: "inherit" });
  const ok =
    (await waitListening(pair.server.name, ECHO_PORT)) &&
    (await waitListening(pair.server.name, KERNEL_HTTP_PORT));
  if (!ok) throw new Error("the kernel baseline's Bun echo and HTTP servers did not start");
}

async function measure<T>(what: string, fn: () => Promise<T>): Promise<T | string> {
  try {
    return await fn();
  } catch (e) {
    return `${what}: ${(e as Error).message.split("\n")[0]}`;
  }
}

/**
 * Runs the figures against `serve` (MTU 1500, in `serveNetns`) and the
 * pair (its MTU set to 1500 by the caller). Bounded in time: a few seconds
 * per figure and side.
 */
export async function runSmallBench(
  serve: ServeProc,
  serveNetns: string,
  pair: KernelPair,
  quick: boolean,
  log: Log,
): Promise<SmallBench> {
  const seconds = quick ? 1 : 5;
  const pings = quick ? 100 : 1000;
  const idle = quick ? 200 : 2000;
  const figures: SmallFigure[] = [];
  const kernelNs = pair.client.name;
  const kernelHost = KERNEL_SERVER_ADDR;
  const page = (await tool(serveNetns, ["curl", "-s", `http://${TCPLAB}/`], 10_000)).out.trim();
  await kernelServers(pair, page);

  // Warm-up (JIT) on both sides, not counted.
  await client(serveNetns, ["rr", TCPLAB, ECHO_PORT, 1, RR_SIZE], 20_000);
  await client(kernelNs, ["rr", kernelHost, ECHO_PORT, 1, RR_SIZE], 20_000);

  log(`bench: request/response ${seconds} s each…`);
  const rrT = await measure("tcplab", () =>
    client(serveNetns, ["rr", TCPLAB, ECHO_PORT, seconds, RR_SIZE], seconds * 1000 + 20_000),
  );
  const rrK = await measure("kernel", () =>
    client(kernelNs, ["rr", kernelHost, ECHO_PORT, seconds, RR_SIZE], seconds * 1000 + 20_000),
  );
  const rate = (r: Record<string, unknown> | string) =>
    typeof r === "string" ? null : Math.round(Number(r.perSecond));
  const p50 = (r: Record<string, unknown> | string) =>
    typeof r === "string" ? "—" : `${(Number(r.p50) * 1000).toFixed(0)} µs`;
  const rrRatio = ratioOf(rate(rrT), rate(rrK));
  figures.push({
    name: `request/response, ${RR_SIZE}-byte echo, one connection`,
    unit: "transactions/s",
    tcplab: rate(rrT),
    kernel: rate(rrK),
    ratio: rrRatio,
    target: "≥ 0.5× the kernel",
    ...(rrRatio === null ? {} : { met: rrRatio >= 0.5 }),
    note: `round trip p50 ${p50(rrT)} (kernel ${p50(rrK)}), client and echo both Bun`,
    ...errorOf(rrT, rrK),
  });

  log(`bench: connections per second ${seconds} s each…`);
  const abT = await measure("tcplab", async () =>
    parseAb((await tool(serveNetns, abArgv(TCPLAB, 80, seconds), seconds * 1000 + 20_000)).out),
  );
  const abK = await measure("kernel", async () =>
    parseAb(
      (await tool(kernelNs, abArgv(kernelHost, KERNEL_HTTP_PORT, seconds), seconds * 1000 + 20_000))
        .out,
    ),
  );
  const cps = (r: { perSecond: number; failed: number } | string) =>
    typeof r === "string" || !Number.isFinite(r.perSecond) ? null : Math.round(r.perSecond);
  const failedOf = (r: { failed: number } | string) => (typeof r === "string" ? "—" : r.failed);
  const cpsT = cps(abT);
  figures.push({
    name: `connections/s, kernel client → server (ab -c ${AB_CONCURRENCY}, HTTP/1.0 GET /)`,
    unit: "connections/s",
    tcplab: cpsT,
    kernel: cps(abK),
    ratio: ratioOf(cpsT, cps(abK)),
    target: "≥ 10,000/s",
    ...(cpsT === null ? {} : { met: cpsT >= 10_000 }),
    note: `failed requests: tcplab ${failedOf(abT)}, kernel ${failedOf(abK)}; kernel server Bun.serve`,
    ...errorOf(abT, abK),
  });

  log(`bench: ping ${pings} round trips each…`);
  const pingT = await pingTimes(serveNetns, TCPLAB, pings);
  const pingK = await pingTimes(kernelNs, kernelHost, pings);
  const pingSelf = await pingTimes(serveNetns, "10.0.0.1", pings);
  const pingBare = await bareEchoTimes(pings);
  const us = (x: number | null) => (x === null ? null : Math.round(x));
  for (const [q, label] of [
    [0.5, "p50"],
    [0.99, "p99"],
  ] as const) {
    const t = us(quantile(pingT, q));
    const k = us(quantile(pingK, q));
    figures.push({
      name: `ping round trip ${label} (ping -i 0.002, ${pings} echoes)`,
      unit: "µs",
      tcplab: t,
      kernel: k,
      ratio: ratioOf(t, k),
      target: label === "p50" ? "≤ 60 µs" : "—",
      ...(label === "p50" && t !== null ? { met: t <= 60 } : {}),
      note: `a bare echo on the same TUN reader, no stack: ${us(quantile(pingBare, q)) ?? "—"} µs; the kernel answering itself in serve's namespace: ${us(quantile(pingSelf, q)) ?? "—"} µs; lost: tcplab ${pings - pingT.length}, kernel ${pings - pingK.length}`,
    });
  }

  log(`bench: memory of ${idle} idle connections…`);
  const mem = await measure("memory", async () => {
    const base = Number((await serve.status()).rssKiB);
    const held = await idleClients(serveNetns, TCPLAB, ECHO_PORT, idle, 120_000);
    await Bun.sleep(1000);
    const at = Number((await serve.status()).rssKiB);
    await held.closeAll();
    await held.stop();
    const slab0 = socketSlabBytes();
    const kheld = await idleClients(kernelNs, kernelHost, ECHO_PORT, idle, 120_000);
    await Bun.sleep(1000);
    const slab1 = socketSlabBytes();
    await kheld.closeAll();
    await kheld.stop();
    return {
      tcplab: (at - base) / Math.max(1, held.opened),
      // Both ends of each connection are the kernel's sockets.
      kernel: (slab1 - slab0) / 1024 / Math.max(1, 2 * kheld.opened),
      opened: held.opened,
    };
  });
  const kib = (x: number) => Math.round(x * 100) / 100;
  figures.push({
    name: `memory per idle ESTABLISHED connection (${idle} open)`,
    unit: "KiB",
    tcplab: typeof mem === "string" ? null : kib(mem.tcplab),
    kernel: typeof mem === "string" ? null : kib(mem.kernel),
    ratio: typeof mem === "string" ? null : ratioOf(kib(mem.tcplab), kib(mem.kernel)),
    target: "—",
    note: "tcplab: serve's RSS after a full collection, stack and echo service; kernel: slab memory per socket, no application",
    ...(typeof mem === "string" ? { error: mem } : {}),
  });

  return {
    figures,
    commands: {
      "request/response (in each namespace)": `bun scripts/load/client.ts rr HOST 7 ${seconds} ${RR_SIZE}`,
      "connections per second (in each namespace)": abArgv("HOST", 0, seconds)
        .join(" ")
        .replace(":0/", ":PORT/"),
      "ping (in each namespace)": `ping -n -c ${pings} -i 0.002 -W 1 HOST`,
      "idle memory": `bun scripts/load/client.ts idle HOST 7 ${idle}; serve's status line (SIGUSR1: full collection, RSS) before and after; /proc/slabinfo before and after for the kernel`,
      "kernel servers (in tcplab-bench-b)": `bun -e '…node:net echo on :7, Bun.serve on :${KERNEL_HTTP_PORT} with a body as long as tcplab's page…'`,
    },
  };
}

function errorOf(t: unknown, k: unknown): { error?: string } {
  const errs = [t, k].filter((x): x is string => typeof x === "string");
  return errs.length === 0 ? {} : { error: errs.join("; ") };
}

/** Rows for the text table and the Markdown page. */
export function smallRows(s: SmallBench): string[][] {
  const f = (x: number | null) =>
    x === null ? "—" : x >= 100 ? Math.round(x).toLocaleString("en-US") : String(x);
  return s.figures.map((x) => [
    `${x.name}, ${x.unit}`,
    f(x.tcplab),
    f(x.kernel),
    x.ratio === null ? "—" : x.ratio.toFixed(3),
    x.target,
    x.met === undefined ? "" : x.met ? "met" : "not met",
  ]);
}

export const SMALL_HEAD = ["figure", "tcplab", "kernel", "ratio", "target", ""];
