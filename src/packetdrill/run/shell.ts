/**
 * The shell commands FreeBSD-dialect scripts run in backquotes, read as
 * what they ask of the stack — never executed:
 *
 * - `sysctl -w NAME=VALUE`: a TCP setting (mapped onto TcpSettings where a
 *   mapping exists), or a restore of a default tcplab already has;
 * - `sockstat [-4] [-6] [-N] [-P tcp] [-s] [-p PORT] | [grep WORD |] grep -c STATE | grep N`:
 *   "N connections are in STATE" (grep's substring semantics kept; `-4`
 *   and `-6` count only sockets of that family, both or neither all);
 * - `tcpdrop -s STATE`: drop every connection in STATE.
 *
 * Anything else is unsupported, with the command in the reason.
 */

import { ms } from "../../clock/time.ts";
import type { TcpSettings } from "../../tcp/settings.ts";
import type { IpFamily } from "../../wire/addr.ts";

export type SysctlEffect =
  /** Settings for connections opened from now on. */
  | { readonly kind: "settings"; readonly patch: Partial<TcpSettings> }
  /** Accepted, but tcplab's behaviour is fixed; the note says how. */
  | { readonly kind: "fixed"; readonly note: string }
  /** Restores a default tcplab already has. */
  | { readonly kind: "default" }
  | { readonly kind: "unsupported"; readonly reason: string };

/**
 * sysctls that only restore a default tcplab (or the personality's named
 * layout) already has: name → [that value, why it is already so].
 */
export const SYSCTL_DEFAULTS: Readonly<Record<string, readonly [string, string]>> = {
  "net.inet.tcp.rfc1323": [
    "1",
    "window scaling and timestamps on (settings windowScaling, timestamps)",
  ],
  "net.inet.tcp.sack.enable": ["1", "SACK on (settings sack)"],
  "net.inet.tcp.ecn.enable": [
    "2",
    "ECN only when a peer asks: tcplab never asks, and no script here asks it",
  ],
  "net.inet.tcp.blackhole": [
    "0",
    "a segment to a closed port is answered with a RST, as tcplab does",
  ],
  "kern.ipc.maxsockbuf": ["2097152", "above every socket buffer the scripts use"],
  "net.inet.tcp.hostcache.purgenow": [
    "1",
    "tcplab keeps no host cache: nothing is remembered between connections",
  ],
};

function positiveInt(value: string): number | undefined {
  return /^[0-9]+$/.test(value) && Number(value) > 0 ? Number(value) : undefined;
}

export function sysctlEffect(name: string, value: string): SysctlEffect {
  const dflt = SYSCTL_DEFAULTS[name];
  if (dflt !== undefined) {
    return value === dflt[0]
      ? { kind: "default" }
      : {
          kind: "unsupported",
          reason: `sysctl ${name}=${value} (tcplab only has ${name}=${dflt[0]}: ${dflt[1]})`,
        };
  }
  const n = positiveInt(value);
  switch (name) {
    // RFC 5961 §3 (RST) and §4 (SYN) each have their own switch.
    case "net.inet.tcp.insecure_rst":
      if (value !== "0" && value !== "1") break;
      return { kind: "settings", patch: { rfc5961Rst: value === "0" } };
    case "net.inet.tcp.insecure_syn":
      if (value !== "0" && value !== "1") break;
      return { kind: "settings", patch: { rfc5961Syn: value === "0" } };
    case "net.inet.tcp.drop_synfin":
      if (value !== "0" && value !== "1") break;
      return { kind: "settings", patch: { dropSynFin: value === "1" ? "all" : "never" } };
    case "net.inet.tcp.syncookies":
      if (value !== "0" && value !== "1") break;
      return { kind: "settings", patch: { synCookies: value === "1" } };
    case "net.inet.tcp.rexmit_initial":
      if (n !== undefined) return { kind: "settings", patch: { initialRto: ms(n) } };
      break;
    case "net.inet.tcp.recvspace":
      if (n !== undefined) return { kind: "settings", patch: { rcvBuf: n } };
      break;
    case "net.inet.tcp.sendspace":
      if (n !== undefined) return { kind: "settings", patch: { sndBuf: n } };
      break;
    case "net.inet.tcp.msl":
      if (n !== undefined) return { kind: "settings", patch: { msl: ms(n) } };
      break;
    case "net.inet.tcp.delacktime":
      if (n !== undefined) return { kind: "settings", patch: { delayedAck: ms(n) } };
      break;
    default:
      break;
  }
  return { kind: "unsupported", reason: `sysctl ${name}=${value} has no tcplab setting` };
}

/** FreeBSD's names for the TCP states (sockstat, tcpdrop). */
export const FREEBSD_STATES = [
  "CLOSED",
  "LISTEN",
  "SYN_SENT",
  "SYN_RCVD",
  "ESTABLISHED",
  "CLOSE_WAIT",
  "FIN_WAIT_1",
  "CLOSING",
  "LAST_ACK",
  "FIN_WAIT_2",
  "TIME_WAIT",
] as const;
export type FreebsdState = (typeof FREEBSD_STATES)[number];

function isState(s: string): s is FreebsdState {
  return (FREEBSD_STATES as readonly string[]).includes(s);
}

export type ShellAction =
  | { readonly kind: "sysctl"; readonly name: string; readonly value: string }
  | {
      readonly kind: "sockstat";
      /** `-p PORT`: only sockets with this local or remote port. */
      readonly port: number | undefined;
      /** `-4` / `-6`: only sockets of these families; empty means every family. */
      readonly families: readonly IpFamily[];
      /** `grep WORD` before the count: only sockets the script's process owns (an open fd). */
      readonly ownedOnly: boolean;
      readonly state: FreebsdState;
      /** The last `grep N`: the count's decimal text must contain this. */
      readonly expect: string;
    }
  | { readonly kind: "tcpdrop"; readonly state: FreebsdState }
  | { readonly kind: "unsupported"; readonly reason: string };

const unsupported = (command: string, why: string): ShellAction => ({
  kind: "unsupported",
  reason: `shell command \`${command}\` (${why})`,
});

export function parseShell(command: string): ShellAction {
  const stages = command.split("|").map((s) =>
    s
      .trim()
      .split(/\s+/)
      .filter((w) => w !== ""),
  );
  const first = stages[0] ?? [];
  const cmd = first[0];
  if (cmd === "sysctl" && stages.length === 1) {
    const args = first.slice(1);
    if (args[0] === "-w") args.shift();
    const m = args.length === 1 ? /^([A-Za-z0-9_.]+)=(\S+)$/.exec(args[0] ?? "") : null;
    if (!m) return unsupported(command, "only `sysctl -w NAME=VALUE` is understood");
    return { kind: "sysctl", name: m[1] as string, value: m[2] as string };
  }
  if (cmd === "tcpdrop" && stages.length === 1) {
    const state = first[2] ?? "";
    if (first.length === 3 && first[1] === "-s" && isState(state))
      return { kind: "tcpdrop", state };
    return unsupported(command, "only `tcpdrop -s STATE` is understood");
  }
  if (cmd === "sockstat") return parseSockstat(command, stages);
  return unsupported(
    command,
    "the runner understands sysctl -w, sockstat … | grep -c STATE | grep N and tcpdrop -s STATE",
  );
}

function parseSockstat(command: string, stages: string[][]): ShellAction {
  const args = (stages[0] ?? []).slice(1);
  let port: number | undefined;
  const families: IpFamily[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "-4" || a === "-6") {
      families.push(a === "-4" ? 4 : 6);
      continue;
    }
    if (a === "-N" || a === "-s") continue;
    if (a === "-P" && args[i + 1] === "tcp") {
      i++;
      continue;
    }
    if (a === "-p" && /^[0-9]+$/.test(args[i + 1] ?? "")) {
      port = Number(args[++i]);
      continue;
    }
    return unsupported(command, `sockstat option ${a} is not understood`);
  }
  const rest = stages.slice(1);
  const last = rest.pop();
  const count = rest.pop();
  if (
    last === undefined ||
    count === undefined ||
    last.length !== 2 ||
    last[0] !== "grep" ||
    !/^[0-9]+$/.test(last[1] ?? "") ||
    count.length !== 3 ||
    count[0] !== "grep" ||
    count[1] !== "-c" ||
    !isState(count[2] ?? "")
  ) {
    return unsupported(command, "expected `sockstat … | grep -c STATE | grep N`");
  }
  let ownedOnly = false;
  for (const g of rest) {
    // `grep packetdril`: the sockets of the process running the script.
    if (g.length === 2 && g[0] === "grep" && "packetdrill".startsWith(g[1] ?? "x"))
      ownedOnly = true;
    else return unsupported(command, `filter \`${g.join(" ")}\` is not understood`);
  }
  return {
    kind: "sockstat",
    port,
    families,
    ownedOnly,
    state: count[2] as FreebsdState,
    expect: last[1] as string,
  };
}
