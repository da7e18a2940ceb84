#!/usr/bin/env bun
/**
 * `bun run fuzz`: a soak of the hostile-peer and hostile-input properties
 * (test/tcp/hostile-peer.ts, test/stack/hostile-input.ts) for as many
 * hostile inputs as asked — segments handed to a Tcb or Listener in every
 * state and personality, and packets (mutated, fragmented, flooding) handed
 * to a Host — stopping at the first failure.
 *
 *   bun scripts/fuzz.ts [--seed N] [--count N] [--batch N]
 *
 * --count   hostile inputs to feed, segments and packets about half each (default 1,000,000)
 * --seed    the soak's seed (default: from the clock, printed); the same
 *           seed and count replay the same soak
 * --batch   property runs per batch (default 50)
 *
 * Batches run in a fixed order from the seed: batch k is fast-check's seed
 * seed + k. A failure prints fast-check's report (seed, path, the shrunk
 * run) and the command that replays the soak; FC_SEED=<batch seed> replays
 * the same runs in the test files. Exit 0 only with no throw and no
 * invariant violation. The CI test suite runs the same properties with its
 * base counts; this is the long run.
 */
import { parseArgs } from "node:util";
import fc from "fast-check";
import { stateName } from "../src/tcp/state.ts";
import {
  Finding as HostFinding,
  actionArb as hostActionArb,
  hostileInputStats,
  Run,
} from "../test/stack/hostile-input.ts";
import {
  ALL_STATES,
  Finding as PeerFinding,
  PERSONALITIES,
  hostileStats,
  runScenario,
  scenarioArb,
} from "../test/tcp/hostile-peer.ts";

const USAGE = "usage: bun scripts/fuzz.ts [--seed N] [--count N] [--batch N]";
/** Actions per scenario and per host run: as in the test files. */
const PEER_ACTIONS = 40;
const HOST_ACTIONS = 40;

function parse(): { seed: number; count: number; batch: number } {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      seed: { type: "string" },
      count: { type: "string" },
      batch: { type: "string" },
      help: { type: "boolean" },
    },
    strict: true,
  });
  if (values.help === true) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (text: string | undefined, fallback: number, name: string): number => {
    if (text === undefined) return fallback;
    const n = Number(text.replaceAll("_", "").replaceAll(",", ""));
    if (!Number.isSafeInteger(n) || n < 1) {
      console.error(`fuzz: --${name} wants a positive integer, got ${text}\n${USAGE}`);
      process.exit(2);
    }
    return n;
  };
  return {
    seed: int(values.seed, Date.now() % 2 ** 31, "seed"),
    count: int(values.count, 1_000_000, "count"),
    batch: int(values.batch, 50, "batch"),
  };
}

interface Outcome {
  readonly failed: boolean;
  readonly error?: unknown;
  readonly report?: string;
  readonly path?: string | null;
}

/** One batch: fast-check's runs of `prop` from `seed`, reduced to what the soak reports. */
function check<T>(prop: fc.IProperty<T>, seed: number, numRuns: number): Outcome {
  const r = fc.check(prop, { seed, numRuns, includeErrorInReport: true });
  if (!r.failed) return { failed: false };
  return {
    failed: true,
    error: r.errorInstance,
    report: fc.defaultReportMessage(r) ?? "(no report)",
    path: r.counterexamplePath,
  };
}

const opts = parse();
const inputs = () => hostileStats.segments + hostileInputStats.packets;
const combos = PERSONALITIES.flatMap(([name, s]) =>
  ALL_STATES.map((state) => ({ name, s, state })),
);
const peerArb = scenarioArb(PEER_ACTIONS);
const hostArb = fc.array(hostActionArb, { maxLength: HOST_ACTIONS, size: "max" });

console.error(
  `fuzz: seed ${opts.seed}, ${opts.count.toLocaleString("en")} hostile inputs, ${opts.batch} runs a batch`,
);
const started = performance.now();
let batch = 0;
let peerBatches = 0;
let hostBatches = 0;
let throws = 0;
let violations = 0;
let nextReport = 100_000;

while (inputs() < opts.count) {
  const seed = (opts.seed + batch) | 0;
  // Keep segments and packets about even.
  const peerTurn = hostileStats.segments <= hostileInputStats.packets;
  let what: string;
  let result: Outcome;
  if (peerTurn) {
    const c = combos[peerBatches % combos.length] as (typeof combos)[number];
    what = `hostile peer, ${c.name} from ${stateName(c.state)}`;
    result = check(
      fc.property(peerArb, (sc) => runScenario(c.s, c.state, sc)),
      seed,
      opts.batch,
    );
    peerBatches++;
  } else {
    what = "hostile input to a Host";
    result = check(
      fc.property(hostArb, (actions) => {
        const r = new Run();
        for (const a of actions) r.act(a);
        r.finish();
      }),
      seed,
      opts.batch,
    );
    hostBatches++;
  }
  batch++;
  if (result.failed) {
    const e = result.error;
    const violation = e instanceof PeerFinding || e instanceof HostFinding;
    if (violation) violations++;
    else throws++;
    console.error(result.report);
    console.error(
      `\nfuzz: ${violation ? "invariant violated" : "a throw"} in batch ${batch - 1} (${what}), fast-check seed ${seed}, path ${result.path}` +
        `\nreplay: bun scripts/fuzz.ts --seed ${opts.seed} --count ${opts.count} --batch ${opts.batch}` +
        `\n   or:  FC_SEED=${seed} bun test ${peerTurn ? "test/tcp/hostile-peer.test.ts" : "test/stack/hostile-input.test.ts"}`,
    );
    break;
  }
  if (inputs() >= nextReport) {
    const s = (performance.now() - started) / 1000;
    console.error(`fuzz: ${inputs().toLocaleString("en")} inputs, ${s.toFixed(1)} s`);
    nextReport += 100_000;
  }
}

const seconds = (performance.now() - started) / 1000;
console.log(
  `fuzz: ${inputs().toLocaleString("en")} hostile inputs (${hostileStats.segments.toLocaleString("en")} segments to a Tcb or Listener in ${peerBatches} batches, ${hostileInputStats.packets.toLocaleString("en")} packets to a Host in ${hostBatches} batches) in ${seconds.toFixed(1)} s, seed ${opts.seed}: ${throws} throws, ${violations} invariant violations`,
);
process.exitCode = throws + violations === 0 ? 0 : 1;
