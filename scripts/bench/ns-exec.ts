/**
 * Run a command inside a named network namespace (`ip netns exec`) with a
 * hard time limit. Used for namespaces the bench owns and for the one
 * `tcplab serve` creates, alike.
 */
import { type ExecResult, execInNetns } from "../../src/link/netns.ts";
export type NsExecResult = ExecResult;

export function nsExec(
  netns: string,
  argv: readonly string[],
  timeoutMs: number,
): Promise<NsExecResult> {
  return execInNetns(netns, argv, { timeoutMs });
}

/** Poll `check` every `everyMs` until it is true, at most `tries` times. */
export async function pollUntil(
  check: () => Promise<boolean>,
  tries: number,
  everyMs: number,
): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return true;
    await Bun.sleep(everyMs);
  }
  return false;
}

/** Wait until something in `netns` listens on TCP `port` (bounded). */
export function waitListening(netns: string, port: number): Promise<boolean> {
  return pollUntil(
    async () => {
      const r = await nsExec(netns, ["ss", "-Hltn", `sport = :${port}`], 2000);
      return r.exitCode === 0 && r.stdout.trim() !== "";
    },
    100,
    50,
  );
}
