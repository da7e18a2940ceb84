import { afterEach, describe, expect, test } from "bun:test";
import { SCROLLBACK_KEEP } from "../../cli/lab/LabApp.tsx";
import { FakeSession } from "./fake-session.ts";
import { KEY, type Shell, startShell, turns, until } from "./helpers.tsx";

let shell: Shell | undefined;
afterEach(() => {
  shell?.unmount();
  shell = undefined;
});

async function start(options: Parameters<typeof startShell>[0] = {}) {
  shell = await startShell(options);
  return shell;
}

/** Frame lines above the live pane (the scrollback). */
function scrollback(s: Shell): string[] {
  const lines = s.frame().split("\n");
  const pane = lines.findIndex((l) => l.startsWith("── host "));
  return lines.slice(0, pane);
}

describe("prompt and commands", () => {
  test("the prompt comes from the session and shows the typed line", async () => {
    const s = await start();
    expect(s.promptLine()).toBe("a>");
    await s.type("connect 10.0.0.2 80");
    expect(s.promptLine()).toBe("a> connect 10.0.0.2 80");
    s.session.prompt = "b> ";
    s.session.changed();
    await until(() => s.promptLine().startsWith("b> "), "the new prompt");
  });

  test("Enter runs the line: echoed, then its blocks, prompt empty again", async () => {
    const s = await start();
    await s.type("fail");
    await s.type(KEY.enter);
    await until(() => s.frame().includes("usage: connect"), "the error block");
    expect(scrollback(s)).toEqual(["a> fail", "error: unknown host c", "usage: connect ADDR PORT"]);
    expect(s.session.executed).toEqual(["fail"]);
    expect(s.promptLine()).toBe("a>");
  });

  test("output between commands appears in the scrollback", async () => {
    const s = await start();
    s.session.emit([
      { kind: "packets", lines: [[{ text: "< ", tone: "in" }, { text: "R 1:1(0)" }]] },
    ]);
    await until(() => s.frame().includes("< R 1:1(0)"), "the packet line");
  });

  test("a long session: every line is written once; the shell keeps only the recent ones", async () => {
    const s = await start();
    const n = SCROLLBACK_KEEP * 2 + 137;
    for (let i = 0; i < n; i++) {
      s.session.emit([{ kind: "text", lines: [[{ text: `line ${i}.` }]] }]);
      if (i % 97 === 0) await turns(2);
    }
    await until(() => s.frame().includes(`line ${n - 1}.`), "the last line");
    // Every line reached the terminal…
    const seen = new Set<string>();
    for (const f of s.frames())
      for (const l of f.split("\n")) if (/^line \d+\.$/.test(l)) seen.add(l);
    expect(seen.size).toBe(n);
    // …but what the shell holds (and Ink would replay) is bounded.
    const held = s
      .frame()
      .split("\n")
      .filter((l) => /^line \d+\.$/.test(l));
    expect(held.length).toBeLessThanOrEqual(SCROLLBACK_KEEP);
    expect(held.at(-1)).toBe(`line ${n - 1}.`);
  });

  test("the banner is the first line", async () => {
    const s = await start({
      banner: [{ kind: "text", lines: [[{ text: "tcplab lab: simulated world" }]] }],
    });
    expect(s.frame().split("\n")[0]).toBe("tcplab lab: simulated world");
  });
});

describe("line editing keys", () => {
  test("←/→, Home/End, Backspace and Delete", async () => {
    const s = await start();
    await s.type("lisen 80");
    await s.type(KEY.home);
    for (let i = 0; i < 3; i++) await s.type(KEY.right);
    await s.type("t");
    expect(s.promptLine()).toBe("a> listen 80");
    await s.type(KEY.end);
    await s.type(KEY.backspace);
    expect(s.promptLine()).toBe("a> listen 8");
    await s.type(KEY.home);
    await s.type(KEY.del);
    expect(s.promptLine()).toBe("a> isten 8");
    await s.type(KEY.left);
    await s.type(KEY.left);
    await s.type("L");
    expect(s.promptLine()).toBe("a> Listen 8");
  });

  test("Ctrl-A/E/U/K/W", async () => {
    const s = await start();
    await s.type("connect 10.0.0.2 80");
    await s.type(KEY.ctrlW);
    expect(s.promptLine()).toBe("a> connect 10.0.0.2");
    await s.type(KEY.ctrlA);
    await s.type("x ");
    expect(s.promptLine()).toBe("a> x connect 10.0.0.2");
    await s.type(KEY.ctrlK);
    expect(s.promptLine()).toBe("a> x");
    await s.type(KEY.ctrlE);
    await s.type("y");
    await s.type(KEY.ctrlU);
    expect(s.promptLine()).toBe("a>");
  });

  test("control characters inside one chunk act as keys, in order", async () => {
    const s = await start();
    await s.type("junk\x15echo hi\r");
    await until(() => s.session.executed.length === 1, "the command");
    expect(s.session.executed).toEqual(["echo hi"]);
  });
});

describe("history", () => {
  test("↑ walks back, ↓ forward and back to the draft", async () => {
    const s = await start({ history: ["help", "table"] });
    await s.type("dra");
    await s.type(KEY.up);
    expect(s.promptLine()).toBe("a> table");
    await s.type(KEY.up);
    expect(s.promptLine()).toBe("a> help");
    await s.type(KEY.up);
    expect(s.promptLine()).toBe("a> help");
    await s.type(KEY.down);
    expect(s.promptLine()).toBe("a> table");
    await s.type(KEY.down);
    expect(s.promptLine()).toBe("a> dra");
  });

  test("submitted lines are stored, a repeat only once, blank lines not", async () => {
    const s = await start({ history: ["help"] });
    await s.type("table\r");
    await s.type("table\r");
    await s.type("\r");
    await until(() => s.session.executed.length === 3, "three commands");
    expect(s.history.entries).toEqual(["help", "table"]);
    await s.type(KEY.up);
    expect(s.promptLine()).toBe("a> table");
  });
});

describe("Tab completion", () => {
  test("one candidate completes the word and adds a space", async () => {
    const s = await start();
    await s.type("pa");
    await s.type(KEY.tab);
    expect(s.promptLine()).toBe("a> packets");
    await s.type("x");
    expect(s.promptLine()).toBe("a> packets x");
  });

  test("several: the common prefix is completed and the candidates listed", async () => {
    const s = await start();
    await s.type("st");
    await s.type(KEY.tab);
    expect(s.promptLine()).toBe("a> stat");
    expect(scrollback(s)).toEqual(["a> stat", "state  stats"]);
    expect(s.session.executed).toEqual([]);
  });

  test("no candidate leaves the line as it is", async () => {
    const s = await start();
    await s.type("zz");
    await s.type(KEY.tab);
    expect(s.promptLine()).toBe("a> zz");
    expect(scrollback(s)).toEqual([]);
  });
});

describe("Ctrl-C, Ctrl-D and quit", () => {
  test("Ctrl-C clears the line without running it", async () => {
    const s = await start();
    await s.type("connect 10.0.0.2");
    await s.type(KEY.ctrlC);
    expect(s.promptLine()).toBe("a>");
    expect(scrollback(s)).toEqual(["a> connect 10.0.0.2^C"]);
    expect(s.session.executed).toEqual([]);
    expect(s.exits).toEqual([]);
  });

  test("Ctrl-C interrupts a running command", async () => {
    const s = await start();
    await s.type("slow\r");
    await until(() => s.session.executed.length === 1, "slow to start");
    await s.type(KEY.ctrlC);
    await until(() => s.frame().includes("interrupted"), "the interrupted result");
    expect(s.session.interrupts).toBe(1);
    expect(s.exits).toEqual([]);
  });

  test("Ctrl-C on an empty line hints, a second one leaves", async () => {
    const s = await start();
    await s.type(KEY.ctrlC);
    expect(s.frame()).toContain("Ctrl-C again, Ctrl-D or quit to leave");
    expect(s.exits).toEqual([]);
    await s.type(KEY.ctrlC);
    await until(() => s.exits.length === 1, "exit");
    expect(s.exits).toEqual([{ code: 0 }]);
  });

  test("Ctrl-D deletes under the cursor on a non-empty line, leaves on an empty one", async () => {
    const s = await start();
    await s.type("ab");
    await s.type(KEY.home);
    await s.type(KEY.ctrlD);
    expect(s.promptLine()).toBe("a> b");
    expect(s.exits).toEqual([]);
    await s.type(KEY.ctrlU);
    await s.type(KEY.end);
    await s.type(KEY.backspace);
    await s.type(KEY.ctrlD);
    await until(() => s.exits.length === 1, "exit");
    expect(s.exits).toEqual([{ code: 0 }]);
  });

  test("quit (the engine's quit flag) leaves, dropping the live pane", async () => {
    const s = await start();
    await s.type("quit\r");
    await until(() => s.exits.length === 1, "exit");
    expect(s.exits).toEqual([{ code: 0 }]);
    await until(() => !s.frame().includes("── host"), "the live pane to go");
    expect(s.frame()).toContain("a> quit");
  });
});

describe("paste", () => {
  test("several lines run each line in order; the unfinished last stays in the editor", async () => {
    const s = await start();
    await s.type("echo one\necho two\r\necho three");
    await until(() => s.session.executed.length === 2, "two commands");
    expect(s.promptLine()).toBe("a> echo three");
    await s.type(KEY.enter);
    await until(() => s.session.executed.length === 3, "three commands");
    expect(s.session.executed).toEqual(["echo one", "echo two", "echo three"]);
    await until(() => s.frame().includes("a> echo three\nthree"), "the last output");
    expect(scrollback(s)).toEqual([
      "a> echo one",
      "one",
      "a> echo two",
      "two",
      "a> echo three",
      "three",
    ]);
  });

  test("a bracketed paste runs its lines and never completes on a tab", async () => {
    const s = await start();
    await s.type("\x1b[200~echo a\tb\necho c\n\x1b[201~");
    await until(() => s.session.executed.length === 2, "two commands");
    expect(s.session.executed).toEqual(["echo a b", "echo c"]);
  });

  test("lines pasted while a command runs wait their turn", async () => {
    const s = await start();
    await s.type("slow\necho after\n");
    await until(() => s.session.executed.length === 1, "slow to start");
    await turns();
    expect(s.session.executed).toEqual(["slow"]);
    s.session.interrupt();
    await until(() => s.session.executed.length === 2, "the queued line");
    expect(s.session.executed).toEqual(["slow", "echo after"]);
  });
});

describe("errors", () => {
  test("execute throwing becomes an error block and the shell lives on", async () => {
    const s = await start();
    await s.type("throw\r");
    await until(() => s.frame().includes("error: boom"), "the error block");
    await s.type("echo still here\r");
    await until(() => s.frame().includes("\nstill here"), "the next command");
    expect(s.exits).toEqual([]);
  });

  test("a block that cannot be drawn becomes an error line in its place", async () => {
    const session = new FakeSession();
    const s = await start({ session });
    session.emit([{ kind: "table", columns: ["A"], rows: null } as never]);
    await until(() => s.frame().includes("error: could not display output"), "the error line");
    await s.type("echo ok\r");
    await until(() => s.frame().includes("\nok"), "the next command");
    expect(s.exits).toEqual([]);
  });

  test("a live pane that fails once is reported and drawn again", async () => {
    const session = new FakeSession();
    const s = await start({ session });
    // React retries a failed render once by itself; fail both tries.
    let failures = 2;
    const good = session.connections;
    session.connections = new Proxy(good, {
      get(target, prop, receiver) {
        if (prop === "rows" && failures > 0) {
          failures--;
          throw new Error("pane broke");
        }
        return Reflect.get(target, prop, receiver);
      },
    });
    session.changed();
    await until(() => s.frame().includes("error: display error: pane broke"), "the display error");
    await until(() => s.frame().includes("── host a"), "the pane again");
    expect(s.exits).toEqual([]);
  });

  test("a live pane that keeps failing ends the shell with an error", async () => {
    const session = new FakeSession();
    const s = await start({ session });
    session.connections = { kind: "table", columns: ["A"], rows: null } as never;
    session.changed();
    await until(() => s.exits.length === 1, "the fatal exit");
    expect(s.exits[0]?.code).toBe(1);
    expect(s.exits[0]?.error).toBeInstanceOf(Error);
  });

  test("the status throwing is shown in the pane, not fatal", async () => {
    const session = new FakeSession();
    const s = await start({ session });
    session.statusError = new Error("no status");
    session.changed();
    await until(() => s.frame().includes("status unavailable: no status"), "the message");
    expect(s.exits).toEqual([]);
  });
});
