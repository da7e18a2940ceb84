/**
 * A real pseudo-terminal for end-to-end tests: a private tmux server (its own
 * socket, killed at the end), keys in with send-keys, the screen out with
 * capture-pane. Every wait is a bounded poll of the screen.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const SHELL_PROMPT = "sh$ ";
/** The prompt as capture-pane shows it (trailing blanks are not kept). */
export const SHELL_PROMPT_SHOWN = SHELL_PROMPT.trimEnd();
const POLL_MS = 50;

export function tmuxAvailable(): boolean {
  return spawnSync("tmux", ["-V"]).status === 0;
}

export class Tmux {
  readonly socket = `tcplab-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  readonly dir = mkdtempSync(join(tmpdir(), "tcplab-tty-"));
  private started = false;
  private socketPath: string | undefined;

  constructor(
    readonly width = 120,
    readonly height = 40,
  ) {}

  private tmux(...args: string[]): string {
    const r = spawnSync("tmux", ["-L", this.socket, ...args], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`tmux ${args[0]} failed: ${r.stderr}`);
    return r.stdout;
  }

  /** A bash with a known prompt, in a fresh window of the given size. */
  async start(): Promise<void> {
    this.tmux(
      "new-session",
      "-d",
      "-x",
      String(this.width),
      "-y",
      String(this.height),
      "-s",
      "t",
      "env",
      "-i",
      `PATH=${process.env.PATH ?? "/usr/bin:/bin"}`,
      `HOME=${this.dir}`,
      "TERM=xterm-256color",
      // CI=true must not change how the shell behaves in a terminal: pass it on.
      ...(process.env.CI !== undefined ? [`CI=${process.env.CI}`] : []),
      `PS1=${SHELL_PROMPT}`,
      "bash",
      "--norc",
      "--noprofile",
    );
    this.started = true;
    this.socketPath = this.tmux("display-message", "-p", "#{socket_path}").trim();
    await this.waitFor((s) => s.includes(SHELL_PROMPT_SHOWN), "the shell prompt");
  }

  /** Literal text (no key names), then optionally Enter. */
  type(text: string, enter = true): void {
    this.tmux("send-keys", "-t", "t", "-l", text);
    if (enter) this.tmux("send-keys", "-t", "t", "Enter");
  }

  /** Key names as tmux knows them: Enter, Tab, C-c, C-d, Up, Left … */
  keys(...names: string[]): void {
    this.tmux("send-keys", "-t", "t", ...names);
  }

  resize(width: number, height: number): void {
    this.tmux("resize-window", "-t", "t", "-x", String(width), "-y", String(height));
  }

  /** The visible screen with its colours and styles as escape codes. */
  screenStyled(): string {
    return this.tmux("capture-pane", "-p", "-e", "-t", "t");
  }

  /** The visible screen. */
  screen(): string {
    return this.tmux("capture-pane", "-p", "-t", "t");
  }

  /** Screen plus scrollback. */
  all(): string {
    return this.tmux("capture-pane", "-p", "-S", "-", "-t", "t");
  }

  cursor(): { x: number; y: number } {
    const [x, y] = this.tmux("display-message", "-p", "-t", "t", "#{cursor_x} #{cursor_y}")
      .trim()
      .split(" ");
    return { x: Number(x), y: Number(y) };
  }

  panePid(): number {
    return Number(this.tmux("display-message", "-p", "-t", "t", "#{pane_pid}").trim());
  }

  /** Poll (screen + scrollback) until `ready` holds; fail with the screen after `timeoutMs`. */
  async waitFor(
    ready: (text: string) => boolean,
    what: string,
    timeoutMs = 15_000,
  ): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.all();
      if (ready(text)) return text;
      if (Date.now() > deadline) {
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${what}; the terminal shows:\n${this.screen()}`,
        );
      }
      await Bun.sleep(POLL_MS);
    }
  }

  /** Kill this test's own tmux server, and only it; remove its socket and files. */
  stop(): void {
    if (!this.started) return;
    this.started = false;
    spawnSync("tmux", ["-L", this.socket, "kill-server"]);
    if (this.socketPath) rmSync(this.socketPath, { force: true });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The text after the last line that starts with `marker`. */
export function after(text: string, marker: string): string {
  const i = text.lastIndexOf(`\n${marker}`);
  return i < 0 ? "" : text.slice(i + 1);
}

/** Run `stty -a` in the pane (after the program exited) and return its output. */
export async function sttyAfterExit(t: Tmux): Promise<string> {
  t.type("stty -a; echo STTY-DONE");
  const text = await t.waitFor((s) => /\nSTTY-DONE\s*\n/.test(s), "stty output");
  return after(text, "speed ");
}

/** icanon and echo on: the terminal is back in the mode a shell expects. */
export function isSane(stty: string): boolean {
  const words = stty.split(/[\s;]+/);
  return (
    words.includes("icanon") &&
    words.includes("echo") &&
    !words.includes("-icanon") &&
    !words.includes("-echo")
  );
}
