/** `personality [HOST] [NAME]`: whose choices a host's new connections follow. */

import { formatIpv4Addr } from "../wire/addr.ts";
import { formatDuration } from "./args.ts";
import { err, hint, text } from "./cmd-sockets.ts";
import { setPersonality } from "./lab-host.ts";
import { type Personality, personalityNamed, personalityNames } from "../tcp/personality.ts";
import type { Registry } from "./registry.ts";
import type { LabEngine } from "./session.ts";
import type { Block, Line } from "./view.ts";
import type { LabHost } from "./world.ts";

const USAGE = "personality [HOST] [NAME]";

/** `<mss,nop,wscale 7,sackOK,TS>`: the layout with the shift filled in. */
function layout(slots: readonly string[], shift: string): string {
  return `<${slots.map((x) => (x === "wscale" ? `wscale ${shift}` : x)).join(",")}>`;
}

function autoShift(rcvBuf: number): number {
  let shift = 0;
  while (shift < 14 && rcvBuf > 0xffff * 2 ** shift) shift++;
  return shift;
}

/** A few lines per host: what it offers on a SYN, how it answers one, its timers and buffers. */
function describeHost(h: LabHost): Line[] {
  const p = h.personality;
  const o = p.synOptions;
  const t = h.host.tcpSettings;
  const shift = o.wscale === undefined ? `${autoShift(t.rcvBuf)}` : String(o.wscale);
  const kv = (k: string, v: string, note?: string): Line => [
    { text: `   ${k.padEnd(9)}`, tone: "muted" },
    { text: v },
    ...(note !== undefined ? [{ text: `  ${note}`, tone: "muted" as const }] : []),
  ];
  return [
    [
      { text: `${h.name} `, tone: "accent" },
      { text: p.name, tone: "state" },
      { text: ` — ${p.description}`, tone: "muted" },
    ],
    kv("SYN", layout(o.syn, shift), `TSval starts at ${o.tsValStart}, +1 per ms`),
    kv(
      "SYN-ACK",
      layout(o.synAckOrder, shift),
      `only what the SYN offered; padding ${o.synAckPad}`,
    ),
    kv(
      "timers",
      `RTO ${formatDuration(t.initialRto)} (floor ${formatDuration(t.minRto)}), delayed ACK ${formatDuration(t.delayedAck)}, MSL ${formatDuration(t.msl)}`,
    ),
    kv("buffers", `receive ${t.rcvBuf}, send ${t.sndBuf} bytes`),
  ];
}

function describeHosts(hosts: readonly LabHost[]): Block {
  return { kind: "text", lines: hosts.flatMap(describeHost) };
}

/** Listeners opened before the switch keep the settings they were opened with. */
function listenerNote(h: LabHost): Line[] {
  const ports = h.host.listeners().map((l) => l.port);
  if (ports.length === 0) return [];
  return [
    hint(
      `listeners opened before keep their settings: listen again for ${ports.map((p) => `:${p}`).join(", ")} to answer as ${h.personality.name}`,
    ),
  ];
}

export function registerPersonalityCommands(reg: Registry<LabEngine>): void {
  reg.add({
    name: "personality",
    usage: USAGE,
    summary: "show or switch a host's personality (freebsd, linux, tcplab)",
    help: [
      "RFC 9293 leaves choices open: the order of the SYN's options and their padding, the window",
      "scale shift, the first timestamp, buffer sizes, the RTO floor, delayed-ACK time, MSL.",
      "A personality bundles one stack's choices. Without NAME: what each host (or HOST) follows.",
      "With NAME: HOST's new connections and listeners follow it from now on; connections and",
      "listeners already open keep theirs. Switch two hosts to different systems, connect, and",
      "compare how each lays out its SYN and SYN-ACK in the trace or the ladder.",
      `Names: ${personalityNames().join(", ")}. Example: personality b linux`,
    ],
    args: [
      {
        name: "HOST|NAME",
        kind: "word",
        optional: true,
        open: true,
        values: [...personalityNames()],
        withHosts: true,
      },
      { name: "NAME", kind: "word", optional: true, values: [...personalityNames()] },
    ],
    run(ctx, a) {
      const { engine } = ctx;
      const first = a.str("HOST|NAME");
      const second = a.str("NAME");
      let host: LabHost = ctx.host;
      let name: string | undefined;
      if (first !== undefined && engine.hostNamed(first) !== undefined) {
        host = engine.hostNamed(first) as LabHost;
        name = second;
      } else if (first !== undefined) {
        if (second !== undefined)
          return [
            err(`personality: no host "${first}" (hosts: ${engine.hostNames().join(", ")})`, USAGE),
          ];
        name = first.toLowerCase();
      }
      if (name === undefined) {
        const hosts = first === undefined ? engine.world.hosts : [host];
        const blocks: Block[] = [describeHosts(hosts)];
        const peer = engine.world.peer;
        if (first === undefined && peer !== undefined) {
          blocks.push(
            text(
              hint(
                `the ${peer.name} at ${formatIpv4Addr(peer.addr)} is Linux itself: its choices are its sysctls (host sysctl net.ipv4.tcp_timestamps)`,
              ),
            ),
          );
        }
        blocks.push(
          text(
            hint(
              `personalities: ${personalityNames().join(", ")} (personality HOST NAME switches)`,
            ),
          ),
        );
        return blocks;
      }
      const p: Personality | undefined = personalityNamed(name);
      if (p === undefined)
        return [
          err(`personality: no personality "${name}" (${personalityNames().join(", ")})`, USAGE),
        ];
      const was = host.personality.name;
      setPersonality(host, p);
      return [
        text(
          [
            { text: `${host.name}`, tone: "accent" },
            { text: ` now answers as ` },
            { text: p.name, tone: "state" },
            { text: was === p.name ? " (as before)" : ` (was ${was})`, tone: "muted" },
          ],
          hint("new connections and listeners use it; those already open keep their settings"),
          ...listenerNote(host),
        ),
        describeHosts([host]),
      ];
    },
  });
}
