/** Changing things: inject, faults on the wire, and time. */

import { type Duration, elapsed, type Instant, later, max, ms, scale } from "../clock/time.ts";
import type { FaultAction, FaultDirs, FaultyLink, PacketMatcher } from "../link/faults.ts";
import { formatIpPacket } from "../wire/format6.ts";
import { type DecodedIpPacket, parseIpPacket } from "../wire/ip-packet.ts";
import { readFlags } from "../wire/notation.ts";
import { Flag } from "../wire/tcp-types.ts";
import { formatDuration, formatTime } from "./args.ts";
import { describeBottleneck } from "./cmd-path.ts";
import { err, hint, text } from "./cmd-sockets.ts";
import type { LabEvent, PacketEvent } from "./event-log.ts";
import { craftAbsolute, craftRelative } from "./inject.ts";
import type { ArgSpec, Args, Registry } from "./registry.ts";
import type { LabEngine } from "./session.ts";
import type { Block, Line, Span } from "./view.ts";
import type { LabHost } from "./world.ts";

const USAGE = {
  inject: "inject #ID <|> PACKET [csum=bad] | inject tcp SRC:PORT > DST:PORT [field=value …]",
  dropNext: "drop next N [in|out] [SYN|FIN|RST|data|ack|FLAGS]",
  reorderNext: "reorder next N [in|out] [SYN|FIN|RST|data|ack|FLAGS]",
  loss: "loss P%",
  delay: "delay MS",
  duplicate: "duplicate P%",
  reorder: "reorder P%",
  corrupt: "corrupt P%",
  faults: "faults",
  faultsClear: "faults clear",
  step: "step [DURATION]",
  pause: "pause",
  run: "run [DURATION]",
  speed: "speed X",
  wait: "wait [syn|fin|rst|data|ack] [MAX]",
} as const;

const WAIT_WHAT: Readonly<Record<string, string>> = {
  syn: "a SYN",
  fin: "a FIN",
  rst: "an RST",
  data: "a data segment",
  ack: "a pure ACK",
};

/** How long `wait` waits without MAX. */
const WAIT_DEFAULT_MS: Duration = ms(2000);

const MATCH_WORDS = [
  "syn",
  "fin",
  "rst",
  "data",
  "ack",
  "udp",
  "icmp",
  "frag",
  "lastfrag",
] as const;

/**
 * A matcher on raw IP bytes of either family for `drop next … MATCH`;
 * undefined if the word means nothing. `icmp` takes ICMPv6 too: the lab's
 * words name what a packet is for, not its family.
 */
export function packetMatcher(word: string): PacketMatcher | undefined {
  const w = word.toLowerCase();
  const when =
    (pred: (d: DecodedIpPacket) => boolean): PacketMatcher =>
    (p) => {
      const d = parseIpPacket(p, { verifyChecksum: false });
      return d.ok && pred(d.value);
    };
  const tcp = (pred: (flags: number, len: number) => boolean): PacketMatcher =>
    when((d) => d.kind === "tcp" && pred(d.tcp.flags, d.tcp.payload.length));
  switch (w) {
    case "syn":
      return tcp((f) => (f & Flag.SYN) !== 0);
    case "fin":
      return tcp((f) => (f & Flag.FIN) !== 0);
    case "rst":
      return tcp((f) => (f & Flag.RST) !== 0);
    case "data":
      return tcp((_f, len) => len > 0);
    case "ack":
      // A pure ACK: no data, no SYN/FIN/RST.
      return tcp(
        (f, len) =>
          len === 0 && (f & Flag.ACK) !== 0 && (f & (Flag.SYN | Flag.FIN | Flag.RST)) === 0,
      );
    case "udp":
      return when((d) => d.kind === "udp");
    case "icmp":
      return when((d) => d.kind === "icmp" || d.kind === "icmpv6");
    case "frag":
      // A fragment of a larger datagram (RFC 791, RFC 8200 §4.5: more fragments or a non-zero offset).
      return when((d) => d.kind === "fragment");
    case "lastfrag":
      // The last fragment: MF clear, a non-zero offset (fragment zero may have arrived).
      return when((d) => {
        if (d.kind !== "fragment") return false;
        return d.family === 4 ? !d.ip.header.moreFragments : d.ip.fragment?.more === false;
      });
  }
  // Exact packetdrill flags: `S`, `S.`, `F.`.
  const flags = readFlags(word);
  if (flags === undefined) return undefined;
  return tcp((f) => f === flags);
}

/** The host that carries path-wide faults: every packet between the two ends passes its link once. */
function pathLink(engine: LabEngine): FaultyLink {
  return (engine.world.hosts[0] as LabHost).link.faults;
}

/** Sets (or with p = 0 removes) the path-wide probability rule named `kind`. */
function setChance(engine: LabEngine, kind: string, p: number, action: FaultAction): Block[] {
  const link = pathLink(engine);
  for (const r of link.rules()) if (r.spec.label?.startsWith(`${kind} `)) link.removeRule(r);
  if (p === 0) return [text(`${kind} off`)];
  const pct = `${Number((p * 100).toFixed(3))}%`;
  link.addRule({ action, dir: "both", chance: p, label: `${kind} ${pct}` });
  return [
    text(
      `${kind} ${pct} on the path between ${engine.world.hosts[0]?.name} and ${engine.world.hosts[1]?.name ?? engine.world.peer?.name}`,
    ),
  ];
}

const MATCH_HELP =
  "SYN, FIN, RST (flag set), data (payload), ack (pure ACK), udp, icmp, frag (an IP fragment), lastfrag (a datagram's last fragment)";

const NEXT_ARGS: readonly ArgSpec[] = [
  { name: "N", kind: "int", min: 1, max: 1000 },
  { name: "DIR", kind: "word", optional: true, values: ["in", "out"] },
  { name: "MATCH", kind: "word", optional: true, open: true, values: MATCH_WORDS },
];

/** `drop next` / `reorder next`: a rule on the next N matching packets at the host's interface. */
function nextRule(
  host: LabHost,
  a: Args,
  verb: "drop" | "reorder",
  action: FaultAction,
  usage: string,
): Block[] {
  const n = a.num("N") as number;
  const dir = (a.str("DIR") ?? "both") as FaultDirs;
  const word = a.str("MATCH");
  let match: PacketMatcher | undefined;
  if (word !== undefined) {
    match = packetMatcher(word);
    if (match === undefined) {
      return [
        err(
          `${verb} next: MATCH should be SYN, FIN, RST, data, ack, udp, icmp, frag, lastfrag or flags like S., got "${word}"`,
          usage,
        ),
      ];
    }
  }
  const label = `${verb} next ${n}${word !== undefined ? ` ${word}` : ""}${dir !== "both" ? ` ${dir}` : ""}`;
  host.link.faults.addRule({
    action,
    dir,
    count: n,
    label,
    ...(match !== undefined ? { match } : {}),
  });
  const where = dir === "both" ? "sent or received" : dir === "out" ? "sent" : "received";
  const what = verb === "drop" ? "drop" : "hold back";
  return [
    text(
      `${host.name} will ${what} the next ${n} ${word ?? ""}${word ? " " : ""}packet(s) it has ${where}`,
    ),
  ];
}

export function registerControlCommands(reg: Registry<LabEngine>): void {
  reg.add({
    name: "inject",
    usage: USAGE.inject,
    summary: "put a crafted segment into the host as if from the wire",
    help: [
      "Relative to a connection, in packetdrill notation (seq relative to the peer's ISN, ack and SACK blocks to ours):",
      "  inject #3 < S. 0:0(0) ack 1 win 1000 <mss 536>",
      "  inject #3 < R 1:1(0)                 (`>` puts it on the wire as if the host sent it)",
      "With absolute fields (defaults: seq 0, win 65535, no flags; ack= sets the ACK flag):",
      "  inject tcp 10.0.0.1:4000 > 10.0.0.2:80 flags=S seq=1000 win=512 mss=536",
      "  inject tcp [fd00::1]:4000 > [fd00::2]:80 flags=S seq=1000      (IPv6: ttl= sets the Hop Limit)",
      '  fields: flags seq ack win urg mss wscale len data="…" ttl csum=bad',
      "csum=bad sends a wrong TCP checksum: the host must drop it (see `stats`).",
    ],
    args: [
      { name: "#ID|tcp", kind: "word", open: true, values: ["tcp"], withSockets: true },
      { name: "PACKET", kind: "text" },
    ],
    run(ctx, a) {
      const { engine, host } = ctx;
      const target = a.str("#ID|tcp") as string;
      const rest = a.str("PACKET") as string;
      let crafted: ReturnType<typeof craftAbsolute>;
      if (target.toLowerCase() === "tcp") {
        crafted = craftAbsolute(rest, (t) => engine.hostAddress(t));
      } else {
        const m = /^#?(\d+)$/.exec(target);
        if (m === null) return [err(`inject: expected #ID or tcp, got "${target}"`, USAGE.inject)];
        const fd = Number(m[1]);
        const tcb = engine.tcbById(host, fd);
        if (tcb === undefined)
          return [err(`inject: #${fd} on ${host.name} has no connection`, USAGE.inject)];
        crafted = craftRelative(tcb, rest, engine.names.injectBases);
      }
      if ("error" in crafted) return [err(`inject: ${crafted.error}`, USAGE.inject)];
      const before = host.host.stats().drops;
      const mark = engine.world.log.length;
      if (crafted.dir === "<") host.link.inject(crafted.bytes);
      else host.link.emit(crafted.bytes);
      host.attachment.flush();
      const after = host.host.stats().drops;
      const lines: Line[] = [
        [
          {
            text: crafted.dir === "<" ? `injected into ${host.name}: ` : `sent from ${host.name}: `,
            tone: "accent",
          },
          {
            text: `${crafted.dir} ${formatIpPacket(crafted.bytes)}`,
            tone: crafted.dir === "<" ? "in" : "out",
          },
        ],
      ];
      for (const [k, v] of Object.entries(after)) {
        const d = v - (before[k] ?? 0);
        if (d > 0) lines.push([{ text: `${host.name} dropped it: ${k}`, tone: "bad" }]);
      }
      const replies = engine.world.log
        .since(mark)
        .filter((e) => e.kind === "packet" && e.host === host.name && e.dir === ">" && !e.injected);
      if (crafted.dir === "<") {
        lines.push(
          hint(
            replies.length === 0
              ? `${host.name} sent nothing in reply`
              : `${host.name} replied with ${replies.length} segment(s) (see trace)`,
          ),
        );
      }
      return [text(...lines)];
    },
  });

  reg.add({
    name: "drop next",
    usage: USAGE.dropNext,
    summary: "drop the next N matching packets",
    help: [
      "Drops the next N packets at this host's interface: out (sent by it), in (arriving), or both.",
      `MATCH: ${MATCH_HELP}, or exact`,
      "packetdrill flags like S. or F. . Example: drop next 1 out SYN — then `step` to the RTO.",
    ],
    args: NEXT_ARGS,
    run: (ctx, a) => nextRule(ctx.host, a, "drop", { kind: "drop" }, USAGE.dropNext),
  });

  reg.add({
    name: "reorder next",
    usage: USAGE.reorderNext,
    summary: "hold the next N matching packets back so later ones overtake them",
    help: [
      "Holds the next N matching packets at this host's interface back by twice the path delay",
      "(at least 5 ms), as reorder does at random, so packets sent after them arrive first.",
      `MATCH as for drop next: ${MATCH_HELP}, or flags.`,
      "Example: reorder next 1 out frag — the first fragment of a datagram arrives last.",
    ],
    args: NEXT_ARGS,
    run: (ctx, a) =>
      nextRule(
        ctx.host,
        a,
        "reorder",
        { kind: "delay", by: max(ms(5), scale(ctx.engine.world.delay(), 2)) },
        USAGE.reorderNext,
      ),
  });

  reg.add({
    name: "loss",
    usage: USAGE.loss,
    summary: "drop packets at random with probability P",
    help: [
      "Each packet on the path is dropped with probability P (both directions). loss 0 turns it off.",
    ],
    args: [{ name: "P", kind: "percent" }],
    hostScoped: false,
    run: (ctx, a) => setChance(ctx.engine, "loss", a.num("P") as number, { kind: "drop" }),
  });
  reg.add({
    name: "duplicate",
    usage: USAGE.duplicate,
    summary: "duplicate packets at random",
    help: ["Each packet on the path is sent twice with probability P. duplicate 0 turns it off."],
    args: [{ name: "P", kind: "percent" }],
    hostScoped: false,
    run: (ctx, a) =>
      setChance(ctx.engine, "duplicate", a.num("P") as number, { kind: "duplicate" }),
  });
  reg.add({
    name: "corrupt",
    usage: USAGE.corrupt,
    summary: "flip a bit in packets at random",
    help: [
      "One random bit of a packet is flipped with probability P: the receiver's checksum check",
      "should catch it (see `stats`). corrupt 0 turns it off.",
    ],
    args: [{ name: "P", kind: "percent" }],
    hostScoped: false,
    run: (ctx, a) => setChance(ctx.engine, "corrupt", a.num("P") as number, { kind: "corrupt" }),
  });
  reg.add({
    name: "reorder",
    usage: USAGE.reorder,
    summary: "hold packets back at random so later ones overtake them",
    help: [
      "A packet is held back by twice the path delay (at least 5 ms) with probability P, so",
      "packets sent after it arrive first. reorder 0 turns it off.",
    ],
    args: [{ name: "P", kind: "percent" }],
    hostScoped: false,
    run: (ctx, a) =>
      setChance(ctx.engine, "reorder", a.num("P") as number, {
        kind: "delay",
        by: max(ms(5), scale(ctx.engine.world.delay(), 2)),
      }),
  });

  reg.add({
    name: "delay",
    usage: USAGE.delay,
    summary: "one-way delay of the path",
    help: [
      "Sets how long a packet takes to cross the path (each way). Durations: 10, 10ms, 0.5s.",
      "In the kernel world tcplab holds its own packets back by this much.",
    ],
    args: [{ name: "MS", kind: "duration" }],
    hostScoped: false,
    run(ctx, a) {
      const d = a.duration("MS")!;
      ctx.engine.world.setDelay(d);
      return [
        text(`one-way delay ${formatDuration(d)} (round trip ${formatDuration(scale(d, 2))})`),
      ];
    },
  });

  reg.add({
    name: "faults",
    usage: USAGE.faults,
    summary: "list the fault rules",
    help: ["Every active fault rule, with how often it fired, and the path delay."],
    args: [],
    hostScoped: false,
    run(ctx) {
      const rows: Span[][] = [];
      for (const h of ctx.engine.world.hosts) {
        for (const r of h.link.faults.rules()) {
          rows.push([
            { text: `${r.id}` },
            { text: h.name },
            { text: r.spec.dir ?? "both" },
            { text: r.spec.label ?? r.spec.action.kind, tone: "warn" },
            { text: r.remaining === undefined ? "∞" : String(r.remaining) },
            { text: String(r.hits) },
          ]);
        }
      }
      const b = ctx.engine.world.bottleneck?.();
      const mtu = ctx.engine.world.pathMtu?.();
      const hostMtu = Math.min(...ctx.engine.world.hosts.map((h) => h.host.mtu));
      const delay = text(
        hint(
          `one-way delay ${formatDuration(ctx.engine.world.delay())}${b === undefined ? "" : `; bottleneck ${describeBottleneck(b)}`}${mtu !== undefined && mtu < hostMtu ? `; path MTU ${mtu} bytes` : ""}`,
        ),
      );
      if (rows.length === 0) return [text("no fault rules"), delay];
      return [
        {
          kind: "table",
          title: "fault rules",
          columns: ["rule", "host", "dir", "what", "left", "hits"],
          rows,
        },
        delay,
      ];
    },
  });

  reg.add({
    name: "faults clear",
    usage: USAGE.faultsClear,
    summary: "remove every fault rule",
    help: ["Removes all fault rules on all hosts (the path delay stays)."],
    args: [],
    hostScoped: false,
    run(ctx) {
      let n = 0;
      for (const h of ctx.engine.world.hosts) {
        n += h.link.faults.rules().length;
        h.link.faults.clearRules();
      }
      return [text(`removed ${n} fault rule(s)`)];
    },
  });

  reg.add({
    name: "step",
    usage: USAGE.step,
    summary: "move the clock to the next deadline (or by DURATION)",
    help: [
      "Without DURATION: jumps to the earliest pending event — a packet arriving, a retransmission,",
      "a delayed ACK, the end of TIME-WAIT — and runs everything due then.",
      "With DURATION (200ms, 1.5s, 2m): moves time forward by that much, running all that falls due;",
      "a long one shows its progress as it goes, and Ctrl-C stops it where it is.",
    ],
    args: [{ name: "DURATION", kind: "duration", optional: true }],
    hostScoped: false,
    async run(ctx, a) {
      const { engine } = ctx;
      const clock = engine.clock;
      if (clock.mode === "running")
        return [err("step: the clock is running: pause it first", USAGE.step)];
      const t0 = clock.now();
      const d = a.duration("DURATION");
      const target = d !== undefined ? later(t0, d) : clock.nextDeadline();
      if (target === undefined) {
        return [
          text(
            "nothing is pending: no timers running and no packets on the wire",
            hint("step DURATION moves time anyway"),
          ),
        ];
      }
      const mark = engine.world.log.length;
      // Each timer is read just before its instant: one that something on the way
      // cancelled (an ACK arrived first) did not fire.
      const due: DueTimer[] = [];
      let reached = true;
      if (d !== undefined) {
        // A long step runs in slices: the screen keeps drawing and Ctrl-C stops it.
        const abort = new AbortController();
        engine.jobs.foreground = abort;
        try {
          reached = await clock.advanceSliced(target, {
            signal: abort.signal,
            onSlice: () => engine.feed.flush(),
            beforeDeadline: (at) => due.push(...dueTimers(engine, at)),
          });
        } finally {
          if (engine.jobs.foreground === abort) engine.jobs.foreground = undefined;
        }
      } else {
        due.push(...dueTimers(engine, target));
        clock.stepToNext();
      }
      const t1 = clock.now();
      const lines: Line[] = [
        [
          { text: `t = ${formatTime(t1)} s`, tone: "accent" },
          { text: ` (+${formatDuration(elapsed(t0, t1))})`, tone: "muted" },
          ...(reached
            ? []
            : [
                {
                  text: ` — interrupted, ${formatDuration(elapsed(t1, target))} short of the step`,
                  tone: "warn" as const,
                },
              ]),
        ],
      ];
      for (const t of due)
        lines.push([{ text: `${t.host} ${t.id}: ${t.name} timer fired`, tone: "warn" }]);
      const events = engine.world.log.since(mark);
      const arrived = events.filter(
        (e) => e.kind === "packet" && e.dir === "<" && !e.injected,
      ).length;
      const lost = events.filter((e) => e.kind === "packet" && e.dropped !== undefined).length;
      if (arrived > 0 || lost > 0) {
        lines.push(hint(`${arrived} packet(s) arrived${lost > 0 ? `, ${lost} dropped` : ""}`));
      }
      const next = clock.nextDeadline();
      lines.push(
        hint(
          next === undefined
            ? "nothing pending now"
            : `next deadline in ${formatDuration(elapsed(t1, next))}`,
        ),
      );
      return [text(...lines)];
    },
  });

  reg.add({
    name: "pause",
    usage: USAGE.pause,
    summary: "stop the clock",
    help: ["Stops tcplab's clock: its timers wait until `step` or `run`."],
    args: [],
    hostScoped: false,
    run(ctx) {
      ctx.engine.clock.pause();
      return [text(`clock paused at ${formatTime(ctx.engine.clock.now())} s`)];
    },
  });

  reg.add({
    name: "run",
    usage: USAGE.run,
    summary: "let the clock follow real time (at `speed`)",
    help: [
      "The clock follows real time, `speed` times as fast, until DURATION has passed, nothing is",
      "pending any more, or you interrupt (Ctrl-C) — at most 10 minutes of lab time without DURATION.",
      "In the kernel world the clock keeps running in the background until `pause`.",
    ],
    args: [{ name: "DURATION", kind: "duration", optional: true }],
    hostScoped: false,
    async run(ctx, a) {
      const { engine } = ctx;
      const clock = engine.clock;
      if (clock.mode === "running") return [text("the clock is already running")];
      const d = a.duration("DURATION");
      const t0 = clock.now();
      if (engine.world.kind === "kernel" && d === undefined) {
        void clock.run({ onTick: () => engine.feed.status() });
        return [text(`clock running at ${clock.speed}×`)];
      }
      const end = await clock.run({
        until: later(t0, d ?? ms(600_000)),
        stopWhenIdle: d === undefined,
        onTick: () => engine.feed.flush(),
      });
      const why =
        end === "idle"
          ? "nothing pending"
          : end === "until"
            ? "time reached"
            : end === "closed"
              ? "session closed"
              : "interrupted";
      return [text(`ran ${formatTime(t0)} → ${formatTime(clock.now())} s (${why})`)];
    },
  });

  reg.add({
    name: "wait",
    usage: USAGE.wait,
    summary: "kernel world: wait for the kernel's answer (a packet, or one matching MATCH)",
    help: [
      "The kernel does not wait for `step`: it answers in real time, a moment after what provoked it.",
      "wait returns once a packet from the kernel has reached tcplab's interface since the previous",
      "command began (even one a fault rule then holds or drops) — at once if one already has — or",
      "after MAX of real time (default 2s). MATCH (syn, fin, rst, data, ack) waits for such a packet.",
      "tcplab's clock is not moved: paused, it stays paused. Ctrl-C stops waiting.",
      "Example: host nc 10.0.0.2 80 &   then   wait syn",
    ],
    args: [
      { name: "MATCH", kind: "word", optional: true, values: MATCH_WORDS.slice(0, 5) },
      { name: "MAX", kind: "duration", optional: true },
    ],
    hostScoped: false,
    async run(ctx, a) {
      const { engine } = ctx;
      const w = engine.world;
      const peer = w.peer;
      if (peer === undefined) {
        return [
          err(
            "wait: nothing comes from outside the simulated world: step or run moves it",
            USAGE.wait,
          ),
        ];
      }
      const word = a.str("MATCH");
      const match = word !== undefined ? packetMatcher(word) : undefined;
      const max = a.duration("MAX") ?? WAIT_DEFAULT_MS;
      const what = word !== undefined ? (WAIT_WHAT[word] ?? `a ${word} packet`) : "a packet";
      const fits = (ev: LabEvent): ev is PacketEvent =>
        ev.kind === "packet" &&
        ev.dir === "<" &&
        !ev.injected &&
        (match === undefined || match(ev.bytes));
      const already = w.log.since(engine.previousCommandMark).find(fits);
      if (already !== undefined) {
        return [
          text(`${what} from the ${peer.name} has arrived (at ${formatTime(already.time)} s)`),
        ];
      }
      const abort = new AbortController();
      engine.jobs.foreground = abort;
      const t0 = performance.now();
      try {
        const got = await new Promise<"packet" | "timeout" | "interrupted">((resolve) => {
          let timer: ReturnType<typeof setTimeout> | undefined;
          const done = (v: "packet" | "timeout" | "interrupted") => {
            off();
            clearTimeout(timer);
            abort.signal.removeEventListener("abort", onAbort);
            resolve(v);
          };
          const onAbort = () => done("interrupted");
          const off = w.log.onEvent((ev) => {
            if (fits(ev)) done("packet");
          });
          timer = setTimeout(() => done("timeout"), max);
          abort.signal.addEventListener("abort", onAbort, { once: true });
        });
        const took = formatDuration(ms(Math.round(performance.now() - t0)));
        if (got === "packet") return [text(`${what} from the ${peer.name} arrived after ${took}`)];
        if (got === "interrupted") return [text("interrupted")];
        return [
          text(
            `nothing arrived from the ${peer.name} in ${formatDuration(max)}`,
            hint("is something held back? `clock` shows what is pending, `step` moves it"),
          ),
        ];
      } finally {
        if (engine.jobs.foreground === abort) engine.jobs.foreground = undefined;
      }
    },
  });

  reg.add({
    name: "speed",
    usage: USAGE.speed,
    summary: "how fast `run` moves the clock",
    help: ["1 is real time, 0.1 ten times slower, 10 ten times faster (up to 1000)."],
    args: [{ name: "X", kind: "number" }],
    hostScoped: false,
    run(ctx, a) {
      const x = a.num("X") as number;
      if (x > 1000) return [err("speed: at most 1000", USAGE.speed)];
      ctx.engine.clock.speed = x;
      return [text(`speed ${x}×`)];
    },
  });
}

interface DueTimer {
  readonly host: string;
  readonly id: string;
  readonly name: string;
}

/** Connection timers that fall due up to `until` (reported by `step`). */
function dueTimers(engine: LabEngine, until: Instant): DueTimer[] {
  const out: DueTimer[] = [];
  for (const h of engine.world.hosts) {
    const idOf = engine.names.idOf(h);
    for (const tcb of h.host.connections()) {
      for (const t of tcb.timers())
        if (t.deadline <= until) out.push({ host: h.name, id: idOf(tcb), name: t.name });
    }
  }
  return out;
}
