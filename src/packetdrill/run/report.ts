/**
 * Results of running packetdrill scripts, and their text and JSON forms.
 *
 * A script ends in one of three outcomes: passed, failed (tcplab did
 * something else than the script expects, or the script is malformed), or
 * unsupported (the script needs something the runner or tcplab cannot do:
 * IPv6, UDP, an unknown system call or shell command). Unsupported is never
 * a pass.
 */

export type Outcome = "passed" | "failed" | "unsupported";

/** One field that differed: what the script expected and what tcplab did. */
export interface FieldDiff {
  readonly field: string;
  readonly expected: string;
  readonly actual: string;
}

export interface ScriptResult {
  readonly path: string;
  readonly outcome: Outcome;
  /** Failed or unsupported: the statement where it happened (1-based line) and its text. */
  readonly line?: number;
  readonly text?: string;
  /** One line: why it failed or is unsupported. */
  readonly reason?: string;
  /** Field by field, for a packet or call that differed. */
  readonly fields?: readonly FieldDiff[];
  /** The script's packet line and tcplab's packet, in the script's terms. */
  readonly expected?: string;
  readonly actual?: string;
  /** Things worth knowing even on a pass (a setting approximated, …). */
  readonly notes: readonly string[];
  /** Statements executed (including the one that failed). */
  readonly statements: number;
  /** Virtual time at the end, in seconds. */
  readonly simulatedSeconds: number;
}

/** `path:line: text` and the details under it, indented. */
export function formatResult(r: ScriptResult): string {
  const head = r.line !== undefined ? `${r.path}:${r.line}` : r.path;
  if (r.outcome === "passed") return `ok    ${r.path}`;
  const tag = r.outcome === "failed" ? "FAIL " : "UNSUP";
  const lines = [`${tag} ${head}${r.text !== undefined ? `: ${r.text.trim()}` : ""}`];
  if (r.reason !== undefined)
    lines.push(`      ${r.outcome === "unsupported" ? "unsupported: " : ""}${r.reason}`);
  if (r.expected !== undefined) lines.push(`      expected: ${r.expected}`);
  if (r.actual !== undefined) lines.push(`      actual:   ${r.actual}`);
  if (r.fields !== undefined && r.fields.length > 0) {
    const w = Math.max(...r.fields.map((f) => f.field.length));
    for (const f of r.fields) {
      lines.push(`      ${f.field.padEnd(w)}  expected ${f.expected}, got ${f.actual}`);
    }
  }
  for (const n of r.notes) lines.push(`      note: ${n}`);
  return lines.join("\n");
}

export interface Tally {
  passed: number;
  failed: number;
  unsupported: number;
}

export interface BatchSummary {
  readonly byDirectory: Readonly<Record<string, Tally>>;
  readonly total: Tally;
  readonly results: readonly ScriptResult[];
  readonly wallSeconds: number;
}

function dirOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "." : path.slice(0, i);
}

export function summarize(results: readonly ScriptResult[], wallSeconds: number): BatchSummary {
  const byDirectory: Record<string, Tally> = {};
  const total: Tally = { passed: 0, failed: 0, unsupported: 0 };
  for (const r of results) {
    const d = dirOf(r.path);
    byDirectory[d] ??= { passed: 0, failed: 0, unsupported: 0 };
    (byDirectory[d] as Tally)[r.outcome]++;
    total[r.outcome]++;
  }
  return { byDirectory, total, results, wallSeconds };
}

/** The per-directory table and the total, as aligned text. */
export function formatSummary(s: BatchSummary): string {
  const dirs = Object.keys(s.byDirectory).sort();
  const w = Math.max(9, ...dirs.map((d) => d.length));
  const row = (name: string, t: Tally) =>
    `${name.padEnd(w)}  ${String(t.passed).padStart(6)}  ${String(t.failed).padStart(6)}  ${String(t.unsupported).padStart(11)}`;
  const lines = [`${"directory".padEnd(w)}  passed  failed  unsupported`];
  for (const d of dirs) lines.push(row(d, s.byDirectory[d] as Tally));
  lines.push(row("total", s.total));
  const n = s.total.passed + s.total.failed + s.total.unsupported;
  lines.push(`${n} scripts in ${s.wallSeconds.toFixed(1)} s`);
  return lines.join("\n");
}

export function summaryJson(s: BatchSummary): unknown {
  return {
    total: s.total,
    byDirectory: s.byDirectory,
    wallSeconds: s.wallSeconds,
    results: s.results,
  };
}
