#!/usr/bin/env bun
/**
 * `bun run lab [options]`: works on a fresh clone. Installs the dependencies
 * first when they are missing (node_modules/ink), then runs `tcplab lab` with
 * the given options, on this terminal, and exits with its status.
 * Uses nothing but Bun itself.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");

if (!existsSync(join(root, "node_modules", "ink", "package.json"))) {
  console.error("tcplab: dependencies missing; running bun install --frozen-lockfile first");
  const install = Bun.spawnSync([process.execPath, "install", "--frozen-lockfile"], {
    cwd: root,
    // Its progress goes to stderr: stdout belongs to the lab (it may be piped).
    stdio: ["ignore", 2, "inherit"],
  });
  if (install.exitCode !== 0) {
    console.error(`tcplab: bun install failed (exit ${install.exitCode ?? "signal"})`);
    process.exit(install.exitCode ?? 1);
  }
}

const child = Bun.spawn(
  [process.execPath, join(root, "cli", "tcplab.ts"), "lab", ...process.argv.slice(2)],
  {
    cwd: process.cwd(),
    stdio: ["inherit", "inherit", "inherit"],
  },
);
// The terminal's signals reach the child too (same process group); keep this
// process alive until the child has restored the terminal and exited.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => child.kill(signal));
}
const code = await child.exited;
process.exit(child.signalCode ? 128 + signalNumber(String(child.signalCode)) : code);

function signalNumber(name: string): number {
  return ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[name] ?? 1;
}
