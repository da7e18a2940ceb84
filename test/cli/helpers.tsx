import { render } from "ink-testing-library";
import type { ReactElement } from "react";
import { ColorContext } from "../../cli/lab/color-context.ts";
import { type HistoryStore, memoryHistory } from "../../cli/lab/history-file.ts";
import { LabApp } from "../../cli/lab/LabApp.tsx";
import type { Block } from "../../src/lab/view.ts";
import { FakeSession } from "./fake-session.ts";

/** Let React, Ink and the session's promises run until `ready` holds (bounded, no timers). */
export async function until(ready: () => boolean, what: string, turns = 500): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (ready()) return;
    await new Promise<void>((r) => setImmediate(r));
  }
  if (!ready()) throw new Error(`timed out waiting for ${what}`);
}

/** A few event-loop turns for output that should *not* appear. */
export async function turns(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
}

export const KEY = {
  enter: "\r",
  tab: "\t",
  up: "\x1b[A",
  down: "\x1b[B",
  right: "\x1b[C",
  left: "\x1b[D",
  home: "\x1b[H",
  end: "\x1b[F",
  del: "\x1b[3~",
  backspace: "\x7f",
  ctrlA: "\x01",
  ctrlC: "\x03",
  ctrlD: "\x04",
  ctrlE: "\x05",
  ctrlK: "\x0b",
  ctrlU: "\x15",
  ctrlW: "\x17",
};

export function renderPlain(node: ReactElement) {
  return render(<ColorContext.Provider value={false}>{node}</ColorContext.Provider>);
}

export interface Shell {
  readonly session: FakeSession;
  readonly history: HistoryStore & { entries: string[] };
  readonly exits: { code: number; error?: unknown }[];
  /** The whole frame: scrollback, live pane, prompt. */
  frame(): string;
  /** Every frame written so far, oldest first. */
  frames(): readonly string[];
  /** The last line of the frame: the prompt and the line being edited. */
  promptLine(): string;
  type(text: string): Promise<void>;
  unmount(): void;
}

export async function startShell(
  options: { history?: string[]; session?: FakeSession; banner?: Block[] } = {},
): Promise<Shell> {
  const session = options.session ?? new FakeSession();
  const history = memoryHistory(options.history ?? []);
  const exits: { code: number; error?: unknown }[] = [];
  const r = render(
    <LabApp
      session={session}
      history={history}
      color={false}
      {...(options.banner ? { banner: options.banner } : {})}
      onExit={(code, error) => exits.push(error === undefined ? { code } : { code, error })}
    />,
  );
  const frame = () => r.lastFrame() ?? "";
  await until(() => frame().includes("a>"), "the prompt");
  return {
    session,
    history,
    exits,
    frame,
    frames: () => r.frames,
    promptLine: () => frame().split("\n").at(-1) ?? "",
    async type(text: string) {
      r.stdin.write(text);
      await turns(5);
    },
    unmount: () => r.unmount(),
  };
}
