/**
 * Shared settings for property tests: a fixed seed so runs repeat, overridable
 * with FC_SEED=<n> to explore. fast-check prints the seed and path of a failure.
 */
import type fc from "fast-check";

export const FC_SEED = Number(process.env.FC_SEED ?? 0x7c91ab);

export function fcParams(numRuns = 300): fc.Parameters<unknown> {
  return { seed: FC_SEED, numRuns };
}

export function hexBytes(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** A straightforward RFC 1071 reference, one 16-bit word at a time, for cross-checks. */
export function referenceChecksum(data: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < data.length; i += 2) {
    const hi = data[i]!;
    const lo = i + 1 < data.length ? data[i + 1]! : 0;
    sum += hi * 256 + lo;
    sum = (sum & 0xffff) + Math.floor(sum / 65536);
  }
  return ~sum & 0xffff;
}
