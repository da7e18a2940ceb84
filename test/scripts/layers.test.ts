// `bun run layers` (part of `bun run check`) holds src/ to its layering: a
// copy of the tree with an upward import, a core module in the sans-IO core
// or a cycle between folders planted in it fails naming the rule; the
// copy as it is passes, quietly.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const REPO = join(import.meta.dir, "../..");
/** What the check reads: the trees it cruises and the files that configure it. */
const COPIED = ["src", "cli", "package.json", "tsconfig.json", ".dependency-cruiser.cjs"];

let root = "";
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "tcplab-layers-"));
  for (const p of COPIED) cpSync(join(REPO, p), join(root, p), { recursive: true });
  symlinkSync(join(REPO, "node_modules"), join(root, "node_modules"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs `bun run layers` in the copy with `files` planted (path → text), then removes them. */
function layers(files: Record<string, string> = {}): { code: number; out: string } {
  const planted = Object.keys(files).map((p) => join(root, p));
  try {
    for (const [p, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, p)), { recursive: true });
      writeFileSync(join(root, p), text);
    }
    const r = Bun.spawnSync(["bun", "run", "layers"], {
      cwd: root,
      stdout: "pipe",
      stderr: "pipe",
    });
    return { code: r.exitCode, out: r.stdout.toString() + r.stderr.toString() };
  } finally {
    for (const p of planted) rmSync(p, { force: true });
  }
}

describe("the layering check", () => {
  test("the tree as it is passes, in a line or two", () => {
    const { code, out } = layers();
    expect(code).toBe(0);
    expect(out).toContain("no dependency violations found");
    expect(out).not.toContain("warn");
    expect(out.trim().split("\n").length).toBeLessThanOrEqual(3);
  });

  test("src/wire importing src/lab fails, naming the rule and the import", () => {
    const { code, out } = layers({
      "src/wire/planted.ts": `import { LabEngine } from "../lab/session.ts";\nexport const x = LabEngine;\n`,
    });
    expect(code).not.toBe(0);
    expect(out).toContain(
      "wire-imports-nothing-above-it: src/wire/planted.ts → src/lab/session.ts",
    );
  });

  test("src/runtime importing src/api fails", () => {
    const { code, out } = layers({
      "src/runtime/planted.ts": `import { Sockets } from "../api/sockets.ts";\nexport const x = Sockets;\n`,
    });
    expect(code).not.toBe(0);
    expect(out).toContain("runtime-imports-nothing-above-it: src/runtime/planted.ts");
  });

  test("the sans-IO core importing a Node module fails", () => {
    const { code, out } = layers({
      "src/tcp/planted.ts": `import { randomBytes } from "node:crypto";\nexport const x = randomBytes;\n`,
    });
    expect(code).not.toBe(0);
    expect(out).toContain("sans-io-core: src/tcp/planted.ts → crypto");
  });

  test("two folders importing each other fail, even outside the known order", () => {
    const { code, out } = layers({
      "src/extra/one.ts": `import { y } from "../lab/planted.ts";\nexport const x = () => y;\n`,
      "src/lab/planted.ts": `import { x } from "../extra/one.ts";\nexport const y = () => x;\n`,
    });
    expect(code).not.toBe(0);
    expect(out).toContain("no-cycle-between-folders");
  });
});
