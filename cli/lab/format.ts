/**
 * Terminal-only layout: completion candidates in columns. How blocks become
 * lines is decided once, in src/lab/render.ts, for the screen, the pipe and
 * the lab's checks alike.
 */
import { COLUMN_GAP, cellWidth } from "../../src/lab/render.ts";

export {
  blockLines,
  blocksToPlainLines,
  cellWidth,
  isFixedWidth,
  lineText,
  tableLines,
} from "../../src/lab/render.ts";

/** Candidates of a completion laid out in columns that fit `width` cells. */
export function candidateLines(candidates: readonly string[], width: number): string[] {
  if (candidates.length === 0) return [];
  const colWidth = Math.max(...candidates.map(cellWidth)) + COLUMN_GAP.length;
  const perLine = Math.max(
    1,
    Math.floor((Math.max(width, colWidth) + COLUMN_GAP.length) / colWidth),
  );
  const lines: string[] = [];
  for (let i = 0; i < candidates.length; i += perLine) {
    const row = candidates.slice(i, i + perLine);
    lines.push(
      row
        .map((c, j) => (j === row.length - 1 ? c : c + " ".repeat(colWidth - cellWidth(c))))
        .join(""),
    );
  }
  return lines;
}
