#!/usr/bin/env bun
/**
 * `bun scripts/load.ts`: tcplab serve under load from the kernel side, each
 * figure beside the same one without load (issue 12). Needs root; every
 * load tool runs inside a namespace this script creates and removes, and
 * stops by itself (counts and time limits).
 *
 *   idle       echo round trip p50 and a 1 MiB GET with none / N idle
 *              connections open; RSS growth per idle connection at 5,000
 *   churn      ab -n 20000 -c 200 (tcplab closes first) and the same count
 *              closed by the client first, beside the kernel over veth
 *   synflood   a spoofed SYN flood on :80; a legitimate client connects every second
 *   udpflood   1500-byte UDP packets; RSS, a 1 MiB GET meanwhile, RSS after
 *   fragflood  the same with first fragments (MF set, never completed)
 *   massclose  N connections closed at once: echo probes throughout, and
 *              what tcplab still holds 60 s later
 *
 * Writes OUT/load.json and OUT/load.md, and puts load.md into OUT/latest.md
 * between the `<!-- load -->` markers (OUT = bench-results).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { removeLeftoverNetns } from "./bench/serve-proc.ts";
import { loadMarkdown, mergeIntoLatest } from "./load/report.ts";
import { churn, flood, idleScale, massClose, ROOT, synFlood } from "./load/scenarios.ts";

const ALL = ["idle", "churn", "synflood", "udpflood", "fragflood", "massclose"] as const;
type Scenario = (typeof ALL)[number];

const USAGE = `usage: bun scripts/load.ts [--quick] [--only ${ALL.join(",")}] [--out DIR]`;

function options() {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      options: {
        quick: { type: "boolean" },
        only: { type: "string" },
        out: { type: "string" },
        help: { type: "boolean" },
      },
      strict: true,
    }));
  } catch (e) {
    console.error(`load: ${(e as Error).message.split("\n")[0]}\n${USAGE}`);
    process.exit(2);
  }
  if (values.help === true) {
    console.log(USAGE);
    process.exit(0);
  }
  const only = String(values.only ?? ALL.join(","))
    .split(",")
    .map((s) => s.trim());
  for (const o of only) {
    if (!(ALL as readonly string[]).includes(o)) {
      console.error(`load: unknown scenario "${o}"\n${USAGE}`);
      process.exit(2);
    }
  }
  return {
    quick: values.quick === true,
    only: only as Scenario[],
    out: String(values.out ?? join(ROOT, "bench-results")),
  };
}

async function main(): Promise<number> {
  const opts = options();
  if (process.getuid?.() !== 0) {
    console.error("load: needs root (network namespaces and a TUN device)");
    return 2;
  }
  const q = opts.quick;
  const netns = `tcplab-load${process.pid}`;
  const onSignal = () => {
    removeLeftoverNetns(netns);
    process.exit(130);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const log = (s: string) => console.error(s);
  const started = performance.now();
  const results: Record<string, unknown> = {};
  const sizes = {
    idle: q
      ? { n: 2000, rssAt: 1000, rounds: 300, gets: 3 }
      : { n: 10_000, rssAt: 5000, rounds: 1000, gets: 9 },
    churn: q ? { n: 2000, c: 50 } : { n: 20_000, c: 200 },
    synflood: q ? 6 : 25,
    flood: q ? 6 : 30,
    massclose: q ? { n: 2000, after: 10 } : { n: 10_000, after: 60 },
  };
  for (const s of opts.only) {
    try {
      switch (s) {
        case "idle": {
          const z = sizes.idle;
          results.idle = await idleScale(netns, z.n, z.rssAt, z.rounds, z.gets, log);
          break;
        }
        case "churn":
          results.churn = await churn(netns, sizes.churn.n, sizes.churn.c, true, 300_000, log);
          break;
        case "synflood":
          results.synflood = await synFlood(netns, sizes.synflood, log);
          break;
        case "udpflood":
          results.udpflood = await flood(netns, "udp", sizes.flood, 5000, log);
          break;
        case "fragflood":
          results.fragflood = await flood(netns, "first-fragments", sizes.flood, 5000, log);
          break;
        case "massclose":
          results.massclose = await massClose(netns, sizes.massclose.n, sizes.massclose.after, log);
          break;
      }
    } catch (e) {
      results[s] = { error: (e as Error).message.split("\n").slice(0, 3).join(" ") };
      log(`load ${s}: ${(e as Error).message}`);
    } finally {
      removeLeftoverNetns(netns);
    }
  }
  const report = {
    date: new Date().toISOString(),
    quick: q,
    command: ["bun", "scripts/load.ts", ...process.argv.slice(2)].join(" "),
    machine: { nproc: navigator.hardwareConcurrency },
    durationSeconds: Math.round((performance.now() - started) / 100) / 10,
    results,
  };
  mkdirSync(opts.out, { recursive: true });
  writeFileSync(join(opts.out, "load.json"), `${JSON.stringify(report, null, 2)}\n`);
  const md = loadMarkdown(report);
  writeFileSync(join(opts.out, "load.md"), md);
  const latest = join(opts.out, "latest.md");
  writeFileSync(
    latest,
    mergeIntoLatest(existsSync(latest) ? readFileSync(latest, "utf8") : "", md),
  );
  console.log(md);
  return 0;
}

process.exit(await main());
