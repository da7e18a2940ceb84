#!/usr/bin/env bun
/**
 * tcplab command line: dispatches subcommands. Each subcommand parses its own
 * arguments with node:util's parseArgs; a bad argument prints one line naming
 * it, then the usage line, and exits 2.
 */
import { runSim, UsageError } from "./sim.ts";

const MAIN_USAGE = `usage: tcplab <command> [options]

commands:
  sim     transfer bytes between two simulated hosts over a faulty wire (headless)
  lab     interactive lab shell
  serve   tcplab on a TUN device in a network namespace, with echo/discard/chargen/HTTP (root)
  run     run packetdrill scripts against tcplab (FILE.pkt|DIR, --personality NAME)
  bench   throughput over TUN against the kernel over veth, and idle CPU (root)

Run "tcplab <command> --help" for the options of a command.`;

function main(argv: string[]): number {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case "help":
    case "--help":
    case "-h":
      console.log(MAIN_USAGE);
      return command === undefined ? 2 : 0;
    case "sim":
      return runSim(rest);
    case "lab":
      // Asynchronous and interactive: loaded on demand so other commands stay light.
      // runLab restores the terminal itself and never rejects; exit explicitly
      // because a session may leave handles open.
      import("./lab.ts")
        .then((m) => m.runLab(rest))
        .then(
          (code) => process.exit(code),
          (e: unknown) => {
            console.error(`tcplab: cannot start the lab: ${(e as Error).message ?? e}`);
            process.exit(1);
          },
        );
      return 0;
    case "serve":
      void import("./serve.ts").then(async (m) => process.exit(await m.runServe(rest)));
      return 0;
    case "run":
      void import("./run.ts").then(async (m) => {
        process.exitCode = await m.runScripts(rest);
      });
      return 0;
    case "bench": {
      // The benchmark is a script of its own (it needs root and the kernel tools).
      const script = new URL("../scripts/bench.ts", import.meta.url).pathname;
      const child = Bun.spawnSync(["bun", script, ...rest], {
        stdio: ["inherit", "inherit", "inherit"],
      });
      return child.exitCode ?? 1;
    }
    default:
      console.error(`tcplab: unknown command "${command}"\n${MAIN_USAGE}`);
      return 2;
  }
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  if (e instanceof UsageError) {
    console.error(e.message);
    process.exitCode = 2;
  } else {
    throw e;
  }
}
