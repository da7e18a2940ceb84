/**
 * What the commands say when node:util's parseArgs refuses the arguments:
 * its first line, which names the option — except the "ambiguous" case,
 * which is reworded to say how to write a value that starts with "-".
 */
export function parseArgsError(e: unknown): string {
  const first = (e instanceof Error ? e.message : String(e)).split("\n")[0] ?? "bad arguments";
  const ambiguous = /^Option '(-[-\w]+)' argument is ambiguous/.exec(first);
  if (ambiguous !== null) {
    const opt = ambiguous[1];
    return `${opt} needs a value; write one that starts with "-" as ${opt}=VALUE`;
  }
  return first;
}
