#!/usr/bin/env bun
// Rejects what a debugging session leaves behind and CI's fresh machine
// would trip over: focused tests, lines marked as debug code, and fixed
// /tmp paths the code did not create itself. Run by `bun run check`.
//
//   bun scripts/check-leftovers.ts [ROOT]   (default: the repository)
//
// Prints `file:line: what` for each finding and exits 1; exits 0 when clean.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";

export const CHECKED_FOLDERS = ["src", "cli", "scripts", "test"] as const;
const SOURCE = /\.(ts|tsx|js|mjs|cjs|sh)$/;
const SKIPPED = new Set(["node_modules", ".git", ".tcplab"]);

export interface Finding {
  file: string;
  line: number;
  what: string;
}

interface Rule {
  what: string;
  matches(line: string): boolean;
}

// The patterns are spelt so that this file does not match itself.
const RULES: Rule[] = [
  {
    what: "a focused test (.only) runs alone and hides every other test",
    matches: (l) => /\b(test|describe|it)(\.\w+)*\.onl[y]\s*\(/.test(l),
  },
  {
    what: "a line marked DE\u0042UG is a leftover: remove it",
    matches: (l) => /\bDE[B]UG\b/.test(l),
  },
  {
    what: "a fixed /tmp path may not exist on a fresh machine: use mkdtemp under tmpdir()",
    matches: (l) => /["'`]\/tm[p]\/[\w.-]/.test(l) && !/mkdtemp|mktemp|tmpdir\(\)/.test(l),
  },
];

function* sourceFiles(dir: string): Generator<string> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names.sort()) {
    if (SKIPPED.has(name)) continue;
    const path = join(dir, name);
    const st = statSync(path, { throwIfNoEntry: false });
    if (st === undefined) continue;
    if (st.isDirectory()) yield* sourceFiles(path);
    else if (st.isFile() && SOURCE.test(name)) yield path;
  }
}

export function findLeftovers(root: string): Finding[] {
  const findings: Finding[] = [];
  for (const folder of CHECKED_FOLDERS) {
    for (const path of sourceFiles(join(root, folder))) {
      const lines = readFileSync(path, "utf8").split("\n");
      lines.forEach((text, i) => {
        for (const rule of RULES) {
          if (rule.matches(text))
            findings.push({ file: relative(root, path), line: i + 1, what: rule.what });
        }
      });
    }
  }
  return findings;
}

if (import.meta.main) {
  const root = resolve(process.argv[2] ?? join(import.meta.dir, ".."));
  const findings = findLeftovers(root);
  for (const f of findings) console.error(`${f.file}:${f.line}: ${f.what}`);
  if (findings.length > 0) {
    console.error(`check-leftovers: ${findings.length} leftover(s) found`);
    process.exit(1);
  }
}
