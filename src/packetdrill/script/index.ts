/**
 * packetdrill scripts: parse text into a typed timeline for the runner.
 *
 *   const r = parseScript(text, "test.pkt");
 *   if (!r.ok) console.error(formatParseError(r.error));
 *   else for (const st of activeStatements(r.script, ["FreeBSD"])) ...
 */

import type { PdParseError, Script, Statement } from "./ast.ts";

export type * from "./ast.ts";
export { isValidIpv6, type LexResult, lex, type Token, type TokenKind } from "./lexer.ts";
export { parseScript } from "./parser.ts";

/** `path:line:column: message`, the form editors and compilers use. */
export function formatParseError(error: PdParseError): string {
  const where = `${error.line}:${error.column}`;
  return `${error.path !== undefined ? `${error.path}:` : ""}${where}: ${error.message}`;
}

/**
 * The statements that run when the given names are defined (packetdrill's
 * `--define` / `-D`): those outside any `#ifdef`, plus those inside an
 * `#ifdef NAME` whose NAME is defined.
 */
export function activeStatements(script: Script, defines: Iterable<string> = []): Statement[] {
  const defined = new Set(defines);
  return script.statements.filter((s) => s.ifdef === undefined || defined.has(s.ifdef));
}
