/**
 * The lab shell's screen: scrollback (<Static>), the live pane, the prompt.
 * Keys edit the line; whole lines go to the command processor, which hands
 * them to the session. Nothing here knows what a command means.
 */
import { Box, type Key, Static, useInput, usePaste } from "ink";
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";
import type { Block, LabSession, StatusView } from "../../src/lab/view.ts";
import { BlocksView, LineView } from "./Blocks.tsx";
import { ItemBoundary, RootBoundary } from "./boundaries.tsx";
import { ColorContext } from "./color-context.ts";
import { candidateLines } from "./format.ts";
import type { HistoryStore } from "./history-file.ts";
import { LivePane } from "./LivePane.tsx";
import * as ed from "./line-editor.ts";
import { PromptLine } from "./PromptLine.tsx";
import { errorBlock, type ScrollEntry, type ScrollItem } from "./scroll.ts";
import { useColumns } from "./use-columns.ts";
import { promptOf, useCommandProcessor } from "./use-command-processor.ts";
import { useHistory } from "./use-history.ts";

export interface LabAppProps {
  readonly session: LabSession;
  readonly history: HistoryStore;
  /** Colour and styles on; off means plain text only. */
  readonly color: boolean;
  /** Blocks shown first in the scrollback (which world, how to get help). */
  readonly banner?: readonly Block[];
  /** The shell is done: 0 after quit/Ctrl-D; 1 with the error when the UI itself failed. */
  readonly onExit: (code: number, error?: unknown) => void;
}

function readStatus(session: LabSession): StatusView | Error {
  try {
    return session.status();
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
}

type Action =
  | "interrupt"
  | "eof"
  | "submit"
  | "complete"
  | "history-up"
  | "history-down"
  | "left"
  | "right"
  | "home"
  | "end"
  | "backspace"
  | "delete"
  | "kill-start"
  | "kill-end"
  | "kill-word";

/** Readline's control characters (Ctrl-A = 0x01 …) and what they do here. */
const CONTROL_ACTIONS: Readonly<Record<string, Action>> = {
  "\u0001": "home", // Ctrl-A
  "\u0002": "left", // Ctrl-B
  "\u0003": "interrupt", // Ctrl-C
  "\u0004": "eof", // Ctrl-D
  "\u0005": "end", // Ctrl-E
  "\u0006": "right", // Ctrl-F
  "\u0008": "backspace", // Ctrl-H
  "\u0009": "complete", // Tab
  "\u000A": "submit", // Ctrl-J, LF
  "\u000B": "kill-end", // Ctrl-K
  "\u000D": "submit", // Ctrl-M, CR
  "\u000E": "history-down", // Ctrl-N
  "\u0010": "history-up", // Ctrl-P
  "\u0015": "kill-start", // Ctrl-U
  "\u0017": "kill-word", // Ctrl-W
  "\u007F": "backspace", // DEL
};

function keyAction(key: Key): Action | undefined {
  if (key.return) return "submit";
  if (key.tab) return "complete";
  if (key.upArrow) return "history-up";
  if (key.downArrow) return "history-down";
  if (key.leftArrow) return "left";
  if (key.rightArrow) return "right";
  if (key.home) return "home";
  if (key.end) return "end";
  if (key.backspace) return "backspace";
  if (key.delete) return "delete";
  return undefined;
}

const EXIT_HINT: Block = {
  kind: "text",
  lines: [[{ text: "(Ctrl-C again, Ctrl-D or quit to leave the lab)", tone: "muted" }]],
};

/** Scrollback items held at most (they are on the terminal already). */
export const SCROLLBACK_KEEP = 500;

export function LabApp({ session, history: store, color, banner, onExit }: LabAppProps) {
  const columns = useColumns();
  const history = useHistory(store);
  const nextId = useRef(0);
  // Scrollback: <Static> writes each item to the terminal once; the items are
  // kept only until then. Past SCROLLBACK_KEEP a new generation starts (a new
  // <Static>, by key) with just what is not written yet, so a long session
  // holds a bounded list and an append copies at most that much.
  const [scroll, setScroll] = useState<{ gen: number; items: ScrollItem[] }>(() => ({
    gen: 0,
    items:
      banner && banner.length > 0 ? [{ id: nextId.current++, kind: "blocks", blocks: banner }] : [],
  }));
  const written = useRef({ gen: 0, count: 0 });
  useLayoutEffect(() => {
    written.current = { gen: scroll.gen, count: scroll.items.length };
  }, [scroll]);
  const append = useCallback((entries: readonly ScrollEntry[]) => {
    if (entries.length === 0) return;
    const stamped = entries.map((e) => ({ ...e, id: nextId.current++ }) as ScrollItem);
    setScroll((prev) => {
      if (prev.items.length < SCROLLBACK_KEEP)
        return { gen: prev.gen, items: [...prev.items, ...stamped] };
      const w = written.current;
      const unwritten = w.gen === prev.gen ? prev.items.slice(w.count) : prev.items;
      return { gen: prev.gen + 1, items: [...unwritten, ...stamped] };
    });
  }, []);

  // The live pane re-reads the session on every render; ticks just ask for one.
  const [, setTick] = useState(0);
  const refresh = useCallback(() => setTick((t) => t + 1), []);
  const [exit, setExit] = useState<{ code: number; error?: unknown } | null>(null);

  useEffect(() => {
    const offOutput = session.onOutput((blocks) => append([{ kind: "blocks", blocks }]));
    const offStatus = session.onStatus(refresh);
    return () => {
      offOutput();
      offStatus();
    };
  }, [session, append, refresh]);

  // Exit after the render that drops the live pane, so the last frame left on
  // the terminal is the scrollback alone.
  useEffect(() => {
    if (exit) onExit(exit.code, exit.error);
  }, [exit, onExit]);

  const processor = useCommandProcessor(session, {
    append,
    onQuit: () => setExit({ code: 0 }),
    onSettled: refresh,
  });

  // The line lives in a ref so one chunk of input (a paste, fast typing) can
  // apply several edits in order; the state copy drives rendering.
  const editorRef = useRef<ed.EditorState>(ed.EMPTY);
  const [editor, setEditorState] = useState<ed.EditorState>(ed.EMPTY);
  const setEditor = (s: ed.EditorState) => {
    editorRef.current = s;
    setEditorState(s);
  };
  const ctrlCArmed = useRef(false);

  const submitLine = () => {
    const line = editorRef.current.text;
    history.add(line);
    setEditor(ed.EMPTY);
    processor.submit([line]);
  };

  const complete = () => {
    const s = editorRef.current;
    let completion: ReturnType<LabSession["complete"]>;
    try {
      completion = session.complete(s.text, s.cursor);
    } catch (e) {
      append([{ kind: "blocks", blocks: [errorBlock(e, "completion failed: ")] }]);
      return;
    }
    const outcome = ed.applyCompletion(s, completion);
    if (outcome.listing.length > 0) {
      append([
        { kind: "echo", prompt: promptOf(session), line: outcome.state.text },
        {
          kind: "blocks",
          blocks: [
            {
              kind: "text",
              lines: candidateLines(outcome.listing, columns).map((text) => [
                { text, tone: "muted" },
              ]),
            },
          ],
        },
      ]);
    }
    setEditor(outcome.state);
  };

  const quitNow = () => setExit({ code: 0 });

  const perform = (action: Action) => {
    const s = editorRef.current;
    if (action !== "interrupt") ctrlCArmed.current = false;
    switch (action) {
      case "interrupt":
        if (processor.isBusy()) {
          processor.interrupt();
        } else if (s.text !== "") {
          append([{ kind: "echo", prompt: promptOf(session), line: `${s.text}^C` }]);
          history.reset();
          setEditor(ed.EMPTY);
        } else if (ctrlCArmed.current) {
          quitNow();
        } else {
          ctrlCArmed.current = true;
          append([{ kind: "blocks", blocks: [EXIT_HINT] }]);
        }
        return;
      case "eof":
        if (s.text !== "") return setEditor(ed.deleteForward(s));
        if (processor.isBusy()) processor.interrupt();
        return quitNow();
      case "submit":
        return submitLine();
      case "complete":
        return complete();
      case "history-up": {
        const older = history.up(s.text);
        if (older !== undefined) setEditor(ed.setText(older));
        return;
      }
      case "history-down": {
        const newer = history.down();
        if (newer !== undefined) setEditor(ed.setText(newer));
        return;
      }
      case "left":
        return setEditor(ed.left(s));
      case "right":
        return setEditor(ed.right(s));
      case "home":
        return setEditor(ed.home(s));
      case "end":
        return setEditor(ed.end(s));
      case "backspace":
        return setEditor(ed.backspace(s));
      case "delete":
        return setEditor(ed.deleteForward(s));
      case "kill-start":
        return setEditor(ed.killToStart(s));
      case "kill-end":
        return setEditor(ed.killToEnd(s));
      case "kill-word":
        return setEditor(ed.deleteWordBack(s));
    }
  };

  /**
   * A chunk of text: typed fast, sent by a script, or pasted. Control
   * characters inside it act as their keys, in order (so "co\tx\r" completes,
   * types, submits); a paste only honours line breaks (tabs become blanks).
   */
  const typeText = (text: string, pasted: boolean) => {
    let run = "";
    const flush = () => {
      if (run !== "") setEditor(ed.insert(editorRef.current, ed.printable(run)));
      run = "";
    };
    for (let i = 0; i < text.length; i++) {
      const c = text[i] as string;
      if (c === "\n" && text[i - 1] === "\r") continue;
      const action = CONTROL_ACTIONS[c];
      if (action === undefined || (pasted && action !== "submit")) {
        run += c;
        continue;
      }
      flush();
      perform(action);
    }
    flush();
  };

  useInput((input, key) => {
    if (exit) return;
    if (key.ctrl && /^[a-z]$/.test(input)) {
      // Ctrl-letter: the same action as its control character in a chunk.
      const action = CONTROL_ACTIONS[String.fromCharCode(input.charCodeAt(0) - 96)];
      if (action !== undefined) perform(action);
      return;
    }
    const action = keyAction(key);
    if (action !== undefined) return perform(action);
    if (key.ctrl || key.meta || key.escape || input === "") return;
    typeText(input, false);
  });

  usePaste((text) => {
    if (exit) return;
    ctrlCArmed.current = false;
    typeText(text, true);
  });

  const status = readStatus(session);
  const prompt = status instanceof Error ? promptOf(session) : status.prompt;

  return (
    <ColorContext.Provider value={color}>
      <Static key={scroll.gen} items={scroll.items}>
        {(item) => (
          <ItemBoundary key={item.id}>
            {item.kind === "echo" ? (
              <LineView line={[{ text: item.prompt, tone: "muted" }, { text: item.line }]} />
            ) : (
              <BlocksView blocks={item.blocks} />
            )}
          </ItemBoundary>
        )}
      </Static>
      {exit ? null : (
        <RootBoundary
          onError={(e) => append([{ kind: "blocks", blocks: [errorBlock(e, "display error: ")] }])}
          onFatal={(e) => setExit({ code: 1, error: e })}
        >
          <Box flexDirection="column">
            <LivePane status={status} columns={columns} />
            {processor.busy ? <BusyLine /> : null}
            <PromptLine prompt={prompt} editor={editor} columns={columns} />
          </Box>
        </RootBoundary>
      )}
    </ColorContext.Provider>
  );
}

/** Shown only when a command takes a while, so quick commands do not flicker. */
function BusyLine() {
  const [shown, setShown] = useState(false);
  useEffect(() => {
    const t = setTimeout(() => setShown(true), 300);
    return () => clearTimeout(t);
  }, []);
  return shown ? (
    <LineView line={[{ text: "running… (Ctrl-C interrupts)", tone: "muted" }]} />
  ) : null;
}
