import type { Block } from "../../src/lab/view.ts";

/** One entry of the scrollback: an echoed command line, or blocks of output. */
export type ScrollItem =
  | { readonly id: number; readonly kind: "echo"; readonly prompt: string; readonly line: string }
  | { readonly id: number; readonly kind: "blocks"; readonly blocks: readonly Block[] };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A scrollback entry before it is given its id. */
export type ScrollEntry = DistributiveOmit<ScrollItem, "id">;

export function errorBlock(error: unknown, prefix = ""): Block {
  const message = error instanceof Error ? error.message || error.name : String(error);
  return { kind: "error", message: `${prefix}${message}` };
}
