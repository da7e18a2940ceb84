/**
 * Guided lab files: Markdown a person can read and edit.
 *
 *     # The three-way handshake                 ← the lab's title
 *     Intro prose …
 *
 *     ## b listens                               ← one step per `##` heading
 *     What is about to happen, with the RFC section.
 *
 *     ```lab                                     ← what to type, and what must hold after
 *     b: listen 80
 *     expect: state b:#3 LISTEN
 *     ```
 *
 *     What to look at in the state table or the ladder.
 *
 * Inside a `lab` block, `expect:` lines are checks (lab-checks.ts), `ask:`,
 * `answer:` and `explain:` lines a question to predict before the commands
 * run (questions.ts), `show:` lines pictures shown once the step's checks
 * pass (`show: plot #3 seq`, `show: ladder 6`), and every other non-blank
 * line is a command; `#` starts a comment line.
 *
 * A file may begin with a header that places it in the curriculum:
 *
 *     ---
 *     topic: Connection management
 *     order: 3
 *     requires: handshake, close
 *     ---
 *
 * The same lab runs in both worlds. Where the worlds need different commands
 * (the kernel world has one tcplab host, `lab`, and the Linux kernel as its
 * peer), a step gives one block per world instead:
 *
 *     ```lab sim                                 ← the simulated world only
 *     b: listen 80
 *     expect: state b:#3 LISTEN
 *     ```
 *
 *     Prose here belongs to the sim block.
 *
 *     ```lab kernel                              ← the kernel world only
 *     listen 80
 *     expect: state lab:#3 LISTEN
 *     ```
 *
 *     Prose here belongs to the kernel block.
 *
 * A plain `lab` block serves every world; a step has at most one block per
 * world. A step whose blocks all name other worlds is left out of this
 * world's lab, so a world may also have steps of its own. A step with no
 * block at all is prose only and shows in both.
 */
import { CHECK_WORDS } from "./lab-checks.ts";
import { type AnswerKind, answerKind, type Question } from "./questions.ts";
import type { WorldKind } from "./world.ts";

export const WORLDS: readonly WorldKind[] = ["simulated", "kernel"];

/** What a `show:` line may run: commands that only look. */
export const SHOW_COMMANDS: readonly string[] = ["plot", "ladder", "state", "stats", "faults"];

/** What to type and what must hold, in one world. */
export interface StepBody {
  readonly commands: readonly string[];
  readonly expects: readonly string[];
  /** Pictures shown once the checks pass (`plot #3 seq`, `ladder 6`). */
  readonly shows: readonly string[];
  /** A prediction asked before the commands run. */
  readonly question?: Question | undefined;
  /** Prose after the block: what to look at. */
  readonly after: readonly string[];
}

export interface LabStep {
  readonly title: string;
  /** Prose before the first block: what is about to happen. */
  readonly before: readonly string[];
  /** The step's block per world (a plain `lab` block is shared by both). */
  readonly bodies: Readonly<Partial<Record<WorldKind, StepBody>>>;
  /** True when the step has no block at all (prose only, in every world). */
  readonly proseOnly: boolean;
  /** Line of the step's heading in the file (1-based). */
  readonly line: number;
}

/** A step as one world runs it. */
export interface WorldStep {
  readonly title: string;
  readonly before: readonly string[];
  readonly after: readonly string[];
  readonly commands: readonly string[];
  readonly expects: readonly string[];
  readonly shows: readonly string[];
  readonly question?: Question | undefined;
  readonly line: number;
}

/** Where a lab sits in the curriculum (its header). */
export interface LabMeta {
  readonly topic: string;
  /** Position in the curriculum (labs sort by it; without one, last). */
  readonly order: number;
  /** Labs to do first. */
  readonly requires: readonly string[];
}

export interface LabFile {
  readonly name: string;
  readonly title: string;
  readonly meta: LabMeta;
  /** The file it was read from, for messages. */
  readonly path?: string;
  readonly intro: readonly string[];
  readonly steps: readonly LabStep[];
}

export type LabParse =
  | { readonly ok: true; readonly lab: LabFile }
  | { readonly ok: false; readonly error: string };

/** The steps of `lab` in `world`, in order (steps only for other worlds left out). */
export function stepsFor(lab: LabFile, world: WorldKind): WorldStep[] {
  const out: WorldStep[] = [];
  for (const s of lab.steps) {
    const body = s.bodies[world];
    if (body === undefined && !s.proseOnly) continue;
    out.push({
      title: s.title,
      line: s.line,
      before: s.before,
      after: body?.after ?? [],
      commands: body?.commands ?? [],
      expects: body?.expects ?? [],
      shows: body?.shows ?? [],
      question: body?.question,
    });
  }
  return out;
}

/** The worlds `lab` has steps with checks in. */
export function worldsOf(lab: LabFile): WorldKind[] {
  return WORLDS.filter((w) => lab.steps.some((s) => s.bodies[w] !== undefined));
}

/** Drops leading and trailing blank lines. */
function trimBlank(lines: string[]): string[] {
  let a = 0;
  let b = lines.length;
  while (a < b && (lines[a] ?? "").trim() === "") a++;
  while (b > a && (lines[b - 1] ?? "").trim() === "") b--;
  return lines.slice(a, b);
}

const FENCE = /^```lab(?:\s+(\S+))?\s*$/;

function worldsNamed(tag: string | undefined): readonly WorldKind[] | undefined {
  if (tag === undefined) return WORLDS;
  if (tag === "sim" || tag === "simulated") return ["simulated"];
  if (tag === "kernel") return ["kernel"];
  return undefined;
}

interface OpenBody {
  worlds: readonly WorldKind[];
  commands: string[];
  expects: string[];
  shows: string[];
  ask: string[];
  answer: { spec: string; kind: AnswerKind } | undefined;
  explain: string[];
  /** Line of the first `ask:`, for messages. */
  askLine: number;
  /** Line of the opening fence. */
  openLine: number;
  after: string[];
}

const HEADER_KEYS = ["topic", "order", "requires"] as const;

/** The `---` header: topic, order, requires. */
function readHeader(
  lines: readonly string[],
): { meta: LabMeta; next: number } | { error: string; line: number } {
  const meta = { topic: "Other labs", order: Number.POSITIVE_INFINITY, requires: [] as string[] };
  if ((lines[0] ?? "").trim() !== "---") return { meta, next: 0 };
  for (let i = 1; i < lines.length; i++) {
    const l = (lines[i] as string).trim();
    if (l === "---") return { meta, next: i + 1 };
    if (l === "") continue;
    const m = /^(\w+):\s*(.*)$/.exec(l);
    const key = m?.[1];
    const value = (m?.[2] ?? "").trim();
    if (m === null || !HEADER_KEYS.includes(key as (typeof HEADER_KEYS)[number])) {
      return {
        error: `unknown header line "${l}" (the header has ${HEADER_KEYS.join(", ")})`,
        line: i + 1,
      };
    }
    if (key === "topic") meta.topic = value;
    else if (key === "order") {
      const n = Number(value);
      if (value === "" || !Number.isFinite(n))
        return { error: `order: "${value}" is not a number`, line: i + 1 };
      meta.order = n;
    } else meta.requires = value.split(/[,\s]+/).filter((x) => x !== "");
  }
  return { error: "the header (---) is not closed with ---", line: lines.length };
}

export function parseLabFile(text: string, name: string): LabParse {
  const lines = text.split(/\r?\n/);
  const header = readHeader(lines);
  if ("error" in header) return { ok: false, error: `${name}.md:${header.line}: ${header.error}` };
  let title: string | undefined;
  const intro: string[] = [];
  const steps: LabStep[] = [];
  let cur: { title: string; line: number; before: string[]; blocks: OpenBody[] } | undefined;
  let inFence: OpenBody | undefined;
  const fail = (n: number, msg: string): LabParse => ({
    ok: false,
    error: `${name}.md:${n}: ${msg}`,
  });
  const close = () => {
    if (cur === undefined) return;
    const bodies: Partial<Record<WorldKind, StepBody>> = {};
    for (const b of cur.blocks) {
      const body: StepBody = {
        commands: b.commands,
        expects: b.expects,
        shows: b.shows,
        question:
          b.answer === undefined
            ? undefined
            : {
                ask: b.ask.join(" "),
                answer: b.answer.spec,
                kind: b.answer.kind,
                explain: b.explain,
              },
        after: trimBlank(b.after),
      };
      for (const w of b.worlds) bodies[w] = body;
    }
    steps.push({
      title: cur.title,
      line: cur.line,
      before: trimBlank(cur.before),
      bodies,
      proseOnly: cur.blocks.length === 0,
    });
  };
  for (let i = header.next; i < lines.length; i++) {
    const raw = lines[i] as string;
    const n = i + 1;
    if (inFence !== undefined) {
      if (/^```\s*$/.test(raw)) {
        const b: OpenBody = inFence;
        if (b.ask.length > 0 && b.answer === undefined)
          return fail(
            b.askLine,
            "an ask: without an answer: line saying where the stack shows the answer",
          );
        if (b.explain.length > 0 && b.ask.length === 0)
          return fail(n, "an explain: without an ask:");
        inFence = undefined;
        continue;
      }
      const l = raw.trim();
      if (l === "" || l.startsWith("#")) continue;
      const m = /^(expect|ask|answer|explain|show):\s*(.*)$/.exec(l);
      const value = (m?.[2] ?? "").trim();
      if (m === null) {
        inFence.commands.push(l);
        continue;
      }
      if (value === "") return fail(n, `an empty ${m[1]}:`);
      if (m[1] === "expect") {
        const word = value.split(/\s+/)[0] ?? "";
        if (!CHECK_WORDS.includes(word)) {
          return fail(n, `unknown check "${word}" (a check begins with ${CHECK_WORDS.join(", ")})`);
        }
        inFence.expects.push(value);
      } else if (m[1] === "show") {
        const cmd = value.split(/\s+/)[0]?.toLowerCase() ?? "";
        if (!SHOW_COMMANDS.includes(cmd))
          return fail(
            n,
            `show: runs a command that only looks (${SHOW_COMMANDS.join(", ")}), not "${cmd}"`,
          );
        inFence.shows.push(value);
      } else if (m[1] === "ask") {
        if (inFence.answer !== undefined)
          return fail(n, "one question per block: this ask: follows an answer:");
        if (inFence.ask.length === 0) inFence.askLine = n;
        inFence.ask.push(value);
      } else if (m[1] === "explain") inFence.explain.push(value);
      else {
        if (inFence.ask.length === 0) return fail(n, "an answer: needs an ask: before it");
        if (inFence.answer !== undefined) return fail(n, "one answer: per question");
        const kind = answerKind(value);
        if (typeof kind !== "string") return fail(n, kind.error);
        inFence.answer = { spec: value, kind };
      }
      continue;
    }
    const fence = FENCE.exec(raw);
    if (fence !== null) {
      if (cur === undefined) return fail(n, "a lab block before the first step (## heading)");
      const worlds = worldsNamed(fence[1]);
      if (worlds === undefined)
        return fail(
          n,
          `unknown world "${fence[1]}" (a lab block is \`lab\`, \`lab sim\` or \`lab kernel\`)`,
        );
      for (const w of worlds) {
        if (cur.blocks.some((b) => b.worlds.includes(w))) {
          return fail(
            n,
            fence[1] === undefined && cur.blocks.length > 0
              ? "a plain lab block serves every world: it cannot follow another block"
              : `one lab block per world and step (${w === "simulated" ? "sim" : w} has one already)`,
          );
        }
      }
      inFence = {
        worlds,
        commands: [],
        expects: [],
        shows: [],
        ask: [],
        answer: undefined,
        explain: [],
        askLine: n,
        openLine: n,
        after: [],
      };
      cur.blocks.push(inFence);
      continue;
    }
    const h1 = /^#\s+(.+)$/.exec(raw);
    if (h1 !== null && title === undefined && cur === undefined) {
      title = (h1[1] as string).trim();
      continue;
    }
    const h2 = /^##\s+(.+)$/.exec(raw);
    if (h2 !== null) {
      close();
      cur = { title: (h2[1] as string).trim(), line: n, before: [], blocks: [] };
      continue;
    }
    if (cur === undefined) intro.push(raw);
    else {
      const last = cur.blocks[cur.blocks.length - 1];
      if (last === undefined) cur.before.push(raw);
      else last.after.push(raw);
    }
  }
  if (inFence !== undefined) return fail(inFence.openLine, "a lab block is not closed with ```");
  close();
  if (title === undefined)
    return fail(1, "no title (a first line like `# The three-way handshake`)");
  if (steps.length === 0) return fail(1, "no steps (## headings)");
  return { ok: true, lab: { name, title, meta: header.meta, intro: trimBlank(intro), steps } };
}
