/**
 * `tcplab run FILE.pkt|DIR ... [--personality NAME] [--json] [--verbose]`:
 * runs packetdrill scripts against a fresh tcplab host each, on a virtual
 * clock. One file prints its result; several files or a directory print the
 * failures and a summary per directory. Exit 0 when every script passed,
 * 1 when one failed or is unsupported, 2 for bad arguments.
 */
import { parseArgs } from "node:util";
import { collectScripts, runBatch, type ScriptFile } from "../src/packetdrill/run/batch.ts";
import { formatResult, formatSummary, summaryJson } from "../src/packetdrill/run/report.ts";
import { personalities, personalityNamed } from "../src/tcp/personality.ts";
import { parseArgsError } from "./args.ts";

export const RUN_USAGE =
  "usage: tcplab run FILE.pkt|DIR ... [--personality NAME] [--json] [--verbose] [--trace]";

const RUN_HELP = `${RUN_USAGE}

Runs packetdrill scripts against tcplab (10.0.0.2); the runner plays the
peer (10.0.0.1) on a virtual clock. A failure prints the script line, what
was expected and what tcplab did, field by field.

  --personality NAME  ${Object.keys(personalities).join(", ")} (default tcplab): SYN options, buffers, timers
  --json              print one JSON object (the results and the summary)
  --verbose           also list the scripts that passed
  --trace             print each statement and every packet tcplab sends, as it runs
  --ignore-options    compare outbound TCP options as <...> (a forecast; never a real pass)
  --help              this text`;

export async function runScripts(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    console.error(`tcplab run: ${parseArgsError(e)}\n${RUN_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(RUN_HELP);
    return 0;
  }
  if (positionals.length === 0) {
    console.error(`tcplab run: no script given\n${RUN_USAGE}`);
    return 2;
  }
  const name = values.personality ?? "tcplab";
  const personality = personalityNamed(name);
  if (personality === undefined) {
    console.error(
      `tcplab run: unknown personality "${name}" (known: ${Object.keys(personalities).join(", ")})\n${RUN_USAGE}`,
    );
    return 2;
  }
  let scripts: ScriptFile[];
  try {
    scripts = collectScripts(positionals);
  } catch (e) {
    console.error(`tcplab run: ${(e as Error).message}`);
    return 2;
  }
  if (scripts.length === 0) {
    console.error(`tcplab run: no .pkt scripts in ${positionals.join(" ")}`);
    return 2;
  }
  const single = scripts.length === 1 && !values.json;
  const summary = await runBatch(
    scripts,
    {
      personality,
      ignoreOptions: values["ignore-options"] ?? false,
      ...(values.trace ? { trace: (line: string) => console.log(line) } : {}),
    },
    (r) => {
      if (values.json) return;
      if (r.outcome !== "passed" || values.verbose || single) console.log(formatResult(r));
    },
  );
  if (values.json) console.log(JSON.stringify(summaryJson(summary), null, 2));
  else if (!single) console.log(`\n${formatSummary(summary)}`);
  return summary.total.failed === 0 && summary.total.unsupported === 0 ? 0 : 1;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      personality: { type: "string" },
      json: { type: "boolean" },
      verbose: { type: "boolean", short: "v" },
      "ignore-options": { type: "boolean" },
      trace: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}
