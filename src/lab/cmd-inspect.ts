/** Looking at things: state, stats, trace, ladder, pcap, clock. */

import { elapsed, max, ZERO } from "../clock/time.ts";
import { pcapFile } from "../link/pcap.ts";
import { formatIpEndpoint } from "../wire/ip-addr.ts";
import { formatDuration, formatTime } from "./args.ts";
import { err, hint, text } from "./cmd-sockets.ts";
import { ladderLines } from "./ladder.ts";
import type { Registry } from "./registry.ts";
import type { LabEngine } from "./session.ts";
import { stateTable, tcbDetails } from "./state-view.ts";
import type { Block, Span } from "./view.ts";

const USAGE = {
  state: "state [#ID] [--abs]",
  stats: "stats",
  trace: "trace on|off [all|HOST]",
  ladder: "ladder [N]",
  pcapStart: "pcap start FILE",
  pcapStop: "pcap stop",
  clock: "clock",
} as const;

export function registerInspectCommands(reg: Registry<LabEngine>): void {
  reg.add({
    name: "state",
    usage: USAGE.state,
    summary: "every TCB of the host (or one connection in detail)",
    help: [
      "A table of the host's sockets and TCBs with the RFC 9293 §3.3.1 variables: SND.UNA, SND.NXT,",
      "SND.WND, RCV.NXT, RCV.WND, the RTO, running timers and queued bytes (sndq/rcvq).",
      "Sequence numbers are relative to ISS (send side) and IRS (receive side); --abs shows raw values.",
      "An id in parentheses, (#3), is a connection whose socket was closed but whose TCB lives on.",
      "Timers: rtx retransmission, dack delayed ACK, persist, tw TIME-WAIT, ka keep-alive, uto user timeout.",
      "A LISTEN row shows handshakes under way (N half-open) and, as rcvq, accept queue/backlog.",
      "state #ID shows everything about one connection.",
    ],
    args: [{ name: "#ID", kind: "socket", optional: true, closedOk: true }],
    flags: [{ name: "abs" }],
    run(ctx, a) {
      const { engine, host } = ctx;
      const now = engine.clock.now();
      const fd = a.num("#ID");
      if (fd === undefined)
        return [stateTable(host, now, { absolute: a.has("abs") }, engine.names.idOf(host))];
      const tcb = engine.tcbById(host, fd);
      if (tcb === undefined) {
        const info = host.sockets.info(fd);
        const what = info instanceof Error ? "closed" : info.state;
        return [text(`#${fd} has no connection (${what})`)];
      }
      return [tcbDetails(tcb, now, `#${fd}`)];
    },
  });

  reg.add({
    name: "stats",
    usage: USAGE.stats,
    summary: "packet counters and drops by reason",
    help: [
      "The host's counters, netstat -s style: packets by protocol, and every discarded packet",
      "by its reason (bad checksum, no socket, …). Also the host's fault-rule counters.",
    ],
    args: [],
    run(ctx) {
      const s = ctx.host.host.stats();
      const rows = (rec: Readonly<Record<string, number>>, tone: "normal" | "bad"): Span[][] =>
        Object.entries(rec).map(([k, v]) => [{ text: k }, { text: String(v), tone }]);
      const blocks: Block[] = [
        {
          kind: "table",
          title: `${ctx.host.name}: packets`,
          columns: ["counter", "count"],
          rows: rows(s.packets, "normal"),
        },
        {
          kind: "table",
          title: `${ctx.host.name}: drops by reason`,
          columns: ["reason", "count"],
          rows:
            Object.keys(s.drops).length === 0
              ? [[{ text: "none", tone: "muted" }, { text: "" }]]
              : rows(s.drops, "bad"),
        },
      ];
      const f = ctx.host.link.faults;
      const fin = f.counters("in");
      const fout = f.counters("out");
      if (
        fin.dropped +
          fout.dropped +
          fin.duplicated +
          fout.duplicated +
          fin.corrupted +
          fout.corrupted +
          fin.delayed +
          fout.delayed >
        0
      ) {
        blocks.push({
          kind: "table",
          title: `${ctx.host.name}: faults`,
          columns: ["dir", "seen", "dropped", "duplicated", "corrupted", "delayed"],
          rows: (["in", "out"] as const).map((d) => {
            const c = f.counters(d);
            return [d, c.seen, c.dropped, c.duplicated, c.corrupted, c.delayed].map((v) => ({
              text: String(v),
            }));
          }),
        });
      }
      const log = ctx.engine.world.log;
      if (log.forgotten > 0) {
        blocks.push(
          text(
            hint(
              `the lab's log keeps the last ${log.limit} events: ${log.forgotten} older ones were let go (ladder and checks see the rest)`,
            ),
          ),
        );
      }
      return blocks;
    },
  });

  reg.add({
    name: "trace",
    usage: USAGE.trace,
    summary: "packet lines as they happen (tcpdump style)",
    help: [
      "One line per packet at a host's interface: `>` sent, `<` received (packetdrill's convention),",
      "with the host's name first and ✕ on packets a fault dropped. Default: all hosts;",
      "`trace on a` shows only host a's interface.",
    ],
    args: [
      { name: "ON|OFF", kind: "word", values: ["on", "off"] },
      { name: "HOST", kind: "word", optional: true, open: true, values: ["all"] },
    ],
    hostScoped: false,
    run(ctx, a) {
      const { engine } = ctx;
      const on = a.str("ON|OFF") === "on";
      const which = a.str("HOST");
      if (which !== undefined && which !== "all" && engine.hostNamed(which) === undefined) {
        return [
          err(`trace: no host "${which}" (hosts: ${engine.hostNames().join(", ")})`, USAGE.trace),
        ];
      }
      engine.feed.on = on;
      engine.feed.hosts = which === undefined || which === "all" ? undefined : new Set([which]);
      return [
        text(
          on
            ? `trace on (${which !== undefined && which !== "all" ? which : "all hosts"})`
            : "trace off",
        ),
      ];
    },
  });

  reg.add({
    name: "ladder",
    usage: USAGE.ladder,
    summary: "a sequence diagram of the last N segments",
    help: [
      "Draws the segments between the two ends, time going down, in packetdrill notation with",
      "sequence numbers relative to each side's ISN. State changes are written at the side of the",
      "host that changed; a dropped segment ends in ✕. Default N: 20.",
    ],
    args: [{ name: "N", kind: "int", optional: true, min: 1 }],
    hostScoped: false,
    run(ctx, a) {
      const w = ctx.engine.world;
      const left = w.hosts[0];
      const right = w.hosts[1] ?? w.peer;
      if (left === undefined || right === undefined)
        return [err("ladder: this world has no two ends")];
      return [
        {
          kind: "ladder",
          lines: ladderLines(w.log.all(), left, right, a.num("N") ?? 20, w.log.forgottenIsns),
        },
      ];
    },
  });

  reg.add({
    name: "pcap start",
    usage: USAGE.pcapStart,
    summary: "record the host's packets to a pcap file",
    help: [
      "Writes every packet the host sends and receives to FILE (classic pcap, raw IPv4),",
      "for Wireshark or tcpdump -r. One capture per host at a time.",
    ],
    args: [{ name: "FILE", kind: "text" }],
    run(ctx, a) {
      const file = (a.str("FILE") as string).trim().replace(/^"(.*)"$/, "$1");
      if (ctx.host.link.pcap !== undefined)
        return [
          err(`pcap: ${ctx.host.name} is already recording (pcap stop first)`, USAGE.pcapStart),
        ];
      try {
        ctx.host.link.pcap = pcapFile(file);
      } catch (e) {
        return [
          err(
            `pcap: cannot write ${file}: ${e instanceof Error ? e.message : String(e)}`,
            USAGE.pcapStart,
          ),
        ];
      }
      return [text(`recording ${ctx.host.name}'s packets to ${file}`)];
    },
  });

  reg.add({
    name: "pcap stop",
    usage: USAGE.pcapStop,
    summary: "stop recording and close the file",
    help: ["Closes the pcap file started with pcap start."],
    args: [],
    run(ctx) {
      const w = ctx.host.link.pcap;
      if (w === undefined) return [err(`pcap: ${ctx.host.name} is not recording`, USAGE.pcapStop)];
      ctx.host.link.pcap = undefined;
      w.close();
      return [text(`pcap closed: ${w.count} packets`)];
    },
  });

  reg.add({
    name: "clock",
    usage: USAGE.clock,
    summary: "the time, and every pending timer",
    help: [
      "Shows the clock (paused or running, and its speed) and every pending timer of every",
      "connection: retransmission, delayed ACK, persist, TIME-WAIT (2MSL), with its deadline.",
      "Packets still on the wire are counted too. `step` goes to the earliest deadline.",
    ],
    args: [],
    hostScoped: false,
    run(ctx) {
      const { engine } = ctx;
      const w = engine.world;
      const now = engine.clock.now();
      const rows: Span[][] = [];
      for (const h of w.hosts) {
        const idOf = engine.names.idOf(h);
        for (const tcb of h.host.connections()) {
          for (const t of tcb.timers()) {
            rows.push([
              { text: h.name },
              { text: idOf(tcb), tone: "accent" },
              {
                text: `${formatIpEndpoint(tcb.local)} → ${formatIpEndpoint(tcb.remote)}`,
              },
              { text: t.name, tone: "warn" },
              { text: `${formatTime(t.deadline)} s` },
              { text: `in ${formatDuration(max(ZERO, elapsed(now, t.deadline)))}` },
            ]);
          }
        }
      }
      rows.sort(
        (x, y) => Number.parseFloat(x[4]?.text ?? "0") - Number.parseFloat(y[4]?.text ?? "0"),
      );
      const inFlight = w.log
        .all()
        .filter(
          (e) =>
            e.kind === "packet" &&
            e.dir === ">" &&
            e.arrived === undefined &&
            e.dropped === undefined,
        ).length;
      const next = engine.clock.nextDeadline();
      const head = text(
        [
          { text: `now ${formatTime(now)} s  ` },
          { text: engine.clock.mode, tone: engine.clock.mode === "paused" ? "warn" : "good" },
          { text: `  speed ${engine.clock.speed}×` },
        ],
        hint(
          `${w.kind === "simulated" ? `${inFlight} packet(s) on the wire; ` : ""}next deadline: ${next === undefined ? "none" : `${formatTime(next)} s (in ${formatDuration(elapsed(now, next))})`}`,
        ),
      );
      return [
        head,
        rows.length === 0
          ? text(hint("no connection timers pending"))
          : {
              kind: "table",
              title: "pending timers",
              columns: ["host", "id", "connection", "timer", "deadline", "remaining"],
              rows,
            },
      ];
    },
  });
}
