/**
 * The command table: one record per command — name, usage, help, argument
 * spec, handler. The parser, `help` and completion all read this table, so a
 * command is described in exactly one place.
 */

import { type Duration, ms } from "../clock/time.ts";
import type { Ipv4Addr } from "../wire/addr.ts";
import type { IpAddr } from "../wire/ip-addr.ts";
import { type AddrValue, readAddrArg } from "./addr-arg.ts";
import { parseDuration, parseInteger, parsePercent, type Token } from "./args.ts";
import type { Block } from "./view.ts";
import type { LabHost } from "./world.ts";

export type ArgKind =
  | "socket"
  | "int"
  | "port"
  | "addr"
  | "host"
  | "duration"
  | "percent"
  | "word"
  | "number"
  | "text"
  | "lab"
  | "command";

export interface ArgSpec {
  readonly name: string;
  readonly kind: ArgKind;
  readonly optional?: boolean;
  /** For "word": the accepted words (an optional argument whose word is not listed is skipped). */
  readonly values?: readonly string[];
  /** For "word": accept any word, offer `values` only for completion. */
  readonly open?: boolean;
  /** For "word": socket ids are accepted and offered too (`inject #3 …` or `inject tcp …`). */
  readonly withSockets?: boolean;
  /** For "word": host names are offered too (`personality b linux` or `personality linux`). */
  readonly withHosts?: boolean;
  /** For "socket": also accept an id that was closed but whose connection the lab remembers. */
  readonly closedOk?: boolean;
  readonly min?: number;
  readonly max?: number;
  /** For "addr": the port may be written with the address (`10.0.0.2:80`, `[fd00::2]:80`). */
  readonly withPort?: boolean;
}

export interface FlagSpec {
  /** `--name`; a name of one character is written `-6` too. */
  readonly name: string;
  /** A flag with a value (`--bytes 100`); otherwise a switch (`--abs`). */
  readonly value?: "int";
}

export type ArgValue = string | number | AddrValue;

export class Args {
  constructor(
    private readonly values: ReadonlyMap<string, ArgValue>,
    private readonly flags: ReadonlyMap<string, ArgValue | true>,
  ) {}

  num(name: string): number | undefined {
    const v = this.values.get(name) ?? this.flags.get(name);
    return typeof v === "number" ? v : undefined;
  }

  /** A `duration` argument (parsed from `200ms`, `1.5s`, `2m`). */
  duration(name: string): Duration | undefined {
    const v = this.num(name);
    return v === undefined ? undefined : ms(v);
  }

  /** An `addr` argument. */
  addr(name: string): AddrValue | undefined {
    const v = this.values.get(name);
    return typeof v === "object" ? v : undefined;
  }

  str(name: string): string | undefined {
    const v = this.values.get(name);
    return typeof v === "string" ? v : undefined;
  }

  has(name: string): boolean {
    return this.values.has(name) || this.flags.has(name);
  }
}

/** What a handler may look at: the engine (typed by the session) and the host the command is for. */
export interface CommandContext<E> {
  readonly engine: E;
  readonly host: LabHost;
  /** The whole line after the command name (for commands with their own syntax). */
  readonly rest: string;
}

export type CommandResultBlocks =
  | readonly Block[]
  | { readonly blocks: readonly Block[]; readonly quit?: boolean };

export interface Command<E> {
  /** One or two words: "listen", "udp bind". */
  readonly name: string;
  /** The usage line: "listen PORT [BACKLOG]". */
  readonly usage: string;
  /** One line for `help`. */
  readonly summary: string;
  /** More lines for `help CMD`. */
  readonly help: readonly string[];
  readonly args: readonly ArgSpec[];
  readonly flags?: readonly FlagSpec[];
  /** False for commands about the session rather than a host (then `HOST:` is refused). */
  readonly hostScoped?: boolean;
  run(ctx: CommandContext<E>, args: Args): CommandResultBlocks | Promise<CommandResultBlocks>;
}

/** Lookups the parser and completer need from the session. */
export interface Resolver {
  hostNamed(name: string): LabHost | undefined;
  hostNames(): readonly string[];
  /** An address by dotted quad or by host name (`b` → 10.0.0.2). */
  address(text: string): Ipv4Addr | undefined;
  /** A host's address by its name (`b` → 10.0.0.2), or its IPv6 address when `family` is 6. */
  hostAddress(name: string, family?: 4 | 6): IpAddr | undefined;
  labNames(): readonly string[];
  /** Whether a closed socket id still names a connection the lab remembers. */
  remembers(host: LabHost, fd: number): boolean;
  commandNames(): readonly string[];
}

export class Registry<E> {
  private readonly commands: Command<E>[] = [];

  add(cmd: Command<E>): void {
    this.commands.push(cmd);
  }

  all(): readonly Command<E>[] {
    return this.commands;
  }

  /** The command named by the first one or two words (the longest name wins). */
  match(tokens: readonly Token[]): { cmd: Command<E>; words: number } | undefined {
    const one = tokens[0]?.text.toLowerCase();
    const two = tokens.length > 1 ? `${one} ${tokens[1]?.text.toLowerCase()}` : undefined;
    const byTwo = two !== undefined ? this.commands.find((c) => c.name === two) : undefined;
    if (byTwo !== undefined) return { cmd: byTwo, words: 2 };
    const byOne = this.commands.find((c) => c.name === one);
    return byOne !== undefined ? { cmd: byOne, words: 1 } : undefined;
  }

  /** Commands whose name starts with `word` (for "udp" → "udp bind", "udp sendto" …). */
  family(word: string): Command<E>[] {
    return this.commands.filter((c) => c.name.split(" ")[0] === word);
  }

  find(name: string): Command<E> | undefined {
    return this.commands.find((c) => c.name === name);
  }
}

/** How a socket id is written: `#3` (or `3`). */
export const SOCKET_ID = /^#?\d+$/;

/**
 * Reads the argument words of `cmd` (tokens after its name) against its spec.
 * Returns the values, or what was wrong in one sentence.
 */
export function parseArgs<E>(
  cmd: Command<E>,
  tokens: readonly Token[],
  line: string,
  host: LabHost,
  resolve: Resolver,
): Args | { error: string } {
  const values = new Map<string, ArgValue>();
  const flags = new Map<string, ArgValue | true>();
  const words: Token[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    const short = /^-(\w)$/.exec(t.text)?.[1];
    if (!t.quoted && short !== undefined && cmd.flags?.some((f) => f.name === short)) {
      flags.set(short, true);
      continue;
    }
    if (!t.quoted && t.text.startsWith("--") && t.text.length > 2) {
      const name = t.text.slice(2);
      const spec = cmd.flags?.find((f) => f.name === name);
      if (spec === undefined) return { error: `unknown option --${name}` };
      if (spec.value === "int") {
        const v = tokens[i + 1];
        const n = v === undefined ? undefined : parseInteger(v.text);
        if (n === undefined) return { error: `--${name} needs a whole number` };
        flags.set(name, n);
        i++;
      } else {
        flags.set(name, true);
      }
      continue;
    }
    words.push(t);
  }
  let w = 0;
  for (const spec of cmd.args) {
    const t = words[w];
    if (spec.kind === "text") {
      if (t === undefined) {
        if (spec.optional) continue;
        return { error: `missing ${spec.name}` };
      }
      values.set(spec.name, line.slice(t.start, words[words.length - 1]?.end ?? t.end));
      w = words.length;
      continue;
    }
    if (t === undefined) {
      if (spec.optional) continue;
      return { error: `missing ${spec.name}` };
    }
    // An optional socket id that is not written like one (#3) may be the next argument.
    if (spec.optional && spec.kind === "socket" && !SOCKET_ID.test(t.text)) continue;
    const v = parseValue(spec, t.text, host, resolve);
    if (typeof v === "object" && "error" in v) {
      // An optional word that is not one of its words may be the next argument.
      if (spec.optional && spec.kind === "word") continue;
      return v;
    }
    values.set(spec.name, v);
    w++;
  }
  if (w < words.length) return { error: `unexpected "${words[w]?.text}"` };
  return new Args(values, flags);
}

function parseValue(
  spec: ArgSpec,
  text: string,
  host: LabHost,
  resolve: Resolver,
): ArgValue | { error: string } {
  const name = spec.name;
  switch (spec.kind) {
    case "socket": {
      const m = /^#?(\d+)$/.exec(text);
      if (m === null) return { error: `${name} should be a socket id like #3, got "${text}"` };
      const fd = Number(m[1]);
      const open = !(host.sockets.info(fd) instanceof Error);
      if (!open && !(spec.closedOk && resolve.remembers(host, fd))) {
        return { error: `no socket #${fd} on ${host.name}` };
      }
      return fd;
    }
    case "int":
    case "port": {
      const n = parseInteger(text);
      const min = spec.min ?? (spec.kind === "port" ? 1 : 0);
      const max = spec.max ?? (spec.kind === "port" ? 65535 : Number.MAX_SAFE_INTEGER);
      if (n === undefined || n < min || n > max) {
        return {
          error:
            spec.kind === "port"
              ? `${name} should be a port number 1–65535, got "${text}"`
              : `${name} should be a whole number ${min}–${max}, got "${text}"`,
        };
      }
      return n;
    }
    case "number": {
      const n = Number(text);
      if (!/^\d+(\.\d+)?$|^\.\d+$/.test(text) || !(n > 0)) {
        return { error: `${name} should be a positive number, got "${text}"` };
      }
      return n;
    }
    case "addr": {
      const a = readAddrArg(text, spec.withPort === true, (n) => resolve.hostAddress(n));
      if (!("error" in a)) return a;
      return { error: a.error.startsWith("should") ? `${name} ${a.error}` : `${name}: ${a.error}` };
    }
    case "host": {
      if (resolve.hostNamed(text) === undefined) {
        return { error: `no host "${text}" (hosts: ${resolve.hostNames().join(", ")})` };
      }
      return text;
    }
    case "duration": {
      const d = parseDuration(text);
      if (d === undefined)
        return { error: `${name} should be a duration like 200ms, 1.5s or 2m, got "${text}"` };
      return d;
    }
    case "percent": {
      const p = parsePercent(text);
      if (p === undefined)
        return { error: `${name} should be a percentage 0–100 like 10%, got "${text}"` };
      return p;
    }
    case "word": {
      const values = spec.values;
      if (values !== undefined && !spec.open && !values.includes(text.toLowerCase())) {
        return { error: `${name} should be one of ${values.join(", ")}, got "${text}"` };
      }
      return values !== undefined && !spec.open ? text.toLowerCase() : text;
    }
    case "lab": {
      if (!resolve.labNames().includes(text)) {
        return { error: `no lab "${text}" (labs: ${resolve.labNames().join(", ") || "none"})` };
      }
      return text;
    }
    case "command":
    case "text":
      return text;
  }
}

/** Candidates for one argument kind. */
export function candidatesFor(spec: ArgSpec, host: LabHost, resolve: Resolver): string[] {
  switch (spec.kind) {
    case "socket":
      return host.sockets.list().map((s) => `#${s.fd}`);
    case "host":
      return [...resolve.hostNames()];
    case "addr":
      return resolve.hostNames().filter((h) => h !== host.name);
    case "word":
      return [
        ...(spec.values ?? []),
        ...(spec.withSockets ? host.sockets.list().map((s) => `#${s.fd}`) : []),
        ...(spec.withHosts ? resolve.hostNames() : []),
      ];
    case "lab":
      return [...resolve.labNames()];
    case "command":
      return [...resolve.commandNames()];
    default:
      return [];
  }
}
