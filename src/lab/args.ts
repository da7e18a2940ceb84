/** Words of a command line and the small value syntaxes the commands share. */
import { type Duration, type Instant, ms } from "../clock/time.ts";

export interface Token {
  /** The word with quotes removed. */
  readonly text: string;
  /** Where the word starts and ends in the line (quotes included). */
  readonly start: number;
  readonly end: number;
  readonly quoted: boolean;
}

/** Splits on blanks; "double quotes" keep blanks inside a word (escapes stay for unescapeText()). */
export function tokenize(line: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i] as string)) i++;
    if (i >= line.length) break;
    const start = i;
    if (line[i] === '"') {
      i++;
      let text = "";
      while (i < line.length && line[i] !== '"') {
        if (line[i] === "\\" && i + 1 < line.length) {
          text += line.slice(i, i + 2);
          i += 2;
        } else {
          text += line[i];
          i++;
        }
      }
      if (i < line.length) i++; // closing quote
      out.push({ text, start, end: i, quoted: true });
      continue;
    }
    while (i < line.length && !/\s/.test(line[i] as string)) i++;
    out.push({ text: line.slice(start, i), start, end: i, quoted: false });
  }
  return out;
}

/**
 * A text argument as bytes: the text is UTF-8 (always: "café" is 5 bytes),
 * and the escapes `\r \n \t \\ \0 \" \xHH` stand for single bytes, so
 * `\xff` is the byte 0xff, not a character. Anything else after `\` stays
 * as written.
 */
export function unescapeBytes(text: string): Uint8Array | { error: string } {
  const out: number[] = [];
  const utf8 = new TextEncoder();
  let run = "";
  const flush = () => {
    if (run !== "") out.push(...utf8.encode(run));
    run = "";
  };
  const ESCAPES: Record<string, number> = {
    r: 0x0d,
    n: 0x0a,
    t: 0x09,
    "0": 0x00,
    "\\": 0x5c,
    '"': 0x22,
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch !== "\\") {
      run += ch;
      continue;
    }
    const next = text[i + 1];
    i++;
    if (next === undefined) return { error: "a lone \\ at the end of the text" };
    const byte = ESCAPES[next];
    if (byte !== undefined) {
      flush();
      out.push(byte);
    } else if (next === "x") {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex))
        return { error: `\\x needs two hex digits, got "\\x${hex}"` };
      flush();
      out.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      run += `\\${next}`;
    }
  }
  flush();
  return Uint8Array.from(out);
}

/** Bytes shown as text with the same escapes, for `recv`. */
export function escapeBytes(data: Uint8Array): string {
  let s = "";
  for (const b of data) {
    if (b === 0x0d) s += "\\r";
    else if (b === 0x0a) s += "\\n";
    else if (b === 0x09) s += "\\t";
    else if (b === 0x5c) s += "\\\\";
    else if (b === 0x22) s += '\\"';
    else if (b >= 0x20 && b < 0x7f) s += String.fromCharCode(b);
    else s += `\\x${b.toString(16).padStart(2, "0")}`;
  }
  return s;
}

/** `200ms`, `1.5s`, `2m`, `30` (ms). */
export function parseDuration(text: string): Duration | undefined {
  const m = /^(\d+(?:\.\d+)?|\.\d+)(ms|s|m)?$/.exec(text);
  if (m === null) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? "ms";
  const value = unit === "ms" ? n : unit === "s" ? n * 1000 : n * 60_000;
  return Number.isFinite(value) ? ms(value) : undefined;
}

/** `10%` or `10` → 0.1. */
export function parsePercent(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)%?$/.exec(text);
  if (m === null) return undefined;
  const p = Number(m[1]) / 100;
  return p >= 0 && p <= 1 ? p : undefined;
}

export function parseInteger(text: string): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Seconds with millisecond precision: `1.010`. */
export function formatTime(t: Instant): string {
  return (t / 1000).toFixed(3);
}

/** A span of time for people: `200 ms`, `1.5 s`, `60 s`. */
export function formatDuration(d: Duration): string {
  if (d < 1000) return `${Number(d.toFixed(3))} ms`;
  return `${Number((d / 1000).toFixed(3))} s`;
}
