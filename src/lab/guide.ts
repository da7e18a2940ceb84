/**
 * A guided lab in progress: which step the learner is on, where in the
 * world's log that step began, the prediction they made for it and how it
 * was judged, and the score. The step's text is rendered here too (Markdown
 * through markdown.ts), so the screen, the pipe and tests read the same.
 */
import type { CheckContext, CheckResult } from "./lab-checks.ts";
import { checkExpect } from "./lab-checks.ts";
import type { LabFile, WorldStep } from "./lab-file.ts";
import { markdownLines } from "./markdown.ts";
import {
  ANSWER_USAGE,
  type Answer,
  type Judgement,
  judge,
  type Question,
  truthOf,
} from "./questions.ts";
import type { Block, Line } from "./view.ts";

export interface Prediction {
  readonly answer: Answer;
  /** The world had moved on in this step before the answer: it is an observation, not a prediction. */
  readonly late: boolean;
  judged: Judgement | undefined;
}

export class GuidedLab {
  step = 0;
  /** Log position when the current step began: checks look from here. */
  mark: number;
  /** Clock reading when the current step began (a step that only waits moves the clock). */
  markTime: number;
  /** Predictions by step index. */
  readonly predictions = new Map<number, Prediction>();
  /** Resumed labs: the score of the steps replayed, carried from the earlier run. */
  private carried = { from: 0, asked: 0, right: 0 };

  constructor(
    readonly lab: LabFile,
    /** The lab's steps in this session's world (stepsFor). */
    readonly steps: readonly WorldStep[],
    mark: number,
    now: number,
  ) {
    this.mark = mark;
    this.markTime = now;
  }

  get current(): WorldStep | undefined {
    return this.steps[this.step];
  }

  get finished(): boolean {
    return this.step + 1 >= this.steps.length;
  }

  /** Moves to step `index` (clamped); checks look from here on. */
  goto(index: number, mark: number, now: number): void {
    this.step = Math.max(0, Math.min(index, this.steps.length - 1));
    this.mark = mark;
    this.markTime = now;
  }

  /** Continues a lab from step `index` with the score its earlier run had for the steps before. */
  resumeAt(index: number, score: { asked: number; right: number }): void {
    this.predictions.clear();
    this.carried = { from: index, ...score };
  }

  /**
   * The questions judged so far and how many were predicted right (before
   * their step ran), over the steps before index `before` (default: up to
   * and including the current one).
   */
  score(before = this.step + 1): { asked: number; right: number; late: number } {
    let { asked, right } = this.carried;
    let late = 0;
    this.steps.forEach((s, i) => {
      if (s.question === undefined || i < this.carried.from || i >= before || i > this.step) return;
      const p = this.predictions.get(i);
      if (p?.judged === undefined) {
        if (i < this.step) asked++; // passed without an answer
        return;
      }
      asked++;
      if (p.late) late++;
      else if (p.judged.right) right++;
    });
    return { asked, right, late };
  }

  /** The current step's checks, evaluated now. */
  check(ctx: CheckContext): CheckResult[] {
    const step = this.current;
    if (step === undefined) return [];
    const q = step.question;
    if (q !== undefined && this.predictions.get(this.step) === undefined) {
      // The checks would show the answer: nothing else is said until the learner has predicted.
      return [
        {
          ok: false,
          message: "this step asks for a prediction first",
          hint: `${ANSWER_USAGE[q.kind]} — then type the step's commands`,
        },
      ];
    }
    return step.expects.map((e) => checkExpect(ctx, e, this.mark));
  }

  /**
   * Judges the current step's prediction against what the stack shows (once:
   * the first judgement stands). Undefined when there is nothing to judge or
   * the truth is not known yet.
   */
  judgeCurrent(ctx: CheckContext): Judgement | undefined {
    const q = this.current?.question;
    const p = this.predictions.get(this.step);
    if (q === undefined || p === undefined) return undefined;
    if (p.judged !== undefined) return p.judged;
    const truth = truthOf(q, ctx, this.mark);
    if ("pending" in truth) return undefined;
    p.judged = judge(p.answer, truth, ctx);
    return p.judged;
  }

  /** The step as the learner sees it: what happens, the question, what to type, what to look at. */
  stepBlock(): Block {
    const step = this.current;
    if (step === undefined) return { kind: "text", lines: [] };
    const lines: Line[] = [
      [{ text: "" }],
      [{ text: `Step ${this.step + 1}/${this.steps.length}: ${step.title}`, tone: "accent" }],
      ...markdownLines(step.before),
    ];
    const q = step.question;
    if (q !== undefined) {
      lines.push(
        [{ text: "" }],
        [{ text: "Predict: ", tone: "warn" }, ...(markdownLines([q.ask])[0] ?? [])],
        [{ text: `  ${ANSWER_USAGE[q.kind]}`, tone: "muted" }],
      );
    }
    if (step.commands.length > 0) {
      lines.push([{ text: "" }], [{ text: "Type:", tone: "muted" }]);
      for (const c of step.commands) lines.push([{ text: `  ${c}`, tone: "accent" }]);
    }
    if (step.after.length > 0) lines.push([{ text: "" }], ...markdownLines(step.after));
    // With a question open the checks would give its answer away: they show when `next` runs.
    if (step.expects.length > 0) {
      const said =
        q === undefined
          ? `\`next\` checks: ${step.expects.join("; ")}`
          : "`next` checks the step, and your prediction, once you have typed its commands.";
      lines.push([{ text: "" }], [{ text: said, tone: "muted" }]);
    }
    if (step.shows.length > 0) {
      lines.push([{ text: `then shows: ${step.shows.join("; ")}`, tone: "muted" }]);
    }
    return { kind: "text", lines };
  }
}

/** ✓/✗ lines for check results, each failure followed by its hint. */
export function checkBlock(results: readonly CheckResult[]): Block {
  if (results.length === 0)
    return { kind: "text", lines: [[{ text: "nothing to check in this step", tone: "muted" }]] };
  const lines: Line[] = [];
  for (const r of results) {
    lines.push([
      { text: r.ok ? "✓ " : "✗ ", tone: r.ok ? "good" : "bad" },
      { text: r.message, tone: r.ok ? "normal" : "bad" },
    ]);
    if (!r.ok && r.hint !== undefined) lines.push([{ text: `  hint: ${r.hint}`, tone: "warn" }]);
  }
  return { kind: "text", lines };
}

/** How a judged prediction reads: right, or wrong with the step's explanation. */
export function judgementBlock(q: Question, p: Prediction, j: Judgement): Block {
  const lines: Line[] = [];
  if (j.right) {
    lines.push([
      { text: "✓ ", tone: "good" },
      {
        text: `you predicted ${p.answer.text}: right${p.late ? " (answered after the step ran: not scored)" : ""}`,
      },
    ]);
  } else {
    lines.push([
      { text: "✗ ", tone: "bad" },
      { text: `you predicted ${p.answer.text}; the stack shows ${j.truth}`, tone: "bad" },
    ]);
    if (q.explain.length > 0)
      lines.push(...markdownLines(q.explain).map((l): Line => [{ text: "  " }, ...l]));
  }
  return { kind: "text", lines };
}
