/**
 * Blocks → lines of spans. The one place that decides how each Block kind is
 * laid out as text, shared by the Ink components, the plain (non-TTY) output
 * and the lab's `output` checks, so all three see the same words in the same
 * columns.
 */
import type { Block, Line, Span } from "./view.ts";

type TableBlock = Extract<Block, { kind: "table" }>;

/** Display width of a string in terminal cells (wide CJK/emoji count as 2). */
export function cellWidth(text: string): number {
  return Bun.stringWidth(text);
}

export function lineText(line: Line): string {
  return line.map((s) => s.text).join("");
}

export const COLUMN_GAP = "  ";

/**
 * A table as lines: optional title, header, then rows, every column padded to
 * its widest cell. The last column is not padded so lines carry no trailing
 * spaces. Rows shorter than the header get empty cells.
 */
export function tableLines(block: TableBlock): Line[] {
  const ncols = Math.max(block.columns.length, ...block.rows.map((r) => r.length));
  const widths: number[] = [];
  for (let c = 0; c < ncols; c++) {
    let w = cellWidth(block.columns[c] ?? "");
    for (const row of block.rows) w = Math.max(w, cellWidth(row[c]?.text ?? ""));
    widths.push(w);
  }
  const layout = (cells: readonly Span[]): Line => {
    const out: Span[] = [];
    for (let c = 0; c < ncols; c++) {
      const cell = cells[c] ?? { text: "" };
      const last = c === ncols - 1;
      const pad = last ? 0 : (widths[c] ?? 0) - cellWidth(cell.text);
      out.push(cell);
      if (!last) out.push({ text: " ".repeat(Math.max(0, pad)) + COLUMN_GAP });
    }
    return trimLine(out);
  };
  const lines: Line[] = [];
  if (block.title !== undefined && block.title !== "")
    lines.push([{ text: block.title, tone: "accent" }]);
  if (block.columns.length > 0) {
    lines.push(layout(block.columns.map((text) => ({ text, tone: "muted" as const }))));
  }
  for (const row of block.rows) lines.push(layout(row));
  return lines;
}

/** Drop trailing whitespace-only spans and trailing spaces of the last span. */
export function trimLine(spans: Span[]): Line {
  const out = [...spans];
  while (out.length > 0) {
    const last = out[out.length - 1] as Span;
    const trimmed = last.text.replace(/\s+$/, "");
    if (trimmed === "") {
      out.pop();
      continue;
    }
    if (trimmed !== last.text) out[out.length - 1] = { ...last, text: trimmed };
    break;
  }
  return out;
}

/**
 * An error as lines. The word "error:" makes it readable without colour; the
 * usage line follows when the engine gave one.
 */
export function errorLines(block: Extract<Block, { kind: "error" }>): Line[] {
  const lines: Line[] = block.message
    .split("\n")
    .map((text, i) => [
      { text: i === 0 ? `error: ${text}` : `       ${text}`, tone: "bad" as const },
    ]);
  if (block.usage !== undefined && block.usage !== "") {
    const usage = /^usage:/i.test(block.usage) ? block.usage : `usage: ${block.usage}`;
    for (const text of usage.split("\n")) lines.push([{ text, tone: "muted" }]);
  }
  return lines;
}

/** Every block kind as lines of spans (tables aligned, errors prefixed). */
export function blockLines(block: Block): Line[] {
  switch (block.kind) {
    case "text":
    case "packets":
    case "ladder":
    case "chart":
      return [...block.lines];
    case "table":
      return tableLines(block);
    case "error":
      return errorLines(block);
  }
}

/** Blocks as plain text, one string per line: what a pipe or a log file gets. */
export function blocksToPlainLines(blocks: readonly Block[]): string[] {
  const out: string[] = [];
  for (const block of blocks) for (const line of blockLines(block)) out.push(lineText(line));
  return out;
}

/** Whether a block's lines are laid out in fixed columns (cut, never wrapped). */
export function isFixedWidth(block: Block): boolean {
  return block.kind === "table" || block.kind === "ladder" || block.kind === "chart";
}

/** Blocks as one string: what the lab's `output` checks read. */
export function blocksText(blocks: readonly Block[]): string {
  return blocksToPlainLines(blocks).join("\n");
}
