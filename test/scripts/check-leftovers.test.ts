// `bun run check` rejects leftovers: each kind planted in a temporary tree is
// reported with its file and line, and the clean repository passes.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findLeftovers } from "../../scripts/check-leftovers.ts";

const SCRIPT = join(import.meta.dir, "../../scripts/check-leftovers.ts");
// Spelt in pieces so that this file is not itself a leftover.
const FOCUSED = `${"test"}.${"only"}("x", () => {});`;
const MARKED = `const x = 1; // ${"DEB"}UG`;
const FIXED_TMP = `copyFileSync(a, "${"/t"}mp/somewhere/keep.pcap");`;

let roots: string[] = [];
afterEach(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
  roots = [];
});

function plant(folder: string, file: string, lines: string[]): string {
  const root = mkdtempSync(join(tmpdir(), "tcplab-leftovers-"));
  roots.push(root);
  mkdirSync(join(root, folder), { recursive: true });
  writeFileSync(join(root, folder, file), lines.join("\n"));
  return root;
}

function runScript(root: string) {
  const p = Bun.spawnSync(["bun", SCRIPT, root], { stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode, err: p.stderr.toString() };
}

describe("check-leftovers", () => {
  const cases: [string, string, string, RegExp][] = [
    ["test", "a.test.ts", FOCUSED, /focused test/],
    ["src", "b.ts", MARKED, /leftover/],
    ["scripts", "c.ts", FIXED_TMP, /fixed \/tmp path/],
    ["cli", "d.tsx", FIXED_TMP, /fixed \/tmp path/],
  ];
  for (const [folder, file, line, what] of cases) {
    test(`rejects ${what.source} in ${folder}/ with file and line`, () => {
      const root = plant(folder, file, ["// first line", line]);
      const { code, err } = runScript(root);
      expect(code).toBe(1);
      expect(err).toContain(`${folder}/${file}:2: `);
      expect(err).toMatch(what);
    });
  }

  test("a /tmp path the code creates itself with mkdtemp is allowed", () => {
    const root = plant("test", "e.test.ts", [`const d = mkdtempSync("${"/t"}mp/tcplab-");`]);
    expect(findLeftovers(root)).toEqual([]);
  });

  test("files outside src, cli, scripts and test are not read", () => {
    const root = plant("docs", "f.ts", [MARKED]);
    expect(findLeftovers(root)).toEqual([]);
  });

  test("the repository itself is clean", () => {
    const { code, err } = runScript(join(import.meta.dir, "../.."));
    expect(err).toBe("");
    expect(code).toBe(0);
  });
});
