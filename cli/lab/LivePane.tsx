/** The live pane: clock and world, the current host's connections, the guided-lab step. */
import { Box } from "ink";
import type { StatusView } from "../../src/lab/view.ts";
import { BlockView, LineView } from "./Blocks.tsx";
import { cellWidth } from "./format.ts";

/** `── host a · simulated · clock 1.250 s · paused · speed 1x ────` filled to the width. */
export function statusHeading(status: StatusView, columns: number): string {
  const { clock } = status;
  const text = `── host ${status.host} · ${status.world} · clock ${clock.now} · ${clock.mode} · speed ${clock.speed}x `;
  return text + "─".repeat(Math.max(2, columns - cellWidth(text)));
}

export function LivePane({ status, columns }: { status: StatusView | Error; columns: number }) {
  if (status instanceof Error) {
    return <LineView line={[{ text: `status unavailable: ${status.message}`, tone: "bad" }]} />;
  }
  const table = status.connections;
  return (
    <Box flexDirection="column">
      <LineView line={[{ text: statusHeading(status, columns), tone: "muted" }]} fixed />
      {table.rows.length > 0 ? (
        <BlockView block={table} />
      ) : (
        <LineView line={[{ text: "no connections", tone: "muted" }]} />
      )}
      {status.lab ? (
        <LineView
          line={[
            { text: `lab ${status.lab.name}`, tone: "accent" },
            { text: ` · step ${status.lab.step}/${status.lab.steps} · ` },
            { text: status.lab.title },
          ]}
        />
      ) : null}
    </Box>
  );
}
