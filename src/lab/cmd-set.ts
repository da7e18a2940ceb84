/**
 * `set [NAME [VALUE]]`: a host's TCP settings, one by one — the switches a
 * lab turns to show a behaviour with and without it (Nagle, delayed ACKs,
 * window scaling, the congestion controller, keep-alive timing …). Like
 * `personality`, a change applies to listeners and connections opened
 * afterwards. `ping ADDR [SIZE]` sends an ICMP echo request from the host.
 */

import { ms } from "../clock/time.ts";
import type { TcpSettings } from "../tcp/settings.ts";
import { defaultTcpSettings } from "../tcp/settings.ts";
import { formatDuration, parseDuration, parseInteger } from "./args.ts";
import type { AddrValue } from "./addr-arg.ts";
import { addrFor, err, text } from "./cmd-sockets.ts";
import { setPersonality } from "./lab-host.ts";
import type { Registry } from "./registry.ts";
import type { LabEngine } from "./session.ts";
import type { Span } from "./view.ts";
import type { LabHost } from "./world.ts";

const USAGE = { set: "set [NAME [VALUE]]", ping: "ping ADDR [SIZE] [-6]" } as const;

type Key = keyof TcpSettings;

/** Settings measured in time: values read as durations (200ms, 1s, 2m). */
const DURATIONS: ReadonlySet<Key> = new Set<Key>([
  "initialRto",
  "minRto",
  "maxRto",
  "msl",
  "delayedAck",
  "persistMin",
  "persistMax",
  "keepAliveIdle",
  "keepAliveInterval",
  "userTimeout",
  "pmtuExpiry",
]);

/** Settings the host keeps for itself rather than copying into each connection. */
const HOST_WIDE: ReadonlySet<Key> = new Set<Key>(["challengeAckLimit"]);

/** Settings with a fixed set of values. */
const CHOICES: Readonly<Partial<Record<Key, readonly string[]>>> = {
  congestionControl: ["newreno", "cubic"],
  synResetForm: ["segment", "connection"],
  oldSegmentAck: ["drop", "process"],
  timeWaitRst: ["close", "ignore"],
  timeWaitInput: ["rfc9293", "bsd"],
  dropSynFin: ["never", "listen", "all"],
  listenerCloseHalfOpen: ["reset", "drop"],
  rcvBufRounding: ["none", "mss"],
  seqCheckWindow: ["advertised", "buffer"],
  receiverSws: ["rfc9293", "bsd", "off"],
  synOptionPadding: ["nop", "eol"],
};

/** Settings that may be unset: the word that means "none" or "automatic". */
const UNSET_WORD: Readonly<Partial<Record<Key, string>>> = {
  oooLimit: "buffer",
  wscaleShift: "auto",
  tsValStart: "random",
};

/** The settings `set` offers: every one but the SYN option layouts (personalities own those). */
export const SETTABLE: readonly Key[] = (Object.keys(defaultTcpSettings) as Key[]).filter(
  (k) => !Array.isArray(defaultTcpSettings[k]),
);

function show(k: Key, v: unknown): string {
  if (v === undefined) return UNSET_WORD[k] ?? "none";
  if (typeof v === "boolean") return v ? "on" : "off";
  if (typeof v === "number" && DURATIONS.has(k)) return formatDuration(ms(v));
  return String(v);
}

/**
 * Bounds where the wire or the RFCs set them; any other number is at most
 * MAX_PLAIN and any duration at most a day.
 */
const RANGES: Readonly<Partial<Record<Key, readonly [number, number, string]>>> = {
  mss: [64, 65535, "the MSS option is 16 bits, RFC 9293 §3.2"],
  minMss: [1, 65535, "the MSS option is 16 bits"],
  minPmtu: [68, 65535, "RFC 791: every path carries 68 bytes"],
  mtuProbeBaseMss: [48, 65535, "Linux's tcp_base_mss is 1024"],
  wscaleShift: [0, 14, "RFC 7323 §2.3: a shift above 14 is taken as 14"],
  sndBuf: [256, 64 * 1024 * 1024, "256 bytes to 64 MiB"],
  rcvBuf: [256, 64 * 1024 * 1024, "256 bytes to 64 MiB"],
  initialWindow: [1, 1000, "segments"],
  synRetries: [0, 255, "tries"],
  maxRetransmissions: [0, 255, "tries"],
  keepAliveCount: [1, 255, "probes"],
  tsValStart: [0, 0xffff_ffff, "TSval is 32 bits"],
};
const MAX_PLAIN = 0x7fff_ffff;
const MAX_DURATION = 24 * 60 * 60 * 1000;

function read(k: Key, word: string): { value: unknown } | { error: string } {
  const sample = defaultTcpSettings[k];
  const w = word.toLowerCase();
  if (UNSET_WORD[k] === w) return { value: undefined };
  const choices = CHOICES[k];
  if (choices !== undefined) {
    return choices.includes(w) ? { value: w } : { error: `${k} is one of ${choices.join(", ")}` };
  }
  if (typeof sample === "boolean") {
    if (w === "on" || w === "true") return { value: true };
    if (w === "off" || w === "false") return { value: false };
    return { error: `${k} is on or off` };
  }
  if (DURATIONS.has(k)) {
    const d = parseDuration(w);
    if (d === undefined) return { error: `${k} is a duration such as 200ms, 1s or 2m` };
    if (d > MAX_DURATION) return { error: `${k} is at most a day (86400s)` };
    return { value: d };
  }
  const n = parseInteger(w);
  if (n === undefined) {
    const unset = UNSET_WORD[k];
    return { error: `${k} is a whole number${unset !== undefined ? ` or ${unset}` : ""}` };
  }
  const [lo, hi, why] = RANGES[k] ?? [0, MAX_PLAIN, "a whole number"];
  if (n < lo || n > hi) return { error: `${k} is ${lo} to ${hi} (${why})` };
  return { value: n };
}

function keyNamed(name: string): Key | undefined {
  const l = name.toLowerCase().replace(/[-_]/g, "");
  return SETTABLE.find((k) => k.toLowerCase() === l);
}

function listing(h: LabHost): Span[][] {
  const t = h.host.tcpSettings;
  return SETTABLE.map((k) => [
    { text: k, tone: k in h.tcpOverrides ? "accent" : "normal" },
    { text: show(k, t[k]) },
    { text: k in h.tcpOverrides ? "set here" : "", tone: "muted" },
  ]);
}

export function registerSetCommands(reg: Registry<LabEngine>): void {
  reg.add({
    name: "set",
    usage: USAGE.set,
    summary: "show or change one of the host's TCP settings",
    help: [
      "set alone lists every setting of the host and its value; set NAME shows one; set NAME VALUE",
      "changes it for listeners and connections opened afterwards (like personality).",
      "Values: on|off, a number, a duration (200ms, 1s), or one of a few words (set congestionControl cubic).",
      "Examples: set nagle off   b: set delayedAck 0   set windowScaling off   set keepAliveIdle 10s",
    ],
    args: [
      { name: "NAME", kind: "word", optional: true, open: true, values: SETTABLE },
      { name: "VALUE", kind: "word", optional: true, open: true },
    ],
    run(ctx, a) {
      const h = ctx.host;
      const name = a.str("NAME");
      if (name === undefined) {
        return [
          {
            kind: "table",
            title: `${h.name}: TCP settings (personality ${h.personality.name})`,
            columns: ["name", "value", ""],
            rows: listing(h),
          },
        ];
      }
      const k = keyNamed(name);
      if (k === undefined) {
        const near = SETTABLE.filter((s) =>
          s.toLowerCase().includes(name.toLowerCase().slice(0, 4)),
        );
        return [
          err(
            `set: no setting "${name}"${near.length > 0 ? ` (did you mean ${near.join(", ")}?)` : " (set alone lists them)"}`,
            USAGE.set,
          ),
        ];
      }
      const word = a.str("VALUE");
      if (word === undefined) return [text(`${h.name} ${k} = ${show(k, h.host.tcpSettings[k])}`)];
      const v = read(k, word);
      if ("error" in v) return [err(`set: ${v.error}`, USAGE.set)];
      // An override of `undefined` is kept: it means "automatic" over any personality's value.
      (h.tcpOverrides as Record<string, unknown>)[k] = v.value;
      setPersonality(h, h.personality);
      const when = HOST_WIDE.has(k)
        ? "for every connection of the host, at once"
        : "for listeners and connections opened from now on; an accepted connection follows its listener";
      return [text(`${h.name} ${k} = ${show(k, h.host.tcpSettings[k])} (${when})`)];
    },
  });

  reg.add({
    name: "ping",
    usage: USAGE.ping,
    summary: "send an ICMP echo request (RFC 792; ICMPv6, RFC 4443 §4.1) from the host",
    help: [
      "Sends one echo request with SIZE bytes of data (default 56) to ADDR; the reply shows in the",
      "trace. A datagram larger than the MTU leaves in fragments (RFC 791): ping b 4000.",
      "An IPv6 ADDR (or -6 with a host name) sends an ICMPv6 echo request, as ping6 does:",
      "ping fd00::2    ping b -6. Fragments then come from the sender only (RFC 8200 §4.5).",
    ],
    args: [
      { name: "ADDR", kind: "addr" },
      { name: "SIZE", kind: "int", optional: true, max: 65507 },
    ],
    flags: [{ name: "6" }],
    run(ctx, a) {
      const to = addrFor(ctx, a.addr("ADDR") as AddrValue, a.has("6"));
      if ("error" in to) return [err(`ping: ${to.error}`, USAGE.ping)];
      if (to.family === 6 && ctx.host.addr6 === undefined)
        return [err(`ping: ${ctx.host.name} has no IPv6 address to send from`, USAGE.ping)];
      const size = a.num("SIZE") ?? 56;
      const data = new Uint8Array(size);
      for (let i = 0; i < size; i++) data[i] = i & 0xff;
      const seq = (pingSeqs.get(ctx.host) ?? 0) + 1;
      pingSeqs.set(ctx.host, seq);
      if (to.family === 6) ctx.host.host.ping6(to.addr, 0x7c1b, seq, data);
      else ctx.host.host.ping(to.addr, 0x7c1b, seq, data);
      ctx.host.attachment.flush();
      return [text(`echo request ${seq}, ${size} bytes of data`)];
    },
  });
}

/** Echo sequence numbers per host, as ping counts them. */
const pingSeqs = new WeakMap<LabHost, number>();
