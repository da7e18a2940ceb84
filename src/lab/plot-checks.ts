/**
 * Checks and question answers read from what the plots are drawn from
 * (samples.ts, plots.ts), so a lab can hold a learner to what a picture
 * shows:
 *
 *   retransmitted HOST:#ID SEQ[:END] [between T1 T2]
 *                          the connection sent a segment starting at SEQ (and ending
 *                          at END) again, at a time within [T1, T2]
 *   cwnd HOST:#ID at T OP N
 *                          the value in force at T compares (also ssthresh,
 *                          FlightSize, SND.UNA, SND.WND)
 *   rate HOST:#ID between T1 T2 OP RATE
 *                          the bytes acknowledged over [T1, T2], as bits per second,
 *                          compare with RATE (4mbit, 500kbit, or bit/s)
 *
 * Times are the clock's (as the plots' time axis shows them): `1.5s`,
 * `200ms`, or seconds (`1.5`).
 */

import { instant } from "../clock/time.ts";
import { formatTime } from "./args.ts";
import { parseRate } from "./cmd-path.ts";
import { formatRate } from "./cmd-plot.ts";
import { OPS } from "./fields.ts";
import type { CheckContext, CheckResult } from "./lab-checks.ts";
import {
  describeSent,
  parseMoment,
  rateBetween,
  retransmissions,
  SAMPLED,
  sampledNamed,
  windowAt,
} from "./plots.ts";
import type { ConnectionSeries } from "./samples.ts";

export const PLOT_CHECK_USAGE = {
  retransmitted: "retransmitted HOST:#ID SEQ[:END] [between T1 T2]",
  sampled: `NAME HOST:#ID at T OP N (NAME: ${Object.keys(SAMPLED).join(", ")})`,
  rate: "rate HOST:#ID between T1 T2 OP RATE",
} as const;

const seconds = (t: number) => `${formatTime(instant(t))} s`;

/** HOST:#ID's recorded series, or why there is none. */
function seriesOf(
  ctx: CheckContext,
  text: string | undefined,
): { conn: ConnectionSeries; label: string } | { error: string } {
  const m = /^([A-Za-z][\w-]*):#?(\d+)$/.exec(text ?? "");
  if (m === null) return { error: `expected HOST:#ID like a:#3, got "${text ?? ""}"` };
  const host = ctx.hostNamed(m[1] as string);
  if (host === undefined) return { error: `no host "${m[1]}"` };
  const tcb = ctx.tcbById(host, Number(m[2]));
  const conn = tcb === undefined ? undefined : host.samples.series(tcb);
  if (conn === undefined) return { error: `${text} has no connection` };
  return { conn, label: text as string };
}

/** A reading of the plot data, or why it cannot be read (yet). */
export type Reading =
  | { readonly value: number; readonly unit: string; readonly subject: string }
  | { readonly error: string; readonly pending?: boolean };

/**
 * `NAME HOST:#ID at T` or `rate HOST:#ID between T1 T2` (the words of a
 * check or an answer: spec, from the name on): the value, or why not.
 */
export function readPlot(ctx: CheckContext, words: readonly string[]): Reading | undefined {
  const name = words[0] ?? "";
  if (name === "rate" && words[2] === "between") {
    const s = seriesOf(ctx, words[1]);
    if ("error" in s) return s;
    const t1 = parseMoment(words[3] ?? "");
    const t2 = parseMoment(words[4] ?? "");
    if (t1 === undefined || t2 === undefined || t2 <= t1)
      return { error: `expected rate HOST:#ID between T1 T2 with T1 before T2 (like 1s 2s)` };
    if (t2 > ctx.now) return notYet(ctx, t2);
    const v = rateBetween(s.conn, t1, t2);
    if (v === undefined) return { error: `${s.label} had no connection by ${seconds(t2)}` };
    return {
      value: v,
      unit: "bit/s",
      subject: `${s.label}'s delivery rate between ${seconds(t1)} and ${seconds(t2)}`,
    };
  }
  const sampled = sampledNamed(name);
  if (sampled === undefined || words[2] !== "at") return undefined;
  const s = seriesOf(ctx, words[1]);
  if ("error" in s) return s;
  const t = parseMoment(words[3] ?? "");
  if (t === undefined) return { error: `expected ${sampled} HOST:#ID at T (like 0.5s)` };
  if (t > ctx.now) return notYet(ctx, t);
  const w = windowAt(s.conn, t);
  if (w === undefined) return { error: `${s.label} had no connection yet at ${seconds(t)}` };
  const read = SAMPLED[sampled] as (x: typeof w) => number;
  return {
    value: read(w),
    unit: sampled === "SND.UNA" ? "" : "bytes",
    subject: `${s.label} ${sampled} at ${seconds(t)}`,
  };
}

function notYet(ctx: CheckContext, t: number): Reading {
  return {
    error: `the clock is at ${seconds(ctx.now)}: ${seconds(t)} has not come yet`,
    pending: true,
  };
}

/** A plot check's result, or undefined when `words` is not one. */
export function checkPlot(
  ctx: CheckContext,
  expect: string,
  words: readonly string[],
): CheckResult | undefined {
  const malformed = (why: string): CheckResult => ({
    ok: false,
    message: `bad expect "${expect}": ${why}`,
  });
  if (words[0] === "retransmitted") return checkRetransmitted(ctx, words, malformed);
  const opAt = words[0] === "rate" ? 5 : 4;
  const reading = readPlot(ctx, words);
  if (reading === undefined) return undefined;
  const op = words[opAt];
  const wantText = words[opAt + 1];
  const want =
    wantText === undefined
      ? undefined
      : words[0] === "rate"
        ? parseRate(wantText)
        : Number(wantText);
  const compare = op === undefined ? undefined : OPS[op];
  if (
    compare === undefined ||
    want === undefined ||
    Number.isNaN(want) ||
    words.length > opAt + 2
  ) {
    return malformed(
      `expected ${words[0] === "rate" ? PLOT_CHECK_USAGE.rate : PLOT_CHECK_USAGE.sampled}`,
    );
  }
  if ("error" in reading) {
    const bad = !reading.pending && /^expected/.test(reading.error);
    if (bad) return malformed(reading.error);
    return {
      ok: false,
      message: `${words.slice(0, opAt).join(" ")} ${op} ${wantText} (${reading.error})`,
      ...(reading.pending
        ? { hint: "step on: the check reads what the plot shows at that time" }
        : {}),
    };
  }
  const ok = compare(reading.value, want);
  const shown =
    words[0] === "rate"
      ? formatRate(reading.value)
      : `${reading.value}${reading.unit === "" ? "" : ` ${reading.unit}`}`;
  return {
    ok,
    message: `${reading.subject} ${op} ${wantText}${ok ? "" : ` (it was ${shown})`}`,
    ...(ok
      ? {}
      : {
          hint: `plot ${words[1]?.replace(/^[^:]*:/, "")} ${words[0] === "rate" ? "rate" : "cwnd"} shows it over time`,
        }),
  };
}

function checkRetransmitted(
  ctx: CheckContext,
  words: readonly string[],
  malformed: (why: string) => CheckResult,
): CheckResult {
  const s = seriesOf(ctx, words[1]);
  const m = /^(\d+)(?::(\d+))?$/.exec(words[2] ?? "");
  const between = words[3] === "between";
  const t1 = between ? parseMoment(words[4] ?? "") : undefined;
  const t2 = between ? parseMoment(words[5] ?? "") : undefined;
  if (
    m === null ||
    (words.length !== 3 && !between) ||
    (between && (t1 === undefined || t2 === undefined || t2 < t1 || words.length !== 6))
  ) {
    return malformed(`expected ${PLOT_CHECK_USAGE.retransmitted}`);
  }
  if ("error" in s)
    return { ok: false, message: `${words.slice(1).join(" ")} sent again (${s.error})` };
  const seq = Number(m[1]);
  const end = m[2] === undefined ? undefined : Number(m[2]);
  const when =
    t1 !== undefined && t2 !== undefined ? ` between ${seconds(t1)} and ${seconds(t2)}` : "";
  const want = `${s.label} sent ${m[0]} again${when}`;
  const all = retransmissions(s.conn);
  const fits = all.filter(
    (x) =>
      x.seq === seq &&
      (end === undefined || x.seq + x.len === end) &&
      (t1 === undefined || (x.t >= t1 && x.t <= (t2 as number))),
  );
  if (fits.length > 0) return { ok: true, message: want };
  const seen = all.slice(0, 4).map(describeSent).join("; ");
  return {
    ok: false,
    message: `${want} (${all.length === 0 ? "it sent nothing again" : `it sent again: ${seen}${all.length > 4 ? ` … ${all.length} in all` : ""}`})`,
    hint: `plot ${words[1]?.replace(/^[^:]*:/, "")} seq shows when each segment left (R: sent again)`,
  };
}
