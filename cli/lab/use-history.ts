/**
 * ↑/↓ through earlier command lines. The line being typed is kept as a draft
 * and comes back when moving down past the newest entry.
 */
import { useRef } from "react";
import { HISTORY_LIMIT, type HistoryStore } from "./history-file.ts";

export interface History {
  /** Record a submitted line (not blank, not a repeat of the last one, not starting with a space). */
  add(line: string): void;
  /** The previous (older) entry, or undefined at the oldest. */
  up(current: string): string | undefined;
  /** The next (newer) entry or the draft, or undefined when not navigating. */
  down(): string | undefined;
  reset(): void;
}

export function createHistory(store: HistoryStore, limit = HISTORY_LIMIT): History {
  let entries: string[] | undefined;
  const all = () => {
    entries ??= store.load();
    return entries;
  };
  // Steps back from the newest entry; -1 means editing the draft.
  let index = -1;
  let draft = "";
  return {
    add(line) {
      index = -1;
      draft = "";
      if (line.trim() === "" || line.startsWith(" ")) return;
      const list = all();
      if (list[list.length - 1] === line) return;
      list.push(line);
      if (list.length > limit) list.splice(0, list.length - limit);
      store.save(list);
    },
    up(current) {
      const list = all();
      if (index + 1 >= list.length) return undefined;
      if (index === -1) draft = current;
      index++;
      return list[list.length - 1 - index];
    },
    down() {
      if (index === -1) return undefined;
      index--;
      const list = all();
      return index === -1 ? draft : list[list.length - 1 - index];
    },
    reset() {
      index = -1;
      draft = "";
    },
  };
}

/** One History for the life of the component. */
export function useHistory(store: HistoryStore): History {
  const ref = useRef<History | null>(null);
  ref.current ??= createHistory(store);
  return ref.current;
}
