/**
 * `tcplab sim`: host a connects to host b over the simulated wire, sends N
 * seeded bytes, both close; exit 0 only when the bytes match and both ends
 * closed cleanly. A bad argument prints one line naming it, then the usage
 * line, and exits 2.
 */
import { parseArgs } from "node:util";
import { ms } from "../src/clock/time.ts";
import { runSimTransfer, type SimTransferResult } from "../src/runtime/sim-transfer.ts";
import { parseArgsError } from "./args.ts";

const SIM_USAGE =
  "usage: tcplab sim --bytes N [--loss P] [--reorder P] [--duplicate P] [--corrupt P] [--delay MS] [--bandwidth MBIT] [--mtu BYTES] [--seed S] [--max-sim-ms MS] [--max-events N] [--json]";

const SIM_HELP = `${SIM_USAGE}

Host a (10.0.0.1) connects to host b (10.0.0.2) over a simulated wire on a
virtual clock, sends N seeded pseudo-random bytes, and both close.
Exit 0 when the bytes arrive intact and both ends close cleanly, 1 otherwise.

  --bytes N          bytes to send (required)
  --loss P           probability a packet is lost, each direction (0..1, default 0)
  --reorder P        probability a packet is held back and overtaken (0..1, default 0)
  --duplicate P      probability a packet is duplicated (0..1, default 0)
  --corrupt P        probability one bit of a packet is flipped (0..1, default 0)
  --delay MS         one-way propagation delay in ms (default 0)
  --bandwidth MBIT   link rate in Mbit/s (default unlimited)
  --mtu BYTES        link and host MTU (default 1500)
  --seed S           seed of the data and of the wire's faults (default 1)
  --max-sim-ms MS    stop after this much simulated time (default 3600000)
  --max-events N     stop after this many clock events (default 50000000)
  --json             print one JSON object
  --help             this text`;

export class UsageError extends Error {}

function fail(message: string, usage: string): never {
  throw new UsageError(`tcplab: ${message}\n${usage}`);
}

function num(
  values: Record<string, string | boolean | undefined>,
  name: string,
  check: (n: number) => boolean,
  what: string,
  fallback?: number,
): number | undefined {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const text = String(raw).trim();
  const n = text === "" ? Number.NaN : Number(text);
  if (!Number.isFinite(n) || !check(n)) fail(`--${name} must be ${what}, got "${raw}"`, SIM_USAGE);
  return n;
}

const probability = (n: number) => n >= 0 && n <= 1;

export function runSim(args: string[]): number {
  let parsed: ReturnType<typeof parseSimArgs>;
  try {
    parsed = parseSimArgs(args);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    fail(parseArgsError(e), SIM_USAGE);
  }
  const { values } = parsed;
  if (values.help) {
    console.log(SIM_HELP);
    return 0;
  }
  if (values.bytes === undefined) fail("--bytes is required", SIM_USAGE);
  const bytes = num(
    values,
    "bytes",
    (n) => Number.isInteger(n) && n >= 0 && n <= 2 ** 31,
    "a whole number of bytes",
  ) as number;
  const loss = num(values, "loss", probability, "a probability in 0..1", 0) as number;
  const reorder = num(values, "reorder", probability, "a probability in 0..1", 0) as number;
  const duplicate = num(values, "duplicate", probability, "a probability in 0..1", 0) as number;
  const corrupt = num(values, "corrupt", probability, "a probability in 0..1", 0) as number;
  const delay = num(values, "delay", (n) => n >= 0, "a delay ≥ 0 ms", 0) as number;
  const bandwidth = num(values, "bandwidth", (n) => n > 0, "a rate > 0 Mbit/s");
  const mtu = num(
    values,
    "mtu",
    (n) => Number.isInteger(n) && n >= 68 && n <= 65535,
    "an MTU in 68..65535",
    1500,
  ) as number;
  const seed = num(values, "seed", (n) => Number.isInteger(n), "an integer", 1) as number;
  const maxSimMs = num(values, "max-sim-ms", (n) => n > 0, "a time > 0 ms", 3_600_000) as number;
  const maxEvents = num(
    values,
    "max-events",
    (n) => Number.isInteger(n) && n > 0,
    "a whole number > 0",
    50_000_000,
  ) as number;

  const result = runSimTransfer({
    bytes,
    seed,
    mtu,
    maxSimMs: ms(maxSimMs),
    maxEvents,
    wire: {
      loss,
      reorder,
      duplicate,
      corrupt,
      delay: ms(delay),
      ...(bandwidth !== undefined ? { bandwidth: bandwidth * 1e6 } : {}),
    },
  });
  if (values.json) console.log(JSON.stringify(simJson(result)));
  else printSim(result);
  return result.ok ? 0 : 1;
}

function parseSimArgs(args: string[]) {
  return parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      bytes: { type: "string" },
      loss: { type: "string" },
      reorder: { type: "string" },
      duplicate: { type: "string" },
      corrupt: { type: "string" },
      delay: { type: "string" },
      bandwidth: { type: "string" },
      mtu: { type: "string" },
      seed: { type: "string" },
      "max-sim-ms": { type: "string" },
      "max-events": { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}

function simJson(r: SimTransferResult) {
  return {
    ok: r.ok,
    ...(r.ok ? {} : { failure: r.failure }),
    bytes: r.bytes,
    receivedBytes: r.receivedBytes,
    sentSha256: r.sentSha256,
    receivedSha256: r.receivedSha256,
    seed: r.seed,
    transferMs: r.transferMs,
    simulatedMs: r.simulatedMs,
    wallMs: r.wallMs,
    events: r.events,
    retransmissions: r.retransmissions,
    states: {
      a: { final: r.a.state, path: r.a.path, error: r.a.error },
      b: { final: r.b.state, path: r.b.path, error: r.b.error },
    },
    wire: r.wire,
    stats: r.stats,
  };
}

function printSim(r: SimTransferResult): void {
  const lines = [
    `${r.ok ? "ok" : "FAILED"}: ${r.receivedBytes}/${r.bytes} bytes${r.ok ? "" : ` — ${r.failure}`}`,
    `sent sha256      ${r.sentSha256}`,
    `received sha256  ${r.receivedSha256}`,
    `transfer         ${r.transferMs === null ? "-" : r.transferMs.toFixed(1)} ms simulated (run ended at ${r.simulatedMs.toFixed(1)} ms), ${r.wallMs} ms wall, ${r.events} events`,
    `retransmissions  ${r.retransmissions}`,
    `a 10.0.0.1       ${r.a.path.join(" → ")}${r.a.error ? ` (${r.a.error})` : ""}`,
    `b 10.0.0.2       ${r.b.path.join(" → ")}${r.b.error ? ` (${r.b.error})` : ""}`,
    `seed             ${r.seed}`,
  ];
  console.log(lines.join("\n"));
}
