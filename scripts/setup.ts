/**
 * Install the kernel-side tools the kernel world and its tests use, if any
 * are missing. As root on Debian/Ubuntu it runs apt-get; otherwise it says
 * what to install and leaves the machine alone.
 *
 *   sudo bun scripts/setup.ts          install what is missing
 *   bun scripts/setup.ts --check       only report; exit 1 if something is missing
 *   bun scripts/setup.ts --ci          install, and fail (exit 1) if anything is still missing
 *
 * The lab and .ci/run call this; it is quick when everything is there.
 */
import { existsSync } from "node:fs";

/** command → Debian package that provides it */
const TOOLS: readonly (readonly [command: string, pkg: string])[] = [
  ["ip", "iproute2"],
  ["ping", "iputils-ping"],
  ["nc", "netcat-openbsd"],
  ["curl", "curl"],
  ["socat", "socat"],
  ["tshark", "tshark"],
  ["setpriv", "util-linux"],
  ["tmux", "tmux"],
  ["tc", "iproute2"],
  // Load: floods and connection churn (scripts/load.ts, the reduced load tests).
  ["hping3", "hping3"],
  ["ab", "apache2-utils"],
];

function missingPackages(): string[] {
  const pkgs = TOOLS.filter(([cmd]) => Bun.which(cmd) === null).map(([, pkg]) => pkg);
  return [...new Set(pkgs)];
}

function run(argv: string[]): number {
  console.log(`setup: ${argv.join(" ")}`);
  const res = Bun.spawnSync(argv, {
    stdout: "inherit",
    stderr: "inherit",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  return res.exitCode ?? 1;
}

function main(): number {
  const checkOnly = process.argv.includes("--check");
  if (process.platform !== "linux") {
    console.log("setup: the kernel world needs Linux; the simulated world needs nothing more");
    return 0;
  }
  const missing = missingPackages();
  if (!existsSync("/dev/net/tun")) {
    console.log(
      "setup: /dev/net/tun is missing: `modprobe tun` (or pass --device /dev/net/tun to the container)",
    );
  }
  if (missing.length === 0) {
    console.log("setup: kernel-side tools present");
    return 0;
  }
  const install = `apt-get install -y ${missing.join(" ")}`;
  if (checkOnly) {
    console.log(
      `setup: missing ${missing.join(", ")}: run \`sudo bun scripts/setup.ts\` (${install})`,
    );
    return 1;
  }
  if (process.getuid?.() !== 0) {
    console.log(`setup: missing ${missing.join(", ")}; as root run: ${install}`);
    // Under CI the suites that need these tools must run, not skip.
    return process.argv.includes("--ci") ? 1 : 0;
  }
  if (Bun.which("apt-get") === null) {
    console.log(
      `setup: no apt-get here; install these with your package manager: ${missing.join(" ")}`,
    );
    return 1;
  }
  if (run(["apt-get", "update"]) !== 0) return 1;
  if (run(["apt-get", "install", "-y", "--no-install-recommends", ...missing]) !== 0) return 1;
  const still = missingPackages();
  if (still.length > 0) {
    console.log(`setup: still missing after install: ${still.join(", ")}`);
    return 1;
  }
  console.log(`setup: installed ${missing.join(", ")}`);
  return 0;
}

process.exit(main());
