/**
 * Running many scripts: files and directories (searched for *.pkt), one
 * fresh host each, and a summary per directory.
 */

import { readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { Glob } from "bun";
import { type BatchSummary, type ScriptResult, summarize } from "./report.ts";
import { type RunOptions, runScript } from "./runner.ts";

export interface ScriptFile {
  /** Absolute path to read. */
  readonly file: string;
  /** How results name it: relative to the directory given, or as given. */
  readonly name: string;
}

/** The scripts named by `paths`: files as given, directories searched recursively, sorted. */
export function collectScripts(paths: readonly string[]): ScriptFile[] {
  const out: ScriptFile[] = [];
  for (const p of paths) {
    const abs = resolve(p);
    const st = statSync(abs, { throwIfNoEntry: false });
    if (st === undefined) throw new Error(`${p}: no such file or directory`);
    if (st.isDirectory()) {
      const found = [...new Glob("**/*.pkt").scanSync(abs)].sort();
      for (const f of found) out.push({ file: join(abs, f), name: f });
    } else {
      out.push({ file: abs, name: relative(process.cwd(), abs) || p });
    }
  }
  return out;
}

export async function runScriptFile(s: ScriptFile, opts: RunOptions = {}): Promise<ScriptResult> {
  const text = readFileSync(s.file, "utf8");
  return runScript(text, { ...opts, path: s.name });
}

/** Runs each script on its own host; `onResult` sees them as they finish. */
export async function runBatch(
  scripts: readonly ScriptFile[],
  opts: RunOptions = {},
  onResult?: (r: ScriptResult) => void,
): Promise<BatchSummary> {
  const t0 = performance.now();
  const results: ScriptResult[] = [];
  for (const s of scripts) {
    const r = await runScriptFile(s, opts);
    results.push(r);
    onResult?.(r);
  }
  return summarize(results, (performance.now() - t0) / 1000);
}
