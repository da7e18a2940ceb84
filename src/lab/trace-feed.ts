/**
 * What the lab says between and during commands: packet trace lines as they
 * are logged, state changes that happen while no command runs (a peer's
 * reset in the kernel world must not go unnoticed), host command output, and
 * status updates for the live pane. Output emitted while a command runs is
 * also captured, for the lab's `output` checks.
 */
import type { PacketEvent, StateEvent } from "./event-log.ts";
import { blocksText } from "./render.ts";
import type { SocketNames } from "./socket-names.ts";
import { stateLine, traceLine } from "./trace-view.ts";
import type { Block, Line } from "./view.ts";
import type { World } from "./world.ts";

type OutputListener = (blocks: readonly Block[]) => void;

export class TraceFeed {
  /** Packet lines on (`trace on|off`). */
  on: boolean;
  /** Trace only these hosts (undefined: all). */
  hosts: ReadonlySet<string> | undefined;
  private world: World | undefined;
  private traceMark = 0;
  /** Log position up to which state changes have been reported (by a command or by flush). */
  private stateMark = 0;
  /** A command is running: its own result reports the state changes it caused. */
  private commandRunning = false;
  private flushQueued = false;
  private captured: string[] | undefined;
  private unlisten: (() => void) | undefined;
  private readonly outputListeners = new Set<OutputListener>();
  private readonly statusListeners = new Set<() => void>();

  constructor(
    private readonly names: SocketNames,
    traceOn: boolean,
  ) {
    this.on = traceOn;
  }

  /** Follows a (new) world's log from its current end. */
  bind(world: World): void {
    this.unlisten?.();
    this.world = world;
    this.traceMark = world.log.length;
    this.stateMark = world.log.length;
    // Packets can arrive between commands (kernel world, `run`): trace them as they come,
    // one microtask later so drop marks are already set.
    this.unlisten = world.log.onEvent(() => {
      if (this.flushQueued) return;
      this.flushQueued = true;
      queueMicrotask(() => {
        this.flushQueued = false;
        this.flush();
      });
    });
  }

  unbind(): void {
    this.unlisten?.();
    this.unlisten = undefined;
  }

  onOutput(listener: OutputListener): () => void {
    this.outputListeners.add(listener);
    return () => this.outputListeners.delete(listener);
  }

  onStatus(listener: () => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  emit(blocks: readonly Block[]): void {
    if (blocks.length === 0) return;
    if (this.captured !== undefined) {
      const t = blocksText(blocks.filter((b) => b.kind !== "packets"));
      if (t !== "") this.captured.push(t);
    }
    for (const fn of this.outputListeners) fn(blocks);
  }

  status(): void {
    for (const fn of this.statusListeners) fn();
  }

  /** Starts capturing emitted text (a command begins); returns what `endCapture` will give back. */
  capture(): string[] {
    const c: string[] = [];
    this.captured = c;
    return c;
  }

  endCapture(c: string[]): void {
    if (this.captured === c) this.captured = undefined;
  }

  /** Runs a command: the state changes it causes are its own result's, not the feed's. */
  async during<T>(fn: () => Promise<T>): Promise<T> {
    this.commandRunning = true;
    try {
      return await fn();
    } finally {
      this.commandRunning = false;
    }
  }

  /** State changes since `mark` have been reported by a command's result. */
  reported(upTo: number): void {
    this.stateMark = Math.max(this.stateMark, upTo);
  }

  /** State changes since `mark`, as lines. */
  stateChangeLines(mark: number): Line[] {
    const w = this.world;
    if (w === undefined) return [];
    const lines: Line[] = [];
    for (const ev of w.log.since(mark)) {
      if (ev.kind !== "state") continue;
      const host = w.hosts.find((h) => h.name === ev.host);
      lines.push(
        stateLine(ev as StateEvent, host !== undefined ? this.names.idOf(host)(ev.tcb) : "-"),
      );
    }
    return lines;
  }

  /**
   * Sends trace lines for packets logged since the last flush, the state
   * changes that happened between commands, then a status update.
   */
  flush(): void {
    const w = this.world;
    if (w === undefined) return;
    const log = w.log;
    if (!this.commandRunning && this.stateMark < log.length) {
      const changes = this.stateChangeLines(this.stateMark);
      this.stateMark = log.length;
      if (changes.length > 0) this.emit([{ kind: "text", lines: changes }]);
    }
    if (this.traceMark < log.length) {
      const lines: Line[] = [];
      for (const ev of log.since(this.traceMark)) {
        if (ev.kind !== "packet") continue;
        if (this.hosts !== undefined && !this.hosts.has(ev.host)) continue;
        lines.push(traceLine(ev as PacketEvent));
      }
      this.traceMark = log.length;
      if (this.on && lines.length > 0) this.emit([{ kind: "packets", lines }]);
    }
    this.status();
  }
}
