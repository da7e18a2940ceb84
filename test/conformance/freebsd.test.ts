/**
 * The FreeBSD TCP test suite's state-event-engine scripts, IPv4 and IPv6, run
 * with the freebsd personality, as a ratchet: at least RATCHET scripts of
 * each family pass, and
 * the failures are exactly docs/conformance.md's known-failure list — a new
 * failure, or a listed script that now passes, fails this test until the
 * doc is regenerated (`bun run conformance --write-doc`) and the ratchet
 * raised. The scripts are read from shared/conformance/ beside the clone;
 * without it the test fails on CI and is skipped elsewhere, with the reason.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { collectScripts, runBatch } from "../../src/packetdrill/run/batch.ts";
import type { BatchSummary } from "../../src/packetdrill/run/report.ts";

const DIR = fileURLToPath(
  new URL("../../../shared/conformance/freebsd-tcp-testsuite/state-event-engine/", import.meta.url),
);
const DOC = fileURLToPath(new URL("../../docs/conformance.md", import.meta.url));

/** Scripts passing today, by family: raise them when more pass, never lower them. */
const RATCHET = { ipv4: 307, ipv6: 307 } as const;
const FAMILIES = ["ipv4", "ipv6"] as const;

const present = existsSync(DIR);

function documented(): Set<string> {
  const doc = readFileSync(DOC, "utf8");
  return new Set([...doc.matchAll(/^- `([^`]+\.pkt)`/gm)].map((m) => m[1] as string));
}

if (!present && process.env.CI === "true") {
  test("FreeBSD conformance scripts are present", () => {
    throw new Error(`${DIR} not found: CI must provide shared/conformance beside the repository`);
  });
} else if (!present) {
  test.skip(`FreeBSD conformance: skipped, ${DIR} not found (shared/ must sit beside the clone)`, () => {});
} else {
  describe("FreeBSD state-event-engine scripts, IPv4 and IPv6, freebsd personality", () => {
    let summary: BatchSummary | undefined;
    const scripts = collectScripts([DIR]);
    const get = async (): Promise<BatchSummary> => {
      summary ??= await runBatch(scripts, { personality: "freebsd" });
      return summary;
    };
    const ofFamily = (s: BatchSummary, f: (typeof FAMILIES)[number]) =>
      s.results.filter((r) => r.path.endsWith(`-${f}.pkt`));

    test("the 614 scripts, 307 of each family, run; none unsupported", async () => {
      const s = await get();
      expect(scripts.length).toBe(614);
      for (const f of FAMILIES) expect([f, ofFamily(s, f).length]).toEqual([f, 307]);
      expect(
        s.results.filter((r) => r.outcome === "unsupported").map((r) => `${r.path}: ${r.reason}`),
      ).toEqual([]);
    });

    for (const f of FAMILIES) {
      test(`at least ${RATCHET[f]} ${f} scripts pass (the ratchet)`, async () => {
        const passed = ofFamily(await get(), f).filter((r) => r.outcome === "passed").length;
        expect(passed).toBeGreaterThanOrEqual(RATCHET[f]);
      });
    }

    test("every failure is explained in docs/conformance.md, and every listed one still fails", async () => {
      const s = await get();
      const failed = s.results.filter((r) => r.outcome === "failed").map((r) => r.path);
      const listed = documented();
      expect(failed.filter((p) => !listed.has(p))).toEqual([]);
      expect([...listed].filter((p) => !failed.includes(p))).toEqual([]);
    });

    test("the run takes well under two minutes", async () => {
      const s = await get();
      expect(s.wallSeconds).toBeLessThan(60);
    });
  });
}
