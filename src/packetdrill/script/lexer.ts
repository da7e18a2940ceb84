/**
 * Tokens of the packetdrill language.
 *
 * Follows packetdrill's lexer.l: whitespace and newlines separate tokens,
 * `//` and `/* *\/` are comments, numbers may carry a leading `-`, words are
 * `[A-Za-z0-9_]+`, IPv4/IPv6 addresses are single tokens, `...` is one token,
 * `--name` starts an option, `` `...` `` is a shell command and `%{ ... }%` a
 * code snippet. `#ifdef NAME` / `#endif` come from the FreeBSD (nplab)
 * dialect, used by the FreeBSD TCP test suite.
 *
 * `lex` returns the tokens or the first lexical error; it never throws.
 */

export type TokenKind =
  | "int"
  | "hex"
  | "float"
  | "word"
  | "string"
  | "backquote"
  | "code"
  | "option"
  | "ipv4"
  | "ipv6"
  | "ellipsis"
  | "punct"
  | "ifdef"
  | "endif"
  | "eof";

export interface Token {
  readonly kind: TokenKind;
  /** The token's source text. */
  readonly text: string;
  /**
   * The meaning: a string's content, a backquoted command, trimmed code, an
   * option's name without `--`, an `#ifdef`'s name; else the text.
   */
  readonly value: string;
  /** Offsets into the source: [start, end). */
  readonly start: number;
  readonly end: number;
  readonly line: number;
  readonly column: number;
  /** Line of the token's last character (backquotes and code may span lines). */
  readonly endLine: number;
}

export interface LexError {
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

export type LexResult =
  | { readonly ok: true; readonly tokens: readonly Token[] }
  | { readonly ok: false; readonly error: LexError };

/** Maps source offsets to 1-based line and column. */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(source: string) {
    for (let i = 0; i < source.length; i++) {
      if (source.charCodeAt(i) === 10) this.starts.push(i + 1);
    }
  }

  position(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - (this.starts[lo] ?? 0) + 1 };
  }
}

const IPV4_RE = /[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+/y;
const HEX_RE = /0x[0-9a-fA-F]+/y;
const FLOAT_RE = /-?[0-9]*\.[0-9]+/y;
const INT_RE = /-?[0-9]+/y;
const WORD_RE = /[A-Za-z0-9_]+/y;
const OPTION_RE = /--[A-Za-z0-9_]+/y;
const IPV6_RUN_RE = /[0-9A-Fa-f:.]+/y;

function matchAt(re: RegExp, src: string, at: number): string | undefined {
  re.lastIndex = at;
  const m = re.exec(src);
  return m ? m[0] : undefined;
}

function isValidIpv4(text: string): boolean {
  const parts = text.split(".");
  return parts.length === 4 && parts.every((p) => /^[0-9]{1,3}$/.test(p) && Number(p) <= 255);
}

/** RFC 4291 §2.2 text forms, including `::` and a trailing dotted IPv4. */
export function isValidIpv6(text: string): boolean {
  const halves = text.split("::");
  if (halves.length > 2) return false;
  const groupsOf = (s: string): string[] | undefined => {
    if (s === "") return [];
    const g = s.split(":");
    return g.every((x) => x !== "") ? g : undefined;
  };
  const head = groupsOf(halves[0] ?? "");
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? "") : [];
  if (!head || !tail) return false;
  const all = [...head, ...tail];
  let count = 0;
  for (let i = 0; i < all.length; i++) {
    const g = all[i] ?? "";
    if (g.includes(".")) {
      if (i !== all.length - 1 || !isValidIpv4(g)) return false;
      count += 2;
    } else if (/^[0-9A-Fa-f]{1,4}$/.test(g)) {
      count += 1;
    } else {
      return false;
    }
  }
  return halves.length === 2 ? count <= 7 : count === 8;
}

/**
 * An IPv6 address at `at`, if any. Like packetdrill, only forms with `::` or
 * all eight groups count, so `1:1001` stays a sequence range. The longest
 * valid prefix wins, so the `:` ending `fd00::2:` is left for the parser.
 */
function matchIpv6(src: string, at: number): string | undefined {
  const run = matchAt(IPV6_RUN_RE, src, at);
  if (run === undefined || (!run.includes("::") && run.split(":").length < 8)) return undefined;
  for (let len = run.length; len >= 2; len--) {
    const cand = run.slice(0, len);
    if ((cand.includes("::") || cand.split(":").length === 8) && isValidIpv6(cand)) return cand;
  }
  return undefined;
}

export function lex(source: string): LexResult {
  const index = new LineIndex(source);
  const tokens: Token[] = [];
  const n = source.length;
  let i = 0;

  const push = (kind: TokenKind, start: number, end: number, value?: string): void => {
    const text = source.slice(start, end);
    const { line, column } = index.position(start);
    const endLine = index.position(Math.max(start, end - 1)).line;
    tokens.push({ kind, text, value: value ?? text, start, end, line, column, endLine });
  };
  const fail = (at: number, message: string): LexResult => {
    const { line, column } = index.position(at);
    return { ok: false, error: { line, column, message } };
  };

  while (i < n) {
    const c = source[i] ?? "";
    if (c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f" || c === "\v") {
      i++;
      continue;
    }
    if (source.startsWith("//", i)) {
      const nl = source.indexOf("\n", i);
      i = nl < 0 ? n : nl + 1;
      continue;
    }
    if (source.startsWith("/*", i)) {
      const close = source.indexOf("*/", i + 2);
      if (close < 0)
        return fail(i, "unterminated /* comment: no closing */ before the end of file");
      i = close + 2;
      continue;
    }
    if (source.startsWith("%{", i)) {
      const close = source.indexOf("}%", i + 2);
      if (close < 0)
        return fail(i, "unterminated %{ code snippet: no closing }% before the end of file");
      // lexer.l's code(): strip spaces and tabs (not newlines) at both ends.
      const code = source.slice(i + 2, close).replace(/^[ \t]+|[ \t]+$/g, "");
      push("code", i, close + 2, code);
      i = close + 2;
      continue;
    }
    if (c === "#") {
      const directive = matchAt(/#[A-Za-z]*/y, source, i) ?? "#";
      if (directive === "#ifdef") {
        const nameRe = /[ \t]+([A-Za-z][A-Za-z0-9_]*)/y;
        nameRe.lastIndex = i + directive.length;
        const m = nameRe.exec(source);
        if (!m) return fail(i, "#ifdef must be followed by a name, e.g. #ifdef FreeBSD");
        push("ifdef", i, nameRe.lastIndex, m[1]);
        i = nameRe.lastIndex;
        continue;
      }
      if (directive === "#endif") {
        push("endif", i, i + directive.length);
        i += directive.length;
        continue;
      }
      return fail(i, `unknown directive '${directive}': only #ifdef NAME and #endif are supported`);
    }
    if (source.startsWith("...", i)) {
      push("ellipsis", i, i + 3);
      i += 3;
      continue;
    }
    const option = matchAt(OPTION_RE, source, i);
    if (option !== undefined) {
      push("option", i, i + option.length, option.slice(2));
      i += option.length;
      continue;
    }
    if (c === "`" || c === '"') {
      // lexer.l: a backslash escapes the next character; the text is kept as written.
      let j = i + 1;
      while (j < n && source[j] !== c) j += source[j] === "\\" ? 2 : 1;
      if (j >= n) {
        const what = c === "`" ? "backquoted command: no closing `" : 'string: no closing "';
        return fail(i, `unterminated ${what} before the end of file`);
      }
      push(c === "`" ? "backquote" : "string", i, j + 1, source.slice(i + 1, j));
      i = j + 1;
      continue;
    }
    const ipv4 = matchAt(IPV4_RE, source, i);
    if (ipv4 !== undefined) {
      push("ipv4", i, i + ipv4.length);
      i += ipv4.length;
      continue;
    }
    if (/[0-9A-Fa-f:]/.test(c)) {
      const ipv6 = matchIpv6(source, i);
      if (ipv6 !== undefined) {
        push("ipv6", i, i + ipv6.length);
        i += ipv6.length;
        continue;
      }
    }
    const hex = matchAt(HEX_RE, source, i);
    if (hex !== undefined && !/[A-Za-z0-9_]/.test(source[i + hex.length] ?? "")) {
      push("hex", i, i + hex.length);
      i += hex.length;
      continue;
    }
    const float = matchAt(FLOAT_RE, source, i);
    if (float !== undefined) {
      push("float", i, i + float.length);
      i += float.length;
      continue;
    }
    const int = matchAt(INT_RE, source, i);
    const word = matchAt(WORD_RE, source, i);
    // flex takes the longest match: `3des` is a word, `123` an integer.
    if (int !== undefined && (word === undefined || word.length <= int.length)) {
      push("int", i, i + int.length);
      i += int.length;
      continue;
    }
    if (word !== undefined) {
      push("word", i, i + word.length);
      i += word.length;
      continue;
    }
    push("punct", i, i + 1);
    i++;
  }
  push("eof", n, n, "");
  return { ok: true, tokens };
}
