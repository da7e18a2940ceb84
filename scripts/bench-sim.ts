#!/usr/bin/env bun
/**
 * The simulated part of `bun run bench` on its own (no root needed):
 * CUBIC and NewReno goodput over a 50 ms RTT, 100 Mbit/s bottleneck at 0.1%,
 * 0.01% and no random loss; 64 KiB buffers without window scaling against
 * 4 MiB with it; long runs for the steady state against the throughput
 * models. See scripts/bench/sim.ts for the path and the models.
 *
 *   bun scripts/bench-sim.ts [--seeds 1,2,3,4,5] [--bytes N] [--quick] [--no-steady] [--json]
 *   bun scripts/bench-sim.ts --reassembly-only [--json]
 *
 * The out-of-order reassembly case (scripts/bench/reassembly.ts) follows the
 * congestion-control table, or runs alone with --reassembly-only.
 */
import { parseArgs } from "node:util";
import { reassemblyText, runReassemblyBench } from "./bench/reassembly.ts";
import { runSimBench, SIM_FULL, SIM_QUICK, simText } from "./bench/sim.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    seeds: { type: "string" },
    bytes: { type: "string" },
    quick: { type: "boolean" },
    "no-steady": { type: "boolean" },
    json: { type: "boolean" },
    "reassembly-only": { type: "boolean" },
  },
  strict: true,
});

if (values["reassembly-only"] === true) {
  const r = runReassemblyBench();
  console.log(values.json === true ? JSON.stringify(r, null, 2) : reassemblyText(r));
  process.exit(r.ok ? 0 : 1);
}

const base = values.quick === true ? SIM_QUICK : SIM_FULL;
const seeds =
  values.seeds === undefined ? base.seeds : values.seeds.split(",").map((s) => Number(s.trim()));
const bytes = values.bytes === undefined ? base.bytes : Number(values.bytes);
if (seeds.some((s) => !Number.isInteger(s)) || !(bytes > 0)) {
  console.error(
    "usage: bun scripts/bench-sim.ts [--seeds 1,2,3] [--bytes N] [--quick] [--no-steady] [--json]",
  );
  process.exit(2);
}
const result = runSimBench({
  seeds,
  bytes,
  steady: values["no-steady"] === true ? [] : base.steady,
  log: (line) => console.error(line),
});
const reassembly = runReassemblyBench();
console.log(
  values.json === true
    ? JSON.stringify({ ...result, reassembly }, null, 2)
    : `${simText(result)}\n\n${reassemblyText(reassembly)}`,
);
if (
  result.cases.some((c) => c.medianMbps === null) ||
  result.steady.some((s) => !s.ok) ||
  !reassembly.ok
) {
  process.exitCode = 1;
}
