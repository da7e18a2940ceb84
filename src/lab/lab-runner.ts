/**
 * Guided labs: starting one, and running a whole lab file unattended (each
 * step's commands, its question answered with what the stack shows, then
 * its checks) — which is how every file in labs/ becomes a test, in each
 * world it has steps for, and what `tcplab lab check` runs.
 */
import { GuidedLab } from "./guide.ts";
import type { CheckResult } from "./lab-checks.ts";
import { type LabFile, stepsFor, type WorldStep, worldsOf } from "./lab-file.ts";
import { readAnswer, truthAsAnswer, truthOf } from "./questions.ts";
import type { LabEngine } from "./session.ts";

/** Why `lab` cannot run in the engine's world, if it cannot. */
export function unavailableIn(engine: LabEngine, lab: LabFile): string | undefined {
  const kind = engine.world.kind;
  if (stepsFor(lab, kind).some((s) => s.commands.length + s.expects.length > 0)) return undefined;
  const worlds = worldsOf(lab);
  return `lab ${lab.name} has no steps for the ${kind} world (it has: ${worlds.join(", ") || "none"})`;
}

/** Starts `lab` in a fresh world, at its first step. */
export async function startLab(engine: LabEngine, lab: LabFile): Promise<GuidedLab> {
  await engine.resetWorld();
  const guide = new GuidedLab(
    lab,
    stepsFor(lab, engine.world.kind),
    engine.world.log.length,
    engine.clock.now(),
  );
  engine.lab = guide;
  return guide;
}

export function currentStep(engine: LabEngine): WorldStep | undefined {
  return engine.lab?.current;
}

/** Checks of the current step, evaluated now. */
export function checkStep(engine: LabEngine): CheckResult[] {
  return engine.lab?.check(engine.checkContext()) ?? [];
}

/** Moves to step `index` (clamped); checks look from here on. */
export function gotoStep(engine: LabEngine, index: number): void {
  engine.lab?.goto(index, engine.world.log.length, engine.clock.now());
}

export interface StepReport {
  readonly title: string;
  readonly commands: readonly { readonly line: string; readonly errors: readonly string[] }[];
  readonly checks: readonly CheckResult[];
  /** The question's answer as the stack showed it, when the step asks one. */
  readonly answered?: string;
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
  /** Run only the first N steps (resuming a lab replays the steps before). */
  readonly steps?: number;
  /** Keep the lab running afterwards (resume), instead of ending it. */
  readonly keep?: boolean;
}

const SETTLE_POLL_MS = 20;

/**
 * Runs every step of `lab` in `engine`'s world: its commands, then the
 * answer to its question (the value the stack shows, read as a learner's
 * answer would be), then its checks. A command that answers with an error,
 * a question whose answer the stack cannot show, or a failing check fails
 * its step. Stops at the first failing step.
 */
export async function runLab(
  engine: LabEngine,
  lab: LabFile,
  opts: RunLabOptions = {},
): Promise<LabRunReport> {
  const world = engine.world.kind;
  const why = unavailableIn(engine, lab);
  if (why !== undefined) return { lab: lab.name, world, ok: false, steps: [], error: why };
  const guide = await startLab(engine, lab);
  const all = guide.steps.slice(0, opts.steps ?? guide.steps.length);
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
    const deadline = performance.now() + settle;
    const answered = await answerWithTruth(engine, guide, i, deadline);
    let checks = guide.check(engine.checkContext());
    while (!checks.every((c) => c.ok) && performance.now() < deadline) {
      await Bun.sleep(SETTLE_POLL_MS);
      checks = guide.check(engine.checkContext());
    }
    if (answered !== undefined && "error" in answered) {
      checks = [...checks, { ok: false, message: `the question's answer: ${answered.error}` }];
    }
    // The step's pictures, once its checks hold: a show: line that cannot draw fails the step.
    if (checks.every((c) => c.ok)) {
      for (const line of step.shows) {
        const shown = await engine.show(line);
        const errors = shown.flatMap((b) => (b.kind === "error" ? [b.message] : []));
        commands.push({ line: `show: ${line}`, errors });
      }
    }
    const ok = commands.every((c) => c.errors.length === 0) && checks.every((c) => c.ok);
    steps.push({
      title: step.title,
      commands,
      checks,
      ...(answered !== undefined && "text" in answered ? { answered: answered.text } : {}),
      ok,
    });
    if (!ok) break;
  }
  if (!opts.keep) engine.lab = undefined;
  const ok = steps.length === all.length && steps.every((s) => s.ok);
  return { lab: lab.name, world, ok, steps };
}

/** Answers step `i`'s question with what the stack shows (waiting up to `deadline` for it). */
async function answerWithTruth(
  engine: LabEngine,
  guide: GuidedLab,
  i: number,
  deadline: number,
): Promise<{ text: string } | { error: string } | undefined> {
  const q = guide.steps[i]?.question;
  if (q === undefined) return undefined;
  const ctx = engine.checkContext();
  let truth = truthOf(q, ctx, guide.mark);
  while ("pending" in truth && performance.now() < deadline) {
    await Bun.sleep(SETTLE_POLL_MS);
    truth = truthOf(q, engine.checkContext(), guide.mark);
  }
  if ("pending" in truth) return { error: truth.pending };
  const text = truthAsAnswer(truth);
  const answer = readAnswer(q.kind, text, ctx);
  if ("error" in answer)
    return { error: `the stack's own value does not read as an answer: ${answer.error}` };
  guide.predictions.set(i, { answer, late: true, judged: undefined });
  const j = guide.judgeCurrent(engine.checkContext());
  if (j === undefined || !j.right)
    return { error: `the stack's value ${text} was not judged right` };
  return { text };
}

/** A failing report in a few lines (for test output and `tcplab lab check`). */
export function formatReport(report: LabRunReport): string {
  const out: string[] = [
    `lab ${report.lab} (${report.world} world): ${report.ok ? "passed" : "FAILED"}`,
  ];
  if (report.error !== undefined) out.push(`  ${report.error}`);
  report.steps.forEach((s, i) => {
    out.push(`  step ${i + 1} ${s.ok ? "ok" : "FAILED"}: ${s.title}`);
    for (const c of s.commands) for (const e of c.errors) out.push(`    ${c.line}: ${e}`);
    for (const c of s.checks) {
      if (c.ok) continue;
      out.push(`    ✗ ${c.message}`);
      if (c.hint !== undefined) out.push(`      hint: ${c.hint}`);
    }
  });
  return out.join("\n");
}
