/**
 * What the lab engine returns and the UI draws. The engine decides; the UI
 * only renders these records (architecture rule 7), so every command can be
 * run and checked by a script or a test without a terminal.
 */

/** A semantic tone; the UI maps it to a colour, or to nothing under NO_COLOR. */
export type Tone =
  | "normal"
  | "muted"
  | "good"
  | "warn"
  | "bad"
  | "accent"
  | "state"
  | "in"
  | "out"
  /** Lab prose: a code span, emphasis, strong emphasis, an RFC reference. */
  | "code"
  | "emph"
  | "strong"
  | "ref";

export interface Span {
  readonly text: string;
  readonly tone?: Tone;
}

/** One line of output, as styled spans. */
export type Line = readonly Span[];

export type Block =
  | { readonly kind: "text"; readonly lines: readonly Line[] }
  | {
      readonly kind: "table";
      readonly title?: string;
      readonly columns: readonly string[];
      readonly rows: ReadonlyArray<readonly Span[]>;
    }
  | { readonly kind: "error"; readonly message: string; readonly usage?: string }
  /** Packet trace lines (`<` in, `>` out) and drops, as they happen. */
  | { readonly kind: "packets"; readonly lines: readonly Line[] }
  /** A sequence diagram: already laid out as lines by the engine (fixed-width text). */
  | { readonly kind: "ladder"; readonly lines: readonly Line[] }
  /** A plot: already drawn as lines by the engine (fixed-width text, braille and marks). */
  | { readonly kind: "chart"; readonly lines: readonly Line[] };

export interface CommandResult {
  readonly blocks: readonly Block[];
  /** The shell should exit (quit). */
  readonly quit?: boolean;
}

/** The live pane: the current host's connections and the clock. */
export interface StatusView {
  readonly prompt: string;
  readonly world: "simulated" | "kernel";
  readonly clock: {
    readonly now: string;
    readonly mode: "paused" | "running";
    readonly speed: number;
  };
  readonly host: string;
  readonly connections: Extract<Block, { kind: "table" }>;
  /** Current guided-lab step, if a lab is running. */
  readonly lab?: {
    readonly name: string;
    readonly step: number;
    readonly steps: number;
    readonly title: string;
  };
}

export interface Completion {
  /** Candidates that complete the word under the cursor. */
  readonly candidates: readonly string[];
  /** Where the word being completed starts in the line. */
  readonly start: number;
}

/** The lab engine as the UI sees it. */
export interface LabSession {
  execute(line: string): Promise<CommandResult>;
  /** Interrupt a running command (Ctrl-C), e.g. `host ping …` or `run`. */
  interrupt(): void;
  complete(line: string, cursor: number): Completion;
  status(): StatusView;
  /** Asynchronous output (packet lines, lab hints, `host` command output) between commands. */
  onOutput(listener: (blocks: readonly Block[]) => void): () => void;
  /** Status changed (clock ticked, state moved): the UI should redraw the live pane. */
  onStatus(listener: () => void): () => void;
  close(): Promise<void>;
}
