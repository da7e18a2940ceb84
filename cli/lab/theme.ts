/**
 * Tones → colours. The engine says what a span means (a Tone); this file says
 * how that looks. With colour off nothing here is used and no escape codes
 * are written: the text itself must carry the meaning.
 */
import type { Span, Tone } from "../../src/lab/view.ts";

export interface SpanStyle {
  readonly color?: string;
  readonly dimColor?: boolean;
  readonly bold?: boolean;
  readonly italic?: boolean;
}

const TONES: Record<Tone, SpanStyle> = {
  normal: {},
  muted: { dimColor: true },
  good: { color: "green" },
  warn: { color: "yellow" },
  bad: { color: "red" },
  accent: { color: "cyanBright", bold: true },
  state: {},
  // Packet direction (packetdrill's convention): `<` into tcplab, `>` out of it.
  in: { color: "blueBright" },
  out: { color: "magentaBright" },
  code: { color: "cyan" },
  emph: { italic: true },
  strong: { bold: true },
  ref: { color: "yellowBright" },
};

/** Colour of a TCP state name (RFC 9293 §3.3.2 spelling, e.g. "SYN-SENT"). */
export function stateStyle(name: string): SpanStyle {
  const n = name.trim().toUpperCase();
  if (n === "ESTABLISHED") return { color: "green", bold: true };
  if (n === "TIME-WAIT" || n === "CLOSE-WAIT") return { color: "yellow" };
  if (n === "CLOSED") return { dimColor: true };
  if (n.startsWith("SYN-")) return { color: "cyan" };
  if (n === "LISTEN") return { color: "blue" };
  if (n.startsWith("FIN-WAIT") || n === "CLOSING" || n === "LAST-ACK") return { color: "magenta" };
  return {};
}

export function spanStyle(span: Span): SpanStyle {
  const tone = span.tone ?? "normal";
  return tone === "state" ? stateStyle(span.text) : TONES[tone];
}

/**
 * Whether to colour output. NO_COLOR (any non-empty value, no-color.org) wins;
 * then FORCE_COLOR; otherwise only a terminal that is not "dumb" gets colour.
 */
export function colorEnabled(env: Record<string, string | undefined>, isTTY: boolean): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "" && env.FORCE_COLOR !== "0")
    return true;
  return isTTY && env.TERM !== "dumb";
}
