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
 * Inside the `lab` block, `expect:` lines are checks and every other
 * non-blank line is a command; `#` starts a comment line.
 */

export interface LabStep {
  readonly title: string;
  /** Prose before the `lab` block: what is about to happen. */
  readonly before: readonly string[];
  /** Prose after it: what to look at. */
  readonly after: readonly string[];
  readonly commands: readonly string[];
  readonly expects: readonly string[];
  /** Line of the step's heading in the file (1-based). */
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

/** Drops leading and trailing blank lines. */
function trimBlank(lines: string[]): string[] {
  let a = 0;
  let b = lines.length;
  while (a < b && (lines[a] ?? "").trim() === "") a++;
  while (b > a && (lines[b - 1] ?? "").trim() === "") b--;
  return lines.slice(a, b);
}

export function parseLabFile(text: string, name: string): LabParse {
  const lines = text.split(/\r?\n/);
  let title: string | undefined;
  const intro: string[] = [];
  const steps: LabStep[] = [];
  let cur:
    | {
        title: string;
        line: number;
        before: string[];
        after: string[];
        commands: string[];
        expects: string[];
        fences: number;
      }
    | undefined;
  let inFence = false;
  const fail = (n: number, msg: string): LabParse => ({
    ok: false,
    error: `${name}.md:${n}: ${msg}`,
  });
  const close = () => {
    if (cur === undefined) return;
    steps.push({
      title: cur.title,
      line: cur.line,
      before: trimBlank(cur.before),
      after: trimBlank(cur.after),
      commands: cur.commands,
      expects: cur.expects,
    });
  };
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] as string;
    const n = i + 1;
    if (inFence) {
      if (/^```\s*$/.test(raw)) {
        inFence = false;
        continue;
      }
      const l = raw.trim();
      if (l === "" || l.startsWith("#")) continue;
      const m = /^expect:\s*(.*)$/.exec(l);
      if (m !== null) {
        if ((m[1] ?? "") === "") return fail(n, "an empty expect:");
        cur?.expects.push(m[1] as string);
      } else {
        cur?.commands.push(l);
      }
      continue;
    }
    if (/^```lab\s*$/.test(raw)) {
      if (cur === undefined) return fail(n, "a lab block before the first step (## heading)");
      if (cur.fences > 0) return fail(n, "one lab block per step");
      cur.fences++;
      inFence = true;
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
      cur = {
        title: (h2[1] as string).trim(),
        line: n,
        before: [],
        after: [],
        commands: [],
        expects: [],
        fences: 0,
      };
      continue;
    }
    if (cur === undefined) intro.push(raw);
    else if (cur.fences === 0) cur.before.push(raw);
    else cur.after.push(raw);
  }
  if (inFence) return fail(lines.length, "a lab block is not closed with ```");
  close();
  if (title === undefined)
    return fail(1, "no title (a first line like `# The three-way handshake`)");
  if (steps.length === 0) return fail(1, "no steps (## headings)");
  return { ok: true, lab: { name, title, intro: trimBlank(intro), steps } };
}
