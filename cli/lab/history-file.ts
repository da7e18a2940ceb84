/**
 * Input history kept across runs, one command a line, in
 * $XDG_STATE_HOME/tcplab/history (or ~/.local/state/tcplab/history; the
 * environment variable TCPLAB_HISTORY names another file, "" turns it off).
 * Bounded, and never fatal: an unreadable or unwritable file only means no
 * history.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { statePath } from "../../src/lab/state-path.ts";

export const HISTORY_LIMIT = 1000;

export function historyPath(
  env: Record<string, string | undefined> = process.env,
): string | undefined {
  return statePath("history", "TCPLAB_HISTORY", env);
}

export interface HistoryStore {
  load(): string[];
  save(entries: readonly string[]): void;
}

export function fileHistory(path: string | undefined, limit = HISTORY_LIMIT): HistoryStore {
  return {
    load() {
      if (path === undefined) return [];
      try {
        return readFileSync(path, "utf8")
          .split("\n")
          .filter((l) => l.trim() !== "")
          .slice(-limit);
      } catch {
        return [];
      }
    },
    save(entries) {
      if (path === undefined) return;
      try {
        mkdirSync(dirname(path), { recursive: true });
        const kept = entries.slice(-limit);
        writeFileSync(path, kept.length > 0 ? `${kept.join("\n")}\n` : "", { mode: 0o600 });
      } catch {
        // No history is better than no shell.
      }
    },
  };
}

export const memoryHistory = (
  initial: readonly string[] = [],
): HistoryStore & { entries: string[] } => {
  const store = {
    entries: [...initial],
    load: () => [...store.entries],
    save: (entries: readonly string[]) => {
      store.entries = [...entries];
    },
  };
  return store;
};
