/**
 * The bench's result record, its text table, and its Markdown page.
 * Throughput is MB/s = 10^6 bytes per second; sizes are in MiB.
 */
import type { IdleSample } from "./proc-stat.ts";
import { type ReassemblyBench, reassemblyMarkdown, reassemblyText } from "./reassembly.ts";
import { type SimBenchResult, simMarkdown, simText } from "./sim.ts";
import { SMALL_HEAD, type SmallBench, smallRows } from "./small.ts";
import type { Direction } from "./transfer.ts";

export interface SideResult {
  /** Median throughput, MB/s; null if the case failed. */
  readonly mbps: number | null;
  /** Every repetition's throughput, MB/s, in run order. */
  readonly samples: readonly number[];
  /** Bytes per repetition. */
  readonly bytes: number;
  /** Median CPU of `tcplab serve` during a repetition, % of one core (tcplab side only). */
  readonly cpuPct?: number | null;
  readonly error?: string;
}

export interface CaseResult {
  readonly name: string;
  readonly direction: Direction;
  readonly mtu: number;
  readonly tcplab: SideResult;
  readonly kernel: SideResult;
  /** tcplab / kernel medians. */
  readonly ratio: number | null;
}

export interface BenchResult {
  readonly date: string;
  readonly quick: boolean;
  readonly repetitions: number;
  readonly machine: {
    readonly nproc: number;
    readonly cpuModel: string;
    readonly kernel: string;
  };
  readonly bun: string;
  readonly git: string;
  readonly cases: readonly CaseResult[];
  readonly idle: {
    /** Right after serve printed ready, nothing ever sent. */
    readonly fresh: IdleSample | null;
    /** After the transfers at that MTU finished. */
    readonly afterLoad: IdleSample | null;
    readonly mtu: number;
  };
  /** serve's TUN counters at exit, per MTU (all runs at that MTU together). */
  readonly tunCounters: Record<string, Record<string, number>>;
  /** The kernel's TCP counters (nstat) in serve's namespace after the runs, per MTU. */
  readonly kernelCounters: Record<string, Record<string, number>>;
  readonly commands: Record<string, string>;
  /** Request/response, connections/s, ping, idle memory (MTU 1500), null if not run. */
  readonly small: SmallBench | null;
  /** The simulated-wire cases (congestion control, window scaling), null if skipped. */
  readonly sim: SimBenchResult | null;
  /** Out-of-order reassembly against a hostile peer (simulated, with the sim cases), null if skipped. */
  readonly reassembly: ReassemblyBench | null;
  readonly durationSeconds: number;
  readonly ok: boolean;
}

export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1
    ? (s[mid] as number)
    : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

function fmt(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined ? "—" : x.toFixed(digits);
}

function mib(bytes: number): string {
  const m = bytes / 2 ** 20;
  return Number.isInteger(m) ? `${m}` : m.toFixed(2);
}

function rows(r: BenchResult): string[][] {
  return r.cases.map((c) => [
    `${c.direction} MTU ${c.mtu}`,
    c.tcplab.error !== undefined ? "FAILED" : fmt(c.tcplab.mbps),
    c.kernel.error !== undefined ? "FAILED" : fmt(c.kernel.mbps),
    fmt(c.ratio, 3),
    fmt(c.tcplab.cpuPct, 0),
    `${mib(c.tcplab.bytes)} / ${mib(c.kernel.bytes)}`,
  ]);
}

const HEAD = [
  "case",
  "tcplab MB/s",
  "kernel MB/s",
  "ratio",
  "tcplab CPU %",
  "MiB per run (tcplab / kernel)",
];

function idleLine(label: string, s: IdleSample | null): string {
  if (s === null) return `${label}: not measured`;
  return `${label}: ${fmt(s.cpuPct, 2)} % of one core, ${s.wakeups} wake-ups in ${fmt(s.seconds, 1)} s (${fmt(s.wakeupsPerSecond, 1)}/s, ${s.threads} threads)`;
}

/** Columns padded to their widest cell: the first to the left, the rest to the right. */
function aligned(head: string[], body: string[][]): string[] {
  const all = [head, ...body];
  const widths = head.map((_, i) => Math.max(...all.map((row) => (row[i] ?? "").length)));
  const line = (row: string[]) =>
    row
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join("  ");
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)];
}

export function textTable(r: BenchResult): string {
  const out = aligned(HEAD, rows(r));
  if (r.small !== null) out.push("", ...aligned(SMALL_HEAD, smallRows(r.small)));
  out.push("");
  out.push(idleLine(`idle tcplab serve (MTU ${r.idle.mtu}), fresh`, r.idle.fresh));
  out.push(idleLine(`idle tcplab serve (MTU ${r.idle.mtu}), after load`, r.idle.afterLoad));
  for (const f of r.small?.figures ?? [])
    if (f.error !== undefined) out.push(`${f.name}: ${f.error}`);
  for (const c of r.cases) {
    for (const [side, s] of [
      ["tcplab", c.tcplab],
      ["kernel", c.kernel],
    ] as const) {
      if (s.error !== undefined) out.push(`${c.name} ${side}: ${s.error}`);
    }
  }
  if (r.sim !== null) out.push("", simText(r.sim));
  if (r.reassembly !== null) out.push("", reassemblyText(r.reassembly));
  return out.join("\n");
}

export function markdown(r: BenchResult): string {
  const md: string[] = [];
  md.push("# tcplab bench");
  md.push("");
  md.push(
    `${r.date} · ${r.machine.nproc} × ${r.machine.cpuModel} · Linux ${r.machine.kernel} · Bun ${r.bun} · git ${r.git}${r.quick ? " · **quick run (small sizes, one repetition: not a measurement)**" : ""}`,
  );
  md.push("");
  md.push(
    `Median of ${r.repetitions} run(s) per case. MB/s = 10^6 bytes/s. tcplab is \`tcplab serve\` on a TUN device, the Linux kernel in its namespace the peer; the baseline is kernel to kernel over a veth pair between two namespaces, with the same client tools. ratio = tcplab / kernel. tcplab CPU = serve's utime+stime during a run, % of one core.`,
  );
  md.push("");
  md.push(`| ${HEAD.join(" | ")} |`);
  md.push(`|${HEAD.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`);
  for (const row of rows(r)) md.push(`| ${row.join(" | ")} |`);
  md.push("");
  md.push(`- ${idleLine(`Idle \`tcplab serve\` (MTU ${r.idle.mtu}), fresh`, r.idle.fresh)}`);
  md.push(
    `- ${idleLine(`Idle \`tcplab serve\` (MTU ${r.idle.mtu}), after load`, r.idle.afterLoad)}`,
  );
  md.push("");
  if (r.small !== null) {
    md.push(
      "Small packets at MTU 1500, each beside the kernel over the veth pair in the same run (scripts/bench/small.ts):",
    );
    md.push("");
    md.push(`| ${SMALL_HEAD.join(" | ")} |`);
    md.push(`|${SMALL_HEAD.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`);
    for (const row of smallRows(r.small)) md.push(`| ${row.join(" | ")} |`);
    md.push("");
    for (const f of r.small.figures) {
      const more = [f.note, f.error].filter((x) => x !== undefined).join("; ");
      if (more !== "") md.push(`- ${f.name}: ${more}`);
    }
    md.push("");
  }
  md.push("Every repetition, MB/s:");
  md.push("");
  for (const c of r.cases) {
    const t = c.tcplab.error ?? c.tcplab.samples.map((x) => x.toFixed(1)).join(", ");
    const k = c.kernel.error ?? c.kernel.samples.map((x) => x.toFixed(1)).join(", ");
    md.push(`- ${c.name}: tcplab ${t}; kernel ${k}`);
  }
  md.push("");
  if (r.sim !== null) md.push(simMarkdown(r.sim));
  if (r.reassembly !== null) md.push(reassemblyMarkdown(r.reassembly));
  md.push("## Commands");
  md.push("");
  md.push("```sh");
  for (const [k, v] of Object.entries(r.commands)) md.push(`# ${k}\n${v}`);
  md.push("```");
  md.push("");
  md.push(`Bench wall time ${r.durationSeconds.toFixed(0)} s.`);
  md.push("");
  return md.join("\n");
}
