/** Scrollback rendering: one component per Block kind, spans styled by tone. */
import { Box, Text } from "ink";
import type { Block, Line } from "../../src/lab/view.ts";
import { useColor } from "./color-context.ts";
import { blockLines, isFixedWidth } from "./format.ts";
import { spanStyle } from "./theme.ts";

export function LineView({ line, fixed = false }: { line: Line; fixed?: boolean }) {
  const color = useColor();
  const wrap = fixed ? "truncate-end" : "wrap";
  if (line.every((s) => s.text === "")) return <Text> </Text>;
  if (!color) return <Text wrap={wrap}>{line.map((s) => s.text).join("")}</Text>;
  return (
    <Text wrap={wrap}>
      {line.map((span, i) => {
        const style = spanStyle(span);
        return (
          <Text
            // biome-ignore lint/suspicious/noArrayIndexKey: spans of a line never move
            key={i}
            color={style.color}
            dimColor={style.dimColor}
            bold={style.bold}
            italic={style.italic}
          >
            {span.text}
          </Text>
        );
      })}
    </Text>
  );
}

export function BlockView({ block }: { block: Block }) {
  const fixed = isFixedWidth(block);
  return (
    <Box flexDirection="column">
      {blockLines(block).map((line, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: lines of a rendered block never move
        <LineView key={i} line={line} fixed={fixed} />
      ))}
    </Box>
  );
}

export function BlocksView({ blocks }: { blocks: readonly Block[] }) {
  return (
    <Box flexDirection="column">
      {blocks.map((block, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: blocks of a result never move
        <BlockView key={i} block={block} />
      ))}
    </Box>
  );
}
