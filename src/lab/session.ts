/**
 * The lab engine: a LabSession over a World. It parses a command line,
 * runs it against the world through the command table, and returns Blocks;
 * packet lines and status changes go to listeners as they happen.
 */
import type { Tcb } from "../tcp/tcb.ts";
import { formatIpv4Addr, type Ipv4Addr, parseIpv4Addr } from "../wire/addr.ts";
import { formatTime, tokenize } from "./args.ts";
import { registerControlCommands } from "./cmd-control.ts";
import { registerInspectCommands } from "./cmd-inspect.ts";
import { registerPersonalityCommands } from "./cmd-personality.ts";
import { registerPlotCommands } from "./cmd-plot.ts";
import { registerSessionCommands } from "./cmd-session.ts";
import { registerSetCommands } from "./cmd-set.ts";
import { registerSocketCommands } from "./cmd-sockets.ts";
import { blocksText } from "./render.ts";
import type { PacketEvent, StateEvent } from "./event-log.ts";
import { DEFAULT_LABS_DIR, LabCatalog } from "./catalog.ts";
import type { GuidedLab } from "./guide.ts";
import type { CheckContext } from "./lab-checks.ts";
import type { LabClock, RealTime } from "./lab-clock.ts";
import type { LabFile } from "./lab-file.ts";
import { memoryProgress, type ProgressStore } from "./progress.ts";
import { type Command, candidatesFor, parseArgs, Registry, type Resolver } from "./registry.ts";
import { createSimWorld, type SimWorldOptions } from "./sim-world.ts";
import { STATE_COLUMNS, stateRows } from "./state-view.ts";
import { stateLine, traceLine } from "./trace-view.ts";
import type { Block, CommandResult, Completion, LabSession, Line, StatusView } from "./view.ts";
import type { LabHost, World } from "./world.ts";

export interface LabSessionOptions {
  /** "simulated" (default) or "kernel" (needs root; see createKernelWorld). */
  readonly world?: "simulated" | "kernel";
  /** A world built by the caller instead (tests, the kernel world). */
  readonly worldInstance?: World;
  /** Builds a fresh world for `lab start` (default: a new simulated world with the same options). */
  readonly worldFactory?: () => World | Promise<World>;
  readonly seed?: number;
  readonly sim?: Omit<SimWorldOptions, "seed" | "realTime">;
  /** Directory of guided lab files (default: the repository's labs/). */
  readonly labsDir?: string;
  /** More folders of labs (a teacher's own: `--labs DIR`, TCPLAB_LABS); later ones win. */
  readonly extraLabDirs?: readonly string[];
  /** Where progress is kept across runs (default: in memory). */
  readonly progress?: ProgressStore;
  /** Real time for `run` (tests pass a fake one). */
  readonly realTime?: RealTime;
  /** Packet trace on at start (default true). */
  readonly trace?: boolean;
}

export { DEFAULT_LABS_DIR };

type OutputListener = (blocks: readonly Block[]) => void;

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

export class LabEngine implements LabSession, Resolver {
  world: World;
  current: LabHost;
  readonly registry = new Registry<LabEngine>();
  readonly options: LabSessionOptions;
  readonly labsDir: string;
  readonly catalog: LabCatalog;
  readonly progress: ProgressStore;
  traceOn: boolean;
  /** Trace only these hosts (undefined: all). */
  traceHosts: ReadonlySet<string> | undefined;
  lab: GuidedLab | undefined;
  /** Text of the last command's output (for lab `output` checks). */
  lastOutput = "";
  /** The socket id each TCB was last seen under, per host (kept after close, for `(#3)`). */
  private readonly fdMemory = new Map<string, Map<number, Tcb>>();
  /** Peer ISNs chosen by `inject` for connections whose IRS is not known yet. */
  readonly injectBases = new WeakMap<Tcb, number>();
  /** Pending host command or `wait`, for interrupt(). */
  hostAbort: AbortController | undefined;
  /** Host commands started with a trailing `&`, by job number. */
  readonly hostJobs = new Map<number, HostJob>();
  private nextJobId = 1;
  /** Text emitted while a command runs (host output), for `output` checks. */
  private captured: string[] | undefined;
  /** Log position when the previous command began (`wait` looks from there). */
  previousCommandMark = 0;
  private currentCommandMark = 0;
  /** Jobs are being ended with the world: their end is not news. */
  private closing = false;
  private traceMark = 0;
  private readonly outputListeners = new Set<OutputListener>();
  private readonly statusListeners = new Set<() => void>();
  private flushQueued = false;
  /** Log position up to which state changes have been reported (by a command or by flush). */
  private stateMark = 0;
  /** A command is running: its own result reports the state changes it caused. */
  private commandRunning = false;
  private unlistenLog: (() => void) | undefined;

  constructor(world: World, options: LabSessionOptions = {}) {
    this.options = options;
    this.labsDir = options.labsDir ?? DEFAULT_LABS_DIR;
    this.catalog = new LabCatalog([this.labsDir, ...(options.extraLabDirs ?? [])]);
    this.progress = options.progress ?? memoryProgress();
    this.world = world;
    this.current = world.hosts[0] as LabHost;
    this.traceOn = options.trace ?? true;
    registerSocketCommands(this.registry);
    registerInspectCommands(this.registry);
    registerControlCommands(this.registry);
    registerPersonalityCommands(this.registry);
    registerSetCommands(this.registry);
    registerPlotCommands(this.registry);
    registerSessionCommands(this.registry);
    this.bindWorld();
  }

  get clock(): LabClock {
    return this.world.clock;
  }

  // ───────────────────────────── LabSession ─────────────────────────────

  async execute(line: string): Promise<CommandResult> {
    const captured: string[] = [];
    this.captured = captured;
    if (line.trim() !== "") {
      this.previousCommandMark = this.currentCommandMark;
      this.currentCommandMark = this.world.log.length;
    }
    try {
      const result = await this.executeUnsafe(line);
      this.lastOutput = [...captured, blocksText(result.blocks)].join("\n");
      this.flush();
      return result;
    } catch (err) {
      // Backstop: commands return errors as Blocks; anything thrown is a bug, reported not raised.
      const message = err instanceof Error ? err.message : String(err);
      return { blocks: [{ kind: "error", message: `internal error: ${message}` }] };
    } finally {
      if (this.captured === captured) this.captured = undefined;
    }
  }

  interrupt(): void {
    this.clock.pause();
    this.hostAbort?.abort();
  }

  complete(line: string, cursor: number): Completion {
    return this.completeAt(line.slice(0, cursor));
  }

  status(): StatusView {
    const h = this.current;
    const lab = this.lab;
    const step = lab?.steps[lab.step];
    return {
      prompt: `${h.name}> `,
      world: this.world.kind,
      clock: {
        now: `${formatTime(this.clock.now())} s`,
        mode: this.clock.mode,
        speed: this.clock.speed,
      },
      host: h.name,
      connections: {
        kind: "table",
        title: `${h.name} ${formatIpv4Addr(h.addr)}`,
        columns: STATE_COLUMNS,
        rows: stateRows(h, this.clock.now(), { absolute: false }, this.idOf(h)),
      },
      ...(lab !== undefined && step !== undefined
        ? {
            lab: {
              name: lab.lab.name,
              step: lab.step + 1,
              steps: lab.steps.length,
              title: step.title,
            },
          }
        : {}),
    };
  }

  onOutput(listener: OutputListener): () => void {
    this.outputListeners.add(listener);
    return () => this.outputListeners.delete(listener);
  }

  onStatus(listener: () => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  async close(): Promise<void> {
    this.interrupt();
    await this.endJobs();
    this.unlistenLog?.();
    const pcaps = this.world.hosts.map((h) => h.link.pcap);
    for (const h of this.world.hosts) h.link.pcap = undefined;
    for (const p of pcaps) p?.close();
    await this.world.close();
  }

  // ───────────────────────────── Resolver ─────────────────────────────

  hostNamed(name: string): LabHost | undefined {
    return this.world.hosts.find((h) => h.name === name);
  }

  hostNames(): readonly string[] {
    return this.world.hosts.map((h) => h.name);
  }

  address(text: string): Ipv4Addr | undefined {
    const h = this.hostNamed(text);
    if (h !== undefined) return h.addr;
    const peer = this.world.peer;
    if (peer !== undefined && peer.name === text) return peer.addr;
    return parseIpv4Addr(text);
  }

  labNames(): readonly string[] {
    return this.catalog.names();
  }

  remembers(host: LabHost, fd: number): boolean {
    return this.fdMemory.get(host.name)?.has(fd) ?? false;
  }

  commandNames(): readonly string[] {
    return this.registry.all().map((c) => c.name);
  }

  // ───────────────────────────── helpers for commands ─────────────────────────────

  /** Reads and parses the lab NAME from the catalog's folders. */
  loadLab(name: string): LabFile | { error: string } {
    return this.catalog.load(name);
  }

  /** What lab checks and questions read: the world, the socket names, the last output. */
  checkContext(): CheckContext {
    return {
      log: this.world.log,
      hosts: this.world.hosts,
      current: this.current,
      lastOutput: this.lastOutput,
      hostNamed: (n) => this.hostNamed(n),
      address: (t) => this.address(t),
      nameOf: (a) =>
        this.world.hosts.find((h) => h.addr === a)?.name ??
        (this.world.peer?.addr === a ? this.world.peer.name : undefined),
      tcbById: (h, fd) => this.tcbById(h, fd),
      listeningPort: (h, fd) => {
        const info = h.sockets.info(fd);
        return info instanceof Error || info.tcb !== undefined ? undefined : info.local?.port;
      },
    };
  }

  /** Replaces the world with a fresh one (lab start). */
  async resetWorld(): Promise<void> {
    // The old world goes first: a kernel world's namespace name can only be held once.
    this.clock.pause();
    await this.endJobs();
    this.unlistenLog?.();
    for (const h of this.world.hosts) {
      h.link.pcap?.close();
      h.link.pcap = undefined;
    }
    await this.world.close();
    const factory = this.options.worldFactory;
    const next = factory !== undefined ? await factory() : this.newSimWorld();
    this.world = next;
    this.current = next.hosts[0] as LabHost;
    this.fdMemory.clear();
    this.traceMark = 0;
    this.previousCommandMark = 0;
    this.currentCommandMark = 0;
    this.bindWorld();
  }

  newSimWorld(): World {
    return createSimWorld({
      ...this.options.sim,
      ...(this.options.seed !== undefined ? { seed: this.options.seed } : {}),
      ...(this.options.realTime !== undefined ? { realTime: this.options.realTime } : {}),
    });
  }

  /** `#3`, `(#3)` for a TCB whose socket id was closed, or `-`. */
  idOf(host: LabHost): (tcb: Tcb) => string {
    const open = new Map<Tcb, number>();
    for (const s of host.sockets.list()) if (s.tcb !== undefined) open.set(s.tcb, s.fd);
    const memory = this.fdMemory.get(host.name);
    return (tcb) => {
      const fd = open.get(tcb);
      if (fd !== undefined) return `#${fd}`;
      if (memory !== undefined) for (const [id, t] of memory) if (t === tcb) return `(#${id})`;
      return "-";
    };
  }

  /** The TCB a socket id names now or named last (after close), if any. */
  tcbById(host: LabHost, fd: number): Tcb | undefined {
    return host.sockets.tcbOf(fd) ?? this.fdMemory.get(host.name)?.get(fd);
  }

  rememberFds(): void {
    for (const h of this.world.hosts) {
      let memory = this.fdMemory.get(h.name);
      if (memory === undefined) {
        memory = new Map();
        this.fdMemory.set(h.name, memory);
      }
      for (const s of h.sockets.list()) {
        if (s.tcb !== undefined) memory.set(s.fd, s.tcb);
        else memory.delete(s.fd);
      }
    }
  }

  /** State changes since `mark`, as lines. */
  stateChangeLines(mark: number): Line[] {
    const lines: Line[] = [];
    for (const ev of this.world.log.since(mark)) {
      if (ev.kind !== "state") continue;
      const host = this.hostNamed(ev.host);
      lines.push(stateLine(ev as StateEvent, host !== undefined ? this.idOf(host)(ev.tcb) : "-"));
    }
    return lines;
  }

  emit(blocks: readonly Block[]): void {
    if (blocks.length === 0) return;
    if (this.captured !== undefined) {
      const t = blocksText(blocks.filter((b) => b.kind !== "packets"));
      if (t !== "") this.captured.push(t);
    }
    for (const fn of this.outputListeners) fn(blocks);
  }

  emitStatus(): void {
    for (const fn of this.statusListeners) fn();
  }

  /**
   * Sends trace lines for packets logged since the last flush, the state
   * changes that happened between commands (kernel world, a running clock:
   * a peer's reset must not go unnoticed with trace off), then a status update.
   */
  flush(): void {
    const log = this.world.log;
    if (!this.commandRunning && this.stateMark < log.length) {
      const changes = this.stateChangeLines(this.stateMark);
      this.stateMark = log.length;
      if (changes.length > 0) this.emit([{ kind: "text", lines: changes }]);
    }
    if (this.traceMark < log.length) {
      const lines: Line[] = [];
      for (const ev of log.since(this.traceMark)) {
        if (ev.kind !== "packet") continue;
        if (this.traceHosts !== undefined && !this.traceHosts.has(ev.host)) continue;
        lines.push(traceLine(ev as PacketEvent));
      }
      this.traceMark = log.length;
      if (this.traceOn && lines.length > 0) this.emit([{ kind: "packets", lines }]);
    }
    this.emitStatus();
  }

  /**
   * Starts `command` where the peer lives without waiting for it (`host … &`):
   * its output is shown as it comes, prefixed with the job number, and a line
   * says when it ends. It ends with the world at the latest.
   */
  startHostJob(command: string): HostJob | undefined {
    const run = this.world.runHostCommand;
    if (run === undefined) return undefined;
    const id = this.nextJobId++;
    const abort = new AbortController();
    let pid: number | undefined;
    const tag = `[${id}] `;
    const done = run
      .call(this.world, command, {
        signal: abort.signal,
        started: (p) => {
          pid = p;
        },
        output: (chunk, stream) => {
          const lines = chunk.replace(/\n$/, "").split("\n");
          this.emit([
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
          this.hostJobs.delete(id);
          if (this.closing) return;
          this.emit([
            {
              kind: "text",
              lines: [
                [
                  { text: tag, tone: "muted" },
                  {
                    text: `done: ${command} (${code === null ? "killed" : `exit status ${code}`})`,
                    tone: "muted",
                  },
                ],
              ],
            },
          ]);
        },
        () => {
          this.hostJobs.delete(id);
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
    this.hostJobs.set(id, job);
    return job;
  }

  /** Ends every background host command (lab start, quit). */
  private async endJobs(): Promise<void> {
    const jobs = [...this.hostJobs.values()];
    if (jobs.length === 0) return;
    this.closing = true;
    for (const j of jobs) j.abort.abort();
    await Promise.all(jobs.map((j) => j.done));
    this.closing = false;
  }

  // ───────────────────────────── internals ─────────────────────────────

  private bindWorld(): void {
    this.traceMark = this.world.log.length;
    this.stateMark = this.world.log.length;
    // Packets can arrive between commands (kernel world, `run`): trace them as they come,
    // one microtask later so drop marks are already set.
    this.unlistenLog = this.world.log.onEvent(() => {
      if (this.flushQueued) return;
      this.flushQueued = true;
      queueMicrotask(() => {
        this.flushQueued = false;
        this.flush();
      });
    });
  }

  private async executeUnsafe(line: string): Promise<CommandResult> {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("//")) return { blocks: [] };
    let host = this.current;
    let body = trimmed;
    let prefixed = false;
    const prefix = /^([A-Za-z][\w-]*):(?:\s+|$)(.*)$/.exec(trimmed);
    if (prefix !== null) {
      const named = this.hostNamed(prefix[1] as string);
      if (named === undefined) {
        return {
          blocks: [
            {
              kind: "error",
              message: `no host "${prefix[1]}" (hosts: ${this.hostNames().join(", ")})`,
              usage: "HOST: COMMAND",
            },
          ],
        };
      }
      host = named;
      body = (prefix[2] as string).trim();
      prefixed = true;
      if (body === "")
        return {
          blocks: [
            {
              kind: "error",
              message: `a command for ${named.name} is missing`,
              usage: "HOST: COMMAND",
            },
          ],
        };
    }
    const tokens = tokenize(body);
    const matched = this.registry.match(tokens);
    if (matched === undefined) {
      const word = tokens[0]?.text ?? "";
      const family = this.registry.family(word.toLowerCase());
      if (family.length > 0) {
        const sub = tokens[1]?.text;
        return {
          blocks: [
            {
              kind: "error",
              message:
                sub === undefined
                  ? `${word} needs a subcommand`
                  : `${word} has no subcommand "${sub}"`,
              usage: family.map((c) => c.usage).join("\n"),
            },
          ],
        };
      }
      return {
        blocks: [{ kind: "error", message: `unknown command "${word}" (type help for the list)` }],
      };
    }
    const { cmd, words } = matched;
    if (prefixed && cmd.hostScoped === false) {
      return {
        blocks: [
          {
            kind: "error",
            message: `${cmd.name} is about the session, not a host: drop the "${host.name}:"`,
            usage: cmd.usage,
          },
        ],
      };
    }
    const argTokens = tokens.slice(words);
    const restStart = argTokens[0]?.start ?? body.length;
    const args = parseArgs(cmd, argTokens, body, host, this);
    if ("error" in args)
      return {
        blocks: [{ kind: "error", message: `${cmd.name}: ${args.error}`, usage: cmd.usage }],
      };
    // State changes from between commands go out first, on their own.
    this.flush();
    const mark = this.world.log.length;
    this.commandRunning = true;
    let ran: Awaited<ReturnType<typeof cmd.run>>;
    try {
      ran = await cmd.run({ engine: this, host, rest: body.slice(restStart) }, args);
    } finally {
      this.commandRunning = false;
    }
    const result: CommandResult = Array.isArray(ran) ? { blocks: ran } : (ran as CommandResult);
    this.rememberFds();
    const changes = this.world.log.length > mark ? this.stateChangeLines(mark) : [];
    this.stateMark = Math.max(this.stateMark, this.world.log.length);
    const blocks =
      changes.length > 0
        ? [...result.blocks, { kind: "text" as const, lines: changes }]
        : result.blocks;
    return result.quit ? { blocks, quit: true } : { blocks };
  }

  private completeAt(before: string): Completion {
    let offset = 0;
    let body = before;
    let host = this.current;
    const prefix = /^(\s*)([A-Za-z][\w-]*):(\s+)/.exec(before);
    if (prefix !== null) {
      const named = this.hostNamed(prefix[2] as string);
      if (named !== undefined) {
        host = named;
        offset = prefix[0].length;
        body = before.slice(offset);
      }
    }
    const tokens = tokenize(body);
    const endsInSpace = body.length > 0 && /\s$/.test(body);
    const word = endsInSpace || tokens.length === 0 ? "" : (tokens[tokens.length - 1]?.text ?? "");
    const start =
      offset +
      (endsInSpace || tokens.length === 0 ? body.length : (tokens[tokens.length - 1]?.start ?? 0));
    const done = endsInSpace ? tokens : tokens.slice(0, -1);
    const pick = (cands: readonly string[]): Completion => ({
      candidates: [...new Set(cands)].filter((c) => c.startsWith(word)).sort(),
      start,
    });
    if (done.length === 0) {
      const firsts = this.registry.all().map((c) => c.name.split(" ")[0] as string);
      const hosts = prefix === null ? this.hostNames().map((h) => `${h}:`) : [];
      return pick([...firsts, ...hosts]);
    }
    const first = done[0]?.text.toLowerCase() ?? "";
    const family = this.registry.family(first);
    if (done.length === 1 && family.some((c) => c.name.includes(" "))) {
      const subs = family
        .filter((c) => c.name.includes(" "))
        .map((c) => c.name.split(" ")[1] as string);
      return pick(subs);
    }
    const matched = this.registry.match(done);
    if (matched === undefined) return { candidates: [], start };
    const cmd: Command<LabEngine> = matched.cmd;
    if (word.startsWith("--")) return pick((cmd.flags ?? []).map((f) => `--${f.name}`));
    const argWords = done.slice(matched.words).filter((t) => !t.text.startsWith("--"));
    const cands: string[] = [];
    // Offer what fits the next argument, and past optional words what fits the one after.
    let i = 0;
    for (const spec of cmd.args) {
      if (i < argWords.length) {
        const t = argWords[i]?.text ?? "";
        const words = [...(spec.values ?? []), ...(spec.withHosts ? this.hostNames() : [])];
        if (spec.optional && spec.kind === "word" && !words.includes(t)) continue;
        i++;
        continue;
      }
      cands.push(...candidatesFor(spec, host, this));
      if (!spec.optional) break;
    }
    return pick(cands);
  }
}

export { blocksText };

/**
 * A lab session. Without options: the simulated world (hosts a and b, clock
 * paused). For the kernel world, build it first with createKernelWorld() and
 * pass it as `worldInstance`.
 */
export function createLabSession(options: LabSessionOptions = {}): LabEngine {
  if (options.worldInstance !== undefined) return new LabEngine(options.worldInstance, options);
  if (options.world === "kernel") {
    throw new Error("the kernel world is created asynchronously: use createKernelLabSession()");
  }
  const world = createSimWorld({
    ...options.sim,
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.realTime !== undefined ? { realTime: options.realTime } : {}),
  });
  return new LabEngine(world, options);
}
