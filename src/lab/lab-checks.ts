/**
 * Machine-checkable outcomes of a lab step (`expect:` lines):
 *
 *   state HOST:#ID STATE         the socket's connection is in STATE (LISTEN, ESTABLISHED, CLOSED …)
 *   segment [HOST] >|< FLAGS [dropped]
 *                                since the step began, HOST sent (>) or received (<) a TCP
 *                                segment with exactly FLAGS (S, S., ., F., R …)
 *   timer HOST:#ID NAME          a timer is pending (retransmission, delayed-ack, persist, time-wait)
 *   connections HOST N           HOST has N TCBs (0: every connection is CLOSED)
 *   drop HOST KEY                HOST counted at least one drop KEY (e.g. tcp.bad-checksum)
 *   output TEXT                  the last command's output contains TEXT
 */
import { stateName } from "../tcp/state.ts";
import { formatFlags } from "../wire/format.ts";
import { parsePacket } from "../wire/packet.ts";
import { parseInteger, tokenize } from "./args.ts";
import { readFlags } from "./inject.ts";
import type { LabEngine } from "./session.ts";
import type { LabHost } from "./world.ts";

export interface CheckResult {
  readonly ok: boolean;
  /** What was expected and, on failure, what was found. */
  readonly message: string;
}

function hostSocket(
  engine: LabEngine,
  text: string,
): { host: LabHost; fd: number } | { error: string } {
  const m = /^([A-Za-z][\w-]*):#?(\d+)$/.exec(text);
  if (m === null) return { error: `expected HOST:#ID like a:#3, got "${text}"` };
  const host = engine.hostNamed(m[1] as string);
  if (host === undefined) return { error: `no host "${m[1]}"` };
  return { host, fd: Number(m[2]) };
}

/** The state a socket id shows: its TCB's state, LISTEN/BOUND/UNCONNECTED, or CLOSED. */
export function socketState(engine: LabEngine, host: LabHost, fd: number): string {
  const tcb = engine.tcbById(host, fd);
  if (tcb !== undefined) return stateName(tcb.state);
  const info = host.sockets.info(fd);
  return info instanceof Error ? "CLOSED" : info.state;
}

export function checkExpect(engine: LabEngine, expect: string, mark: number): CheckResult {
  const words = tokenize(expect).map((t) => t.text);
  const kind = words[0];
  const fail = (message: string): CheckResult => ({ ok: false, message });
  switch (kind) {
    case "state": {
      const target = words[1] ? hostSocket(engine, words[1]) : { error: "missing HOST:#ID" };
      const want = words[2]?.toUpperCase();
      if ("error" in target || want === undefined) {
        return fail(
          `bad expect "${expect}": ${"error" in target ? target.error : "missing STATE"}`,
        );
      }
      const got = socketState(engine, target.host, target.fd);
      return {
        ok: got === want,
        message: `${words[1]} is ${want}${got === want ? "" : ` (it is ${got})`}`,
      };
    }
    case "segment": {
      let i = 1;
      let host = engine.current;
      const named = words[i] !== undefined ? engine.hostNamed(words[i] as string) : undefined;
      if (named !== undefined) {
        host = named;
        i++;
      }
      const dir = words[i];
      const flagText = words[i + 1];
      const wantDropped = words[i + 2] === "dropped";
      const flags = flagText !== undefined ? readFlags(flagText) : undefined;
      if ((dir !== ">" && dir !== "<") || flags === undefined) {
        return fail(`bad expect "${expect}": expected segment [HOST] >|< FLAGS [dropped]`);
      }
      const seen: string[] = [];
      for (const ev of engine.world.log.since(mark)) {
        if (ev.kind !== "packet" || ev.host !== host.name || ev.dir !== dir) continue;
        const p = parsePacket(ev.bytes, { verifyChecksum: false });
        if (!p.ok || p.value.kind !== "tcp") continue;
        seen.push(formatFlags(p.value.tcp.flags));
        if (p.value.tcp.flags === flags && (ev.dropped !== undefined) === wantDropped) {
          return {
            ok: true,
            message: `${host.name} ${dir === ">" ? "sent" : "received"} ${flagText}${wantDropped ? " (dropped)" : ""}`,
          };
        }
      }
      return fail(
        `${host.name} ${dir === ">" ? "sent" : "received"} ${flagText}${wantDropped ? " (dropped)" : ""} (seen in this step: ${seen.length === 0 ? "nothing" : seen.join(" ")})`,
      );
    }
    case "timer": {
      const target = words[1] ? hostSocket(engine, words[1]) : { error: "missing HOST:#ID" };
      const name = words[2];
      if ("error" in target || name === undefined) return fail(`bad expect "${expect}"`);
      const tcb = engine.tcbById(target.host, target.fd);
      const timers = tcb?.timers().map((t) => t.name) ?? [];
      const ok = timers.includes(name as (typeof timers)[number]);
      return {
        ok,
        message: `${words[1]} has a ${name} timer${ok ? "" : ` (timers: ${timers.join(", ") || "none"})`}`,
      };
    }
    case "connections": {
      const host = words[1] !== undefined ? engine.hostNamed(words[1]) : undefined;
      const n = words[2] !== undefined ? parseInteger(words[2]) : undefined;
      if (host === undefined || n === undefined)
        return fail(`bad expect "${expect}": expected connections HOST N`);
      const got = host.host.connections().length;
      return {
        ok: got === n,
        message: `${host.name} has ${n} connection(s)${got === n ? "" : ` (it has ${got})`}`,
      };
    }
    case "drop": {
      const host = words[1] !== undefined ? engine.hostNamed(words[1]) : undefined;
      const key = words[2];
      if (host === undefined || key === undefined)
        return fail(`bad expect "${expect}": expected drop HOST KEY`);
      const got = host.host.stats().drops[key] ?? 0;
      return {
        ok: got > 0,
        message: `${host.name} dropped a packet as ${key}${got > 0 ? "" : " (none counted)"}`,
      };
    }
    case "output": {
      const want = expect.replace(/^output\s+/, "").replace(/^"(.*)"$/, "$1");
      const ok = engine.lastOutput.includes(want);
      return { ok, message: `the output shows "${want}"` };
    }
    default:
      return fail(
        `unknown expect "${kind ?? ""}" (state, segment, timer, connections, drop, output)`,
      );
  }
}
