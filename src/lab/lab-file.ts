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
 * Inside a `lab` block, `expect:` lines are checks and every other non-blank
 * line is a command; `#` starts a comment line.
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
import type { WorldKind } from "./world.ts";

export const WORLDS: readonly WorldKind[] = ["simulated", "kernel"];

/** What to type and what must hold, in one world. */
export interface StepBody {
  readonly commands: readonly string[];
  readonly expects: readonly string[];
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
  readonly line: number;
}

export interface LabFile {
  readonly name: string;
  readonly title: string;
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
  after: string[];
}

export function parseLabFile(text: string, name: string): LabParse {
  const lines = text.split(/\r?\n/);
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
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] as string;
    const n = i + 1;
    if (inFence !== undefined) {
      if (/^```\s*$/.test(raw)) {
        inFence = undefined;
        continue;
      }
      const l = raw.trim();
      if (l === "" || l.startsWith("#")) continue;
      const m = /^expect:\s*(.*)$/.exec(l);
      if (m !== null) {
        if ((m[1] ?? "") === "") return fail(n, "an empty expect:");
        inFence.expects.push(m[1] as string);
      } else {
        inFence.commands.push(l);
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
      inFence = { worlds, commands: [], expects: [], after: [] };
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
  if (inFence !== undefined) return fail(lines.length, "a lab block is not closed with ```");
  close();
  if (title === undefined)
    return fail(1, "no title (a first line like `# The three-way handshake`)");
  if (steps.length === 0) return fail(1, "no steps (## headings)");
  return { ok: true, lab: { name, title, intro: trimBlank(intro), steps } };
}
