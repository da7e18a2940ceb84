/**
 * Guided labs: starting one, showing a step, checking it, and running a whole
 * lab file unattended (each step's commands, then its checks) — which is how
 * every file in labs/ becomes a test, in each world it has steps for.
 */
import { type CheckResult, checkExpect } from "./lab-checks.ts";
import { type LabFile, stepsFor, type WorldStep, worldsOf } from "./lab-file.ts";
import type { LabEngine } from "./session.ts";
import type { Block, Line } from "./view.ts";

/** Why `lab` cannot run in the engine's world, if it cannot. */
export function unavailableIn(engine: LabEngine, lab: LabFile): string | undefined {
  const kind = engine.world.kind;
  if (stepsFor(lab, kind).some((s) => s.commands.length + s.expects.length > 0)) return undefined;
  const worlds = worldsOf(lab);
  return `lab ${lab.name} has no steps for the ${kind} world (it has: ${worlds.join(", ") || "none"})`;
}

export async function startLab(engine: LabEngine, lab: LabFile): Promise<void> {
  await engine.resetWorld();
  engine.lab = {
    lab,
    steps: stepsFor(lab, engine.world.kind),
    step: 0,
    mark: engine.world.log.length,
  };
}

export function currentStep(engine: LabEngine): WorldStep | undefined {
  const p = engine.lab;
  return p === undefined ? undefined : p.steps[p.step];
}

/** Checks of the current step, evaluated now. */
export function checkStep(engine: LabEngine): CheckResult[] {
  const p = engine.lab;
  const step = currentStep(engine);
  if (p === undefined || step === undefined) return [];
  return step.expects.map((e) => checkExpect(engine, e, p.mark));
}

/** Moves to step `index` (clamped); `segment` checks look from here on. */
export function gotoStep(engine: LabEngine, index: number): void {
  const p = engine.lab;
  if (p === undefined) return;
  p.step = Math.max(0, Math.min(index, p.steps.length - 1));
  p.mark = engine.world.log.length;
}

/** The step as the learner sees it: what happens, what to type, what to look at. */
export function stepBlock(engine: LabEngine): Block {
  const p = engine.lab;
  const step = currentStep(engine);
  if (p === undefined || step === undefined) return { kind: "text", lines: [] };
  const lines: Line[] = [
    [{ text: `Step ${p.step + 1}/${p.steps.length}: ${step.title}`, tone: "accent" }],
  ];
  for (const l of step.before) lines.push([{ text: l }]);
  if (step.commands.length > 0) {
    lines.push([{ text: "" }], [{ text: "Type:", tone: "muted" }]);
    for (const c of step.commands) lines.push([{ text: `  ${c}`, tone: "accent" }]);
  }
  if (step.after.length > 0) {
    lines.push([{ text: "" }]);
    for (const l of step.after) lines.push([{ text: l }]);
  }
  if (step.expects.length > 0) {
    lines.push(
      [{ text: "" }],
      [{ text: `\`next\` checks: ${step.expects.join("; ")}`, tone: "muted" }],
    );
  }
  return { kind: "text", lines };
}

export function checkBlock(results: readonly CheckResult[]): Block {
  if (results.length === 0)
    return { kind: "text", lines: [[{ text: "nothing to check in this step", tone: "muted" }]] };
  return {
    kind: "text",
    lines: results.map((r) => [
      { text: r.ok ? "✓ " : "✗ ", tone: r.ok ? "good" : "bad" },
      { text: r.message, tone: r.ok ? "normal" : "bad" },
    ]),
  };
}

export interface StepReport {
  readonly title: string;
  readonly commands: readonly { readonly line: string; readonly errors: readonly string[] }[];
  readonly checks: readonly CheckResult[];
  readonly ok: boolean;
}

export interface LabRunReport {
  readonly lab: string;
  readonly world: string;
  readonly ok: boolean;
  readonly steps: readonly StepReport[];
  /** Why the lab could not start, if it could not. */
  readonly error?: string;
}

export interface RunLabOptions {
  /**
   * How long (real ms) a step's checks may take to come true. The kernel
   * answers in real time, a little after the command that provoked it, so in
   * the kernel world checks are retried for up to 3 s; the simulated world
   * is exact (0: checked once).
   */
  readonly settleMs?: number;
}

const SETTLE_POLL_MS = 20;

/**
 * Runs every step of `lab` in `engine`'s world: its commands, then its
 * checks. A command that answers with an error fails its step. Stops at
 * the first failing step.
 */
export async function runLab(
  engine: LabEngine,
  lab: LabFile,
  opts: RunLabOptions = {},
): Promise<LabRunReport> {
  const world = engine.world.kind;
  const why = unavailableIn(engine, lab);
  if (why !== undefined) return { lab: lab.name, world, ok: false, steps: [], error: why };
  await startLab(engine, lab);
  const all = engine.lab?.steps ?? [];
  const settle = opts.settleMs ?? (engine.world.kind === "kernel" ? 3000 : 0);
  const steps: StepReport[] = [];
  for (let i = 0; i < all.length; i++) {
    gotoStep(engine, i);
    const step = all[i] as WorldStep;
    const commands: { line: string; errors: string[] }[] = [];
    for (const line of step.commands) {
      const r = await engine.execute(line);
      const errors = r.blocks.flatMap((b) => (b.kind === "error" ? [b.message] : []));
      commands.push({ line, errors });
    }
    let checks = checkStep(engine);
    const deadline = performance.now() + settle;
    while (!checks.every((c) => c.ok) && performance.now() < deadline) {
      await Bun.sleep(SETTLE_POLL_MS);
      checks = checkStep(engine);
    }
    const ok = commands.every((c) => c.errors.length === 0) && checks.every((c) => c.ok);
    steps.push({ title: step.title, commands, checks, ok });
    if (!ok) break;
  }
  engine.lab = undefined;
  const ok = steps.length === all.length && steps.every((s) => s.ok);
  return { lab: lab.name, world, ok, steps };
}

/** A failing report in a few lines (for test output). */
export function formatReport(report: LabRunReport): string {
  const out: string[] = [
    `lab ${report.lab} (${report.world} world): ${report.ok ? "passed" : "FAILED"}`,
  ];
  if (report.error !== undefined) out.push(`  ${report.error}`);
  report.steps.forEach((s, i) => {
    out.push(`  step ${i + 1} ${s.ok ? "ok" : "FAILED"}: ${s.title}`);
    for (const c of s.commands) for (const e of c.errors) out.push(`    ${c.line}: ${e}`);
    for (const c of s.checks) if (!c.ok) out.push(`    ✗ ${c.message}`);
  });
  return out.join("\n");
}
