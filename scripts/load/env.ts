/**
 * What the load scenarios stand on: `tcplab serve` in a namespace this
 * process names (scripts/bench/serve-proc.ts), the load client and the
 * kernel's tools run inside that namespace, and serve's memory read from
 * /proc. Every command is bounded in time; every load tool stops by itself.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { execInNetns } from "../../src/link/netns.ts";
import { type ServeProc, startServe } from "../bench/serve-proc.ts";

export const ROOT = resolve(import.meta.dir, "../..");
export const TCPLAB = "10.0.0.2";
const CLIENT = join(ROOT, "scripts", "load", "client.ts");

/** serve's resident memory in KiB (VmRSS), or undefined once it is gone. */
export function rssKiB(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m === null ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

/** `tcplab serve` with `flags`, in namespace `netns` (removed when it stops). */
export function serve(netns: string, flags: readonly string[] = []): Promise<ServeProc> {
  return startServe(
    [process.execPath, join(ROOT, "cli", "tcplab.ts"), "serve", ...flags],
    netns,
    1500,
  );
}

/** The last JSON line of `text`. */
function lastJson(text: string): Record<string, unknown> | undefined {
  const lines = text.trim().split("\n").reverse();
  for (const line of lines) {
    try {
      const v: unknown = JSON.parse(line);
      if (typeof v === "object" && v !== null) return v as Record<string, unknown>;
    } catch {
      // a log line
    }
  }
  return undefined;
}

/** One run of the load client inside `netns` (scripts/load/client.ts); its JSON result. */
export async function client(
  netns: string,
  args: readonly (string | number)[],
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  const r = await execInNetns(netns, [process.execPath, CLIENT, ...args.map(String)], {
    timeoutMs,
  });
  const v = lastJson(r.stdout);
  if (v === undefined) {
    throw new Error(
      `load client ${args.join(" ")}: ${r.timedOut ? "timed out" : `exit ${r.exitCode}`} ${r.stderr.trim().slice(-400)}`,
    );
  }
  return v;
}

/** A kernel tool inside `netns`, bounded by `timeoutMs`: its exit code and output. */
export async function tool(
  netns: string,
  argv: readonly string[],
  timeoutMs: number,
): Promise<{ code: number | null; out: string }> {
  const r = await execInNetns(netns, argv, { timeoutMs });
  return { code: r.exitCode, out: `${r.stdout}\n${r.stderr}` };
}

/** curl's time for GET /bytes/N, or an error (bounded by `timeoutMs`). */
export async function getBytes(
  netns: string,
  host: string,
  n: number,
  timeoutMs: number,
): Promise<{ ok: boolean; seconds: number; detail: string }> {
  const secs = String(Math.max(1, Math.floor(timeoutMs / 1000)));
  const r = await tool(
    netns,
    [
      "curl",
      "-s",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code} %{size_download} %{time_total}",
      "-m",
      secs,
      `http://${host}/bytes/${n}`,
    ],
    timeoutMs + 2000,
  );
  const [code, size, time] = r.out.trim().split(/\s+/);
  const ok = code === "200" && Number(size) === n;
  return { ok, seconds: Number(time), detail: r.out.trim().slice(0, 200) };
}

/**
 * Idle connections held by one load client inside `netns`: opened at once,
 * counted and closed (all together) on command; the client ends with stop().
 */
export interface IdleClients {
  readonly opened: number;
  readonly failed: number;
  readonly seconds: number;
  /** Connections the server has not closed yet. */
  count(): Promise<number>;
  /** Ends every connection at once (FINs); resolves when the client has sent them. */
  closeAll(): Promise<void>;
  stop(): Promise<void>;
}

export async function idleClients(
  netns: string,
  host: string,
  port: number,
  n: number,
  timeoutMs: number,
): Promise<IdleClients> {
  const proc = Bun.spawn(
    ["ip", "netns", "exec", netns, process.execPath, CLIENT, "idle", host, String(port), String(n)],
    { stdin: "pipe", stdout: "pipe", stderr: "pipe" },
  );
  const killer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const reader = proc.stdout.getReader();
  const dec = new TextDecoder();
  let buffered = "";
  const nextLine = async (ms: number): Promise<Record<string, unknown>> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const nl = buffered.indexOf("\n");
      if (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        return JSON.parse(line) as Record<string, unknown>;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("the idle client did not answer in time");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const r = await Promise.race([
        reader.read(),
        new Promise<{ done: true; value: undefined }>((res) => {
          timer = setTimeout(() => res({ done: true, value: undefined }), left);
        }),
      ]);
      clearTimeout(timer);
      if (r.done)
        throw new Error(`the idle client ended: ${await new Response(proc.stderr).text()}`);
      buffered += dec.decode(r.value, { stream: true });
    }
  };
  const send = (cmd: string) => {
    proc.stdin.write(`${cmd}\n`);
    proc.stdin.flush();
  };
  const first = await nextLine(timeoutMs);
  return {
    opened: Number(first.opened),
    failed: Number(first.failed),
    seconds: Number(first.seconds),
    async count() {
      send("count");
      return Number((await nextLine(10_000)).open);
    },
    async closeAll() {
      send("close");
      await nextLine(30_000);
    },
    async stop() {
      clearTimeout(killer);
      try {
        proc.stdin.end();
      } catch {
        // already gone
      }
      await Promise.race([proc.exited, Bun.sleep(10_000)]);
      if (proc.exitCode === null) proc.kill("SIGKILL");
    },
  };
}

/** Samples serve's RSS every `everyMs` until stop(); the largest value and the series. */
export function rssSampler(
  pid: number,
  everyMs = 250,
): { stop(): { maxKiB: number; series: number[] } } {
  const series: number[] = [];
  const take = () => {
    const v = rssKiB(pid);
    if (v !== undefined) series.push(v);
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return { maxKiB: Math.max(0, ...series), series };
    },
  };
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0
    ? Number.NaN
    : s.length % 2 === 1
      ? (s[m] as number)
      : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
