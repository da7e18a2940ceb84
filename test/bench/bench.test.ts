/**
 * Smoke test of the bench harness (not of speed: no thresholds on figures).
 * Runs `bun scripts/bench.ts --quick` as root and checks the results file:
 * every case is there, with a positive tcplab figure and a positive kernel
 * baseline measured in the same run, plus idle CPU, and the simulated-wire
 * table (congestion control and window scaling) with its model figures. Under CI=true it always
 * runs; elsewhere without root it is skipped with the reason.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { BenchResult } from "../../scripts/bench/report.ts";
import { SIM_CASES } from "../../scripts/bench/sim.ts";

const isRoot = process.getuid?.() === 0;
const inCi = process.env.CI === "true";
const skip = !isRoot && !inCi;
if (skip) console.warn("test/bench: skipped, the bench needs root (network namespaces and TUN)");

const ROOT = resolve(import.meta.dir, "../..");
const out = mkdtempSync(join(tmpdir(), "tcplab-bench-test-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const MTUS = [1500, 9000, 65535];
const DIRECTIONS = ["download", "upload"] as const;

describe.skipIf(skip)("bun scripts/bench.ts --quick", () => {
  test("writes every case with tcplab and kernel figures, idle CPU and the commands", async () => {
    const proc = Bun.spawn(
      [process.execPath, join(ROOT, "scripts/bench.ts"), "--quick", "--out", out],
      {
        cwd: ROOT,
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    const timer = setTimeout(() => proc.kill("SIGKILL"), 100_000);
    const [stdout, stderr] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
    ]);
    await proc.exited;
    clearTimeout(timer);
    if (proc.exitCode !== 0) console.error(stdout, stderr);
    expect(proc.exitCode).toBe(0);

    expect(existsSync(join(out, "latest.md"))).toBe(true);
    const r = JSON.parse(readFileSync(join(out, "latest.json"), "utf8")) as BenchResult;
    expect(r.quick).toBe(true);
    expect(r.ok).toBe(true);
    const names = r.cases.map((c) => c.name).sort();
    expect(names).toEqual(MTUS.flatMap((m) => DIRECTIONS.map((d) => `${d}-mtu${m}`)).sort());
    for (const c of r.cases) {
      expect(c.tcplab.error).toBeUndefined();
      expect(c.kernel.error).toBeUndefined();
      expect(c.tcplab.mbps).toBeGreaterThan(0);
      expect(c.kernel.mbps).toBeGreaterThan(0);
      expect(c.tcplab.samples.length).toBe(1);
      expect(c.kernel.samples.length).toBe(1);
      expect(c.tcplab.bytes).toBeGreaterThan(0);
      expect(c.ratio).toBeCloseTo((c.tcplab.mbps ?? 0) / (c.kernel.mbps ?? 1), 3);
    }
    for (const idle of [r.idle.fresh, r.idle.afterLoad]) {
      expect(idle).not.toBeNull();
      expect(idle?.cpuPct).toBeGreaterThanOrEqual(0);
      expect(idle?.seconds).toBeGreaterThan(0.5);
    }
    expect(r.machine.nproc).toBeGreaterThan(0);
    expect(r.bun).toContain(Bun.version);
    for (const key of ["tcplab download", "tcplab upload", "kernel download", "kernel upload"]) {
      expect(r.commands[key]).toBeString();
    }
    // The table people quote is in the Markdown report too.
    const md = readFileSync(join(out, "latest.md"), "utf8");
    for (const c of r.cases) expect(md).toContain(`${c.direction} MTU ${c.mtu}`);
    // The simulated cases: every one ran (one seed in a quick run) and is in the Markdown table.
    const sim = r.sim;
    expect(sim).not.toBeNull();
    if (sim !== null) {
      expect(sim.cases.map((c) => c.id)).toEqual(SIM_CASES.map((c) => c.id));
      for (const c of sim.cases) {
        expect(c.runs).toHaveLength(1);
        expect(c.runs[0]?.ok).toBe(true);
        expect(c.medianMbps).toBeGreaterThan(0);
        // Goodput can never beat the 100 Mbit/s bottleneck.
        expect(c.medianMbps).toBeLessThanOrEqual(100);
      }
      // The Mathis bound at 0.1% loss, 50 ms, MSS 1448: √1500 · 1448 B / 50 ms ≈ 8.97 Mbit/s.
      expect(sim.models[0]?.renoMbps).toBeCloseTo(8.97, 1);
      expect(sim.steady).toEqual([]); // no long runs in a quick run
      expect(md).toContain("## Simulated wire");
      expect(md).toContain("| cubic, 64 KiB, no wscale | 0 |");
      expect(md).toContain("### What the models allow");
    }
    // Nothing of the run is left behind.
    const leftovers = Bun.spawnSync(["ip", "netns", "list"]).stdout.toString();
    expect(leftovers).not.toMatch(new RegExp(`tcplab-bench-[abs]${proc.pid}\\b`));
  }, 120_000);
});
