import { describe, test } from "bun:test";
import {
  blocksText,
  createLabSession,
  type LabEngine,
  type LabSessionOptions,
} from "../../src/lab/session.ts";
import type { Block, CommandResult } from "../../src/lab/view.ts";
import { kernelWorldUnavailable } from "../../src/link/tun-preflight.ts";

export interface Ran {
  readonly result: CommandResult;
  readonly blocks: readonly Block[];
  /** Every block as plain text, one line per line/row. */
  readonly text: string;
  readonly errors: readonly Extract<Block, { kind: "error" }>[];
}

/** A simulated-world session with a fixed seed, no trace, and a collector of async output. */
export function session(opts: LabSessionOptions = {}): { s: LabEngine; output: Block[] } {
  const s = createLabSession({ seed: 42, trace: false, ...opts });
  const output: Block[] = [];
  s.onOutput((bs) => output.push(...bs));
  return { s, output };
}

export async function run(s: LabEngine, line: string): Promise<Ran> {
  const result = await s.execute(line);
  return {
    result,
    blocks: result.blocks,
    text: blocksText(result.blocks),
    errors: result.blocks.filter((b): b is Extract<Block, { kind: "error" }> => b.kind === "error"),
  };
}

/** Runs each line, failing loudly if any answers with an error. */
export async function runAll(s: LabEngine, lines: readonly string[]): Promise<Ran[]> {
  const out: Ran[] = [];
  for (const line of lines) {
    const r = await run(s, line);
    if (r.errors.length > 0)
      throw new Error(`${line}: ${r.errors.map((e) => e.message).join("; ")}`);
    out.push(r);
  }
  return out;
}

/** Lines of a block as plain text. */
export function linesOf(block: Block | undefined): string[] {
  if (block === undefined) return [];
  if (block.kind === "error") return [block.message];
  if (block.kind === "table") return block.rows.map((r) => r.map((c) => c.text).join("|"));
  return block.lines.map((l) => l.map((s) => s.text).join(""));
}

/** Opens a→b:80 and steps until both ends are ESTABLISHED; a's socket is #3, b's accepted one #4. */
export async function established(s: LabEngine): Promise<void> {
  await runAll(s, ["b: listen 80", "connect 10.0.0.2 80", "step", "step", "step", "b: accept"]);
}

/**
 * Whether the kernel world can run here (root, /dev/net/tun, iproute2), and
 * why not. Kernel-world tests run whenever it can; under CI=true they must
 * (a missing privilege fails them instead of skipping them).
 */
export function kernelWorldGate(): { readonly run: boolean; readonly reason?: string } {
  const why =
    kernelWorldUnavailable()?.message ??
    (Bun.which("ip") === null ? "iproute2 (`ip`) is missing" : undefined);
  return why === undefined ? { run: true } : { run: false, reason: why };
}

/**
 * Registers kernel-world tests: `body` when the kernel world is available;
 * otherwise one failing test under CI=true, or one skipped test naming the reason.
 */
export function describeKernelWorld(title: string, body: () => void): void {
  const gate = kernelWorldGate();
  if (gate.run) {
    describe(title, body);
  } else if (process.env.CI === "true") {
    test(`${title}: the kernel world must run under CI`, () => {
      throw new Error(`kernel world unavailable under CI: ${gate.reason}`);
    });
  } else {
    test.skip(`${title}: skipped, ${gate.reason}`, () => {});
  }
}

let netnsCounter = 0;

/** A namespace and TUN name no other test (or a parallel run) uses. */
export function uniqueKernelNames(tag: string): { netns: string; tunName: string } {
  netnsCounter++;
  return {
    netns: `tcplab-t${process.pid}-${tag}-${netnsCounter}`,
    tunName: `tlab${netnsCounter}`,
  };
}
