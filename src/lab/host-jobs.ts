/**
 * Commands run where the kernel peer lives (kernel world): the one in the
 * foreground (`host ping …`, `wait`), which Ctrl-C interrupts, and the ones
 * started with a trailing `&`, whose output is shown as it comes, prefixed
 * with the job number, with a line when each ends. All end with the world.
 */
import type { TraceFeed } from "./trace-feed.ts";
import type { Line } from "./view.ts";
import type { World } from "./world.ts";

/** A host command running in the background (`host nc 10.0.0.2 80 &`). */
export interface HostJob {
  readonly id: number;
  readonly command: string;
  /** The process id once started (for `host kill PID`). */
  readonly pid: number | undefined;
  readonly abort: AbortController;
  /** Settles when the command has ended. */
  readonly done: Promise<void>;
}

export class HostJobs {
  /** The foreground host command or `wait`, for interrupt(). */
  foreground: AbortController | undefined;
  /** Background commands by job number. */
  readonly jobs = new Map<number, HostJob>();
  private nextId = 1;
  /** Jobs are being ended with the world: their end is not news. */
  private closing = false;

  constructor(private readonly feed: TraceFeed) {}

  /** Starts `command` in the background, or undefined where there is no kernel peer. */
  start(world: World, command: string): HostJob | undefined {
    const run = world.runHostCommand;
    if (run === undefined) return undefined;
    const id = this.nextId++;
    const abort = new AbortController();
    let pid: number | undefined;
    const tag = `[${id}] `;
    const note = (text: string): Line => [
      { text: tag, tone: "muted" },
      { text, tone: "muted" },
    ];
    const done = run
      .call(world, command, {
        signal: abort.signal,
        started: (p) => {
          pid = p;
        },
        output: (chunk, stream) => {
          const lines = chunk.replace(/\n$/, "").split("\n");
          this.feed.emit([
            {
              kind: "text",
              lines: lines.map(
                (l): Line => [
                  { text: tag, tone: "muted" },
                  { text: l, tone: stream === "stderr" ? "warn" : "normal" },
                ],
              ),
            },
          ]);
        },
      })
      .then(
        (code) => {
          this.jobs.delete(id);
          if (this.closing) return;
          const how = code === null ? "killed" : `exit status ${code}`;
          this.feed.emit([{ kind: "text", lines: [note(`done: ${command} (${how})`)] }]);
        },
        () => {
          this.jobs.delete(id);
        },
      );
    const job: HostJob = {
      id,
      command,
      get pid() {
        return pid;
      },
      abort,
      done,
    };
    this.jobs.set(id, job);
    return job;
  }

  interrupt(): void {
    this.foreground?.abort();
  }

  /** Ends every background command (lab start, quit). */
  async endAll(): Promise<void> {
    const jobs = [...this.jobs.values()];
    if (jobs.length === 0) return;
    this.closing = true;
    for (const j of jobs) j.abort.abort();
    await Promise.all(jobs.map((j) => j.done));
    this.closing = false;
  }
}
