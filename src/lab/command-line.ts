/**
 * The command line: `[HOST:] COMMAND ARGS…` read against the command table
 * (parse), and Tab completion of the word under the cursor (complete). Both
 * read the same table, so what completes is what parses.
 */
import { tokenize } from "./args.ts";
import {
  type Args,
  type Command,
  candidatesFor,
  parseArgs,
  type Registry,
  type Resolver,
  SOCKET_ID,
} from "./registry.ts";
import type { Block, Completion } from "./view.ts";
import type { LabHost } from "./world.ts";

export interface ParsedLine<E> {
  readonly cmd: Command<E>;
  readonly host: LabHost;
  readonly args: Args;
  /** The whole line after the command name (for commands with their own syntax). */
  readonly rest: string;
}

const usageError = (message: string, usage?: string): { error: Block[] } => ({
  error: [{ kind: "error", message, ...(usage !== undefined ? { usage } : {}) }],
});

/** Reads a non-empty command line; an error says what was wrong and how to write it. */
export function parseLine<E>(
  line: string,
  registry: Registry<E>,
  resolver: Resolver,
  current: LabHost,
): ParsedLine<E> | { error: Block[] } {
  let host = current;
  let body = line;
  let prefixed = false;
  const prefix = /^([A-Za-z][\w-]*):(?:\s+|$)(.*)$/.exec(line);
  if (prefix !== null) {
    const named = resolver.hostNamed(prefix[1] as string);
    if (named === undefined) {
      return usageError(
        `no host "${prefix[1]}" (hosts: ${resolver.hostNames().join(", ")})`,
        "HOST: COMMAND",
      );
    }
    host = named;
    body = (prefix[2] as string).trim();
    prefixed = true;
    if (body === "") return usageError(`a command for ${named.name} is missing`, "HOST: COMMAND");
  }
  const tokens = tokenize(body);
  const matched = registry.match(tokens);
  if (matched === undefined) {
    const word = tokens[0]?.text ?? "";
    const family = registry.family(word.toLowerCase());
    if (family.length > 0) {
      const sub = tokens[1]?.text;
      return usageError(
        sub === undefined ? `${word} needs a subcommand` : `${word} has no subcommand "${sub}"`,
        family.map((c) => c.usage).join("\n"),
      );
    }
    return usageError(`unknown command "${word}" (type help for the list)`);
  }
  const { cmd, words } = matched;
  if (prefixed && cmd.hostScoped === false) {
    return usageError(
      `${cmd.name} is about the session, not a host: drop the "${host.name}:"`,
      cmd.usage,
    );
  }
  const argTokens = tokens.slice(words);
  const restStart = argTokens[0]?.start ?? body.length;
  const args = parseArgs(cmd, argTokens, body, host, resolver);
  if ("error" in args) return usageError(`${cmd.name}: ${args.error}`, cmd.usage);
  return { cmd, host, args, rest: body.slice(restStart) };
}

/** Candidates for the word that ends `before` (the line up to the cursor). */
export function completeLine<E>(
  before: string,
  registry: Registry<E>,
  resolver: Resolver,
  current: LabHost,
): Completion {
  let offset = 0;
  let body = before;
  let host = current;
  const prefix = /^(\s*)([A-Za-z][\w-]*):(\s+)/.exec(before);
  if (prefix !== null) {
    const named = resolver.hostNamed(prefix[2] as string);
    if (named !== undefined) {
      host = named;
      offset = prefix[0].length;
      body = before.slice(offset);
    }
  }
  const tokens = tokenize(body);
  const endsInSpace = body.length > 0 && /\s$/.test(body);
  const word = endsInSpace || tokens.length === 0 ? "" : (tokens[tokens.length - 1]?.text ?? "");
  const start =
    offset +
    (endsInSpace || tokens.length === 0 ? body.length : (tokens[tokens.length - 1]?.start ?? 0));
  const done = endsInSpace ? tokens : tokens.slice(0, -1);
  const pick = (cands: readonly string[]): Completion => ({
    candidates: [...new Set(cands)].filter((c) => c.startsWith(word)).sort(),
    start,
  });
  if (done.length === 0) {
    const firsts = registry.all().map((c) => c.name.split(" ")[0] as string);
    const hosts = prefix === null ? resolver.hostNames().map((h) => `${h}:`) : [];
    return pick([...firsts, ...hosts]);
  }
  const first = done[0]?.text.toLowerCase() ?? "";
  const family = registry.family(first);
  if (done.length === 1 && family.some((c) => c.name.includes(" "))) {
    const subs = family
      .filter((c) => c.name.includes(" "))
      .map((c) => c.name.split(" ")[1] as string);
    return pick(subs);
  }
  const matched = registry.match(done);
  if (matched === undefined) return { candidates: [], start };
  const cmd = matched.cmd;
  if (word.startsWith("--")) return pick((cmd.flags ?? []).map((f) => `--${f.name}`));
  const argWords = done.slice(matched.words).filter((t) => !t.text.startsWith("--"));
  const cands: string[] = [];
  // Offer what fits the next argument, and past optional words what fits the one after.
  let i = 0;
  for (const spec of cmd.args) {
    if (i < argWords.length) {
      const t = argWords[i]?.text ?? "";
      const words = [...(spec.values ?? []), ...(spec.withHosts ? resolver.hostNames() : [])];
      if (spec.optional && spec.kind === "word" && !words.includes(t)) continue;
      if (spec.optional && spec.kind === "socket" && !SOCKET_ID.test(t)) continue;
      i++;
      continue;
    }
    cands.push(...candidatesFor(spec, host, resolver));
    if (!spec.optional) break;
  }
  return pick(cands);
}
