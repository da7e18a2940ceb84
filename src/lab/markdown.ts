/**
 * A lab's Markdown prose as lines of styled spans. The `marked` lexer reads
 * the Markdown; this file only decides how each construct reads in a
 * terminal: a paragraph is one line (the screen wraps it), list items are
 * bulleted, code spans keep their backticks (so the plain, uncoloured output
 * still shows what to type), emphasis and RFC references get a tone of their
 * own, and a link shows its address.
 */
import { marked, type Token, type Tokens } from "marked";
import type { Line, Span, Tone } from "./view.ts";

/** "RFC 9293 §3.5", "RFC 5961", "§3.10.7.4": the references a learner looks up. */
const RFC_REF = /(RFC\s?\d+(?:\s?§\s?[\d.]*\d)?|§\s?[\d.]*\d)/g;

function textSpans(text: string, tone: Tone | undefined): Span[] {
  const flat = text.replace(/\s*\n\s*/g, " ");
  if (tone !== undefined) return [{ text: flat, tone }];
  const out: Span[] = [];
  let last = 0;
  for (const m of flat.matchAll(RFC_REF)) {
    const at = m.index ?? 0;
    if (at > last) out.push({ text: flat.slice(last, at) });
    out.push({ text: m[0], tone: "ref" });
    last = at + m[0].length;
  }
  if (last < flat.length) out.push({ text: flat.slice(last) });
  return out;
}

function inline(tokens: readonly Token[] | undefined, tone?: Tone): Span[] {
  const out: Span[] = [];
  for (const t of tokens ?? []) {
    switch (t.type) {
      case "codespan":
        out.push({ text: `\`${(t as Tokens.Codespan).text}\``, tone: "code" });
        break;
      case "em":
        out.push(...inline((t as Tokens.Em).tokens, "emph"));
        break;
      case "strong":
        out.push(...inline((t as Tokens.Strong).tokens, "strong"));
        break;
      case "link": {
        const l = t as Tokens.Link;
        out.push(...inline(l.tokens, tone));
        if (l.href !== l.text) out.push({ text: ` (${l.href})`, tone: "muted" });
        break;
      }
      case "br":
        out.push({ text: " " });
        break;
      case "text": {
        const tt = t as Tokens.Text;
        if (tt.tokens !== undefined && tt.tokens.length > 0) out.push(...inline(tt.tokens, tone));
        else out.push(...textSpans(tt.text, tone));
        break;
      }
      case "escape":
        out.push({ text: (t as Tokens.Escape).text, ...(tone ? { tone } : {}) });
        break;
      default:
        out.push(...textSpans("raw" in t ? String(t.raw) : "", tone));
    }
  }
  return out;
}

function blocks(tokens: readonly Token[], indent: string, out: Line[]): void {
  for (const t of tokens) {
    switch (t.type) {
      case "space":
        break;
      case "paragraph":
      case "text":
        pushGap(out);
        out.push([
          ...(indent ? [{ text: indent }] : []),
          ...inline((t as Tokens.Paragraph).tokens ?? [t]),
        ]);
        break;
      case "heading":
        pushGap(out);
        out.push([{ text: indent }, ...inline((t as Tokens.Heading).tokens, "accent")]);
        break;
      case "list": {
        const l = t as Tokens.List;
        pushGap(out);
        l.items.forEach((item, i) => {
          const bullet = l.ordered ? `${Number(l.start || 1) + i}. ` : "• ";
          const inner: Line[] = [];
          blocks(item.tokens, "", inner);
          const content = inner.filter((x) => x.length > 0);
          content.forEach((line, j) => {
            out.push([
              { text: `${indent}  ${j === 0 ? bullet : " ".repeat(bullet.length)}` },
              ...line,
            ]);
          });
        });
        break;
      }
      case "code":
        pushGap(out);
        for (const line of (t as Tokens.Code).text.split("\n"))
          out.push([{ text: `${indent}    ${line}`, tone: "code" }]);
        break;
      case "blockquote": {
        const inner: Line[] = [];
        blocks((t as Tokens.Blockquote).tokens, "", inner);
        pushGap(out);
        for (const line of inner)
          out.push(
            line.length === 0 ? [{ text: `${indent}  │` }] : [{ text: `${indent}  │ ` }, ...line],
          );
        break;
      }
      case "hr":
        pushGap(out);
        out.push([{ text: "────────", tone: "muted" }]);
        break;
      default:
        if ("raw" in t && String(t.raw).trim() !== "") {
          pushGap(out);
          out.push(textSpans(String(t.raw).trim(), undefined));
        }
    }
  }
}

/** A blank line between blocks, never two and never first. */
function pushGap(out: Line[]): void {
  const last = out[out.length - 1];
  if (last !== undefined && last.length > 0) out.push([]);
}

/** Markdown source lines → display lines. */
export function markdownLines(source: readonly string[]): Line[] {
  const text = source.join("\n");
  if (text.trim() === "") return [];
  const out: Line[] = [];
  blocks(marked.lexer(text), "", out);
  return out.map((l) => (l.length === 0 ? [{ text: "" }] : l));
}
