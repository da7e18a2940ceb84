/**
 * End to end in a real pseudo-terminal (tmux): keys in, screen out, and the
 * terminal handed back sane (icanon, echo) however the shell ends.
 * tmux is required: `apt-get install -y tmux`.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { after, isSane, SHELL_PROMPT_SHOWN, sttyAfterExit, Tmux, tmuxAvailable } from "./tmux.ts";

const ROOT = join(import.meta.dir, "..", "..");
const TIMEOUT = 90_000;

let tmux: Tmux | undefined;
afterEach(() => {
  tmux?.stop();
  tmux = undefined;
});

async function open(command: string): Promise<Tmux> {
  if (!tmuxAvailable()) throw new Error("tmux is not installed (apt-get install -y tmux)");
  const t = new Tmux(120, 40);
  tmux = t;
  await t.start();
  t.type(`cd ${ROOT} && TCPLAB_HISTORY=${t.dir}/history ${command}; echo "EXIT=$?"`);
  return t;
}

const exited = (t: Tmux, code: number) =>
  t.waitFor(
    (s) => s.includes(`EXIT=${code}\n${SHELL_PROMPT_SHOWN}`),
    `exit status ${code} and the shell prompt`,
  );

describe("the UI in a real terminal (fake engine)", () => {
  const FAKE = "bun test/cli/fake-lab-main.ts --sim";

  test(
    "type, complete, edit, interrupt, history; Ctrl-D leaves the terminal sane",
    async () => {
      const t = await open(FAKE);
      await t.waitFor((s) => /\na> *$/m.test(s) && s.includes("── host a"), "the lab prompt");
      expect(t.all()).toContain("tcplab lab: simulated world (--sim)");

      t.type("table");
      await t.waitFor((s) => after(s, "a> table").includes("#3  10.0.0.1:49152"), "the table");

      t.type("pa", false);
      t.keys("Tab");
      await t.waitFor((s) => s.includes("a> packets"), "completion");
      t.keys("Enter");
      await t.waitFor((s) => s.includes("x DROP bad checksum"), "packet lines");

      t.type("connect 10", false);
      t.keys("C-c");
      await t.waitFor((s) => s.includes("a> connect 10^C"), "Ctrl-C to clear the line");

      t.keys("Up");
      await t.waitFor((s) => /\na> packets *$/.test(s.trimEnd()), "history ↑");
      const { y } = t.cursor();
      expect(t.screen().split("\n")[y]).toStartWith("a> packets");
      t.keys("C-u", "C-d");
      await exited(t, 0);
      expect(isSane(await sttyAfterExit(t))).toBe(true);
    },
    TIMEOUT,
  );

  test(
    "quit leaves only the scrollback behind",
    async () => {
      const t = await open(FAKE);
      await t.waitFor((s) => s.includes("── host a"), "the live pane");
      t.type("help");
      await t.waitFor((s) => s.includes("commands: listen connect"), "help");
      t.type("quit");
      const text = await exited(t, 0);
      expect(after(text, "a> quit")).not.toContain("── host a");
      expect(isSane(await sttyAfterExit(t))).toBe(true);
    },
    TIMEOUT,
  );

  test(
    "an uncaught error: one line, terminal restored, exit 1",
    async () => {
      const t = await open(FAKE);
      await t.waitFor((s) => s.includes("── host a"), "the live pane");
      t.type("crash");
      const text = await exited(t, 1);
      expect(text).toContain("tcplab: fatal: kaboom\nEXIT=1");
      expect(isSane(await sttyAfterExit(t))).toBe(true);
    },
    TIMEOUT,
  );

  test(
    "resizing redraws the live pane at the new width",
    async () => {
      const t = await open(FAKE);
      await t.waitFor((s) => s.includes("── host a"), "the live pane");
      const width = () =>
        Bun.stringWidth(
          t
            .screen()
            .split("\n")
            .find((l) => l.startsWith("── host a")) ?? "",
        );
      expect(width()).toBe(120);
      t.resize(90, 40);
      await t.waitFor(() => width() === 90, "a 90-column heading");
      t.keys("C-d");
      await exited(t, 0);
    },
    TIMEOUT,
  );

  test(
    "SIGTERM restores the terminal and exits 143",
    async () => {
      const t = await open(FAKE);
      await t.waitFor((s) => s.includes("── host a"), "the live pane");
      const child = Bun.spawnSync(["ps", "-o", "pid=", "--ppid", String(t.panePid())])
        .stdout.toString()
        .trim();
      const pid = Number(child.split(/\s+/)[0]);
      expect(pid).toBeGreaterThan(0);
      process.kill(pid, "SIGTERM");
      await exited(t, 143);
      expect(isSane(await sttyAfterExit(t))).toBe(true);
    },
    TIMEOUT,
  );
});

describe("colour in a real terminal", () => {
  // An SGR (colour/style) escape: ESC [ params m.
  const SGR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`);

  test(
    "NO_COLOR: no colour or style codes, meaning still in the words",
    async () => {
      const t = await open("NO_COLOR=1 bun test/cli/fake-lab-main.ts --sim");
      await t.waitFor((s) => s.includes("── host a"), "the live pane");
      t.type("packets");
      await t.waitFor((s) => s.includes("x DROP bad checksum"), "packet lines");
      const styled = t.screenStyled();
      expect(styled).toContain("x DROP bad checksum");
      expect(SGR.test(styled)).toBe(false);
      t.keys("C-d");
      await exited(t, 0);
    },
    TIMEOUT,
  );

  test(
    "with colour: states and directions are coloured",
    async () => {
      const t = await open("bun test/cli/fake-lab-main.ts --sim");
      await t.waitFor((s) => s.includes("── host a"), "the live pane");
      t.type("packets");
      await t.waitFor((s) => s.includes("x DROP bad checksum"), "packet lines");
      expect(SGR.test(t.screenStyled())).toBe(true);
      t.keys("C-d");
      await exited(t, 0);
    },
    TIMEOUT,
  );
});

describe("a whole connection with the real engine", () => {
  /**
   * Type a command and wait for its output: the echoed line followed by
   * something other than the live pane. A command with no output at all is
   * taken as done after a short bounded wait.
   */
  async function run(t: Tmux, line: string): Promise<string> {
    const echo = `a> ${line}`;
    const before = t.all().split(echo).length;
    t.type(line);
    const answered = (s: string) => {
      if (s.split(echo).length <= before) return false;
      const next = after(s, echo).split("\n")[1] ?? "";
      return next !== "" && !next.startsWith("── host ");
    };
    let text: string;
    try {
      text = await t.waitFor(answered, `output of "${line}"`, 5_000);
    } catch {
      text = await t.waitFor((s) => s.split(echo).length > before, `"${line}" echoed`);
    }
    // The command's own lines: up to the live pane (which shows host a, whatever was asked).
    const own = after(text, echo);
    const pane = own.indexOf("\n── host ");
    return pane < 0 ? own : own.slice(0, pane);
  }

  /** Step the clock until `done` holds for the output of the probe commands (bounded). */
  async function stepUntil(
    t: Tmux,
    probe: string[],
    done: (outputs: string[]) => boolean,
    what: string,
  ) {
    for (let i = 0; i < 40; i++) {
      const outputs: string[] = [];
      for (const p of probe) outputs.push(await run(t, p));
      if (done(outputs)) return outputs;
      await run(t, "step");
    }
    throw new Error(
      `the clock was stepped 40 times and still not ${what}:\n${process.env.TCPLAB_E2E_DUMP ? t.all() : t.screen()}`,
    );
  }

  const stateOf = (output: string) => output.split("\n").slice(1).join("\n");

  test(
    "listen, connect, ESTABLISHED on both ends, ladder, close, TIME-WAIT, quit",
    async () => {
      const t = await open("bun cli/tcplab.ts lab --sim");
      await t.waitFor((s) => /\na> *$/m.test(s), "the lab prompt");
      expect(t.all()).toContain("simulated world");

      await run(t, "b: listen 80");
      const connect = await run(t, "connect 10.0.0.2 80");
      const id = /#\d+/.exec(connect)?.[0];
      expect(id).toBeDefined();

      await stepUntil(
        t,
        ["state", "b: state"],
        ([a, b]) =>
          stateOf(a ?? "").includes("ESTABLISHED") && stateOf(b ?? "").includes("ESTABLISHED"),
        "ESTABLISHED on both ends",
      );

      const ladder = await run(t, "ladder");
      expect(ladder).toMatch(/SYN/);

      const accepted = await run(t, "b: accept");
      const peer = /#\d+/.exec(accepted)?.[0];
      expect(peer).toBeDefined();
      await run(t, `close ${id}`);
      await stepUntil(
        t,
        ["b: state"],
        ([b]) => stateOf(b ?? "").includes("CLOSE-WAIT"),
        "CLOSE-WAIT on b",
      );
      await run(t, `b: close ${peer}`);
      await stepUntil(
        t,
        ["state"],
        ([a]) => stateOf(a ?? "").includes("TIME-WAIT"),
        "TIME-WAIT on a",
      );
      await stepUntil(
        t,
        ["state"],
        ([a]) => !stateOf(a ?? "").includes("TIME-WAIT"),
        "past TIME-WAIT on a",
      );

      t.type("quit");
      await exited(t, 0);
      expect(isSane(await sttyAfterExit(t))).toBe(true);
    },
    TIMEOUT,
  );

  test(
    "a guided lab: a wrong prediction explained, a right one, the score; the progress after a restart",
    async () => {
      // The shell's HOME is the terminal's own temporary folder: progress goes to
      // $HOME/.local/state/tcplab/progress.json, the default place.
      const t = await open("bun cli/tcplab.ts lab --sim");
      await t.waitFor((s) => /\na> *$/m.test(s), "the lab prompt");
      expect(await run(t, "lab start handshake")).toContain(
        "Step 1/7: The server listens on port 80",
      );
      await run(t, "b: listen 80");
      expect(await run(t, "next")).toContain("Step 2/7");
      await run(t, "connect 10.0.0.2 80");
      expect(await run(t, "next")).toContain("Predict: When the SYN reaches b's listener");
      expect(await run(t, "answer R 0:0(0) ack 1")).toContain("noted: you predict R 0:0(0) ack 1");
      await run(t, "step");
      const wrong = await run(t, "next");
      expect(wrong).toContain("you predicted R 0:0(0) ack 1; the stack shows S. 0:0(0) ack 1");
      expect(wrong).toContain("A listener answers an acceptable SYN");
      await run(t, "answer 1");
      await run(t, "step");
      expect(await run(t, "next")).toContain("you predicted 1: right");
      for (const line of [
        "step",
        "b: accept",
        "next",
        "drop next 1 out SYN",
        "connect 10.0.0.2 80",
        "step",
        "next",
        "step",
        "step",
        "step",
        "state #4",
      ]) {
        await run(t, line);
      }
      const done = await run(t, "next");
      expect(done).toContain("lab handshake complete");
      expect(done).toContain("Predictions: 1 of 2 right.");
      t.type("quit");
      await exited(t, 0);
      // A new shell remembers.
      t.type(`cd ${ROOT} && bun cli/tcplab.ts lab --sim; echo "EXIT=$?"`);
      await t.waitFor(
        (s) => s.split("simulated world").length > 2 && /\na> *$/m.test(s),
        "the second lab prompt",
      );
      const list = await run(t, "lab list");
      expect(list).toMatch(/handshake +The three-way handshake +7 +✓ done, 1\/2 predicted/);
      expect(Bun.file(`${t.dir}/.local/state/tcplab/progress.json`).size).toBeGreaterThan(0);
      t.type("quit");
      await t.waitFor(
        (s) => s.split(`EXIT=0\n${SHELL_PROMPT_SHOWN}`).length > 2,
        "the second shell's exit",
      );
      expect(isSane(await sttyAfterExit(t))).toBe(true);
    },
    TIMEOUT,
  );
});
