/**
 * CPU time and context switches of a process, from /proc: utime + stime of
 * /proc/PID/stat (all threads), and voluntary + involuntary switches summed
 * over /proc/PID/task/STAR/status — each voluntary switch is a sleep, so the
 * delta over an idle period counts wake-ups.
 */
import { readdirSync, readFileSync } from "node:fs";

let clkTck: number | undefined;

/** Clock ticks per second (CLK_TCK), 100 unless getconf says otherwise. */
export function ticksPerSecond(): number {
  if (clkTck === undefined) {
    const r = Bun.spawnSync(["getconf", "CLK_TCK"], { stdout: "pipe", stderr: "ignore" });
    const n = Number(r.stdout.toString().trim());
    clkTck = Number.isFinite(n) && n > 0 ? n : 100;
  }
  return clkTck;
}

/** utime + stime of `pid` in seconds, or undefined if it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 2 (comm) may hold spaces: count fields after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const utime = Number(rest[11]); // field 14
    const stime = Number(rest[12]); // field 15
    return (utime + stime) / ticksPerSecond();
  } catch {
    return undefined;
  }
}

/** Context switches of all live threads of `pid`. */
export function contextSwitches(pid: number): { voluntary: number; involuntary: number } {
  let voluntary = 0;
  let involuntary = 0;
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return { voluntary, involuntary };
  }
  for (const tid of tasks) {
    try {
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, "utf8");
      const v = /^voluntary_ctxt_switches:\s+(\d+)/m.exec(status);
      const n = /^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(status);
      voluntary += Number(v?.[1] ?? 0);
      involuntary += Number(n?.[1] ?? 0);
    } catch {
      // the thread ended between readdir and read
    }
  }
  return { voluntary, involuntary };
}

export function threadCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/task`).length;
  } catch {
    return 0;
  }
}

export interface IdleSample {
  readonly seconds: number;
  /** CPU used, as % of one core. */
  readonly cpuPct: number;
  /** Voluntary context switches (sleeps, so wake-ups) over the period, all threads. */
  readonly wakeups: number;
  readonly wakeupsPerSecond: number;
  readonly threads: number;
}

/** Watch `pid` for `seconds` while nothing is sent to it. */
export async function measureIdle(pid: number, seconds: number): Promise<IdleSample> {
  const c0 = cpuSeconds(pid) ?? 0;
  const s0 = contextSwitches(pid);
  const t0 = performance.now();
  await Bun.sleep(seconds * 1000);
  const wall = (performance.now() - t0) / 1000;
  const c1 = cpuSeconds(pid) ?? c0;
  const s1 = contextSwitches(pid);
  const wakeups = s1.voluntary - s0.voluntary;
  return {
    seconds: round(wall, 2),
    cpuPct: round((100 * (c1 - c0)) / wall, 2),
    wakeups,
    wakeupsPerSecond: round(wakeups / wall, 1),
    threads: threadCount(pid),
  };
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
