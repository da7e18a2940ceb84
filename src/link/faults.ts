import type { Clock } from "../clock/clock.ts";
import { type Duration, later, plus, ZERO } from "../clock/time.ts";
import { Rng } from "../util/rng.ts";
import { flipRandomBit } from "./bits.ts";
import { type Offload, softwareSegments } from "../wire/offload.ts";
import type { LinkEnd, PacketHandler } from "./link.ts";

/** "out" is what the wrapped side sends; "in" is what arrives for it. */
export type FaultDir = "in" | "out";
export type FaultDirs = FaultDir | "both";

/** A predicate on the raw IPv4 bytes (the lab builds SYN/FIN/data matchers from the wire codecs). */
export type PacketMatcher = (packet: Uint8Array) => boolean;

export type FaultAction =
  | { readonly kind: "drop" }
  | { readonly kind: "duplicate" }
  | { readonly kind: "corrupt" }
  | { readonly kind: "delay"; readonly by: Duration };

export interface FaultRuleSpec {
  readonly action: FaultAction;
  /** Default "both". */
  readonly dir?: FaultDirs;
  /** Only packets this accepts count; default: every packet. */
  readonly match?: PacketMatcher;
  /** Fire at most this many times, then retire; default: forever. */
  readonly count?: number;
  /** Fire on a matching packet with this probability; default 1. */
  readonly chance?: number;
  /** Shown by the lab when it lists rules. */
  readonly label?: string;
}

export interface FaultRule {
  readonly id: number;
  readonly spec: FaultRuleSpec;
  /** Firings left (undefined = unlimited). */
  readonly remaining: number | undefined;
  /** Times it has fired. */
  readonly hits: number;
}

/** Probability faults applied to every packet in one direction, after the rules. */
export interface FaultChances {
  loss: number;
  duplicate: number;
  corrupt: number;
  /** Extra delay for a packet picked with `delayChance`. */
  delay: Duration;
  delayChance: number;
}

export const NO_FAULTS: Readonly<FaultChances> = {
  loss: 0,
  duplicate: 0,
  corrupt: 0,
  delay: ZERO,
  delayChance: 1,
};

export interface FaultCounters {
  /** Packets seen in this direction. */
  seen: number;
  dropped: number;
  duplicated: number;
  corrupted: number;
  delayed: number;
}

export interface FaultOptions {
  /** Draws for chances and for which bit to corrupt (default: a generator seeded with 0). */
  rng?: Rng;
  /** Needed for delay faults. */
  clock?: Clock;
  in?: Partial<FaultChances>;
  out?: Partial<FaultChances>;
}

export interface FaultyLink extends LinkEnd {
  addRule(spec: FaultRuleSpec): FaultRule;
  removeRule(rule: FaultRule | number): boolean;
  clearRules(): void;
  /** Active rules, in the order they are tried. */
  rules(): readonly FaultRule[];
  /** Drops the next `n` packets (matching `match`, if given) in `dir`. */
  dropNext(n: number, dir?: FaultDirs, match?: PacketMatcher): FaultRule;
  /** Holds the next `n` packets (matching `match`) in `dir` back by `ms`. */
  delayNext(n: number, ms: Duration, dir?: FaultDirs, match?: PacketMatcher): FaultRule;
  configure(dir: FaultDirs, chances: Partial<FaultChances>): void;
  chances(dir: FaultDir): Readonly<FaultChances>;
  counters(dir: FaultDir): Readonly<FaultCounters>;
}

interface LiveRule {
  id: number;
  spec: FaultRuleSpec;
  remaining: number | undefined;
  hits: number;
}

function dirsOf(dir: FaultDirs): FaultDir[] {
  return dir === "both" ? ["in", "out"] : [dir];
}

function checkProbability(name: string, p: number): void {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`${name} must be in 0..1, got ${p}`);
}

/**
 * Wraps a link end with fault rules. Each packet first meets the rules, in
 * the order they were added (a drop ends the walk, and rules after it are not
 * consumed), then the direction's probability faults. Packets that survive
 * unharmed and undelayed pass through synchronously.
 */
export function faults(inner: LinkEnd, options: FaultOptions = {}): FaultyLink {
  const rng = options.rng ?? new Rng(0);
  const clock = options.clock;
  let live: LiveRule[] = [];
  let nextId = 1;
  let receiver: PacketHandler | undefined;
  const chances: Record<FaultDir, FaultChances> = {
    in: { ...NO_FAULTS },
    out: { ...NO_FAULTS },
  };
  const counters: Record<FaultDir, FaultCounters> = {
    in: { seen: 0, dropped: 0, duplicated: 0, corrupted: 0, delayed: 0 },
    out: { seen: 0, dropped: 0, duplicated: 0, corrupted: 0, delayed: 0 },
  };

  const needClock = (why: string): Clock => {
    if (clock === undefined) throw new Error(`faults: ${why} needs a clock (options.clock)`);
    return clock;
  };

  const configure = (dir: FaultDirs, changes: Partial<FaultChances>): void => {
    for (const d of dirsOf(dir)) {
      const next = { ...chances[d], ...changes };
      checkProbability("loss", next.loss);
      checkProbability("duplicate", next.duplicate);
      checkProbability("corrupt", next.corrupt);
      checkProbability("delayChance", next.delayChance);
      if (!(next.delay >= 0)) throw new RangeError(`delay must be ≥ 0 ms, got ${next.delay}`);
      if (next.delay > 0) needClock("a delay");
      chances[d] = next;
    }
  };
  if (options.in) configure("in", options.in);
  if (options.out) configure("out", options.out);

  const snapshot = (r: LiveRule): FaultRule => ({ ...r });

  const addRule = (spec: FaultRuleSpec): FaultRule => {
    if (spec.count !== undefined && !(Number.isInteger(spec.count) && spec.count >= 1)) {
      throw new RangeError(`rule count must be a whole number ≥ 1, got ${spec.count}`);
    }
    if (spec.chance !== undefined) checkProbability("chance", spec.chance);
    if (spec.action.kind === "delay") {
      if (!(spec.action.by >= 0))
        throw new RangeError(`delay must be ≥ 0 ms, got ${spec.action.by}`);
      needClock("a delay rule");
    }
    const rule: LiveRule = { id: nextId++, spec, remaining: spec.count, hits: 0 };
    live.push(rule);
    return snapshot(rule);
  };

  const process = (dir: FaultDir, packet: Uint8Array, emit: (p: Uint8Array) => void): void => {
    const c = counters[dir];
    c.seen++;
    let copies = 1;
    let corrupt = false;
    let delay = ZERO;
    let retired = false;
    for (const rule of live) {
      const spec = rule.spec;
      if (rule.remaining === 0) continue;
      if (spec.dir !== undefined && spec.dir !== "both" && spec.dir !== dir) continue;
      if (spec.match !== undefined && !spec.match(packet)) continue;
      if (spec.chance !== undefined && !rng.chance(spec.chance)) continue;
      rule.hits++;
      if (rule.remaining !== undefined) {
        rule.remaining--;
        if (rule.remaining === 0) retired = true;
      }
      const action = spec.action;
      if (action.kind === "drop") {
        c.dropped++;
        if (retired) live = live.filter((r) => r.remaining !== 0);
        return;
      }
      if (action.kind === "duplicate") copies++;
      else if (action.kind === "corrupt") corrupt = true;
      else delay = plus(delay, action.by);
    }
    if (retired) live = live.filter((r) => r.remaining !== 0);

    const ch = chances[dir];
    if (ch.loss > 0 && rng.chance(ch.loss)) {
      c.dropped++;
      return;
    }
    if (ch.duplicate > 0 && rng.chance(ch.duplicate)) copies++;
    if (ch.corrupt > 0 && rng.chance(ch.corrupt)) corrupt = true;
    if (ch.delay > 0 && rng.chance(ch.delayChance)) delay = plus(delay, ch.delay);

    c.duplicated += copies - 1;
    let first = packet;
    if (corrupt) {
      first = packet.slice();
      flipRandomBit(first, rng);
      c.corrupted++;
    }
    const out: Uint8Array[] = [first];
    for (let i = 1; i < copies; i++) out.push(packet.slice());
    if (delay > 0) {
      c.delayed++;
      const held = out.map((p) => (p === packet ? packet.slice() : p)); // the sender may reuse its buffer
      const clk = needClock("a delay");
      clk.schedule(later(clk.now(), delay), () => {
        for (const p of held) emit(p);
      });
      return;
    }
    for (const p of out) emit(p);
  };

  /** Whether anything could happen to a packet going `dir`. */
  const active = (dir: FaultDir): boolean => {
    const ch = chances[dir];
    if (ch.loss > 0 || ch.duplicate > 0 || ch.corrupt > 0 || (ch.delay > 0 && ch.delayChance > 0)) {
      return true;
    }
    return live.some(
      (r) =>
        r.remaining !== 0 &&
        (r.spec.dir === undefined || r.spec.dir === "both" || r.spec.dir === dir),
    );
  };

  /**
   * Rules and chances apply to the segments a peer sees: an offloaded
   * packet is cut and checksummed in software first (softwareSegments) —
   * unless nothing could happen to it, when it passes as it is.
   */
  const handle = (
    dir: FaultDir,
    packet: Uint8Array,
    offload: Offload | undefined,
    emit: (p: Uint8Array, offload?: Offload) => void,
  ): void => {
    if (offload === undefined) {
      process(dir, packet, emit);
    } else if (!active(dir)) {
      counters[dir].seen++;
      emit(packet, offload);
    } else {
      for (const p of softwareSegments(packet, offload)) process(dir, p, emit);
    }
  };

  inner.onReceive((packet, offload) => {
    handle("in", packet, offload, (p, o) => receiver?.(p, o));
  });

  return {
    get mtu() {
      return inner.mtu;
    },
    get offloads() {
      return inner.offloads;
    },
    send(packet, offload) {
      handle("out", packet, offload, (p, o) => inner.send(p, o));
    },
    onReceive(handler) {
      receiver = handler;
    },
    addRule,
    removeRule(rule) {
      const id = typeof rule === "number" ? rule : rule.id;
      const before = live.length;
      live = live.filter((r) => r.id !== id);
      return live.length < before;
    },
    clearRules() {
      live = [];
    },
    rules() {
      return live.map(snapshot);
    },
    dropNext(n, dir = "both", match) {
      return addRule(
        match === undefined
          ? { action: { kind: "drop" }, dir, count: n }
          : { action: { kind: "drop" }, dir, count: n, match },
      );
    },
    delayNext(n, ms, dir = "both", match) {
      return addRule(
        match === undefined
          ? { action: { kind: "delay", by: ms }, dir, count: n }
          : { action: { kind: "delay", by: ms }, dir, count: n, match },
      );
    },
    configure,
    chances(dir) {
      return { ...chances[dir] };
    },
    counters(dir) {
      return counters[dir];
    },
  };
}
