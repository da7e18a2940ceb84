/**
 * Where tcplab keeps a file across runs (input history, lab progress):
 * $XDG_STATE_HOME/tcplab/NAME, else ~/.local/state/tcplab/NAME. The
 * environment variable `override` names another file, and "" turns keeping
 * it off (undefined).
 */
import { homedir } from "node:os";
import { join } from "node:path";

export function statePath(
  name: string,
  override: string,
  env: Record<string, string | undefined> = process.env,
): string | undefined {
  const own = env[override];
  if (own !== undefined) return own === "" ? undefined : own;
  const state = env.XDG_STATE_HOME;
  if (state !== undefined && state !== "") return join(state, "tcplab", name);
  try {
    const home = env.HOME !== undefined && env.HOME !== "" ? env.HOME : homedir();
    return join(home, ".local", "state", "tcplab", name);
  } catch {
    return undefined;
  }
}
