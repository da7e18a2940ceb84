/**
 * `tcplab lab`: the interactive lab shell. Picks the world (kernel with root
 * and /dev/net/tun, simulated otherwise), creates the session through the
 * lab engine, and runs either the Ink UI (a terminal on both ends) or the
 * plain line-by-line mode (a pipe or a file). Whatever happens, the terminal
 * is given back as it was found: cooked mode, cursor shown, paste mode off.
 */
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import chalk from "chalk";
import { render } from "ink";
import { createElement } from "react";
import { labDirsFromEnv } from "../src/lab/catalog.ts";
import { createKernelLabSession, createLabSession } from "../src/lab/index.ts";
import { fileProgress, type ProgressStore, progressPath } from "../src/lab/progress.ts";
import type { Block, LabSession } from "../src/lab/view.ts";
import { parseArgsError } from "./args.ts";
import { fileHistory, historyPath } from "./lab/history-file.ts";
import { LabApp } from "./lab/LabApp.tsx";
import { runPlain } from "./lab/plain.ts";
import { colorEnabled } from "./lab/theme.ts";

export const LAB_USAGE = `usage: tcplab lab [--sim] [--netns NAME] [--labs DIR]…
       tcplab lab check NAME… | --all [--world sim|kernel] [--seed N] [--json] [--labs DIR]…`;

const LAB_HELP = `${LAB_USAGE}

The interactive lab shell. With root and /dev/net/tun the tcplab host runs on
a TUN device in a network namespace with the Linux kernel as its peer;
otherwise two tcplab hosts, a and b, talk over a simulated wire.
When standard input is not a terminal, commands are read from it line by
line and the output is printed as plain text.

  --sim          use the simulated world even when the kernel world is possible
  --netns NAME   network namespace of the kernel world (default tcplab)
  --labs DIR     also offer the labs in DIR (repeatable; TCPLAB_LABS=DIR[:DIR] too);
                 a lab there replaces one of the same name
  --help         this text

Your progress in the guided labs is kept in $XDG_STATE_HOME/tcplab/progress.json
(~/.local/state/tcplab/progress.json; TCPLAB_PROGRESS=FILE elsewhere, "" not at all).

tcplab lab check runs labs without a terminal — each step's commands, its
question answered with what the stack shows, its checks — and prints a line
per lab (--json: a last line {"passed":N,"failed":N,"labs":[…]}). It exits 0
only when every lab passed. See docs/writing-labs.md.

Keys: Tab completes, ↑/↓ history, Ctrl-C interrupts or clears the line,
Ctrl-D on an empty line (or "quit") leaves.`;

export type World = "simulated" | "kernel";

export interface LabSessionOptions {
  readonly world: World;
  readonly netns?: string;
  /** Folders of a teacher's own labs. */
  readonly labDirs?: readonly string[];
  readonly progress?: ProgressStore;
}

export type CreateLabSession = (options: LabSessionOptions) => LabSession | Promise<LabSession>;

export interface WorldChoice {
  readonly world: World;
  /** Why, in a few words, for the first line of output. */
  readonly reason: string;
}

export function pickWorld(
  sim: boolean,
  probe: { readonly uid: number | undefined; readonly tun: boolean },
): WorldChoice {
  if (sim) return { world: "simulated", reason: "--sim" };
  if (probe.uid !== 0)
    return { world: "simulated", reason: "not root; sudo bun run lab for the kernel world" };
  if (!probe.tun) return { world: "simulated", reason: "no /dev/net/tun" };
  return { world: "kernel", reason: "root and /dev/net/tun" };
}

export function bannerLine(choice: WorldChoice, netns: string | undefined): string {
  const where =
    choice.world === "kernel" ? `kernel world in netns ${netns ?? "tcplab"}` : "simulated world";
  return `tcplab lab: ${where} (${choice.reason}). Type help; Tab completes; Ctrl-D quits.`;
}

/**
 * The engine's factories: the kernel world is built asynchronously (a
 * network namespace and a TUN device), the simulated one at once.
 */
export const createEngineSession: CreateLabSession = async (options) => {
  const common = {
    extraLabDirs: options.labDirs ?? [],
    ...(options.progress !== undefined ? { progress: options.progress } : {}),
  };
  return options.world === "kernel"
    ? await createKernelLabSession({
        ...common,
        ...(options.netns !== undefined ? { netns: options.netns } : {}),
      })
    : createLabSession({ world: "simulated", ...common });
};

export interface LabIo {
  readonly stdin: NodeJS.ReadStream;
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  readonly env: Record<string, string | undefined>;
  readonly uid: number | undefined;
  readonly tunPresent: boolean;
}

export interface LabDeps {
  readonly createSession?: CreateLabSession;
  readonly io?: Partial<LabIo>;
}

const SIGNAL_CODES = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;

/** Run the lab shell; resolves with the process exit status and never rejects. */
export async function runLab(argv: readonly string[], deps: LabDeps = {}): Promise<number> {
  const io: LabIo = {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    uid: process.getuid?.(),
    tunPresent: existsSync("/dev/net/tun"),
    ...deps.io,
  };
  if (argv[0] === "check") {
    const { runLabCheck } = await import("./lab-check.ts");
    return runLabCheck(argv.slice(1), io);
  }
  let values: { sim?: boolean; netns?: string; labs?: string[]; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        sim: { type: "boolean" },
        netns: { type: "string" },
        labs: { type: "string", multiple: true },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    io.stderr.write(`tcplab: ${parseArgsError(e)}\n${LAB_USAGE}\n`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(`${LAB_HELP}\n`);
    return 0;
  }
  const choice = pickWorld(values.sim === true, { uid: io.uid, tun: io.tunPresent });
  const banner = bannerLine(choice, values.netns);
  const interactive = io.stdin.isTTY === true && io.stdout.isTTY === true;

  let session: LabSession;
  try {
    const create = deps.createSession ?? createEngineSession;
    session = await create({
      world: choice.world,
      ...(values.netns !== undefined ? { netns: values.netns } : {}),
      labDirs: [...labDirsFromEnv(io.env), ...(values.labs ?? [])],
      progress: fileProgress(progressPath(io.env)),
    });
  } catch (e) {
    io.stderr.write(`${banner}\ntcplab: cannot start the lab: ${messageOf(e)}\n`);
    return 1;
  }

  const code = interactive
    ? await runInteractive(session, banner, io)
    : await runPiped(session, banner, io);
  await closeSession(session, io);
  await flush(io.stdout);
  return code;
}

async function runPiped(session: LabSession, banner: string, io: LabIo): Promise<number> {
  io.stdout.write(`${banner}\n`);
  const lines = createInterface({
    input: io.stdin,
    terminal: false,
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  const stop = (signal: keyof typeof SIGNAL_CODES) => {
    lines.close();
    process.exitCode = SIGNAL_CODES[signal];
  };
  const handlers = watchSignals(stop);
  try {
    const code = await runPlain({ session, lines, write: (t) => io.stdout.write(t) });
    return typeof process.exitCode === "number" && process.exitCode > 128 ? process.exitCode : code;
  } catch (e) {
    io.stderr.write(`tcplab: fatal: ${messageOf(e)}\n`);
    return 1;
  } finally {
    handlers();
    lines.close();
  }
}

interface Outcome {
  readonly code: number;
  readonly error?: unknown;
}

async function runInteractive(session: LabSession, banner: string, io: LabIo): Promise<number> {
  const color = colorEnabled(io.env, true);
  // Our rule (NO_COLOR, FORCE_COLOR, TERM=dumb) decides, not chalk's guess:
  // it turns colour off under CI=true even in a real terminal. Ink draws with
  // this same chalk instance; the palette needs only the 16 basic colours.
  if (color && chalk.level === 0) chalk.level = 1;
  const bannerBlock: Block = { kind: "text", lines: [[{ text: banner, tone: "muted" }]] };
  let settle: (o: Outcome) => void = () => {};
  const outcome = new Promise<Outcome>((resolve) => {
    settle = resolve;
  });
  const onFatal = (e: unknown) => settle({ code: 1, error: e });
  const unwatch = watchSignals((signal) => settle({ code: SIGNAL_CODES[signal] }));
  process.on("uncaughtException", onFatal);
  process.on("unhandledRejection", onFatal);

  let instance: ReturnType<typeof render> | undefined;
  try {
    instance = render(
      createElement(LabApp, {
        session,
        history: fileHistory(historyPath(io.env)),
        color,
        banner: [bannerBlock],
        onExit: (code: number, error?: unknown) =>
          settle(error === undefined ? { code } : { code, error }),
      }),
      {
        stdin: io.stdin,
        stdout: io.stdout,
        stderr: io.stderr,
        exitOnCtrlC: false,
        patchConsole: true,
        // Both ends are a terminal here; CI=true must not turn Ink's redrawing off.
        interactive: true,
      },
    );
    // Ink's own boundary ends the app on an error it caught: that is fatal too.
    instance.waitUntilExit().then(
      () => settle({ code: 0 }),
      (e: unknown) => settle({ code: 1, error: e }),
    );
  } catch (e) {
    settle({ code: 1, error: e });
  }

  const result = await outcome;
  try {
    instance?.unmount();
    await instance?.waitUntilExit().catch(() => {});
  } catch {
    // Restoring below does not depend on Ink having unmounted cleanly.
  }
  restoreTerminal(io);
  unwatch();
  process.off("uncaughtException", onFatal);
  process.off("unhandledRejection", onFatal);
  if (result.error !== undefined) io.stderr.write(`tcplab: fatal: ${messageOf(result.error)}\n`);
  return result.code;
}

/** Cooked mode, visible cursor, bracketed paste off: the terminal as a shell expects it. */
function restoreTerminal(io: LabIo): void {
  try {
    if (io.stdin.isTTY && io.stdin.isRaw) io.stdin.setRawMode(false);
  } catch {
    // stdin may already be closed.
  }
  io.stdin.pause();
  try {
    if (io.stdout.isTTY) io.stdout.write("\x1b[?2004l\x1b[?25h");
  } catch {
    // stdout may already be closed.
  }
}

function watchSignals(on: (signal: keyof typeof SIGNAL_CODES) => void): () => void {
  const entries = (Object.keys(SIGNAL_CODES) as (keyof typeof SIGNAL_CODES)[]).map(
    (signal) => [signal, () => on(signal)] as const,
  );
  for (const [signal, handler] of entries) process.on(signal, handler);
  return () => {
    for (const [signal, handler] of entries) process.off(signal, handler);
  };
}

async function closeSession(session: LabSession, io: LabIo): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      session.close(),
      new Promise<void>((_, reject) => {
        timer = setTimeout(() => reject(new Error("the session did not close within 5 s")), 5000);
      }),
    ]);
  } catch (e) {
    io.stderr.write(`tcplab: ${messageOf(e)}\n`);
  } finally {
    clearTimeout(timer);
  }
}

/** Wait (briefly) until what was written reached the pipe, so exiting loses nothing. */
function flush(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 1000);
    stream.write("", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function messageOf(e: unknown): string {
  if (e instanceof Error) return (e.message || e.name).split("\n")[0] ?? e.name;
  return String(e);
}
