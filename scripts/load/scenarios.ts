/**
 * The load scenarios of issue 12, each against a fresh `tcplab serve` in
 * its own namespace, each beside the same measurement without load (and,
 * for connection churn, beside the kernel over veth). Sizes are parameters:
 * scripts/load.ts runs the full figures, test/interop/load.test.ts a
 * reduced, bounded form that asserts each bound.
 */
import { createKernelPair } from "../bench/kernel-pair.ts";
import type { ServeProc } from "../bench/serve-proc.ts";
import {
  client,
  getBytes,
  idleClients,
  median,
  ROOT,
  rssKiB,
  rssSampler,
  serve,
  TCPLAB,
  tool,
} from "./env.ts";

const MiB = 1 << 20;
const ECHO = 7;
const HTTP = 80;

type Log = (line: string) => void;

async function withServe<T>(
  netns: string,
  flags: readonly string[],
  run: (s: ServeProc) => Promise<T>,
): Promise<T & { serveStats: Record<string, unknown> | undefined }> {
  const s = await serve(netns, flags);
  try {
    const r = await run(s);
    await s.stop();
    return { ...r, serveStats: s.stoppedInfo() };
  } catch (e) {
    await s.stop();
    throw e;
  }
}

/** hping3 `args` at tcplab for `seconds` (it stops by itself: timeout sends SIGINT). */
function hping(netns: string, seconds: number, args: readonly string[]) {
  const argv = ["timeout", "-s", "INT", String(seconds), "hping3", ...args, TCPLAB];
  return tool(netns, argv, (seconds + 15) * 1000);
}

/** serve's RSS after a full collection (its SIGUSR1 status line), in KiB. */
async function settledRss(s: ServeProc): Promise<number> {
  return Number((await s.status()).rssKiB);
}

/** Warms serve up (JIT) so that memory and round trips measure the steady state. */
async function warmUp(netns: string): Promise<void> {
  await client(netns, ["echo", TCPLAB, ECHO, 300], 30_000);
  await getBytes(netns, TCPLAB, MiB, 20_000);
  const few = await idleClients(netns, TCPLAB, ECHO, 300, 60_000);
  await few.closeAll();
  await few.stop();
  await Bun.sleep(1000);
}

async function rttAndGet(netns: string, rounds: number, gets: number) {
  const echo = await client(netns, ["echo", TCPLAB, ECHO, rounds], 120_000);
  const times: number[] = [];
  let failures = 0;
  for (let i = 0; i < gets; i++) {
    const g = await getBytes(netns, TCPLAB, MiB, 30_000);
    if (g.ok) times.push(g.seconds);
    else failures++;
  }
  return {
    rttP50Ms: Number(echo.p50),
    rttP90Ms: Number(echo.p90),
    getSeconds: median(times),
    getRuns: times,
    getFailures: failures,
  };
}

/** Echo round trips and 1 MiB GETs (each run's seconds too), and serve's RSS then. */
export interface LatencyFigures {
  readonly rttP50Ms: number;
  readonly rttP90Ms: number;
  readonly getSeconds: number;
  readonly getRuns: number[];
  readonly getFailures: number;
  readonly rssKiB: number;
}

export interface IdleResult {
  readonly none: LatencyFigures;
  readonly rssConnections: number;
  readonly rssPerConnectionKiB: number;
  /** The JavaScript heap's growth per connection, in the same two status lines. */
  readonly heapPerConnectionKiB: number;
  readonly connections: number;
  readonly opened: number;
  readonly openSeconds: number;
  readonly loaded: LatencyFigures;
}

/**
 * Idle connections: echo round trip and a 1 MiB GET with none open and with
 * `n` open; RSS growth per idle ESTABLISHED connection at `rssAt` of them.
 */
export async function idleScale(
  netns: string,
  n: number,
  rssAt: number,
  rounds: number,
  gets: number,
  log: Log,
): Promise<IdleResult> {
  return withServe(netns, [], async (s) => {
    log(`load idle: warm-up`);
    await warmUp(netns);
    const none = { ...(await rttAndGet(netns, rounds, gets)), rssKiB: await settledRss(s) };
    const baseStatus = await s.status();
    const base = Number(baseStatus.rssKiB);
    log(`load idle: no load (RSS ${base} KiB); ${rssAt} idle connections`);
    const first = await idleClients(netns, TCPLAB, ECHO, rssAt, 180_000);
    await Bun.sleep(1000);
    const atStatus = await s.status();
    const at = Number(atStatus.rssKiB);
    const perConn = (at - base) / Math.max(1, first.opened);
    // The JavaScript heap's share of it: what the stack holds, without the allocator's slack.
    const heapPerConn =
      (Number(atStatus.heapKiB) - Number(baseStatus.heapKiB)) / Math.max(1, first.opened);
    let second: Awaited<ReturnType<typeof idleClients>> | undefined;
    if (n > rssAt) {
      log(`load idle: ${n} idle connections`);
      second = await idleClients(netns, TCPLAB, ECHO, n - rssAt, 180_000);
      await Bun.sleep(1000);
    }
    const opened = first.opened + (second?.opened ?? 0);
    const openSeconds = first.seconds + (second?.seconds ?? 0);
    log(`load idle: ${opened} open, measuring`);
    const loaded = { ...(await rttAndGet(netns, rounds, gets)), rssKiB: await settledRss(s) };
    await second?.stop();
    await first.stop();
    return {
      none,
      rssConnections: first.opened,
      rssPerConnectionKiB: Math.round(perConn * 100) / 100,
      heapPerConnectionKiB: Math.round(heapPerConn * 100) / 100,
      connections: n,
      opened,
      openSeconds,
      loaded,
    };
  });
}

export interface AbResult {
  readonly complete: number;
  readonly failed: number;
  readonly non2xx: number;
  readonly perSecond: number;
  readonly seconds: number;
  readonly error?: string;
}

function parseAb(out: string): AbResult {
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? Number.NaN);
  const non2xx = num(/Non-2xx responses:\s+(\d+)/);
  return {
    complete: num(/Complete requests:\s+(\d+)/),
    failed: num(/Failed requests:\s+(\d+)/),
    non2xx: Number.isNaN(non2xx) ? 0 : non2xx,
    perSecond: num(/Requests per second:\s+([\d.]+)/),
    seconds: num(/Time taken for tests:\s+([\d.]+)/),
    ...(/Complete requests/.test(out) ? {} : { error: out.trim().split("\n").slice(-3).join(" ") }),
  };
}

async function ab(netns: string, host: string, n: number, c: number, timeoutMs: number) {
  const secs = String(Math.floor(timeoutMs / 1000));
  const r = await tool(
    netns,
    ["ab", "-q", "-s", "10", "-t", secs, "-n", String(n), "-c", String(c), `http://${host}/`],
    timeoutMs + 5000,
  );
  return parseAb(r.out);
}

async function clientFirst(netns: string, host: string, n: number, c: number, timeoutMs: number) {
  const r = await client(netns, ["churn", host, HTTP, n, c, 10_000], timeoutMs);
  return {
    complete: Number(r.done),
    failed: Number(r.failed),
    non2xx: 0,
    perSecond: Number(r.perSecond),
    seconds: Number(r.seconds),
    ...(Number(r.failed) > 0 ? { error: JSON.stringify(r.errors) } : {}),
  };
}

export interface ChurnResult {
  readonly n: number;
  readonly c: number;
  readonly tcplab: { serverCloses: AbResult; clientCloses: AbResult };
  readonly kernel: { serverCloses: AbResult; clientCloses: AbResult } | undefined;
}

/** The kernel's ephemeral port range in `netns` (a per-namespace sysctl). */
async function portRange(netns: string, range: string): Promise<void> {
  const r = await tool(
    netns,
    ["sysctl", "-q", "-w", `net.ipv4.ip_local_port_range=${range}`],
    5000,
  );
  if (r.code !== 0) throw new Error(`sysctl ip_local_port_range: ${r.out.trim()}`);
}

/** Page the kernel baseline serves: as long as tcplab's "/" (so both send the same bytes). */
async function tcplabPage(netns: string): Promise<string> {
  const r = await tool(netns, ["curl", "-s", `http://${TCPLAB}/`], 10_000);
  return r.out.trim();
}

/**
 * Connection churn: `n` requests, `c` at a time, each on a new connection —
 * with ab (HTTP/1.0: the server closes first) and with the load client
 * (the client closes first) — against tcplab and, when `kernel`, against a
 * Bun HTTP server on the kernel's TCP over a veth pair. `ports`: ab's
 * client uses only that many local ports, so it must reuse ports tcplab
 * holds in TIME-WAIT (RFC 9293 §3.6.1 reuse; without it, challenge ACKs).
 */
export async function churn(
  netns: string,
  n: number,
  c: number,
  kernel: boolean,
  timeoutMs: number,
  log: Log,
  ports?: number,
): Promise<ChurnResult> {
  let page = "";
  const tcplab = await withServe(netns, [], async () => {
    page = await tcplabPage(netns);
    log(`load churn: ab -n ${n} -c ${c} (tcplab closes first)`);
    const range = ports === undefined ? undefined : `40000 ${40000 + ports - 1}`;
    if (range !== undefined) await portRange(netns, range);
    const serverCloses = await ab(netns, TCPLAB, n, c, timeoutMs);
    if (range !== undefined) await portRange(netns, "32768 60999");
    log(`load churn: ${n} requests, client closes first`);
    const clientCloses = await clientFirst(netns, TCPLAB, n, c, timeoutMs);
    return { serverCloses, clientCloses };
  });
  let k: ChurnResult["kernel"];
  if (kernel) {
    log(`load churn: the kernel over veth`);
    const pair = await createKernelPair(`l${process.pid}`, false);
    try {
      const body = JSON.stringify(page);
      pair.server.spawn(
        [
          process.execPath,
          "-e",
          `Bun.serve({ hostname: "10.9.0.2", port: 80, fetch: () => new Response(${body}, { headers: { "Content-Type": "text/html" } }) }); setInterval(() => {}, 1 << 30);`,
        ],
        { stderr: "inherit" },
      );
      for (let i = 0; i < 100; i++) {
        const r = await tool(
          pair.client.name,
          ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://10.9.0.2/"],
          5000,
        );
        if (r.out.trim().startsWith("200")) break;
        await Bun.sleep(100);
      }
      const serverCloses = await ab(pair.client.name, "10.9.0.2", n, c, timeoutMs);
      const clientCloses = await clientFirst(pair.client.name, "10.9.0.2", n, c, timeoutMs);
      k = { serverCloses, clientCloses };
    } finally {
      await pair.remove();
    }
  }
  return {
    n,
    c,
    tcplab: { serverCloses: tcplab.serverCloses, clientCloses: tcplab.clientCloses },
    kernel: k,
  };
}

export interface SynFloodResult {
  readonly seconds: number;
  readonly floodPackets: number;
  readonly floodPps: number;
  readonly attempts: number;
  /** Legitimate connects that took under 3 s (their first or second SYN). */
  readonly within3s: number;
  readonly maxConnectMs: number;
  readonly connectMs: number[];
  readonly afterFlood: { ok: boolean; seconds: number };
  readonly cookies: { sent: number; recv: number; failed: number };
  readonly noLoadConnectMs: number;
}

/**
 * A spoofed SYN flood on :80 (hping3 --flood --rand-source) for `seconds`;
 * meanwhile a legitimate client connects every second (each attempt given
 * 5 s); right after, a GET must be served.
 */
export async function synFlood(
  netns: string,
  seconds: number,
  log: Log,
  /** hping3's pace: "--flood" (as fast as it can) or an interval such as "u20" (one SYN per 20 µs). */
  pace = "--flood",
): Promise<SynFloodResult> {
  const r = await withServe(netns, [], async (s) => {
    await warmUp(netns);
    const quiet = await client(netns, ["connect", TCPLAB, HTTP, 5000], 10_000);
    log(`load synflood: ${seconds} s of spoofed SYNs`);
    const flood = hping(netns, seconds, [
      "-S",
      "-p",
      String(HTTP),
      ...(pace === "--flood" ? [pace] : ["-i", pace]),
      "--rand-source",
    ]);
    const start = performance.now();
    await Bun.sleep(500);
    const connectMs: number[] = [];
    while (performance.now() - start < (seconds - 1) * 1000) {
      const t0 = performance.now();
      const c = await client(netns, ["connect", TCPLAB, HTTP, 5000], 15_000);
      connectMs.push(c.ok === true ? Number(c.ms) : Number.POSITIVE_INFINITY);
      await Bun.sleep(Math.max(0, 1000 - (performance.now() - t0)));
    }
    const f = await flood;
    const sent = Number(/(\d+) packets transmitted/.exec(f.out)?.[1] ?? 0);
    const after = await getBytes(netns, TCPLAB, 1024, 10_000);
    const stats = (await s.status()).stats as { packets: Record<string, number> } | undefined;
    const p = stats?.packets ?? {};
    return {
      seconds,
      floodPackets: sent,
      floodPps: Math.round(sent / seconds),
      attempts: connectMs.length,
      within3s: connectMs.filter((ms) => ms < 3000).length,
      maxConnectMs: Math.max(0, ...connectMs),
      connectMs: connectMs.map((ms) => Math.round(ms)),
      afterFlood: { ok: after.ok, seconds: after.seconds },
      cookies: {
        sent: p["tcp.syncookies-sent"] ?? 0,
        recv: p["tcp.syncookies-recv"] ?? 0,
        failed: p["tcp.syncookies-failed"] ?? 0,
      },
      noLoadConnectMs: Number(quiet.ms),
    };
  });
  return r;
}

export interface FloodResult {
  readonly kind: "udp" | "first-fragments";
  readonly seconds: number;
  readonly floodPackets: number;
  readonly floodPps: number;
  readonly rssBeforeKiB: number;
  readonly rssMaxKiB: number;
  /** After a full collection (serve's status line), as rssBeforeKiB. */
  readonly rssAfterKiB: number;
  /** Before that collection. */
  readonly rssAfterRawKiB: number;
  readonly get: { ok: boolean; seconds: number; detail: string };
  readonly getNoLoadSeconds: number;
  readonly kernelDropped: number | null;
}

/**
 * `seconds` of 1500-byte UDP packets to the UDP echo (or first fragments,
 * MF set, never completed) at the highest rate hping3 sends; a 1 MiB GET
 * in the middle; RSS sampled throughout and measured after.
 */
export async function flood(
  netns: string,
  kind: FloodResult["kind"],
  seconds: number,
  settleMs: number,
  log: Log,
): Promise<FloodResult> {
  return withServe(netns, [], async (s) => {
    await warmUp(netns);
    const quiet = await getBytes(netns, TCPLAB, MiB, 20_000);
    const before = await settledRss(s);
    log(`load ${kind} flood: ${seconds} s`);
    const sampler = rssSampler(s.pid);
    const extra = kind === "first-fragments" ? ["-x"] : [];
    const run = hping(netns, seconds, [
      "--udp",
      "-p",
      String(ECHO),
      "-d",
      "1472",
      ...extra,
      "--flood",
    ]);
    await Bun.sleep((seconds * 1000) / 2);
    const get = await getBytes(netns, TCPLAB, MiB, Math.max(10_000, seconds * 1000));
    const f = await run;
    const { maxKiB } = sampler.stop();
    await Bun.sleep(settleMs);
    const afterRaw = rssKiB(s.pid) ?? 0;
    const after = await settledRss(s);
    const sent = Number(/(\d+) packets transmitted/.exec(f.out)?.[1] ?? 0);
    const status = await s.status();
    const tun = status.tun as { kernelDropped?: number | null } | undefined;
    return {
      kind,
      seconds,
      floodPackets: sent,
      floodPps: Math.round(sent / seconds),
      rssBeforeKiB: before,
      rssMaxKiB: maxKiB,
      rssAfterKiB: after,
      rssAfterRawKiB: afterRaw,
      get,
      getNoLoadSeconds: quiet.seconds,
      kernelDropped: tun?.kernelDropped ?? null,
    };
  });
}

export interface MassCloseResult {
  readonly connections: number;
  readonly opened: number;
  readonly probe: { count: number; failed: number; p50: number; p99: number; max: number };
  readonly probeNoLoadMax: number;
  readonly afterSeconds: number;
  readonly leftAfter: Record<string, number>;
  readonly echoOpenAfter: number;
}

/**
 * `n` idle echo connections closed by the client all at once: an echo probe
 * every 100 ms throughout (each must come back within 1 s), and `afterS`
 * seconds later the connections tcplab still holds.
 */
export async function massClose(
  netns: string,
  n: number,
  afterS: number,
  log: Log,
): Promise<MassCloseResult> {
  return withServe(netns, [], async (s) => {
    await warmUp(netns);
    const quiet = await client(netns, ["probe", TCPLAB, ECHO, 3, 100], 20_000);
    log(`load massclose: ${n} connections`);
    const idle = await idleClients(netns, TCPLAB, ECHO, n, 240_000);
    await Bun.sleep(1000);
    const probeSeconds = 10;
    const probing = client(
      netns,
      ["probe", TCPLAB, ECHO, probeSeconds, 100],
      (probeSeconds + 30) * 1000,
    );
    await Bun.sleep(2000);
    log(`load massclose: closing all at once`);
    const closedAt = performance.now();
    await idle.closeAll();
    const probe = await probing;
    await idle.stop();
    const wait = afterS * 1000 - (performance.now() - closedAt);
    if (wait > 0) await Bun.sleep(wait);
    const status = await s.status();
    const services = status.services as Record<string, { open: number }> | undefined;
    return {
      connections: n,
      opened: idle.opened,
      probe: {
        count: Number(probe.count),
        failed: Number(probe.failed),
        p50: Number(probe.p50),
        p99: Number(probe.p99),
        max: Number(probe.max),
      },
      probeNoLoadMax: Number(quiet.max),
      afterSeconds: afterS,
      leftAfter: (status.connections as Record<string, number>) ?? {},
      echoOpenAfter: services?.echo?.open ?? -1,
    };
  });
}

export { ROOT };
