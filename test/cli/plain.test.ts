import { describe, expect, test } from "bun:test";
import { PassThrough } from "node:stream";
import { bannerLine, pickWorld, runLab } from "../../cli/lab.ts";
import { runPlain } from "../../cli/lab/plain.ts";
import { FakeSession } from "./fake-session.ts";

async function* linesOf(...lines: string[]) {
  for (const l of lines) yield l;
}

describe("plain mode (stdin not a terminal)", () => {
  test("each line's blocks as plain text, in order; exit 1 after an error", async () => {
    const session = new FakeSession();
    let out = "";
    const code = await runPlain({
      session,
      lines: linesOf("help", "fail", "ladder"),
      write: (t) => (out += t),
    });
    expect(out).toBe(
      [
        "commands: listen connect",
        "",
        "error: unknown host c",
        "usage: connect ADDR PORT",
        "   a                 b",
        "   |----- SYN ----->|",
        "   |<-- SYN,ACK ----|",
        "",
      ].join("\n"),
    );
    expect(out).not.toContain("\x1b");
    expect(code).toBe(1);
  });

  test("quit stops reading; a throwing command is an error line", async () => {
    const session = new FakeSession();
    let out = "";
    const code = await runPlain({
      session,
      lines: linesOf("throw", "quit", "help"),
      write: (t) => (out += t),
    });
    expect(out).toBe("error: boom\n");
    expect(session.executed).toEqual(["throw", "quit"]);
    expect(code).toBe(1);
  });

  test("asynchronous output is printed too; success exits 0", async () => {
    const session = new FakeSession();
    let out = "";
    async function* lines() {
      yield "help";
      session.emit([{ kind: "packets", lines: [[{ text: "> F. 1:1(0)" }]] }]);
    }
    const code = await runPlain({ session, lines: lines(), write: (t) => (out += t) });
    expect(out).toBe("commands: listen connect\n\n> F. 1:1(0)\n");
    expect(code).toBe(0);
  });
});

describe("runLab", () => {
  test("the world: kernel only with root, /dev/net/tun and no --sim", () => {
    expect(pickWorld(false, { uid: 0, tun: true }).world).toBe("kernel");
    expect(pickWorld(true, { uid: 0, tun: true }).world).toBe("simulated");
    expect(pickWorld(false, { uid: 1000, tun: true }).world).toBe("simulated");
    expect(pickWorld(false, { uid: 0, tun: false }).world).toBe("simulated");
    expect(pickWorld(false, { uid: undefined, tun: true }).world).toBe("simulated");
    expect(bannerLine(pickWorld(false, { uid: 0, tun: true }), "lab1")).toContain(
      "kernel world in netns lab1",
    );
  });

  function io() {
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = "";
    let err = "";
    stdout.on("data", (d) => (out += d));
    stderr.on("data", (d) => (err += d));
    return {
      io: {
        stdin: stdin as unknown as NodeJS.ReadStream,
        stdout: stdout as unknown as NodeJS.WriteStream,
        stderr: stderr as unknown as NodeJS.WriteStream,
        env: {},
        uid: 0,
        tunPresent: true,
      },
      stdin,
      out: () => out,
      err: () => err,
    };
  }

  test("piped: says which world first, runs the lines, closes the session", async () => {
    const t = io();
    const session = new FakeSession();
    const worlds: string[] = [];
    t.stdin.end("help\n");
    const code = await runLab(["--sim"], {
      io: t.io,
      createSession: (o) => {
        worlds.push(o.world);
        return session;
      },
    });
    expect(code).toBe(0);
    expect(worlds).toEqual(["simulated"]);
    expect(t.out().split("\n")[0]).toBe(
      "tcplab lab: simulated world (--sim). Type help; Tab completes; Ctrl-D quits.",
    );
    expect(t.out()).toContain("commands: listen connect");
    expect(session.closed).toBe(true);
  });

  test("root with /dev/net/tun picks the kernel world and passes --netns", async () => {
    const t = io();
    const seen: unknown[] = [];
    t.stdin.end("");
    await runLab(["--netns", "lab7"], {
      io: t.io,
      createSession: (o) => {
        seen.push(o);
        return new FakeSession();
      },
    });
    expect(seen).toMatchObject([{ world: "kernel", netns: "lab7", labDirs: [] }]);
  });

  test("a bad option: one line naming it, the usage, exit 2", async () => {
    const t = io();
    const code = await runLab(["--bogus"], { io: t.io, createSession: () => new FakeSession() });
    expect(code).toBe(2);
    expect(t.err()).toContain("--bogus");
    expect(t.err()).toContain("usage: tcplab lab");
  });

  test("a session that cannot start: exit 1 with the reason", async () => {
    const t = io();
    const code = await runLab([], {
      io: t.io,
      createSession: () => {
        throw new Error("no netns");
      },
    });
    expect(code).toBe(1);
    expect(t.err()).toContain("cannot start the lab: no netns");
  });
});
