/**
 * `tcplab serve` as a child process: started with a namespace name and an
 * MTU, ready when it prints its JSON ready line, stopped with SIGTERM (then
 * SIGKILL after a bounded wait). If it dies without removing its namespace,
 * the namespace — named by the bench, so ours — is deleted here.
 */
import { existsSync, rmSync } from "node:fs";

export interface ServeReady {
  readonly ready: true;
  readonly netns: string;
  readonly addr: string;
  readonly peer: string;
  readonly mtu: number;
  readonly services?: Record<string, unknown>;
}

export interface ServeProc {
  readonly pid: number;
  readonly argv: readonly string[];
  readonly info: ServeReady;
  /** The `{"stopped":true,…}` line serve prints on exit (its counters), once stopped. */
  stoppedInfo(): Record<string, unknown> | undefined;
  /** True while the process runs. */
  alive(): boolean;
  /** The last lines serve wrote to stderr (for error messages). */
  stderrTail(): string;
  /** SIGUSR1 and the status line serve prints for it (connections by state, counters); bounded wait. */
  status(timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

const TAIL = 4000;

function parseReady(line: string): ServeReady | undefined {
  try {
    const v: unknown = JSON.parse(line);
    if (typeof v === "object" && v !== null && Reflect.get(v, "ready") === true) {
      return v as ServeReady;
    }
  } catch {
    // not JSON: a log line
  }
  return undefined;
}

/** A JSON line of serve's with `key: true` ("stopped", "status"). */
function parseTagged(line: string, key: string): Record<string, unknown> | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const v: unknown = JSON.parse(line);
    if (typeof v === "object" && v !== null && Reflect.get(v, key) === true) {
      return v as Record<string, unknown>;
    }
  } catch {
    // not JSON
  }
  return undefined;
}

async function drain(
  stream: ReadableStream<Uint8Array>,
  onText: (s: string) => void,
): Promise<void> {
  const dec = new TextDecoder();
  try {
    for await (const chunk of stream) onText(dec.decode(chunk, { stream: true }));
  } catch {
    // the process went away
  }
}

/** Remove what a crashed serve may have left under the namespace name `name`. */
export function removeLeftoverNetns(name: string): void {
  if (existsSync(`/run/netns/${name}`)) {
    Bun.spawnSync(["ip", "netns", "del", name], { stdout: "ignore", stderr: "ignore" });
  }
  rmSync(`/run/tcplab/${name}.pid`, { force: true });
}

export async function startServe(
  command: readonly string[],
  netns: string,
  mtu: number,
  readyTimeoutMs = 20_000,
): Promise<ServeProc> {
  const argv = [...command, "--netns", netns, "--mtu", String(mtu)];
  const proc = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let err = "";
  void drain(proc.stderr, (s) => {
    err = (err + s).slice(-TAIL);
  });
  let out = "";
  let info: ServeReady | undefined;
  let stoppedLine: Record<string, unknown> | undefined;
  const statusWaiters: ((line: Record<string, unknown>) => void)[] = [];
  let readyResolve: () => void = () => {};
  const readySeen = new Promise<void>((r) => {
    readyResolve = r;
  });
  // Keep reading stdout after the ready line so serve never blocks on a full pipe.
  const stdoutDone = drain(proc.stdout, (s) => {
    out = (out + s).slice(-64 * 1024);
    const lines = out.split("\n");
    out = lines.pop() ?? "";
    for (const line of lines) {
      info ??= parseReady(line.trim());
      stoppedLine = parseTagged(line.trim(), "stopped") ?? stoppedLine;
      const status = parseTagged(line.trim(), "status");
      if (status !== undefined) for (const w of statusWaiters.splice(0)) w(status);
    }
    if (info !== undefined) readyResolve();
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    readySeen.then(() => "ready" as const),
    proc.exited.then(() => "exited" as const),
    new Promise<"timeout">((r) => {
      timer = setTimeout(() => r("timeout"), readyTimeoutMs);
    }),
  ]);
  clearTimeout(timer);

  const alive = () => proc.exitCode === null && proc.signalCode === null;
  const stop = async () => {
    if (alive()) {
      proc.kill("SIGTERM");
      let t: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([proc.exited, new Promise((r) => (t = setTimeout(r, 5000)))]);
      clearTimeout(t);
      if (alive()) {
        proc.kill("SIGKILL");
        await proc.exited;
      }
    }
    // Let the last line (the counters) through, boundedly.
    let t2: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([stdoutDone, new Promise((r) => (t2 = setTimeout(r, 1000)))]);
    clearTimeout(t2);
    removeLeftoverNetns(netns);
  };

  if (outcome !== "ready" || info === undefined) {
    await stop();
    const why =
      outcome === "timeout"
        ? `no ready line within ${readyTimeoutMs} ms`
        : `exited with ${proc.exitCode ?? proc.signalCode}`;
    throw new Error(`${argv.join(" ")}: ${why}\n${err.trim()}`);
  }
  const ready = info;
  return {
    pid: proc.pid,
    argv,
    info: ready,
    alive,
    stoppedInfo: () => stoppedLine,
    stderrTail: () => err,
    stop,
    status(timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no status line from serve")), timeoutMs);
        statusWaiters.push((line) => {
          clearTimeout(timer);
          resolve(line);
        });
        proc.kill("SIGUSR1");
      });
    },
  };
}
