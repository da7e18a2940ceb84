import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseLabFile } from "../../src/lab/lab-file.ts";
import { formatReport, runLab } from "../../src/lab/lab-runner.ts";
import { DEFAULT_LABS_DIR } from "../../src/lab/session.ts";
import { run, session } from "./helpers.ts";

const files = readdirSync(DEFAULT_LABS_DIR).filter((f) => f.endsWith(".md"));

describe("every guided lab runs in the simulated world", () => {
  test("the labs directory holds the handshake and close labs", () => {
    expect(files).toContain("handshake.md");
    expect(files).toContain("close.md");
  });

  for (const file of files) {
    for (const seed of [1, 42, 0xdead]) {
      test(`${file} (seed ${seed})`, async () => {
        const name = file.slice(0, -3);
        const parsed = parseLabFile(readFileSync(join(DEFAULT_LABS_DIR, file), "utf8"), name);
        if (!parsed.ok) throw new Error(parsed.error);
        const { s } = session({ seed });
        const report = await runLab(s, parsed.lab);
        if (!report.ok) throw new Error(`seed ${seed}\n${formatReport(report)}`);
        expect(report.steps).toHaveLength(parsed.lab.steps.length);
        // Every step teaches something checkable.
        for (const step of parsed.lab.steps) expect(step.expects.length).toBeGreaterThan(0);
      });
    }
  }
});

describe("lab commands", () => {
  test("lab list, lab start, check, next, back, lab quit", async () => {
    const { s } = session();
    const list = await run(s, "lab list");
    expect(list.text).toContain("handshake The three-way handshake");
    const start = await run(s, "lab start handshake");
    expect(start.text).toContain("Step 1/7: b listens on port 80");
    expect(start.text).toContain("b: listen 80");
    expect(s.status().lab).toEqual({
      name: "handshake",
      step: 1,
      steps: 7,
      title: "b listens on port 80",
    });
    const notYet = await run(s, "next");
    expect(notYet.text).toContain("✗ b:#3 is LISTEN (it is CLOSED)");
    expect(s.status().lab?.step).toBe(1);
    await run(s, "b: listen 80");
    expect((await run(s, "check")).text).toBe("✓ b:#3 is LISTEN");
    const next = await run(s, "next");
    expect(next.text).toContain("Step 2/7: a sends a SYN");
    expect((await run(s, "back")).text).toContain("Step 1/7");
    expect((await run(s, "back")).text).toContain("this is the first step");
    expect((await run(s, "lab quit")).text).toBe("lab ended");
    expect(s.status().lab).toBeUndefined();
    for (const cmd of ["next", "back", "check", "lab quit"]) {
      expect((await run(s, cmd)).errors[0]?.message).toContain("no lab is running");
    }
  });

  test("lab start resets the world; unknown labs are errors with usage", async () => {
    const { s } = session();
    await run(s, "b: listen 80");
    await run(s, "lab start close");
    expect(s.world.hosts[1]?.sockets.list()).toHaveLength(0);
    const e = (await run(s, "lab start nope")).errors[0];
    expect(e?.message).toContain('no lab "nope"');
    expect(e?.usage).toBe("lab start NAME");
  });

  test("finishing the last step ends the lab", async () => {
    const { s } = session();
    const lab = parseLabFile(
      "# T\n\n## only\n\n```lab\nb: listen 80\nexpect: state b:#3 LISTEN\n```\n",
      "t",
    );
    if (!lab.ok) throw new Error(lab.error);
    s.lab = { lab: lab.lab, step: 0, mark: 0 };
    await run(s, "b: listen 80");
    expect((await run(s, "next")).text).toContain("lab t complete");
    expect(s.lab).toBeUndefined();
  });
});

describe("lab file format", () => {
  test("title, intro, steps with prose before/after, commands and expects", () => {
    const text = [
      "# Title here",
      "Intro line.",
      "",
      "## First",
      "Before.",
      "```lab",
      "# a comment",
      "b: listen 80",
      "expect: state b:#3 LISTEN",
      "```",
      "After.",
      "## Second",
      "Only prose.",
    ].join("\n");
    const r = parseLabFile(text, "x");
    if (!r.ok) throw new Error(r.error);
    expect(r.lab.title).toBe("Title here");
    expect(r.lab.intro).toEqual(["Intro line."]);
    expect(r.lab.steps[0]).toEqual({
      title: "First",
      line: 4,
      before: ["Before."],
      after: ["After."],
      commands: ["b: listen 80"],
      expects: ["state b:#3 LISTEN"],
    });
    expect(r.lab.steps[1]?.commands).toEqual([]);
  });

  test("malformed lab files are reported with file and line", () => {
    expect(parseLabFile("no title\n## s\n", "x")).toEqual({
      ok: false,
      error: expect.stringContaining("no title"),
    });
    expect(parseLabFile("# T\n", "x")).toEqual({
      ok: false,
      error: "x.md:1: no steps (## headings)",
    });
    expect(parseLabFile("# T\n## s\n```lab\nstep\n", "x")).toEqual({
      ok: false,
      error: expect.stringContaining("not closed"),
    });
    expect(parseLabFile("# T\n```lab\n```\n", "x")).toEqual({
      ok: false,
      error: "x.md:2: a lab block before the first step (## heading)",
    });
    expect(parseLabFile("# T\n## s\n```lab\n```\n```lab\n```\n", "x")).toEqual({
      ok: false,
      error: "x.md:5: one lab block per step",
    });
    expect(parseLabFile("# T\n## s\n```lab\nexpect:\n```\n", "x")).toEqual({
      ok: false,
      error: "x.md:4: an empty expect:",
    });
  });

  test("a failing check is reported with what was found", async () => {
    const { s } = session();
    const lab = parseLabFile(
      "# T\n## s\n```lab\nconnect b 80\nexpect: segment a > S.\nexpect: frobnicate\n```\n",
      "t",
    );
    if (!lab.ok) throw new Error(lab.error);
    const report = await runLab(s, lab.lab);
    expect(report.ok).toBe(false);
    const text = formatReport(report);
    expect(text).toContain("✗ a sent S. (seen in this step: S)");
    expect(text).toContain('✗ unknown expect "frobnicate"');
  });
});
