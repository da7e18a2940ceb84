import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createKernelLabSession } from "../../src/lab/kernel-world.ts";
import { type LabFile, parseLabFile, stepsFor, worldsOf } from "../../src/lab/lab-file.ts";
import { formatReport, runLab, startLab } from "../../src/lab/lab-runner.ts";
import { DEFAULT_LABS_DIR } from "../../src/lab/session.ts";
import { describeKernelWorld, established, run, session, uniqueKernelNames } from "./helpers.ts";

const files = readdirSync(DEFAULT_LABS_DIR).filter((f) => f.endsWith(".md"));

function load(file: string): LabFile {
  const name = file.slice(0, -3);
  const parsed = parseLabFile(readFileSync(join(DEFAULT_LABS_DIR, file), "utf8"), name);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.lab;
}

describe("every guided lab runs in the simulated world", () => {
  test("the labs directory holds the handshake and close labs, for both worlds", () => {
    expect(files).toContain("handshake.md");
    expect(files).toContain("close.md");
    for (const f of ["handshake.md", "close.md"])
      expect(worldsOf(load(f))).toEqual(["simulated", "kernel"]);
  });

  test("every lab is placed in the curriculum and asks at least two questions in each world it runs in", () => {
    const names = files.map((f) => f.slice(0, -3));
    for (const f of files) {
      const lab = load(f);
      expect({
        f,
        topic: lab.meta.topic !== "Other labs",
        order: Number.isFinite(lab.meta.order),
      }).toEqual({
        f,
        topic: true,
        order: true,
      });
      for (const r of lab.meta.requires)
        expect({ f, requires: r, exists: names.includes(r) }).toEqual({
          f,
          requires: r,
          exists: true,
        });
      expect(worldsOf(lab)).toContain("simulated");
      for (const w of worldsOf(lab)) {
        const asked = stepsFor(lab, w).filter((st) => st.question !== undefined).length;
        expect({ f, w, atLeastTwoQuestions: asked >= 2 }).toEqual({
          f,
          w,
          atLeastTwoQuestions: true,
        });
      }
    }
  });

  for (const file of files) {
    for (const seed of [1, 42, 0xdead]) {
      test(`${file} (seed ${seed})`, async () => {
        const lab = load(file);
        const { s } = session({ seed });
        const report = await runLab(s, lab);
        if (!report.ok) throw new Error(`seed ${seed}\n${formatReport(report)}`);
        const steps = stepsFor(lab, "simulated");
        expect(report.steps).toHaveLength(steps.length);
        // Every step teaches something checkable.
        for (const step of steps) expect(step.expects.length).toBeGreaterThan(0);
      });
    }
  }
});

describeKernelWorld(
  "every guided lab runs in the kernel world (the Linux kernel as the peer)",
  () => {
    // A lab whose behaviour the kernel cannot show is simulated only (its intro says why).
    for (const file of files.filter((f) => worldsOf(load(f)).includes("kernel"))) {
      test(`${file}`, async () => {
        const lab = load(file);
        const steps = stepsFor(lab, "kernel");
        for (const step of steps) expect(step.expects.length).toBeGreaterThan(0);
        const s = await createKernelLabSession({
          ...uniqueKernelNames(file.slice(0, 5)),
          trace: false,
          seed: 7,
        });
        try {
          const report = await runLab(s, lab);
          if (!report.ok) throw new Error(formatReport(report));
          expect(report.steps).toHaveLength(steps.length);
          expect(report.world).toBe("kernel");
        } finally {
          await s.close();
        }
      }, 60_000);
    }
  },
);

describe("lab commands", () => {
  test("lab list, lab start, check, next, back, lab quit", async () => {
    const { s } = session();
    const list = await run(s, "lab list");
    expect(list.text).toMatch(/handshake +The three-way handshake/);
    // The world column appears only when some lab runs in one world (a simulated-only lab).
    if (files.every((f) => worldsOf(load(f)).includes("kernel")))
      expect(list.text).toContain("Every lab runs in both worlds.");
    else expect(list.text).toMatch(/ sim only\n/);
    const start = await run(s, "lab start handshake");
    expect(start.text).toContain("Step 1/7: The server listens on port 80");
    expect(start.text).toContain("b: listen 80");
    // The simulated world's block only: the kernel world's commands are not shown here.
    expect(start.text).not.toContain("delay 10ms");
    expect(s.status().lab).toEqual({
      name: "handshake",
      step: 1,
      steps: 7,
      title: "The server listens on port 80",
    });
    const notYet = await run(s, "next");
    expect(notYet.text).toContain("✗ b:#3 is LISTEN on port 80 (it is CLOSED)");
    expect(notYet.text).toContain("hint: nothing has happened in this step yet");
    expect(s.status().lab?.step).toBe(1);
    await run(s, "b: listen 80");
    expect((await run(s, "check")).text).toBe("✓ b:#3 is LISTEN on port 80");
    const next = await run(s, "next");
    expect(next.text).toContain("Step 2/7: The client sends a SYN");
    expect((await run(s, "back")).text).toContain("Step 1/7");
    expect((await run(s, "back")).text).toContain("this is the first step");
    expect((await run(s, "lab quit")).text).toBe(
      "lab ended (lab start handshake resume continues at step 1)",
    );
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
    expect(e?.usage).toBe("lab start NAME [resume|restart]");
  });

  test("finishing the last step ends the lab", async () => {
    const { s } = session();
    const lab = parseLabFile(
      "# T\n\n## only\n\n```lab\nb: listen 80\nexpect: state b:#3 LISTEN\n```\n",
      "t",
    );
    if (!lab.ok) throw new Error(lab.error);
    await startLab(s, lab.lab);
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
    const body = {
      commands: ["b: listen 80"],
      expects: ["state b:#3 LISTEN"],
      shows: [],
      after: ["After."],
    };
    // A plain `lab` block serves both worlds.
    expect(r.lab.steps[0]).toEqual({
      title: "First",
      line: 4,
      before: ["Before."],
      bodies: { simulated: body, kernel: body },
      proseOnly: false,
    });
    expect(r.lab.steps[1]?.proseOnly).toBe(true);
    for (const world of ["simulated", "kernel"] as const) {
      expect(stepsFor(r.lab, world)).toEqual([
        { title: "First", line: 4, before: ["Before."], ...body },
        {
          title: "Second",
          line: 12,
          before: ["Only prose."],
          after: [],
          commands: [],
          expects: [],
          shows: [],
        },
      ]);
    }
  });

  test("per-world blocks: each world gets its own commands, checks and prose; world-only steps", () => {
    const text = [
      "# T",
      "## Both",
      "Shared.",
      "```lab sim",
      "b: listen 80",
      "expect: state b:#3 LISTEN",
      "```",
      "Sim prose.",
      "```lab kernel",
      "listen 80",
      "expect: state lab:#3 LISTEN",
      "```",
      "Kernel prose.",
      "## Kernel only",
      "```lab kernel",
      "host nc 10.0.0.2 80 &",
      "expect: segment lab < S",
      "```",
    ].join("\n");
    const r = parseLabFile(text, "x");
    if (!r.ok) throw new Error(r.error);
    expect(worldsOf(r.lab)).toEqual(["simulated", "kernel"]);
    expect(stepsFor(r.lab, "simulated")).toEqual([
      {
        title: "Both",
        line: 2,
        before: ["Shared."],
        after: ["Sim prose."],
        commands: ["b: listen 80"],
        expects: ["state b:#3 LISTEN"],
        shows: [],
      },
    ]);
    const kernel = stepsFor(r.lab, "kernel");
    expect(kernel.map((s) => [s.title, s.after, s.commands])).toEqual([
      ["Both", ["Kernel prose."], ["listen 80"]],
      ["Kernel only", [], ["host nc 10.0.0.2 80 &"]],
    ]);
  });

  test("a lab without blocks for the session's world does not run there", async () => {
    const { s } = session();
    const lab = parseLabFile(
      "# K\n## k\n```lab kernel\nlisten 80\nexpect: state lab:#3 LISTEN\n```\n",
      "k",
    );
    if (!lab.ok) throw new Error(lab.error);
    const report = await runLab(s, lab.lab);
    expect(report.ok).toBe(false);
    expect(report.error).toBe("lab k has no steps for the simulated world (it has: kernel)");
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
      error: "x.md:5: a plain lab block serves every world: it cannot follow another block",
    });
    expect(parseLabFile("# T\n## s\n```lab sim\n```\n```lab sim\n```\n", "x")).toEqual({
      ok: false,
      error: "x.md:5: one lab block per world and step (sim has one already)",
    });
    expect(parseLabFile("# T\n## s\n```lab\n```\n```lab kernel\n```\n", "x")).toEqual({
      ok: false,
      error: "x.md:5: one lab block per world and step (kernel has one already)",
    });
    expect(parseLabFile("# T\n## s\n```lab mars\n```\n", "x")).toEqual({
      ok: false,
      error: 'x.md:3: unknown world "mars" (a lab block is `lab`, `lab sim` or `lab kernel`)',
    });
    expect(parseLabFile("# T\n## s\n```lab\nexpect:\n```\n", "x")).toEqual({
      ok: false,
      error: "x.md:4: an empty expect:",
    });
  });

  test("a socket the step did not move: the hint points at the command, not only at step", async () => {
    const { s } = session();
    const lab = parseLabFile(
      "# T\n## s\n```lab\nclose #3\nexpect: state a:#3 FIN-WAIT-1\n```\n",
      "t",
    );
    if (!lab.ok) throw new Error(lab.error);
    await startLab(s, lab.lab);
    await established(s);
    // The learner closes b's connection instead of a's.
    await run(s, "b: close #4");
    const r = await run(s, "check");
    expect(r.text).toContain("✗ a:#3 is FIN-WAIT-1 (it is ESTABLISHED)");
    expect(r.text).toContain(
      "hint: it is still ESTABLISHED: nothing in this step moved it — check the command for a:#3 (its host prefix, its socket id)",
    );
  });

  test("a failing check is reported with what was found", async () => {
    const { s } = session();
    const lab = parseLabFile("# T\n## s\n```lab\nconnect b 80\nexpect: segment a > S.\n```\n", "t");
    if (!lab.ok) throw new Error(lab.error);
    const report = await runLab(s, lab.lab);
    expect(report.ok).toBe(false);
    const text = formatReport(report);
    // What was expected, the closest segment seen, and what differed.
    expect(text).toContain("✗ a sent S. (closest: a:49152 > b:80 S 0:0(0) win 65535");
    expect(text).toContain("hint: its flags are S, not S.");
    // A check the engine does not know is the lab file's mistake, reported with its line.
    expect(parseLabFile("# T\n## s\n```lab\nexpect: frobnicate\n```\n", "t")).toMatchObject({
      ok: false,
      error: expect.stringContaining('t.md:4: unknown check "frobnicate"'),
    });
  });
});
