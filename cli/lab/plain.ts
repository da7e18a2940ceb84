/**
 * The shell without a terminal: read command lines, print every block as
 * plain text (no escape codes), stop at end of input or when the engine says
 * quit. `echo help | tcplab lab` and piped scripts run here.
 */
import type { Block, LabSession } from "../../src/lab/view.ts";
import { blocksToPlainLines } from "./format.ts";
import { errorBlock } from "./scroll.ts";

export interface PlainOptions {
  readonly session: LabSession;
  readonly lines: AsyncIterable<string>;
  readonly write: (text: string) => void;
}

/** Exit status: 0 when every command succeeded, 1 when any produced an error block. */
export async function runPlain({ session, lines, write }: PlainOptions): Promise<number> {
  let failed = false;
  const print = (blocks: readonly Block[]) => {
    if (blocks.some((b) => b.kind === "error")) failed = true;
    const out = blocksToPlainLines(blocks);
    if (out.length > 0) write(`${out.join("\n")}\n`);
  };
  const off = session.onOutput(print);
  try {
    for await (const raw of lines) {
      const line = raw.replace(/\r$/, "");
      try {
        const result = await session.execute(line);
        print(result.blocks);
        if (result.quit) break;
      } catch (e) {
        print([errorBlock(e)]);
      }
    }
  } finally {
    off();
  }
  return failed ? 1 : 0;
}
