/**
 * tcplab's own scenarios, written as packetdrill scripts (test/scenarios/scripts)
 * and run through the scenario runner with the tcplab personality: one test per file.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { formatResult } from "../../src/packetdrill/run/report.ts";
import { runScript } from "../../src/packetdrill/run/runner.ts";

const DIR = fileURLToPath(new URL("./scripts/", import.meta.url));
const files = readdirSync(DIR)
  .filter((f) => f.endsWith(".pkt"))
  .sort();

describe("scenarios", () => {
  test("there are scenarios to run", () => {
    expect(files.length).toBeGreaterThanOrEqual(9);
  });
  for (const f of files) {
    test(f, async () => {
      const r = await runScript(readFileSync(DIR + f, "utf8"), { path: f, personality: "tcplab" });
      // The whole report on failure: line, expected and actual, field by field.
      expect(formatResult(r)).toBe(`ok    ${f}`);
      expect(r.statements).toBeGreaterThan(3);
    });
  }
});
