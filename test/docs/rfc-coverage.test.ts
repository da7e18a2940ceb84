/**
 * docs/rfc-coverage.md names a test for each behaviour: every test it names
 * must exist, in the file it says (a renamed or deleted test would leave
 * the page pointing at nothing). Names are matched against the test titles
 * of that file; a name ending in "…" is a prefix.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "../..");
const DOC = readFileSync(join(ROOT, "docs/rfc-coverage.md"), "utf8");

/** `states` = `test/tcp/states.test.ts`, … from the page's shorthand paragraph. */
function shorthands(doc: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const m of doc.matchAll(/`([\w-]+)` = `(test\/[\w/.-]+)`/g)) map.set(m[1]!, m[2]!);
  return map;
}

interface Reference {
  readonly line: number;
  readonly file: string;
  readonly name: string;
}

/**
 * The quoted names in `text`, skipping notes in parentheses. A name may hold
 * quotes itself (`"dropSynFin "all" drops …"`): a quote ends a name only
 * where a comma, semicolon, parenthesis, a full stop or the end follows it.
 */
function quotedNames(text: string): string[] {
  const names: string[] = [];
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")") depth = Math.max(0, depth - 1);
    else if (c === '"' && depth === 0) {
      let j = i + 1;
      for (; j < text.length; j++) {
        if (text[j] !== '"') continue;
        const after = text.slice(j + 1).trimStart();
        if (after === "" || /^([,;()]|\.(\s|$))/.test(after)) break;
      }
      names.push(text.slice(i + 1, j));
      i = j;
    }
  }
  return names;
}

/** Every (file, test name) the test column of a table row names. */
function references(doc: string): Reference[] {
  const short = shorthands(doc);
  const out: Reference[] = [];
  for (const [i, row] of doc.split("\n").entries()) {
    if (!row.startsWith("|") || /^\|\s*-/.test(row)) continue;
    const cells = row.split(/(?<!\\)\|/).slice(1, -1);
    const cell = cells.at(-1) ?? "";
    // "`file` › "a", "b"; `other` › "c"" — a file, then the names up to the next file.
    const parts = cell.split(/(`[^`]+`\s*›)/);
    let file: string | undefined;
    for (const part of parts) {
      const f = /^`([^`]+)`\s*›$/.exec(part);
      if (f !== null) {
        const name = f[1]!;
        file = short.get(name) ?? name;
        continue;
      }
      if (file === undefined) continue;
      for (const name of quotedNames(part)) out.push({ line: i + 1, file, name });
    }
  }
  return out;
}

/**
 * The titles of the tests and describe blocks in a test file, as patterns:
 * a template literal's `${…}` matches anything (titles made in a loop).
 */
function titles(source: string): RegExp[] {
  const out: RegExp[] = [];
  const re = /\b(?:test|it|describe)(?:\.\w+)?\(\s*(["'`])((?:\\.|(?!\1)[^\\])*)\1/gs;
  for (const m of source.matchAll(re)) {
    const text = m[2]!.replace(/\\(.)/g, "$1");
    const parts = m[1] === "`" ? text.split(/\$\{[^}]*\}/) : [text];
    const escaped = parts.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    out.push(new RegExp(`^${escaped.join(".*")}$`, "s"));
  }
  return out;
}

describe("docs/rfc-coverage.md", () => {
  const refs = references(DOC);

  test("names tests (the page was read)", () => {
    expect(refs.length).toBeGreaterThan(100);
  });

  test("every test it names exists in the file it names", () => {
    const cache = new Map<string, RegExp[] | undefined>();
    const missing: string[] = [];
    for (const r of refs) {
      if (!r.file.startsWith("test/")) continue;
      if (!cache.has(r.file)) {
        const path = join(ROOT, r.file);
        cache.set(r.file, existsSync(path) ? titles(readFileSync(path, "utf8")) : undefined);
      }
      const all = cache.get(r.file);
      if (all === undefined) {
        missing.push(`line ${r.line}: no file ${r.file}`);
        continue;
      }
      const prefix = r.name.endsWith("…") ? r.name.slice(0, -1).trimEnd() : undefined;
      const found = all.some((t) =>
        prefix !== undefined
          ? t.test(`${prefix}`) || t.source.slice(1).startsWith(prefix)
          : t.test(r.name),
      );
      if (!found) missing.push(`line ${r.line}: ${r.file} › "${r.name}"`);
    }
    expect(missing).toEqual([]);
  });
});
