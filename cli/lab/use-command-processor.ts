/**
 * Runs command lines through the session, one at a time and in order (a
 * paste of several lines queues them), and turns every outcome into
 * scrollback: the echoed line, the result's blocks, or an error block when
 * execute throws. It never interprets a command; `quit` is the engine's call.
 */
import { useCallback, useRef, useState } from "react";
import type { LabSession } from "../../src/lab/view.ts";
import { errorBlock, type ScrollEntry } from "./scroll.ts";

export interface CommandProcessor {
  /** Queue lines to run in order. */
  submit(lines: readonly string[]): void;
  /** Ctrl-C while busy: drop queued lines and interrupt the running command. */
  interrupt(): void;
  /** A command is running (or queued): rendering uses `busy`, key handlers this. */
  isBusy(): boolean;
  readonly busy: boolean;
}

export interface CommandProcessorOptions {
  readonly append: (entries: readonly ScrollEntry[]) => void;
  readonly onQuit: () => void;
  /** After each command: the live pane should re-read the status. */
  readonly onSettled?: () => void;
}

export function promptOf(session: LabSession): string {
  try {
    return session.status().prompt;
  } catch {
    return "> ";
  }
}

export function useCommandProcessor(
  session: LabSession,
  { append, onQuit, onSettled }: CommandProcessorOptions,
): CommandProcessor {
  const queue = useRef<string[]>([]);
  const running = useRef(false);
  const quitting = useRef(false);
  const [busy, setBusy] = useState(false);
  // The latest callbacks, so a long-running pump never calls stale ones.
  const opts = useRef({ append, onQuit, onSettled });
  opts.current = { append, onQuit, onSettled };

  const pump = useCallback(async () => {
    if (running.current) return;
    running.current = true;
    setBusy(true);
    try {
      for (let line = queue.current.shift(); line !== undefined; line = queue.current.shift()) {
        if (quitting.current) break;
        opts.current.append([{ kind: "echo", prompt: promptOf(session), line }]);
        try {
          const result = await session.execute(line);
          if (result.blocks.length > 0)
            opts.current.append([{ kind: "blocks", blocks: result.blocks }]);
          if (result.quit) {
            quitting.current = true;
            queue.current.length = 0;
            opts.current.onQuit();
          }
        } catch (e) {
          opts.current.append([{ kind: "blocks", blocks: [errorBlock(e)] }]);
        }
        opts.current.onSettled?.();
      }
    } finally {
      running.current = false;
      setBusy(false);
    }
  }, [session]);

  const submit = useCallback(
    (lines: readonly string[]) => {
      if (quitting.current) return;
      queue.current.push(...lines);
      void pump();
    },
    [pump],
  );

  const interrupt = useCallback(() => {
    queue.current.length = 0;
    try {
      session.interrupt();
    } catch (e) {
      opts.current.append([{ kind: "blocks", blocks: [errorBlock(e)] }]);
    }
  }, [session]);

  const isBusy = useCallback(() => running.current, []);

  return { submit, interrupt, isBusy, busy };
}
