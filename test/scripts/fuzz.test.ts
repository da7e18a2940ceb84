// `bun run fuzz` in small: the soak script feeds both properties, counts
// its inputs, and ends with 0 throws and 0 invariant violations (the long
// run is a command, not a CI test).
import { describe, expect, test } from "bun:test";
import { join } from "node:path";

const SCRIPT = join(import.meta.dir, "../../scripts/fuzz.ts");

describe("scripts/fuzz.ts", () => {
  test("a short soak: segments and packets both fed, no throw, no violation", () => {
    const p = Bun.spawnSync([process.execPath, SCRIPT, "--seed", "7", "--count", "4000"], {
      stdout: "pipe",
      stderr: "pipe",
    });
    const out = p.stdout.toString();
    if (p.exitCode !== 0) console.error(out, p.stderr.toString());
    expect(p.exitCode).toBe(0);
    const m =
      /^fuzz: ([\d,]+) hostile inputs \(([\d,]+) segments .* ([\d,]+) packets .*seed 7: 0 throws, 0 invariant violations$/m.exec(
        out,
      );
    expect(m).not.toBeNull();
    const n = (s: string | undefined) => Number((s ?? "").replaceAll(",", ""));
    expect(n(m?.[1])).toBeGreaterThanOrEqual(4000);
    expect(n(m?.[2])).toBeGreaterThan(1000);
    expect(n(m?.[3])).toBeGreaterThan(1000);
  }, 60_000);

  test("a bad count is a usage error", () => {
    const p = Bun.spawnSync([process.execPath, SCRIPT, "--count", "lots"], { stderr: "pipe" });
    expect(p.exitCode).toBe(2);
    expect(p.stderr.toString()).toContain("usage:");
  });
});
