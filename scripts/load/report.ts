/**
 * load.md: each target of issue 12 with the figure measured, the figure
 * without load beside it, and whether the target holds. Also merged into
 * latest.md between the load markers, so `bun run bench` and
 * `scripts/load.ts` share one page.
 */
import type {
  ChurnResult,
  FloodResult,
  IdleResult,
  MassCloseResult,
  SynFloodResult,
} from "./scenarios.ts";

export interface LoadReport {
  readonly date: string;
  readonly quick: boolean;
  readonly command: string;
  readonly machine: { readonly nproc: number };
  readonly durationSeconds: number;
  readonly results: Record<string, unknown>;
}

export const LOAD_BEGIN = "<!-- load:begin -->";
export const LOAD_END = "<!-- load:end -->";

const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : String(x));
const mb = (kib: number) => `${f(kib / 1024, 1)} MB`;
const yes = (ok: boolean) => (ok ? "met" : "**not met**");

type Row = [target: string, measured: string, noLoad: string, verdict: string];

function failed(r: unknown): string | undefined {
  return typeof r === "object" && r !== null && "error" in r
    ? String(Reflect.get(r, "error"))
    : undefined;
}

function idleRows(r: IdleResult): Row[] {
  const rtt = r.loaded.rttP50Ms / r.none.rttP50Ms;
  const get = r.loaded.getSeconds / r.none.getSeconds;
  return [
    [
      `echo round trip p50 with ${r.opened} idle connections ≤ 2× none`,
      `${f(r.loaded.rttP50Ms, 3)} ms (${f(rtt)}×)`,
      `${f(r.none.rttP50Ms, 3)} ms`,
      yes(rtt <= 2),
    ],
    [
      `1 MiB GET with ${r.opened} idle connections ≤ 2× none`,
      `${f(r.loaded.getSeconds, 3)} s (${f(get)}×)`,
      `${f(r.none.getSeconds, 3)} s`,
      yes(get <= 2 && r.loaded.getFailures === 0),
    ],
    [
      `RSS growth per idle ESTABLISHED connection at ${r.rssConnections} ≤ 8 KiB (both RSS after a full collection)`,
      `${f(r.rssPerConnectionKiB)} KiB (heap ${f(r.heapPerConnectionKiB)})`,
      `RSS ${mb(r.none.rssKiB)} with none`,
      yes(r.rssPerConnectionKiB <= 8),
    ],
    [`opening ${r.opened} connections`, `${f(r.openSeconds, 1)} s`, "—", "—"],
  ];
}

function churnRows(r: ChurnResult): Row[] {
  const rows: Row[] = [];
  for (const [label, key] of [
    ["tcplab closes first (ab)", "serverCloses"],
    ["the client closes first", "clientCloses"],
  ] as const) {
    const t = r.tcplab[key];
    const k = r.kernel?.[key];
    const ok = t.complete === r.n && t.failed === 0 && t.non2xx === 0;
    rows.push([
      `${r.n} requests, ${r.c} at a time, ${label}: no failures`,
      `${t.complete} done, ${t.failed} failed, ${f(t.perSecond, 0)} conn/s${t.error ? ` (${t.error})` : ""}`,
      k === undefined ? "—" : `kernel over veth: ${f(k.perSecond, 0)} conn/s, ${k.failed} failed`,
      yes(ok),
    ]);
  }
  return rows;
}

function synRows(r: SynFloodResult): Row[] {
  const all = r.within3s === r.attempts && r.attempts > 0;
  return [
    [
      `spoofed SYN flood ${r.seconds} s (${r.floodPps} SYN/s from hping3): a client connects within 3 s every time`,
      `${r.within3s}/${r.attempts} within 3 s, slowest ${f(r.maxConnectMs, 0)} ms; cookies sent ${r.cookies.sent}, accepted ${r.cookies.recv}`,
      `${f(r.noLoadConnectMs, 1)} ms`,
      yes(all),
    ],
    [
      "port 80 serves right after the flood",
      r.afterFlood.ok ? `GET in ${f(r.afterFlood.seconds, 3)} s` : "failed",
      "—",
      yes(r.afterFlood.ok),
    ],
  ];
}

function floodRows(r: FloodResult): Row[] {
  const back = r.rssAfterKiB <= r.rssBeforeKiB * 1.2;
  return [
    [
      `${r.seconds} s flood of ${r.kind === "udp" ? "1500-byte UDP packets" : "first fragments"} (${r.floodPps} packets/s from hping3): RSS < 512 MB`,
      `max ${mb(r.rssMaxKiB)}`,
      `${mb(r.rssBeforeKiB)} before`,
      yes(r.rssMaxKiB < 512 * 1024),
    ],
    [
      "a 1 MiB GET meanwhile completes",
      r.get.ok ? `${f(r.get.seconds, 3)} s` : `failed: ${r.get.detail}`,
      `${f(r.getNoLoadSeconds, 3)} s`,
      yes(r.get.ok),
    ],
    [
      "RSS afterwards within 20% of before (both after a full collection)",
      `${mb(r.rssAfterKiB)} (${f((100 * r.rssAfterKiB) / r.rssBeforeKiB - 100, 0)}%; ${mb(r.rssAfterRawKiB)} before collecting)`,
      mb(r.rssBeforeKiB),
      yes(back),
    ],
  ];
}

function massRows(r: MassCloseResult): Row[] {
  const held = Object.values(r.leftAfter).reduce((a, b) => a + b, 0);
  return [
    [
      `closing ${r.opened} connections at once: an echo answered within 1 s throughout`,
      `${r.probe.count} probes, ${r.probe.failed} lost, p99 ${f(r.probe.p99, 1)} ms, max ${f(r.probe.max, 1)} ms`,
      `max ${f(r.probeNoLoadMax, 1)} ms`,
      yes(r.probe.failed === 0 && r.probe.max < 1000),
    ],
    [
      `${r.afterSeconds} s later: no connection whose peer is gone`,
      `${held} held (${JSON.stringify(r.leftAfter)}), echo open ${r.echoOpenAfter}`,
      "—",
      yes(held === 0),
    ],
  ];
}

export function loadMarkdown(report: LoadReport): string {
  const rows: Row[] = [];
  const notes: string[] = [];
  const section = <T>(name: string, fn: (r: T) => Row[]) => {
    const r = report.results[name];
    if (r === undefined) return;
    const err = failed(r);
    if (err !== undefined) {
      rows.push([name, `error: ${err}`, "—", "**not met**"]);
      return;
    }
    rows.push(...fn(r as T));
  };
  section<IdleResult>("idle", idleRows);
  section<ChurnResult>("churn", churnRows);
  section<SynFloodResult>("synflood", synRows);
  section<FloodResult>("udpflood", floodRows);
  section<FloodResult>("fragflood", floodRows);
  section<MassCloseResult>("massclose", massRows);
  if (report.quick) notes.push("**--quick: reduced sizes, not the targets' figures.**");
  const table = [
    "| target | measured | without load | |",
    "|---|---|---|---|",
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ];
  return [
    LOAD_BEGIN,
    "## Load: thousands of connections and floods (issue 12)",
    "",
    `${report.date}, ${report.machine.nproc} CPUs shared with other work, ${report.durationSeconds} s: \`${report.command}\` (as root).`,
    "tcplab serve at 10.0.0.2 on a TUN device; every client and flood (the load client scripts/load/client.ts, curl, ab, hping3) runs in serve's namespace as the kernel at 10.0.0.1; the kernel baseline is a Bun HTTP server behind a veth pair.",
    ...notes,
    "",
    ...table,
    "",
    "Raw figures: load.json.",
    LOAD_END,
    "",
  ].join("\n");
}

/** `latest` with its load section replaced by `section` (appended when it has none). */
export function mergeIntoLatest(latest: string, section: string): string {
  const i = latest.indexOf(LOAD_BEGIN);
  const j = latest.indexOf(LOAD_END);
  if (i >= 0 && j > i) {
    return latest.slice(0, i) + section.trimEnd() + latest.slice(j + LOAD_END.length);
  }
  return `${latest.trimEnd()}${latest === "" ? "" : "\n\n"}${section}`;
}

/** The load section of a latest.md, if it has one (kept when `bun run bench` rewrites the page). */
export function loadSectionOf(latest: string): string | undefined {
  const i = latest.indexOf(LOAD_BEGIN);
  const j = latest.indexOf(LOAD_END);
  return i >= 0 && j > i ? latest.slice(i, j + LOAD_END.length) : undefined;
}
