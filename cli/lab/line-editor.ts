/**
 * The input line as a value: text plus cursor, and the readline-style edits
 * on it. Pure functions, so the key bindings can be tested without a terminal.
 */

export interface EditorState {
  readonly text: string;
  /** Index into `text` (UTF-16 code units), 0..text.length. */
  readonly cursor: number;
}

export const EMPTY: EditorState = { text: "", cursor: 0 };

export function setText(text: string): EditorState {
  return { text, cursor: text.length };
}

const isLowSurrogate = (c: number) => c >= 0xdc00 && c <= 0xdfff;

/** Index one character left of i, keeping surrogate pairs together. */
function prevIndex(text: string, i: number): number {
  if (i <= 0) return 0;
  return i >= 2 && isLowSurrogate(text.charCodeAt(i - 1)) ? i - 2 : i - 1;
}

function nextIndex(text: string, i: number): number {
  if (i >= text.length) return text.length;
  return i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1)) ? i + 2 : i + 1;
}

export function insert(s: EditorState, str: string): EditorState {
  return {
    text: s.text.slice(0, s.cursor) + str + s.text.slice(s.cursor),
    cursor: s.cursor + str.length,
  };
}

export function backspace(s: EditorState): EditorState {
  if (s.cursor === 0) return s;
  const p = prevIndex(s.text, s.cursor);
  return { text: s.text.slice(0, p) + s.text.slice(s.cursor), cursor: p };
}

/** Delete the character under the cursor (Delete, Ctrl-D on a non-empty line). */
export function deleteForward(s: EditorState): EditorState {
  if (s.cursor >= s.text.length) return s;
  return {
    text: s.text.slice(0, s.cursor) + s.text.slice(nextIndex(s.text, s.cursor)),
    cursor: s.cursor,
  };
}

export function left(s: EditorState): EditorState {
  return { ...s, cursor: prevIndex(s.text, s.cursor) };
}

export function right(s: EditorState): EditorState {
  return { ...s, cursor: nextIndex(s.text, s.cursor) };
}

export function home(s: EditorState): EditorState {
  return { ...s, cursor: 0 };
}

export function end(s: EditorState): EditorState {
  return { ...s, cursor: s.text.length };
}

/** Ctrl-U: delete from the start of the line to the cursor. */
export function killToStart(s: EditorState): EditorState {
  return { text: s.text.slice(s.cursor), cursor: 0 };
}

/** Ctrl-K: delete from the cursor to the end of the line. */
export function killToEnd(s: EditorState): EditorState {
  return { text: s.text.slice(0, s.cursor), cursor: s.cursor };
}

/** Ctrl-W: delete the whitespace-delimited word before the cursor (and the blanks after it). */
export function deleteWordBack(s: EditorState): EditorState {
  let i = s.cursor;
  while (i > 0 && /\s/.test(s.text[i - 1] ?? "")) i--;
  while (i > 0 && !/\s/.test(s.text[i - 1] ?? "")) i--;
  return { text: s.text.slice(0, i) + s.text.slice(s.cursor), cursor: i };
}

/** Replace text[start, cursor) with `word` and put the cursor after it. */
export function replaceWord(s: EditorState, start: number, word: string): EditorState {
  const from = Math.max(0, Math.min(start, s.cursor));
  return {
    text: s.text.slice(0, from) + word + s.text.slice(s.cursor),
    cursor: from + word.length,
  };
}

export function commonPrefix(words: readonly string[]): string {
  if (words.length === 0) return "";
  let prefix = words[0] as string;
  for (const w of words) {
    let i = 0;
    while (i < prefix.length && i < w.length && prefix[i] === w[i]) i++;
    prefix = prefix.slice(0, i);
  }
  return prefix;
}

export interface CompletionOutcome {
  readonly state: EditorState;
  /** Candidates to show the user (several matched); empty when none or one. */
  readonly listing: readonly string[];
}

/**
 * Apply a completion: one candidate replaces the word, followed by a space
 * when the cursor is at the end of the line (not after a candidate ending in
 * a blank or "/"); several extend the word to their common prefix and are
 * listed.
 */
export function applyCompletion(
  s: EditorState,
  completion: { readonly candidates: readonly string[]; readonly start: number },
): CompletionOutcome {
  const { candidates, start } = completion;
  if (candidates.length === 0) return { state: s, listing: [] };
  const word = s.text.slice(Math.max(0, Math.min(start, s.cursor)), s.cursor);
  if (candidates.length === 1) {
    const only = candidates[0] as string;
    const atLineEnd = s.cursor === s.text.length;
    const needsSpace = atLineEnd && !/[\s/]$/.test(only);
    return { state: replaceWord(s, start, needsSpace ? `${only} ` : only), listing: [] };
  }
  const prefix = commonPrefix(candidates);
  const next = prefix.length > word.length ? replaceWord(s, start, prefix) : s;
  return { state: next, listing: candidates };
}

/** Remove control characters a terminal could send inside typed or pasted text. */
export function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  return text.replace(/\t/g, " ").replace(/[\u0000-\u001f\u007f]/g, "");
}

/** Split pasted or fast-typed text at line breaks (CR, LF or CRLF). */
export function splitLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}
