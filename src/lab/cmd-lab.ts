/**
 * The guided-lab commands: lab list, lab start, lab quit, next, back, check,
 * answer. They drive a GuidedLab (guide.ts) and keep the learner's progress
 * (progress.ts).
 */
import { err, hint, text } from "./cmd-sockets.ts";
import { checkBlock, type GuidedLab, judgementBlock } from "./guide.ts";
import { stepsFor, worldsOf } from "./lab-file.ts";
import { gotoStep, runLab, startLab, unavailableIn } from "./lab-runner.ts";
import { markdownLines } from "./markdown.ts";
import { isDone, type LabProgressRecord } from "./progress.ts";
import { ANSWER_USAGE, readAnswer, segmentSpec } from "./questions.ts";
import type { Registry } from "./registry.ts";
import type { LabEngine } from "./session.ts";
import type { Block, Line, Span } from "./view.ts";

const USAGE = {
  labList: "lab list",
  labStart: "lab start NAME [resume|restart]",
  labQuit: "lab quit",
  next: "next",
  back: "back",
  check: "check",
  answer: "answer VALUE",
} as const;

function noLab(usage: string): Block[] {
  return [err("no lab is running (lab list, then lab start NAME)", usage)];
}

/** Saves where the learner is in the running lab. */
function save(engine: LabEngine, guide: GuidedLab, status: "started" | "done"): LabProgressRecord {
  // A lab in progress counts the steps before the current one: a resume replays exactly those.
  const score = status === "done" ? guide.score(guide.steps.length) : guide.score(guide.step);
  const before = engine.progress.get(guide.lab.name);
  const record: LabProgressRecord = {
    status,
    step: guide.step + 1,
    steps: guide.steps.length,
    world: engine.world.kind,
    right: score.right,
    asked: score.asked,
    ...(status === "done" || isDone(before) ? { finished: true } : {}),
  };
  engine.progress.set(guide.lab.name, record);
  return record;
}

function progressText(r: LabProgressRecord | undefined): Span {
  if (r === undefined) return { text: "" };
  const score = r.asked > 0 ? `, ${r.right}/${r.asked} predicted` : "";
  if (r.status === "done") return { text: `✓ done${score}`, tone: "good" };
  if (r.finished)
    return { text: `✓ done; again at step ${r.step}/${r.steps}${score}`, tone: "good" };
  return { text: `started: step ${r.step}/${r.steps}${score}`, tone: "warn" };
}

function scoreLine(guide: GuidedLab): Line {
  const s = guide.score();
  if (s.asked === 0) return [{ text: "" }];
  const late = s.late > 0 ? ` (${s.late} answered after the step had run: not counted)` : "";
  return [
    {
      text: `Predictions: ${s.right} of ${s.asked} right${late}.`,
      tone: s.right === s.asked ? "good" : "normal",
    },
  ];
}

export function registerLabCommands(reg: Registry<LabEngine>): void {
  reg.add({
    name: "lab list",
    usage: USAGE.labList,
    summary: "the guided labs, by topic, with your progress",
    help: [
      "Lists the labs in curriculum order, grouped by topic: the worlds each runs in, the labs to do",
      "first, and how far you got (kept across runs). A lab file with a mistake is listed with it.",
    ],
    args: [],
    hostScoped: false,
    run(ctx) {
      const { engine } = ctx;
      const entries = engine.catalog.entries();
      if (entries.length === 0) return [text(`no labs found in ${engine.catalog.dirs.join(", ")}`)];
      const topics = new Map<string, Span[][]>();
      const broken: Line[] = [];
      let n = 0;
      let anyOneWorld = false;
      for (const e of entries) {
        if ("error" in e) {
          broken.push([
            { text: `${e.name}: `, tone: "bad" },
            { text: e.error, tone: "bad" },
          ]);
          continue;
        }
        const lab = e.lab;
        const rows = topics.get(lab.meta.topic) ?? [];
        topics.set(lab.meta.topic, rows);
        const steps = stepsFor(lab, engine.world.kind).length;
        const worlds = worldsOf(lab);
        // Most labs run in both worlds: only the exceptions say which.
        const only =
          worlds.length === 1 ? `${worlds[0] === "simulated" ? "sim" : "kernel"} only` : "";
        if (only !== "") anyOneWorld = true;
        const notDone = lab.meta.requires.filter((r) => !isDone(engine.progress.get(r)));
        rows.push([
          { text: String(++n), tone: "muted" },
          { text: lab.name, tone: "accent" },
          { text: lab.title },
          { text: String(steps), tone: "muted" },
          {
            text: lab.meta.requires.join(", "),
            tone: notDone.length > 0 ? "warn" : "muted",
          },
          progressText(engine.progress.get(lab.name)),
          { text: only, tone: "muted" },
        ]);
      }
      const blocks: Block[] = [];
      for (const [topic, rows] of topics) {
        blocks.push({
          kind: "table",
          title: topic,
          columns: [
            "",
            "name",
            "title",
            "steps",
            "requires",
            "progress",
            ...(anyOneWorld ? ["world"] : []),
          ],
          rows: anyOneWorld ? rows : rows.map((r) => r.slice(0, -1)),
        });
      }
      if (broken.length > 0)
        blocks.push({
          kind: "text",
          lines: [[{ text: "labs with mistakes:", tone: "bad" }], ...broken],
        });
      blocks.push(
        text(
          hint(
            `lab start NAME begins one; your progress is kept between runs.${anyOneWorld ? "" : " Every lab runs in both worlds."}`,
          ),
        ),
      );
      return blocks;
    },
  });

  reg.add({
    name: "lab start",
    usage: USAGE.labStart,
    summary: "start a guided lab (in a fresh world)",
    help: [
      "Starts lab NAME from step 1 in a fresh world. Each step says what will happen and why; some",
      "ask you to predict first (answer VALUE). next checks a step and moves on; back goes back.",
      "A lab you left part-way: `lab start NAME resume` replays the steps you did in a fresh world",
      "and continues where you stopped; `lab start NAME restart` begins again.",
    ],
    args: [
      { name: "NAME", kind: "lab" },
      { name: "MODE", kind: "word", optional: true, values: ["resume", "restart"] },
    ],
    hostScoped: false,
    async run(ctx, a) {
      const { engine } = ctx;
      const name = a.str("NAME") as string;
      const lab = engine.loadLab(name);
      if ("error" in lab) return [err(`lab: ${lab.error}`, USAGE.labStart)];
      const why = unavailableIn(engine, lab);
      if (why !== undefined) return [err(`lab: ${why}`, USAGE.labStart)];
      const mode = a.str("MODE");
      const before = engine.progress.get(name);
      const stoppedAt =
        before?.status === "started" && before.world === engine.world.kind ? before.step : 1;
      if (mode === undefined && stoppedAt > 1) {
        return [
          text([
            {
              text: `You stopped lab ${name} at step ${stoppedAt} of ${before?.steps}. `,
              tone: "warn",
            },
            { text: `lab start ${name} resume`, tone: "accent" },
            {
              text: ` replays steps 1–${stoppedAt - 1} in a fresh world and continues there; `,
            },
            { text: `lab start ${name} restart`, tone: "accent" },
            { text: " begins again." },
          ]),
        ];
      }
      const intro: Line[] = [[{ text: lab.title, tone: "accent" }], ...markdownLines(lab.intro)];
      const missing = lab.meta.requires.filter((r) => !isDone(engine.progress.get(r)));
      if (missing.length > 0) {
        intro.push(
          [{ text: "" }],
          [
            {
              text: `This lab builds on ${missing.join(", ")}, which you have not finished yet.`,
              tone: "warn",
            },
          ],
        );
      }
      let guide: GuidedLab;
      if (mode === "resume" && stoppedAt > 1) {
        const replay = await runLab(engine, lab, { steps: stoppedAt - 1, keep: true });
        if (!replay.ok || engine.lab === undefined) {
          return [
            err(
              `lab: could not replay the steps before step ${stoppedAt}; lab start ${name} restart begins again`,
              USAGE.labStart,
            ),
          ];
        }
        guide = engine.lab;
        guide.resumeAt(stoppedAt - 1, { asked: before?.asked ?? 0, right: before?.right ?? 0 });
        gotoStep(engine, stoppedAt - 1);
        intro.push(
          [{ text: "" }],
          [
            {
              text: `Resumed: steps 1–${stoppedAt - 1} were replayed in a fresh world.`,
              tone: "muted",
            },
          ],
        );
      } else {
        guide = await startLab(engine, lab);
      }
      save(engine, guide, "started");
      return [{ kind: "text", lines: intro }, guide.stepBlock()];
    },
  });

  reg.add({
    name: "lab quit",
    usage: USAGE.labQuit,
    summary: "leave the guided lab (the world stays)",
    help: [
      "Stops following the lab; the hosts and connections stay as they are. Your progress is kept.",
    ],
    args: [],
    hostScoped: false,
    run(ctx) {
      const guide = ctx.engine.lab;
      if (guide === undefined) return noLab(USAGE.labQuit);
      save(ctx.engine, guide, "started");
      ctx.engine.lab = undefined;
      return [
        text(`lab ended (lab start ${guide.lab.name} resume continues at step ${guide.step + 1})`),
      ];
    },
  });

  reg.add({
    name: "check",
    usage: USAGE.check,
    summary: "check the current lab step",
    help: [
      "Evaluates the step's expectations now and shows each one as ✓ or ✗, with a hint for a ✗.",
    ],
    args: [],
    hostScoped: false,
    run(ctx) {
      const guide = ctx.engine.lab;
      if (guide === undefined) return noLab(USAGE.check);
      return [checkBlock(guide.check(ctx.engine.checkContext()))];
    },
  });

  reg.add({
    name: "answer",
    usage: USAGE.answer,
    summary: "answer the current lab step's question",
    help: [
      "Some steps ask you to predict what will happen before you type their commands. answer VALUE",
      "records your prediction (a number, a state name, or a segment such as S. 0:0(0) ack 1);",
      "next compares it with what the stack then did and explains if it differs.",
    ],
    args: [{ name: "VALUE", kind: "text" }],
    hostScoped: false,
    run(ctx, a) {
      const { engine } = ctx;
      const guide = engine.lab;
      if (guide === undefined) return noLab(USAGE.answer);
      const q = guide.current?.question;
      if (q === undefined) {
        return [
          err(
            "no question is open: this step asks for no prediction (its commands are what to do)",
            USAGE.answer,
          ),
        ];
      }
      const prior = guide.predictions.get(guide.step);
      if (prior?.judged !== undefined) {
        return [
          err(
            `step ${guide.step + 1}'s prediction was already judged (${prior.judged.right ? "right" : "wrong"})`,
            USAGE.answer,
          ),
        ];
      }
      const spec = q.kind === "segment" ? segmentSpec(q.answer) : undefined;
      const needs = spec !== undefined && !("error" in spec) ? spec.needs : [];
      const answer = readAnswer(q.kind, a.str("VALUE") as string, engine.checkContext(), needs);
      if ("error" in answer) return [err(`answer: ${answer.error}`, ANSWER_USAGE[q.kind])];
      // Late: the world has moved in this step (a packet or a state change was logged). A clock
      // that only runs — the kernel world's, between commands — changes nothing to predict.
      const late = engine.world.log.length > guide.mark;
      guide.predictions.set(guide.step, { answer, late, judged: undefined });
      return [
        text(
          late
            ? [
                { text: `noted: ${answer.text} — `, tone: "normal" },
                {
                  text: "the step had already begun, so this counts as an observation, not a prediction.",
                  tone: "warn",
                },
              ]
            : [
                { text: `noted: you predict ${answer.text} — `, tone: "normal" },
                { text: "now type the step's commands; next compares.", tone: "muted" },
              ],
        ),
      ];
    },
  });

  reg.add({
    name: "next",
    usage: USAGE.next,
    summary: "check this lab step and go on",
    help: [
      "Checks the step's expectations and your prediction; if the checks hold, shows the next step.",
    ],
    args: [],
    hostScoped: false,
    async run(ctx) {
      const { engine } = ctx;
      const guide = engine.lab;
      if (guide === undefined || guide.current === undefined) return noLab(USAGE.next);
      const checkCtx = engine.checkContext();
      const results = guide.check(checkCtx);
      if (!results.every((r) => r.ok)) {
        return [checkBlock(results), text(hint("not yet: do what the step says, then next again"))];
      }
      const blocks: Block[] = [checkBlock(results)];
      const q = guide.current.question;
      const p = guide.predictions.get(guide.step);
      const j = guide.judgeCurrent(checkCtx);
      if (q !== undefined && p !== undefined && j !== undefined)
        blocks.push(judgementBlock(q, p, j));
      for (const line of guide.current.shows) blocks.push(...(await engine.show(line)));
      if (guide.finished) {
        save(engine, guide, "done");
        engine.lab = undefined;
        blocks.push({
          kind: "text",
          lines: (
            [[{ text: `lab ${guide.lab.name} complete`, tone: "good" }], scoreLine(guide)] as Line[]
          ).filter((l) => l.some((s) => s.text !== "")),
        });
        return blocks;
      }
      gotoStep(engine, guide.step + 1);
      save(engine, guide, "started");
      blocks.push(guide.stepBlock());
      return blocks;
    },
  });

  reg.add({
    name: "back",
    usage: USAGE.back,
    summary: "show the previous lab step again",
    help: ["Goes back one step (the world is not rewound)."],
    args: [],
    hostScoped: false,
    run(ctx) {
      const guide = ctx.engine.lab;
      if (guide === undefined) return noLab(USAGE.back);
      if (guide.step === 0) return [text("this is the first step"), guide.stepBlock()];
      gotoStep(ctx.engine, guide.step - 1);
      return [guide.stepBlock()];
    },
  });
}
