/**
 * `tcplab lab check NAME… | --all [--world sim|kernel] [--seed N] [--json] [--labs DIR]…`
 *
 * Runs guided labs without a terminal, as the test suite does: each step's
 * commands, its question answered with the value the stack shows, its
 * checks. One line per lab; with --json a last line
 * {"passed":N,"failed":N,"labs":[{"name","world","ok","steps","failedStep"}]}.
 * Exit 0 only when every lab passed, 1 when one failed, 2 for bad arguments.
 */
import { parseArgs } from "node:util";
import { DEFAULT_LABS_DIR, LabCatalog, labDirsFromEnv } from "../src/lab/catalog.ts";
import { createKernelLabSession } from "../src/lab/kernel-world.ts";
import { stepsFor } from "../src/lab/lab-file.ts";
import { formatReport, runLab } from "../src/lab/lab-runner.ts";
import { createLabSession, type LabEngine } from "../src/lab/session.ts";
import type { WorldKind } from "../src/lab/world.ts";
import { parseArgsError } from "./args.ts";

export const LAB_CHECK_USAGE =
  "usage: tcplab lab check NAME… | --all [--world sim|kernel] [--seed N] [--json] [--labs DIR]…";

interface Io {
  readonly stdout: { write(s: string): unknown };
  readonly stderr: { write(s: string): unknown };
  readonly env: Record<string, string | undefined>;
  readonly uid: number | undefined;
}

export interface LabCheckEntry {
  readonly name: string;
  readonly world: "sim" | "kernel";
  readonly ok: boolean;
  readonly steps: number;
  /** 1-based, or null when every step passed (or the lab could not start). */
  readonly failedStep: number | null;
}

export async function runLabCheck(argv: readonly string[], io: Io): Promise<number> {
  let values: {
    all?: boolean;
    world?: string;
    seed?: string;
    json?: boolean;
    labs?: string[];
    help?: boolean;
  };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: true,
      options: {
        all: { type: "boolean" },
        world: { type: "string" },
        seed: { type: "string" },
        json: { type: "boolean" },
        labs: { type: "string", multiple: true },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    io.stderr.write(`tcplab lab check: ${parseArgsError(e)}\n${LAB_CHECK_USAGE}\n`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(`${LAB_CHECK_USAGE}\n`);
    return 0;
  }
  const usage = (why: string) => {
    io.stderr.write(`tcplab lab check: ${why}\n${LAB_CHECK_USAGE}\n`);
    return 2;
  };
  const worldArg = values.world ?? "sim";
  if (worldArg !== "sim" && worldArg !== "simulated" && worldArg !== "kernel") {
    return usage(`--world is sim or kernel, not "${worldArg}"`);
  }
  const world: WorldKind = worldArg === "kernel" ? "kernel" : "simulated";
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  if (!Number.isSafeInteger(seed) || seed < 0)
    return usage(`--seed needs a whole number, not "${values.seed}"`);
  if (values.all && positionals.length > 0) return usage("name labs or give --all, not both");
  if (!values.all && positionals.length === 0)
    return usage("name the labs to check, or give --all");
  if (world === "kernel" && io.uid !== 0)
    return usage("--world kernel needs root (a TUN device in a namespace of its own)");

  const extra = [...labDirsFromEnv(io.env), ...(values.labs ?? [])];
  const catalog = new LabCatalog([DEFAULT_LABS_DIR, ...extra]);
  const known = catalog.names();
  const unknown = positionals.filter((n) => !known.includes(n));
  if (unknown.length > 0)
    return usage(`no lab ${unknown.map((n) => `"${n}"`).join(", ")} (labs: ${known.join(", ")})`);

  const entries: LabCheckEntry[] = [];
  const worldName = world === "kernel" ? "kernel" : "sim";
  const names = values.all ? catalog.entries().map((e) => e.name) : positionals;
  for (const name of names) {
    const lab = catalog.load(name);
    if ("error" in lab) {
      io.stdout.write(`FAIL ${name} (${worldName}): ${lab.error}\n`);
      entries.push({ name, world: worldName, ok: false, steps: 0, failedStep: null });
      continue;
    }
    const steps = stepsFor(lab, world).length;
    if (values.all && !stepsFor(lab, world).some((s) => s.commands.length + s.expects.length > 0)) {
      io.stdout.write(`---- ${name} (${worldName}): no steps for this world\n`);
      continue;
    }
    const engine = await sessionFor(world, seed, extra, name);
    try {
      const report = await runLab(engine, lab);
      const failed = report.steps.findIndex((s) => !s.ok);
      const failedStep = report.ok ? null : failed >= 0 ? failed + 1 : null;
      entries.push({ name, world: worldName, ok: report.ok, steps, failedStep });
      io.stdout.write(
        report.ok
          ? `PASS ${name} (${worldName}, seed ${seed}): ${steps} steps\n`
          : `FAIL ${name} (${worldName}, seed ${seed})${failedStep !== null ? ` at step ${failedStep}` : ""}\n${indent(formatReport(report))}\n`,
      );
    } finally {
      await engine.close();
    }
  }
  const passed = entries.filter((e) => e.ok).length;
  const failed = entries.length - passed;
  io.stdout.write(`${passed} passed, ${failed} failed\n`);
  if (values.json) io.stdout.write(`${JSON.stringify({ passed, failed, labs: entries })}\n`);
  return failed === 0 ? 0 : 1;
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");
}

let checkCounter = 0;

async function sessionFor(
  world: WorldKind,
  seed: number,
  extra: string[],
  name: string,
): Promise<LabEngine> {
  if (world === "simulated") return createLabSession({ seed, trace: false, extraLabDirs: extra });
  // A namespace of its own per lab and run, so runs side by side do not collide.
  checkCounter++;
  return createKernelLabSession({
    netns: `tcplab-check${process.pid}-${checkCounter}-${name.slice(0, 8)}`,
    tunName: "tl0",
    seed,
    trace: false,
    extraLabDirs: extra,
  });
}
