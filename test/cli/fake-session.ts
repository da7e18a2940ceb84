/**
 * A small stand-in for the lab engine: answers a fixed set of commands with
 * one Block of each kind, so the UI can be rendered and checked without the
 * real engine. It decides nothing about TCP.
 */
import type {
  Block,
  CommandResult,
  Completion,
  LabSession,
  StatusView,
} from "../../src/lab/view.ts";

export const COMMANDS = [
  "close",
  "connect",
  "echo",
  "fail",
  "help",
  "ladder",
  "listen",
  "packets",
  "quit",
  "slow",
  "state",
  "stats",
  "table",
  "throw",
];

export const BLOCKS = {
  text: {
    kind: "text",
    lines: [[{ text: "commands: " }, { text: "listen", tone: "accent" }, { text: " connect" }], []],
  },
  table: {
    kind: "table",
    title: "host a",
    columns: ["ID", "LOCAL", "REMOTE", "STATE"],
    rows: [
      [
        { text: "#3" },
        { text: "10.0.0.1:49152" },
        { text: "10.0.0.2:80" },
        { text: "ESTABLISHED", tone: "state" },
      ],
      [{ text: "#4" }, { text: "10.0.0.1:80" }, { text: "*" }, { text: "LISTEN", tone: "state" }],
    ],
  },
  error: { kind: "error", message: "unknown host c", usage: "connect ADDR PORT" },
  packets: {
    kind: "packets",
    lines: [
      [{ text: "> ", tone: "out" }, { text: "S 0:0(0) win 65535" }],
      [{ text: "< ", tone: "in" }, { text: "S. 0:0(0) ack 1 win 65535" }],
      [{ text: "x DROP ", tone: "bad" }, { text: "bad checksum" }],
    ],
  },
  ladder: {
    kind: "ladder",
    lines: [
      [{ text: "   a                 b" }],
      [{ text: "   |----- SYN ----->|", tone: "out" }],
      [{ text: "   |<-- SYN,ACK ----|", tone: "in" }],
    ],
  },
} satisfies Record<string, Block>;

export class FakeSession implements LabSession {
  readonly executed: string[] = [];
  interrupts = 0;
  closed = false;
  prompt = "a> ";
  lab: StatusView["lab"] | undefined;
  private outputListeners = new Set<(blocks: readonly Block[]) => void>();
  private statusListeners = new Set<() => void>();
  private pendingSlow: ((r: CommandResult) => void) | undefined;
  connections: StatusView["connections"] = BLOCKS.table;
  statusError: Error | undefined;

  async execute(line: string): Promise<CommandResult> {
    this.executed.push(line);
    const [cmd, ...args] = line.trim().split(/\s+/);
    switch (cmd) {
      case "help":
        return { blocks: [BLOCKS.text] };
      case "table":
        return { blocks: [BLOCKS.table] };
      case "fail":
        return { blocks: [BLOCKS.error] };
      case "packets":
        return { blocks: [BLOCKS.packets] };
      case "ladder":
        return { blocks: [BLOCKS.ladder] };
      case "echo":
        return { blocks: [{ kind: "text", lines: [[{ text: args.join(" ") }]] }] };
      case "throw":
        throw new Error("boom");
      case "crash":
        // An error nobody catches, outside any command: fatal for the process.
        setTimeout(() => {
          throw new Error("kaboom");
        }, 0);
        return { blocks: [] };
      case "quit":
        return { blocks: [], quit: true };
      case "slow":
        return new Promise((resolve) => {
          this.pendingSlow = resolve;
        });
      case undefined:
      case "":
        return { blocks: [] };
      default:
        return { blocks: [{ kind: "error", message: `unknown command "${cmd}"` }] };
    }
  }

  interrupt(): void {
    this.interrupts++;
    const resolve = this.pendingSlow;
    this.pendingSlow = undefined;
    resolve?.({ blocks: [{ kind: "text", lines: [[{ text: "interrupted" }]] }] });
  }

  complete(line: string, cursor: number): Completion {
    const before = line.slice(0, cursor);
    const start = before.lastIndexOf(" ") + 1;
    const word = before.slice(start);
    if (start > 0) return { candidates: [], start };
    return { candidates: COMMANDS.filter((c) => c.startsWith(word)), start };
  }

  status(): StatusView {
    if (this.statusError) throw this.statusError;
    return {
      prompt: this.prompt,
      world: "simulated",
      clock: { now: "1.250 s", mode: "paused", speed: 1 },
      host: "a",
      connections: this.connections,
      ...(this.lab ? { lab: this.lab } : {}),
    };
  }

  onOutput(listener: (blocks: readonly Block[]) => void): () => void {
    this.outputListeners.add(listener);
    return () => this.outputListeners.delete(listener);
  }

  onStatus(listener: () => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** Simulate asynchronous output from the engine. */
  emit(blocks: readonly Block[]): void {
    for (const l of this.outputListeners) l(blocks);
  }

  changed(): void {
    for (const l of this.statusListeners) l();
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
