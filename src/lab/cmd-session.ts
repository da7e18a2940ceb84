/** Session commands: help, use, quit, host (kernel world), guided labs. */
import { err, hint, text } from "./cmd-sockets.ts";
import { registerLabCommands } from "./cmd-lab.ts";
import type { Command, Registry } from "./registry.ts";
import type { LabEngine } from "./session.ts";
import type { Block, Line, Span } from "./view.ts";

const USAGE = {
  help: "help [COMMAND]",
  use: "use HOST",
  quit: "quit",
  host: "host COMMAND…",
} as const;

function helpFor(cmd: Command<LabEngine>): Block {
  const lines: Line[] = [
    [{ text: cmd.usage, tone: "accent" }],
    [{ text: cmd.summary }],
    ...cmd.help.map((l): Line => [{ text: l, tone: "muted" }]),
  ];
  if (cmd.hostScoped !== false)
    lines.push([{ text: "Prefix with HOST: to run it on another host (b: …).", tone: "muted" }]);
  return { kind: "text", lines };
}

export function registerSessionCommands(reg: Registry<LabEngine>): void {
  reg.add({
    name: "help",
    usage: USAGE.help,
    summary: "the commands, or one command in detail",
    help: [
      "help alone lists every command with its usage; help CMD explains one (help udp, help drop next).",
    ],
    args: [
      { name: "COMMAND", kind: "command", optional: true },
      { name: "SUB", kind: "word", optional: true, open: true },
    ],
    hostScoped: false,
    run(ctx, a) {
      const reg = ctx.engine.registry;
      const name = a.str("COMMAND");
      if (name === undefined) {
        const rows: Span[][] = reg
          .all()
          .map((c) => [{ text: c.usage, tone: "accent" }, { text: c.summary }]);
        return [
          { kind: "table", title: "commands", columns: ["usage", ""], rows },
          text(
            hint(
              "HOST: COMMAND runs one command on another host; use HOST switches. help CMD for more.",
            ),
          ),
        ];
      }
      const sub = a.str("SUB");
      const full = sub !== undefined ? `${name} ${sub}` : name;
      const exact = reg.find(full.toLowerCase());
      if (exact !== undefined) return [helpFor(exact)];
      const family = reg.family(name.toLowerCase());
      if (family.length > 0 && sub === undefined) return family.map(helpFor);
      return [err(`help: no command "${full}"`, USAGE.help)];
    },
  });

  reg.add({
    name: "use",
    usage: USAGE.use,
    summary: "switch the current host",
    help: ["Commands act on the current host (shown in the prompt). use b switches to host b."],
    args: [{ name: "HOST", kind: "host" }],
    hostScoped: false,
    run(ctx, a) {
      const h = ctx.engine.hostNamed(a.str("HOST") as string);
      if (h === undefined) return [err("use: no such host", USAGE.use)];
      ctx.engine.current = h;
      return [text(`now on ${h.name}`)];
    },
  });

  reg.add({
    name: "quit",
    usage: USAGE.quit,
    summary: "leave the lab",
    help: ["Ends the session (the kernel world removes its namespace)."],
    args: [],
    hostScoped: false,
    run: () => ({ blocks: [text("bye")], quit: true }),
  });

  reg.add({
    name: "host",
    usage: USAGE.host,
    summary: "run a command in the kernel world's namespace",
    help: [
      "Kernel world only: runs COMMAND with a shell inside the lab's network namespace, where the",
      "Linux kernel at 10.0.0.1 talks to tcplab at 10.0.0.2. Output streams as it comes; Ctrl-C stops it.",
      "A trailing & runs it in the background: the prompt comes back at once, its output is shown",
      "as [N] lines, and a line says when it ends (`host kill PID` ends it sooner; lab start and quit",
      "end it too). Use it for a kernel client that stays connected while you step: host nc 10.0.0.2 80 &",
      "$TCPLAB_TUN names the kernel's interface to tcplab: host ip link set dev $TCPLAB_TUN mtu 576",
      "Examples: host ping -c 1 10.0.0.2   host ss -tn   host curl http://10.0.0.2/",
    ],
    args: [{ name: "COMMAND", kind: "text" }],
    hostScoped: false,
    async run(ctx, a) {
      const { engine } = ctx;
      const w = engine.world;
      if (w.runHostCommand === undefined) {
        return [
          err(
            "host: there is no kernel here — host runs commands in the kernel world (sudo bun run lab)",
            USAGE.host,
          ),
        ];
      }
      const command = a.str("COMMAND") as string;
      const bg = /^(.*[^&])&\s*$/s.exec(command);
      if (bg !== null) {
        const job = engine.jobs.start(engine.world, (bg[1] as string).trim());
        if (job === undefined) return [err("host: cannot start a background command", USAGE.host)];
        return [
          text([
            { text: `[${job.id}] `, tone: "accent" },
            { text: `${job.command}`, tone: "normal" },
            {
              text:
                job.pid !== undefined
                  ? `  (pid ${job.pid}, in the background)`
                  : "  (in the background)",
              tone: "muted",
            },
          ]),
        ];
      }
      const abort = new AbortController();
      engine.jobs.foreground = abort;
      try {
        const code = await w.runHostCommand(command, {
          signal: abort.signal,
          output: (chunk, stream) => {
            const lines = chunk.replace(/\n$/, "").split("\n");
            engine.feed.emit([
              {
                kind: "text",
                lines: lines.map(
                  (l): Line => [{ text: l, tone: stream === "stderr" ? "warn" : "normal" }],
                ),
              },
            ]);
          },
        });
        return [
          text(abort.signal.aborted ? "interrupted" : `exit status ${code ?? "none (killed)"}`),
        ];
      } finally {
        engine.jobs.foreground = undefined;
      }
    },
  });

  registerLabCommands(reg);
}
