/**
 * Predict, then observe: a lab step may ask a question before its commands
 * run (`ask:` in the lab file), and say where the stack shows the truth
 * (`answer:`). The learner answers with `answer VALUE`; once the step's
 * checks hold, the answer is compared with what the stack did — never with a
 * value typed into the lab file — and a wrong one gets the step's `explain:`.
 *
 *   answer: number FIELD HOST:#ID [±TOL]     a TCB variable (fields.ts): RCV.NXT, RTO, cwnd …
 *   answer: number stat HOST KEY [±TOL]      a counter from `stats`
 *   answer: number count PATTERN             how many segments like PATTERN this step saw
 *   answer: number packets HOST >|< TEXT [dropped]
 *                                            how many packets this step saw whose trace line
 *                                            holds TEXT (fragments, ICMP, UDP: as `packet` checks)
 *   answer: number cwnd HOST:#ID at T [±TOL] a value the plots are drawn from, at a moment
 *                                            (cwnd, ssthresh, FlightSize, SND.UNA, SND.WND)
 *   answer: number rate HOST:#ID between T1 T2 [±TOL]
 *                                            the delivery rate over a period (bit/s)
 *   answer: state HOST:#ID                   the socket's state (ESTABLISHED, TIME-WAIT …)
 *   answer: segment HOST >|< [PEER:PORT] [FLAGS …]
 *                                            the first such segment this step saw (a fault
 *                                            rule may have dropped it); the learner
 *                                            names its flags and, if they like, seq, ack, win
 *
 * TOL is a number in the field's unit (`±10`) or a percentage (`±5%`).
 */
import { State, stateName } from "../tcp/state.ts";
import { tokenize } from "./args.ts";
import { formatRate } from "./cmd-plot.ts";
import { FIELD_NAMES, fieldNamed } from "./fields.ts";
import type { CheckContext } from "./lab-checks.ts";
import { packetsSeen, readPacketQuery, socketState } from "./lab-checks.ts";
import { readPlot } from "./plot-checks.ts";
import {
  differences,
  matchPattern,
  parseSegmentPattern,
  type SeenSegment,
} from "./segment-pattern.ts";

export type AnswerKind = "number" | "state" | "segment";

export interface Question {
  /** The question as the learner reads it. */
  readonly ask: string;
  /** Where the truth is read (`number RCV.NXT a:#3`). */
  readonly answer: string;
  readonly kind: AnswerKind;
  /** Why, shown after a wrong answer. */
  readonly explain: readonly string[];
}

/** How a learner writes an answer of each kind. */
export const ANSWER_USAGE: Readonly<Record<AnswerKind, string>> = {
  number: "answer NUMBER (e.g. answer 42, answer 250ms, answer 1.5s)",
  state: "answer STATE (e.g. answer LAST-ACK, answer fin-wait-2)",
  segment:
    "answer FLAGS [SEQ:END(LEN)] [ack N] [win N] [<OPTIONS>] (e.g. answer F. 7:7(0) ack 9 win 512)",
};

/** The parts of a segment a learner's answer must give (`answer: segment … needs seq ack`). */
export const SEGMENT_FIELDS = ["seq", "ack", "win", "options"] as const;
export type SegmentField = (typeof SEGMENT_FIELDS)[number];

const FIELD_SAYS: Readonly<Record<SegmentField, string>> = {
  seq: "its sequence numbers (SEQ:END(LEN))",
  ack: "its acknowledgment number (ack N)",
  win: "its window (win N)",
  options: "its options (<…>, e.g. <sack 1449:2897>)",
};

/** A segment spec split into the pattern that finds the truth and the fields an answer needs. */
export function segmentSpec(
  spec: string,
): { pattern: string; needs: SegmentField[] } | { error: string } {
  const body = spec.replace(/^segment\s+/, "");
  const m = /^(.*?)\s+needs\s+(.+)$/.exec(body);
  if (m === null) return { pattern: body, needs: [] };
  const words = (m[2] as string).split(/\s+/);
  const bad = words.filter((w) => !(SEGMENT_FIELDS as readonly string[]).includes(w));
  if (bad.length > 0)
    return { error: `needs takes ${SEGMENT_FIELDS.join(", ")}, not ${bad.join(", ")}` };
  return { pattern: m[1] as string, needs: words as SegmentField[] };
}

/** Reads an `answer:` spec's kind, or says what is wrong with it. */
export function answerKind(spec: string): AnswerKind | { error: string } {
  const w = tokenize(spec).map((t) => t.text);
  if (w[0] === "segment") {
    const seg = segmentSpec(spec);
    if ("error" in seg) return { error: `answer: ${seg.error}` };
  }
  if (w[0] === "number") {
    if (["stat", "count", "packets", "rate"].includes(w[1] ?? "")) return "number";
    if (w[1] !== undefined && fieldNamed(w[1]) !== undefined) return "number";
    return {
      error: `answer: number needs FIELD HOST:#ID [at T], stat HOST KEY, count PATTERN, packets HOST >|< TEXT or rate HOST:#ID between T1 T2 (fields: ${FIELD_NAMES.join(", ")})`,
    };
  }
  if (w[0] === "state" || w[0] === "segment") return w[0];
  return { error: `answer: is number …, state HOST:#ID or segment HOST >|< … (got "${spec}")` };
}

export type Truth =
  | {
      readonly kind: "number";
      readonly value: number;
      readonly unit: string;
      readonly tol: Tolerance;
    }
  | { readonly kind: "state"; readonly value: string }
  | { readonly kind: "segment"; readonly seen: SeenSegment };

type Tolerance = { readonly abs: number } | { readonly pct: number };

function readTolerance(word: string | undefined): Tolerance | undefined {
  if (word === undefined) return { abs: 0 };
  const m = /^±(\d+(?:\.\d+)?)(%?)$/.exec(word);
  if (m === null) return undefined;
  const v = Number(m[1]);
  return m[2] === "%" ? { pct: v } : { abs: v };
}

/** What the stack shows now for `q`, or why it cannot be told yet. */
export function truthOf(q: Question, ctx: CheckContext, mark: number): Truth | { pending: string } {
  const w = tokenize(q.answer).map((t) => t.text);
  if (q.kind === "state") {
    const m = /^([A-Za-z][\w-]*):#?(\d+)$/.exec(w[1] ?? "");
    const host = m === null ? undefined : ctx.hostNamed(m[1] as string);
    if (m === null || host === undefined)
      return { pending: `the lab's answer: "${q.answer}" names no socket` };
    return { kind: "state", value: socketState(ctx, host, Number(m[2])) };
  }
  if (q.kind === "segment") {
    const spec = segmentSpec(q.answer);
    if ("error" in spec) return { pending: `the lab's answer: ${spec.error}` };
    const p = parseSegmentPattern(spec.pattern, ctx, true);
    if ("error" in p) return { pending: `the lab's answer: ${p.error}` };
    // What was sent is the answer, whether or not a fault rule then dropped it
    // (unless the pattern asks for a dropped one).
    const seen = (dropped: boolean) =>
      matchPattern({ ...p, dropped }, ctx.log.all(), mark, ctx).matches;
    const matches = p.dropped ? seen(true) : [...seen(false), ...seen(true)];
    const first = [...matches].sort((x, y) => x.event.index - y.event.index)[0];
    return first === undefined
      ? { pending: "that segment has not been seen yet" }
      : { kind: "segment", seen: first };
  }
  // number
  if (w[1] === "count") {
    const p = parseSegmentPattern(q.answer.replace(/^number\s+count\s+/, ""), ctx, true);
    if ("error" in p) return { pending: `the lab's answer: ${p.error}` };
    const n = matchPattern({ ...p, times: undefined }, ctx.log.all(), mark, ctx).matches.length;
    return { kind: "number", value: n, unit: "", tol: { abs: 0 } };
  }
  if (w[1] === "packets") {
    const pq = readPacketQuery(ctx, w.slice(2));
    if (pq === undefined) {
      return { pending: `the lab's answer: "${q.answer}" is not number packets HOST >|< TEXT` };
    }
    const n = packetsSeen(ctx, pq, mark).matches.length;
    return { kind: "number", value: n, unit: "", tol: { abs: 0 } };
  }
  if (w[1] === "stat") {
    const host = w[2] !== undefined ? ctx.hostNamed(w[2]) : undefined;
    const key = w[3];
    const tol = readTolerance(w[4]);
    if (host === undefined || key === undefined || tol === undefined) {
      return { pending: `the lab's answer: "${q.answer}" is not number stat HOST KEY [±TOL]` };
    }
    const s = host.host.stats();
    return { kind: "number", value: s.packets[key] ?? s.drops[key] ?? 0, unit: "", tol };
  }
  if (w[3] === "at" || w[1] === "rate") {
    const reading = readPlot(ctx, w.slice(1));
    const tol = readTolerance(w[1] === "rate" ? w[6] : w[5]);
    if (
      reading === undefined ||
      tol === undefined ||
      ("error" in reading && /^expected/.test(reading.error))
    ) {
      return {
        pending: `the lab's answer: "${q.answer}" is not number NAME HOST:#ID at T [±TOL] or number rate HOST:#ID between T1 T2 [±TOL]`,
      };
    }
    if ("error" in reading) return { pending: reading.error };
    return { kind: "number", value: reading.value, unit: reading.unit, tol };
  }
  const field = fieldNamed(w[1] ?? "");
  const m = /^([A-Za-z][\w-]*):#?(\d+)$/.exec(w[2] ?? "");
  const host = m === null ? undefined : ctx.hostNamed(m[1] as string);
  const tol = readTolerance(w[3]);
  if (field === undefined || m === null || host === undefined || tol === undefined) {
    return { pending: `the lab's answer: "${q.answer}" is not number FIELD HOST:#ID [±TOL]` };
  }
  const tcb = ctx.tcbById(host, Number(m[2]));
  const v = tcb === undefined ? undefined : field.read(tcb);
  if (v === undefined) return { pending: `${field.name} of ${w[2]} is not known yet` };
  return { kind: "number", value: v, unit: field.unit, tol };
}

/** A learner's answer, read for a question of `kind`. */
export type Answer =
  | { readonly kind: "number"; readonly value: number; readonly text: string }
  | { readonly kind: "state"; readonly value: string; readonly text: string }
  | { readonly kind: "segment"; readonly text: string };

/** RFC 9293 §3.3.2's eleven names. */
const STATE_NAMES: readonly string[] = Object.values(State)
  .filter((v): v is State => typeof v === "number")
  .map(stateName);

/** BSD and Linux spellings a learner may know the states by. */
const STATE_ALIASES: Readonly<Record<string, string>> = {
  "SYN-RCVD": "SYN-RECEIVED",
  ESTAB: "ESTABLISHED",
  "FIN-WAIT1": "FIN-WAIT-1",
  "FIN-WAIT2": "FIN-WAIT-2",
  CLOSE: "CLOSED",
};

/** Reads `text` as an answer of `kind` (the unit a number may carry is the question's). */
export function readAnswer(
  kind: AnswerKind,
  text: string,
  ctx: CheckContext,
  /** For a segment: the fields the question asks for. */
  needs: readonly SegmentField[] = [],
): Answer | { error: string } {
  const t = text.trim();
  if (kind === "number") {
    const m = /^(-?\d+(?:\.\d+)?)\s*(ms|s|bytes?|b|segments?|[kmg]?bit(?:\/s)?|[kmg]bps)?$/i.exec(
      t,
    );
    if (m === null) return { error: `"${t}" is not a number` };
    const unit = (m[2] ?? "").toLowerCase();
    const scale = unit === "s" ? 1000 : ({ k: 1e3, m: 1e6, g: 1e9 }[unit[0] ?? ""] ?? 1);
    const value = Number(m[1]) * (/bit|bps/.test(unit) || unit === "s" ? scale : 1);
    return { kind, value, text: t };
  }
  if (kind === "state") {
    const norm = t.toUpperCase().replace(/[_\s]+/g, "-");
    const value = STATE_ALIASES[norm] ?? norm;
    if (!STATE_NAMES.includes(value)) {
      return { error: `"${t}" is not a TCP state (${STATE_NAMES.join(", ")})` };
    }
    return { kind, value, text: t };
  }
  const p = parseSegmentPattern(`${ctx.current.name} > ${t}`, ctx);
  if ("error" in p)
    return { error: `"${t}" is not a segment: ${p.error.replace(/ \(a segment is .*$/, "")}` };
  const given: Record<SegmentField, boolean> = {
    seq: p.seq !== undefined,
    ack: p.ack !== undefined,
    win: p.win !== undefined,
    options: p.options !== undefined,
  };
  const missing = needs.filter((f) => !given[f]);
  if (missing.length > 0) {
    return {
      error: `the question asks for ${missing.map((f) => FIELD_SAYS[f]).join(" and ")} too`,
    };
  }
  return { kind, text: t };
}

export interface Judgement {
  readonly right: boolean;
  /** "RCV.NXT is 1" — what the stack showed. */
  readonly truth: string;
}

/** Compares an answer with the truth. */
export function judge(answer: Answer, truth: Truth, ctx: CheckContext): Judgement {
  if (truth.kind === "number" && answer.kind === "number") {
    const slack =
      "pct" in truth.tol ? (Math.abs(truth.value) * truth.tol.pct) / 100 : truth.tol.abs;
    const unit = truth.unit === "" ? "" : ` ${truth.unit}`;
    return {
      right: Math.abs(answer.value - truth.value) <= slack + 1e-9,
      // A rate reads as the plot writes it (2.32 Mbit/s), not as 2318411.765 bit/s.
      truth:
        truth.unit === "bit/s"
          ? formatRate(truth.value)
          : `${Number(truth.value.toFixed(3))}${unit}`,
    };
  }
  if (truth.kind === "state" && answer.kind === "state") {
    return { right: answer.value === truth.value, truth: truth.value };
  }
  if (truth.kind === "segment" && answer.kind === "segment") {
    const s = truth.seen;
    const p = parseSegmentPattern(`${s.event.host} ${s.event.dir} ${answer.text}`, ctx);
    const right =
      !("error" in p) &&
      differences({ ...p, dropped: s.event.dropped !== undefined }, s, ctx).length === 0;
    return { right, truth: s.label };
  }
  return { right: false, truth: "(the answer is of another kind)" };
}

/** The truth formatted as the learner would have typed it (headless runs answer with it). */
export function truthAsAnswer(truth: Truth): string {
  if (truth.kind === "number") return String(truth.value);
  if (truth.kind === "state") return truth.value;
  return truth.seen.label;
}
