#!/usr/bin/env bun
/**
 * `bun run bench`: tcplab's bulk throughput over TUN against the Linux
 * kernel, with a kernel-to-kernel baseline measured in the same run, and the
 * idle cost of `tcplab serve`. Needs root (network namespaces, TUN).
 *
 * For each MTU (1500, 9000, 65535):
 *   kernel    two namespaces joined by a veth pair (10.9.0.1 → 10.9.0.2),
 *             socat serving HTTP /bytes/N and discard on the server side
 *   tcplab    `tcplab serve --netns NAME --mtu N` (tcplab at 10.0.0.2 on a TUN
 *             device, the kernel at 10.0.0.1 in the namespace)
 * and in each world, run from the kernel side with the same tools:
 *   download  curl -o /dev/null http://HOST/bytes/N (curl's time_total)
 *   upload    head -c N /dev/zero | socat - TCP:HOST:9 (timed inside the namespace)
 *
 * At the first MTU, with serve still running, the small-packet figures
 * (scripts/bench/small.ts): request/response rate on one connection,
 * connections per second, ping round trips and memory per idle
 * connection, each beside the kernel over the veth pair.
 *
 * Each case first runs a probe transfer that sizes the runs to about a
 * second or two each (also a warm-up for tcplab's JIT), then repeats and
 * reports the median. Idle CPU is /proc/PID/stat utime+stime of serve over a
 * quiet period, wake-ups its voluntary context switches (all threads).
 *
 * Writes OUT/latest.json and OUT/latest.md (OUT = bench-results by default).
 * All traffic stays inside namespaces this bench creates; all of them are
 * removed at the end, on error and on SIGINT/SIGTERM.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { release } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { createKernelPair, KERNEL_SERVER_ADDR, type KernelPair } from "./bench/kernel-pair.ts";
import { nsExec } from "./bench/ns-exec.ts";
import { cpuSeconds, type IdleSample, measureIdle, round } from "./bench/proc-stat.ts";
import {
  type BenchResult,
  type CaseResult,
  markdown,
  median,
  type SideResult,
  textTable,
} from "./bench/report.ts";
import { type ServeProc, startServe } from "./bench/serve-proc.ts";
import { type ReassemblyBench, reassemblyText, runReassemblyBench } from "./bench/reassembly.ts";
import { loadSectionOf, mergeIntoLatest } from "./load/report.ts";
import { runSimBench, SIM_FULL, SIM_QUICK, type SimBenchResult } from "./bench/sim.ts";
import { runSmallBench, type SmallBench } from "./bench/small.ts";
import {
  type Direction,
  download,
  downloadArgv,
  type Sample,
  upload,
  uploadScript,
} from "./bench/transfer.ts";

const USAGE =
  "usage: bun scripts/bench.ts [--quick] [--out DIR] [--mtu 1500,9000,65535] [--reps N] [--idle-seconds S] [--serve-cmd CMD] [--no-sim] [--no-small]";

const HELP = `${USAGE}

  --quick            small sizes, one repetition, 1 s idle (a smoke run, not a measurement)
  --out DIR          where latest.json and latest.md go (default bench-results)
  --mtu LIST         MTUs to measure (default 1500,9000,65535)
  --reps N           repetitions per case (default 3; median reported)
  --idle-seconds S   idle measurement period (default 5)
  --serve-cmd CMD    command that starts tcplab serve (default "bun cli/tcplab.ts serve")
  --no-sim           skip the simulated cases (congestion control, window scaling: 5 seeds
                     and 200 MB long runs, about a minute, --quick: 1 seed, 4 MB; and
                     out-of-order reassembly with 2,000 and 20,000 holes, a few seconds)
  --no-small         skip the small-packet figures at the first MTU: request/response rate,
                     connections/s, ping round trips, memory per idle connection, each
                     beside the kernel over the veth pair (about a minute)
  --help             this text`;

const ROOT = resolve(import.meta.dir, "..");
const TCPLAB_ADDR = "10.0.0.2";
const DISCARD_PORT = 9;
const MiB = 2 ** 20;

interface Sizing {
  readonly probe: number;
  /** Seconds each repetition should take. */
  readonly targetSeconds: number;
  readonly min: number;
  readonly max: number;
  readonly timeoutMs: number;
}

const TCPLAB_SIZING: Sizing = {
  probe: 16 * MiB,
  targetSeconds: 2,
  min: 4 * MiB,
  max: 1024 * MiB,
  timeoutMs: 60_000,
};
const KERNEL_SIZING: Sizing = {
  probe: 128 * MiB,
  targetSeconds: 1.5,
  min: 16 * MiB,
  max: 4096 * MiB,
  timeoutMs: 60_000,
};
const QUICK_BYTES = 2 * MiB;
const QUICK_TIMEOUT_MS = 30_000;

interface Options {
  readonly quick: boolean;
  readonly out: string;
  readonly mtus: readonly number[];
  readonly reps: number;
  readonly idleSeconds: number;
  readonly serveCmd: readonly string[];
  readonly sim: boolean;
  /** Request/response, connections/s, ping and idle memory at the first MTU. */
  readonly small: boolean;
}

function usageError(message: string): never {
  console.error(`bench: ${message}\n${USAGE}`);
  process.exit(2);
}

function parseOptions(argv: string[]): Options {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        quick: { type: "boolean" },
        out: { type: "string" },
        mtu: { type: "string" },
        reps: { type: "string" },
        "idle-seconds": { type: "string" },
        "serve-cmd": { type: "string" },
        "no-sim": { type: "boolean" },
        "no-small": { type: "boolean" },
        help: { type: "boolean" },
      },
      strict: true,
    }));
  } catch (e) {
    usageError((e as Error).message.split("\n")[0] ?? "bad arguments");
  }
  if (values.help === true) {
    console.log(HELP);
    process.exit(0);
  }
  const quick = values.quick === true;
  const mtus = String(values.mtu ?? "1500,9000,65535")
    .split(",")
    .map((s) => Number(s.trim()));
  for (const m of mtus) {
    if (!Number.isInteger(m) || m < 576 || m > 65535) {
      usageError(`--mtu must list MTUs from 576 to 65535, got "${values.mtu}"`);
    }
  }
  const reps = Number(values.reps ?? (quick ? 1 : 3));
  if (!Number.isInteger(reps) || reps < 1 || reps > 20) usageError("--reps must be 1..20");
  const idleSeconds = Number(values["idle-seconds"] ?? (quick ? 1 : 5));
  if (!(idleSeconds > 0 && idleSeconds <= 60)) usageError("--idle-seconds must be in (0, 60]");
  const serveCmd =
    values["serve-cmd"] === undefined
      ? [process.execPath, join(ROOT, "cli", "tcplab.ts"), "serve"]
      : String(values["serve-cmd"])
          .split(" ")
          .filter((s) => s !== "");
  return {
    quick,
    out: resolve(String(values.out ?? join(ROOT, "bench-results"))),
    mtus,
    reps,
    idleSeconds,
    serveCmd,
    sim: values["no-sim"] !== true,
    small: values["no-small"] !== true,
  };
}

const mbps = (s: Sample) => s.bytes / s.seconds / 1e6;

/**
 * Size the runs with a probe (unless quick), then repeat. `pid` is serve's,
 * to charge it the CPU it spends per run. A failure ends the case.
 */
async function measure(
  run: (bytes: number, timeoutMs: number) => Promise<Sample>,
  sizing: Sizing,
  opts: Options,
  pid?: number,
): Promise<SideResult> {
  let bytes = QUICK_BYTES;
  const samples: number[] = [];
  const cpu: number[] = [];
  const timeoutMs = opts.quick ? QUICK_TIMEOUT_MS : sizing.timeoutMs;
  try {
    if (!opts.quick) {
      const probe = await run(sizing.probe, timeoutMs);
      const want = (probe.bytes / probe.seconds) * sizing.targetSeconds;
      bytes = Math.min(sizing.max, Math.max(sizing.min, Math.round(want / MiB) * MiB));
    }
    for (let i = 0; i < opts.reps; i++) {
      const c0 = pid === undefined ? undefined : cpuSeconds(pid);
      const t0 = performance.now();
      const s = await run(bytes, timeoutMs);
      const wall = (performance.now() - t0) / 1000;
      const c1 = pid === undefined ? undefined : cpuSeconds(pid);
      samples.push(round(mbps(s), 2));
      if (c0 !== undefined && c1 !== undefined) cpu.push((100 * (c1 - c0)) / wall);
    }
  } catch (e) {
    return {
      mbps: null,
      samples,
      bytes,
      ...(pid === undefined ? {} : { cpuPct: null }),
      error: (e as Error).message.split("\n")[0],
    };
  }
  const m = median(samples);
  const c = median(cpu);
  return {
    mbps: m === null ? null : round(m, 2),
    samples,
    bytes,
    ...(pid === undefined ? {} : { cpuPct: c === null ? null : round(c, 1) }),
  };
}

function runner(
  direction: Direction,
  netns: string,
  host: string,
): (bytes: number, timeoutMs: number) => Promise<Sample> {
  return direction === "download"
    ? (bytes, timeoutMs) => download(netns, host, bytes, timeoutMs)
    : (bytes, timeoutMs) => upload(netns, host, DISCARD_PORT, bytes, timeoutMs);
}

/** The kernel's non-zero TCP counters in `netns` (nstat, absolute since the namespace was made). */
async function tcpCounters(netns: string): Promise<Record<string, number>> {
  const r = await nsExec(netns, ["nstat", "-asz"], 5000);
  const out: Record<string, number> = {};
  for (const line of r.stdout.split("\n")) {
    const [name, value] = line.trim().split(/\s+/);
    if (name === undefined || !/^Tcp/.test(name) || Number(value) === 0) continue;
    out[name] = Number(value);
  }
  return out;
}

function failed(error: string): SideResult {
  return { mbps: null, samples: [], bytes: 0, error };
}

function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    return m?.[1]?.trim() ?? "unknown";
  } catch {
    return "unknown";
  }
}

function gitDescribe(): string {
  const head = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], {
    cwd: ROOT,
    stderr: "ignore",
  });
  const dirty = Bun.spawnSync(["git", "status", "--porcelain", "--untracked-files=no"], {
    cwd: ROOT,
    stderr: "ignore",
  });
  const rev = head.stdout.toString().trim() || "unknown";
  return dirty.stdout.toString().trim() === "" ? rev : `${rev} (uncommitted changes)`;
}

const shellQuote = (a: string) =>
  /^[\w./:=,%+-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`;

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  if (process.getuid?.() !== 0) {
    console.error("bench: needs root (network namespaces and a TUN device): run it with sudo");
    return 2;
  }
  const started = performance.now();
  // The simulated cases first: CPU-bound, no namespaces yet (a Ctrl-C here
  // needs no cleanup, so the signal handlers come after), nothing else running.
  const sim: SimBenchResult | null = opts.sim
    ? runSimBench({ ...(opts.quick ? SIM_QUICK : SIM_FULL), log: (s) => console.error(s) })
    : null;
  const reassembly: ReassemblyBench | null = opts.sim ? runReassemblyBench() : null;
  if (reassembly !== null) console.error(reassemblyText(reassembly));
  const tag = String(process.pid);
  const serveNetns = `tcplab-bench-s${tag}`;
  let pair: KernelPair | undefined;
  let serve: ServeProc | undefined;

  // Ctrl-C: stop serve (it removes its namespace) and the baseline's namespaces.
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\nbench: ${sig}, cleaning up`);
    void (async () => {
      await serve?.stop();
      await pair?.remove();
      process.exit(sig === "SIGINT" ? 130 : 143);
    })();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const cases: CaseResult[] = [];
  const tunCounters: Record<string, Record<string, number>> = {};
  const kernelCounters: Record<string, Record<string, number>> = {};
  let small: SmallBench | null = null;
  let idleFresh: IdleSample | null = null;
  let idleAfter: IdleSample | null = null;
  const idleMtu = opts.mtus[0] ?? 1500;
  let serveArgv: readonly string[] = [...opts.serveCmd, "--netns", serveNetns, "--mtu", "MTU"];
  let kernelServers: readonly string[] = [];
  const log = (s: string) => console.error(s);
  try {
    log(`bench: kernel baseline namespaces (veth pair)…`);
    pair = await createKernelPair(tag);
    kernelServers = pair.serverCommands;
    for (const mtu of opts.mtus) {
      await pair.setMtu(mtu);
      const kernel: Partial<Record<Direction, SideResult>> = {};
      for (const dir of ["download", "upload"] as const) {
        log(`bench: kernel ${dir} MTU ${mtu}…`);
        kernel[dir] = await measure(
          runner(dir, pair.client.name, KERNEL_SERVER_ADDR),
          KERNEL_SIZING,
          opts,
        );
      }
      log(`bench: tcplab serve MTU ${mtu}…`);
      const tcplab: Partial<Record<Direction, SideResult>> = {};
      try {
        serve = await startServe(opts.serveCmd, serveNetns, mtu);
        serveArgv = serve.argv;
        const addr = serve.info.addr || TCPLAB_ADDR;
        if (mtu === idleMtu) {
          log(`bench: idle ${opts.idleSeconds} s…`);
          idleFresh = await measureIdle(serve.pid, opts.idleSeconds);
        }
        for (const dir of ["download", "upload"] as const) {
          log(`bench: tcplab ${dir} MTU ${mtu}…`);
          tcplab[dir] = await measure(
            runner(dir, serveNetns, addr),
            TCPLAB_SIZING,
            opts,
            serve.pid,
          );
          if (!serve.alive()) {
            tcplab[dir] = failed(
              `tcplab serve exited during the run: ${serve.stderrTail().trim().split("\n").pop() ?? ""}`,
            );
            break;
          }
        }
        // The kernel's view of the runs at this MTU (the namespace is new per serve).
        kernelCounters[String(mtu)] = await tcpCounters(serveNetns);
        if (mtu === idleMtu && serve.alive() && opts.small) {
          small = await runSmallBench(serve, serveNetns, pair, opts.quick, log);
        }
        if (mtu === idleMtu && serve.alive()) {
          log(`bench: idle after load ${opts.idleSeconds} s…`);
          idleAfter = await measureIdle(serve.pid, opts.idleSeconds);
        }
      } catch (e) {
        const why = (e as Error).message.split("\n").slice(0, 2).join(" ");
        tcplab.download ??= failed(why);
        tcplab.upload ??= failed(why);
      } finally {
        await serve?.stop();
        const tun = serve?.stoppedInfo()?.tun;
        if (typeof tun === "object" && tun !== null)
          tunCounters[String(mtu)] = tun as Record<string, number>;
        serve = undefined;
      }
      for (const dir of ["download", "upload"] as const) {
        const t = tcplab[dir] ?? failed("not run");
        const k = kernel[dir] ?? failed("not run");
        const ratio =
          t.mbps !== null && k.mbps !== null && k.mbps > 0 ? round(t.mbps / k.mbps, 4) : null;
        cases.push({ name: `${dir}-mtu${mtu}`, direction: dir, mtu, tcplab: t, kernel: k, ratio });
      }
    }
  } finally {
    await serve?.stop();
    await pair?.remove();
  }

  const simOk =
    sim === null ||
    (sim.cases.every((c) => c.medianMbps !== null) && sim.steady.every((x) => x.ok));
  // The reassembly ratio is a figure of a full run; a quick run only smoke-tests it.
  const reassemblyOk = reassembly === null || opts.quick || reassembly.ok;
  const ok =
    simOk && reassemblyOk && cases.every((c) => c.tcplab.mbps !== null && c.kernel.mbps !== null);
  const maxSeconds =
    Math.floor((opts.quick ? QUICK_TIMEOUT_MS : TCPLAB_SIZING.timeoutMs) / 1000) - 1;
  const result: BenchResult = {
    date: new Date().toISOString(),
    quick: opts.quick,
    repetitions: opts.reps,
    machine: { nproc: navigator.hardwareConcurrency, cpuModel: cpuModel(), kernel: release() },
    bun: `${Bun.version} (${Bun.revision.slice(0, 9)})`,
    git: gitDescribe(),
    cases,
    small,
    idle: { fresh: idleFresh, afterLoad: idleAfter, mtu: idleMtu },
    tunCounters,
    kernelCounters,
    commands: {
      bench: ["bun", "scripts/bench.ts", ...process.argv.slice(2)].map(shellQuote).join(" "),
      "tcplab serve (one per MTU)": serveArgv
        .map(shellQuote)
        .join(" ")
        .replace(process.execPath, "bun")
        .replace(`${ROOT}/`, ""),
      "tcplab download": `ip netns exec ${serveNetns} ${downloadArgv(TCPLAB_ADDR, 0, maxSeconds).map(shellQuote).join(" ").replace("/bytes/0", "/bytes/N")}`,
      "tcplab upload": `ip netns exec ${serveNetns} sh -c ${shellQuote(uploadScript(TCPLAB_ADDR, DISCARD_PORT, "N", maxSeconds))}`,
      "kernel baseline namespaces": `ip netns add tcplab-bench-a${tag}; ip netns add tcplab-bench-b${tag}; ip netns exec tcplab-bench-a${tag} ip link add bench-a type veth peer name bench-b netns tcplab-bench-b${tag}; addresses 10.9.0.1/24 and 10.9.0.2/24; ip link set … mtu MTU on both ends`,
      "kernel servers (in tcplab-bench-b)": kernelServers.join("\n"),
      "kernel download": `ip netns exec tcplab-bench-a${tag} ${downloadArgv(KERNEL_SERVER_ADDR, 0, maxSeconds).map(shellQuote).join(" ").replace("/bytes/0", "/bytes/N")}`,
      "kernel upload": `ip netns exec tcplab-bench-a${tag} sh -c ${shellQuote(uploadScript(KERNEL_SERVER_ADDR, DISCARD_PORT, "N", maxSeconds))}`,
      "idle CPU": `utime+stime of /proc/<serve pid>/stat and voluntary_ctxt_switches of /proc/<serve pid>/task/*/status over ${opts.idleSeconds} s`,
      ...(small === null ? {} : small.commands),
      ...(sim === null ? {} : sim.commands),
      ...(reassembly === null ? {} : { "reassembly (no root)": reassembly.command }),
    },
    sim,
    reassembly,
    durationSeconds: round((performance.now() - started) / 1000, 1),
    ok,
  };
  mkdirSync(opts.out, { recursive: true });
  writeFileSync(join(opts.out, "latest.json"), `${JSON.stringify(result, null, 2)}\n`);
  // The load section (scripts/load.ts) stays: it is measured by its own run.
  const latestPath = join(opts.out, "latest.md");
  const load = existsSync(latestPath) ? loadSectionOf(readFileSync(latestPath, "utf8")) : undefined;
  const page = markdown(result);
  writeFileSync(latestPath, load === undefined ? page : mergeIntoLatest(page, load));
  console.log(textTable(result));
  console.log(
    `\nwrote ${join(opts.out, "latest.json")} and latest.md (${result.durationSeconds} s)`,
  );
  return ok ? 0 : 1;
}

process.exit(await main());
