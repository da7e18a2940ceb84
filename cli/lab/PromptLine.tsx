/**
 * The prompt and the line being edited. The terminal's own cursor is placed
 * at the editing position (no inverse-video block), so it works the same
 * with colour off.
 */
import { Box, type DOMElement, Text, useBoxMetrics, useCursor } from "ink";
import { useRef } from "react";
import { useColor } from "./color-context.ts";
import { cellWidth } from "./format.ts";
import type { EditorState } from "./line-editor.ts";

export function PromptLine({
  prompt,
  editor,
  columns,
}: {
  prompt: string;
  editor: EditorState;
  columns: number;
}) {
  const color = useColor();
  const ref = useRef<DOMElement>(null);
  const { top, hasMeasured } = useBoxMetrics(ref);
  const { setCursorPosition } = useCursor();
  const offset = cellWidth(prompt + editor.text.slice(0, editor.cursor));
  const width = Math.max(1, columns);
  // Before the first layout the prompt is known to be the last row; Ink keeps
  // a position past the output on its bottom row.
  const row = hasMeasured ? top + Math.floor(offset / width) : Number.MAX_SAFE_INTEGER;
  setCursorPosition({ x: offset % width, y: row });
  return (
    <Box ref={ref}>
      <Text>
        {color ? <Text bold>{prompt}</Text> : prompt}
        {editor.text}
      </Text>
    </Box>
  );
}
