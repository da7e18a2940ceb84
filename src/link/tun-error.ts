/**
 * Why the kernel world could not be set up, in one line that tells the user
 * what to do. The UI prints `message` as is; `reason` is for code and tests.
 */
export type TunErrorReason =
  | "not-root"
  | "no-tun-device"
  | "no-libc"
  | "name-taken"
  | "bad-name"
  | "bad-address"
  | "netns-missing"
  | "netns-not-ours"
  | "netns-in-use"
  | "no-iproute2"
  | "configure-failed"
  | "io-failed";

export class TunError extends Error {
  override readonly name = "TunError";
  constructor(
    readonly reason: TunErrorReason,
    message: string,
    /** errno of the failing system call, when there was one. */
    readonly errno?: number,
  ) {
    super(message);
  }
}

export const NOT_ROOT_HINT =
  "run with sudo, or use `bun run lab` without root for the simulated world";
