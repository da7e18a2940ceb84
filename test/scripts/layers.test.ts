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
      "wire-imports-only-what-is-below-it: src/wire/planted.ts → src/lab/session.ts",
    );
  });

  test("src/link importing src/stack fails: the two sit side by side", () => {
    const { code, out } = layers({
      "src/link/planted.ts": `import { Host } from "../stack/host.ts";\nexport const x = Host;\n`,
    });
    expect(code).not.toBe(0);
    expect(out).toContain(
      "link-imports-only-what-is-below-it: src/link/planted.ts → src/stack/host.ts",
    );
  });

  test("a folder the drawing does not have fails, from either side", () => {
    const { code, out } = layers({
      "src/newlayer/a.ts": `import { seqAdd } from "../wire/seq.ts";\nexport const a = seqAdd;\n`,
      "src/wire/planted.ts": `import { a } from "../newlayer/a.ts";\nexport const x = a;\n`,
    });
    expect(code).not.toBe(0);
    expect(out).toContain("no-unknown-folder: src/wire/planted.ts → src/newlayer/a.ts");
    expect(out).toContain("no-unknown-folder-importing: src/newlayer/a.ts → src/wire/seq.ts");
  });

  test("the core reaching a running clock or a Node module through util fails", () => {
    const { code, out } = layers({
      "src/tcp/planted.ts": `import { RealClock } from "../clock/real-clock.ts";\nexport const x = RealClock;\n`,
      "src/util/planted.ts": `import { homedir } from "node:os";\nexport const y = homedir;\n`,
    });
    expect(code).not.toBe(0);
    expect(out).toContain("core-reads-no-clock: src/tcp/planted.ts → src/clock/real-clock.ts");
    expect(out).toContain("sans-io-core: src/util/planted.ts → os");
  });

  test("src/runtime importing src/api fails", () => {
    const { code, out } = layers({
      "src/runtime/planted.ts": `import { Sockets } from "../api/sockets.ts";\nexport const x = Sockets;\n`,
    });
    expect(code).not.toBe(0);
    expect(out).toContain("runtime-imports-only-what-is-below-it: src/runtime/planted.ts");
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

  test("a cycle of type-only imports between folders fails too", () => {
    const { code, out } = layers({
      "src/lab/planted.ts": `import type { Y } from "../stack/planted.ts";\nexport type X = { y?: Y };\n`,
      "src/stack/planted.ts": `import type { X } from "../lab/planted.ts";\nexport type Y = { x?: X };\n`,
    });
    expect(code).not.toBe(0);
    expect(out).toContain(
      "stack-imports-only-what-is-below-it: src/stack/planted.ts → src/lab/planted.ts",
    );
    expect(out).toContain("no-cycle-between-folders: src/lab/planted.ts");
  });
});
