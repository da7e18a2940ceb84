/**
 * Checks made before touching the kernel, so that a missing privilege or tool
 * becomes one line telling the user what to do rather than an errno from deep
 * inside.
 */
import { existsSync } from "node:fs";
import { NOT_ROOT_HINT, TunError } from "./tun-error.ts";

export function notRootError(): TunError {
  return new TunError("not-root", `tcplab needs root to create a TUN device: ${NOT_ROOT_HINT}`, 1);
}

/** Why the kernel world cannot be used here, or undefined if it can (as far as we can tell). */
export function kernelWorldUnavailable(): TunError | undefined {
  if (process.platform !== "linux") {
    return new TunError(
      "no-tun-device",
      `the kernel world needs Linux (this is ${process.platform}): use \`bun run lab\` for the simulated world`,
    );
  }
  if (process.getuid?.() !== 0) return notRootError();
  if (!existsSync("/dev/net/tun")) {
    return new TunError(
      "no-tun-device",
      "/dev/net/tun is missing: load the tun module (`modprobe tun`) or, in a container, pass --device /dev/net/tun --cap-add NET_ADMIN",
    );
  }
  return undefined;
}

export function requireLinuxRoot(): void {
  const why = kernelWorldUnavailable();
  if (why !== undefined) throw why;
}

export function requireIproute2(): void {
  if (Bun.which("ip") === null) {
    throw new TunError(
      "no-iproute2",
      "the `ip` command (iproute2) is missing: run `bun scripts/setup.ts` as root, or `apt-get install iproute2`",
    );
  }
}
