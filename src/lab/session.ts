/**
 * The lab engine: a LabSession over a World. It reads a command line
 * (command-line.ts), runs the command against the world, and returns Blocks.
 * What it needs is split into services with one job each, which commands
 * reach through the engine: the socket names (socket-names.ts), the trace
 * feed (trace-feed.ts), host jobs in the kernel world (host-jobs.ts), and the
 * guided lab with its catalog and progress (guide.ts, catalog.ts,
 * progress.ts).
 */
import type { TcbView } from "../tcp/view.ts";
import { type Ipv4Addr, parseIpv4Addr } from "../wire/addr.ts";
import { type IpAddr, ipv4Addr, ipv6Addr } from "../wire/ip-addr.ts";
import { formatTime } from "./args.ts";
import { DEFAULT_LABS_DIR, LabCatalog } from "./catalog.ts";
import { registerControlCommands } from "./cmd-control.ts";
import { registerInspectCommands } from "./cmd-inspect.ts";
import { registerPathCommands } from "./cmd-path.ts";
import { registerPersonalityCommands } from "./cmd-personality.ts";
import { registerPlotCommands } from "./cmd-plot.ts";
import { registerSessionCommands } from "./cmd-session.ts";
import { registerSetCommands } from "./cmd-set.ts";
import { registerSocketCommands } from "./cmd-sockets.ts";
import { completeLine, parseLine } from "./command-line.ts";
import type { GuidedLab } from "./guide.ts";
import { HostJobs } from "./host-jobs.ts";
import type { CheckContext } from "./lab-checks.ts";
import type { LabClock, RealTime } from "./lab-clock.ts";
import type { LabFile } from "./lab-file.ts";
import { memoryProgress, type ProgressStore } from "./progress.ts";
import { Registry, type Resolver } from "./registry.ts";
import { blocksText } from "./render.ts";
import { createSimWorld, type SimWorldOptions } from "./sim-world.ts";
import { SocketNames } from "./socket-names.ts";
import { hostTitle, STATE_COLUMNS, stateRows } from "./state-view.ts";
import { TraceFeed } from "./trace-feed.ts";
import type { Block, CommandResult, Completion, LabSession, StatusView } from "./view.ts";
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

export type { HostJob } from "./host-jobs.ts";
export { DEFAULT_LABS_DIR };

/**
 * Commands that guide the learner rather than act on the world: their output
 * (a check's own message quoting the expected text) is never what an
 * `output` check reads.
 */
const GUIDE_COMMANDS: ReadonlySet<string> = new Set(["next", "check", "back", "answer", "lab"]);

export class LabEngine implements LabSession, Resolver {
  world: World;
  current: LabHost;
  readonly registry = new Registry<LabEngine>();
  readonly options: LabSessionOptions;
  readonly labsDir: string;
  readonly catalog: LabCatalog;
  readonly progress: ProgressStore;
  readonly names = new SocketNames();
  readonly feed: TraceFeed;
  readonly jobs: HostJobs;
  lab: GuidedLab | undefined;
  /** Text of the last command's output (for lab `output` checks). */
  lastOutput = "";
  /** Log position when the previous command began (`wait` looks from there). */
  previousCommandMark = 0;
  private currentCommandMark = 0;

  constructor(world: World, options: LabSessionOptions = {}) {
    this.options = options;
    this.labsDir = options.labsDir ?? DEFAULT_LABS_DIR;
    this.catalog = new LabCatalog([this.labsDir, ...(options.extraLabDirs ?? [])]);
    this.progress = options.progress ?? memoryProgress();
    this.feed = new TraceFeed(this.names, options.trace ?? true);
    this.jobs = new HostJobs(this.feed);
    this.world = world;
    this.current = world.hosts[0] as LabHost;
    registerSocketCommands(this.registry);
    registerInspectCommands(this.registry);
    registerControlCommands(this.registry);
    registerPersonalityCommands(this.registry);
    registerSetCommands(this.registry);
    registerPlotCommands(this.registry);
    registerPathCommands(this.registry);
    registerSessionCommands(this.registry);
    this.bind(world);
  }

  /** Follows a (new) world: its log feeds the trace, its clock's timer errors are reported. */
  private bind(world: World): void {
    this.feed.bind(world);
    const report = (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      this.feed.emit([
        { kind: "error", message: `a timer failed and was skipped (the hosts run on): ${message}` },
      ]);
    };
    for (const e of world.clock.earlyErrors.splice(0)) report(e);
    world.clock.onError = report;
  }

  get clock(): LabClock {
    return this.world.clock;
  }

  // ───────────────────────────── LabSession ─────────────────────────────

  async execute(line: string): Promise<CommandResult> {
    const captured = this.feed.capture();
    if (line.trim() !== "") {
      this.previousCommandMark = this.currentCommandMark;
      this.currentCommandMark = this.world.log.length;
    }
    try {
      const result = await this.run(line.trim());
      if (!GUIDE_COMMANDS.has(line.trim().split(/\s+/)[0] ?? ""))
        this.lastOutput = [...captured, blocksText(result.blocks)].join("\n");
      this.feed.flush();
      return result;
    } catch (err) {
      // Backstop: commands return errors as Blocks; anything thrown is a bug, reported not raised.
      const message = err instanceof Error ? err.message : String(err);
      return { blocks: [{ kind: "error", message: `internal error: ${message}` }] };
    } finally {
      this.feed.endCapture(captured);
    }
  }

  interrupt(): void {
    this.clock.pause();
    this.jobs.interrupt();
  }

  complete(line: string, cursor: number): Completion {
    return completeLine(line.slice(0, cursor), this.registry, this, this.current);
  }

  status(): StatusView {
    const h = this.current;
    const lab = this.lab;
    const step = lab?.current;
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
        title: hostTitle(h),
        columns: STATE_COLUMNS,
        rows: stateRows(h, this.clock.now(), { absolute: false }, this.names.idOf(h)),
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

  onOutput(listener: (blocks: readonly Block[]) => void): () => void {
    return this.feed.onOutput(listener);
  }

  onStatus(listener: () => void): () => void {
    return this.feed.onStatus(listener);
  }

  async close(): Promise<void> {
    this.interrupt();
    await this.jobs.endAll();
    this.feed.unbind();
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

  hostAddress(name: string, family: 4 | 6 = 4): IpAddr | undefined {
    const h = this.hostNamed(name);
    if (h !== undefined) {
      if (family === 4) return ipv4Addr(h.addr);
      return h.addr6 !== undefined ? ipv6Addr(h.addr6) : undefined;
    }
    const peer = this.world.peer;
    return peer !== undefined && peer.name === name && family === 4
      ? ipv4Addr(peer.addr)
      : undefined;
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
    return this.names.remembers(host, fd);
  }

  commandNames(): readonly string[] {
    return this.registry.all().map((c) => c.name);
  }

  // ───────────────────────────── for commands ─────────────────────────────

  /** Reads and parses the lab NAME from the catalog's folders. */
  loadLab(name: string): LabFile | { error: string } {
    return this.catalog.load(name);
  }

  /** The TCB a socket id names now or named last (after close), if any. */
  tcbById(host: LabHost, fd: number): TcbView | undefined {
    return this.names.tcbById(host, fd);
  }

  /** What lab checks and questions read: the world, the socket names, the last output. */
  checkContext(): CheckContext {
    const world = this.world;
    return {
      log: world.log,
      knownIsns: world.log.forgottenIsns,
      hosts: world.hosts,
      current: this.current,
      lastOutput: this.lastOutput,
      now: this.clock.now(),
      hostNamed: (n) => this.hostNamed(n),
      address: (t) => this.address(t),
      nameOf: (a) =>
        world.hosts.find((h) => h.addr === a)?.name ??
        (world.peer?.addr === a ? world.peer.name : undefined),
      tcbById: (h, fd) => this.names.tcbById(h, fd),
      listeningPort: (h, fd) => {
        const info = h.sockets.info(fd);
        return info instanceof Error || info.tcb !== undefined ? undefined : info.local?.port;
      },
    };
  }

  /**
   * Runs a lab step's `show:` line (a command that only looks, like
   * `plot #3 seq`) and returns what it drew, without counting it as the
   * learner's last command.
   */
  async show(line: string): Promise<readonly Block[]> {
    const parsed = parseLine(line, this.registry, this, this.current);
    if ("error" in parsed) return parsed.error;
    const ran = await parsed.cmd.run(
      { engine: this, host: parsed.host, rest: parsed.rest },
      parsed.args,
    );
    return Array.isArray(ran) ? ran : (ran as CommandResult).blocks;
  }

  /** Replaces the world with a fresh one (lab start). */
  async resetWorld(): Promise<void> {
    // The old world goes first: a kernel world's namespace name can only be held once.
    this.clock.pause();
    await this.jobs.endAll();
    this.feed.unbind();
    for (const h of this.world.hosts) {
      h.link.pcap?.close();
      h.link.pcap = undefined;
    }
    await this.world.close();
    const factory = this.options.worldFactory;
    const next = factory !== undefined ? await factory() : simWorldFor(this.options);
    this.world = next;
    this.current = next.hosts[0] as LabHost;
    this.names.clear();
    this.previousCommandMark = 0;
    this.currentCommandMark = 0;
    this.bind(next);
  }

  // ───────────────────────────── internals ─────────────────────────────

  private async run(line: string): Promise<CommandResult> {
    if (line === "" || line.startsWith("//")) return { blocks: [] };
    const parsed = parseLine(line, this.registry, this, this.current);
    if ("error" in parsed) return { blocks: parsed.error };
    // State changes from between commands go out first, on their own.
    this.feed.flush();
    const mark = this.world.log.length;
    const ran = await this.feed.during(async () =>
      parsed.cmd.run({ engine: this, host: parsed.host, rest: parsed.rest }, parsed.args),
    );
    const result: CommandResult = Array.isArray(ran) ? { blocks: ran } : (ran as CommandResult);
    this.names.remember(this.world.hosts);
    const changes = this.world.log.length > mark ? this.feed.stateChangeLines(mark) : [];
    this.feed.reported(this.world.log.length);
    const blocks =
      changes.length > 0
        ? [...result.blocks, { kind: "text" as const, lines: changes }]
        : result.blocks;
    return result.quit ? { blocks, quit: true } : { blocks };
  }
}

export { blocksText };

function simWorldFor(options: LabSessionOptions): World {
  return createSimWorld({
    ...options.sim,
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.realTime !== undefined ? { realTime: options.realTime } : {}),
  });
}

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
  return new LabEngine(simWorldFor(options), options);
}
