/**
 * Run a command inside a named network namespace (`ip netns exec`) with a
 * hard time limit. Used for namespaces the bench owns and for the one
 * `tcplab serve` creates, alike.
 */
export interface NsExecResult {
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

export async function nsExec(
  netns: string,
  argv: readonly string[],
  timeoutMs: number,
): Promise<NsExecResult> {
  const proc = Bun.spawn(["ip", "netns", "exec", netns, ...argv], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
  }, timeoutMs);
  try {
    const [stdout, stderr] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
    ]);
    await proc.exited;
    return { exitCode: proc.exitCode, stdout, stderr, timedOut };
  } finally {
    clearTimeout(timer);
  }
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
