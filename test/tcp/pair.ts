import {
  type Duration,
  EPOCH,
  type Instant,
  later,
  max,
  ms,
  plus,
  ZERO,
} from "../../src/clock/time.ts";
import { Listener } from "../../src/tcp/listener.ts";
import type { TcpSettings } from "../../src/tcp/settings.ts";
import { Tcb } from "../../src/tcp/tcb.ts";
import type { Endpoint } from "../../src/wire/addr.ts";
import { ip } from "../../src/wire/addr.ts";
import type { TcpSegment } from "../../src/wire/tcp-types.ts";
import { settings } from "./helpers.ts";

export const A: Endpoint = { addr: ip("10.0.0.1"), port: 49152 };
export const B: Endpoint = { addr: ip("10.0.0.2"), port: 80 };

interface InFlight {
  at: Instant;
  order: number;
  to: "a" | "b";
  seg: TcpSegment;
}

export interface Faults {
  /** Return true to drop this segment. */
  drop?(seg: TcpSegment, from: "a" | "b"): boolean;
  /** Extra one-way delay for this segment (reordering). */
  jitter?(seg: TcpSegment, from: "a" | "b"): Duration;
}

/**
 * Two TCBs back to back in one process: `a` opens actively to a Listener
 * whose accepted Tcb becomes `b`. Segments take `delay` ms; time jumps to
 * the next arrival or deadline. No I/O, no real clock.
 */
export class Pair {
  now: Instant = EPOCH;
  a: Tcb;
  b: Tcb | undefined;
  readonly listener: Listener;
  private wire: InFlight[] = [];
  private order = 0;
  segments = 0;
  dropped = 0;

  constructor(
    readonly delay: Duration = ms(10),
    readonly faults: Faults = {},
    readonly sa: TcpSettings = settings(),
    readonly sb: TcpSettings = settings(),
  ) {
    this.listener = new Listener(B, { backlog: 4, settings: sb });
    this.a = Tcb.connect({ local: A, remote: B, iss: 0xfffff000, settings: sa, now: EPOCH });
    this.collect();
  }

  private collect(): void {
    for (const [from, tcb] of [
      ["a", this.a],
      ["b", this.b],
    ] as const) {
      if (tcb === undefined) continue;
      for (const seg of tcb.takeOutput()) {
        this.segments++;
        if (this.faults.drop?.(seg, from)) {
          this.dropped++;
          continue;
        }
        const at = later(this.now, plus(this.delay, this.faults.jitter?.(seg, from) ?? ZERO));
        this.wire.push({ at, order: this.order++, to: from === "a" ? "b" : "a", seg });
      }
    }
  }

  private deliver(p: InFlight): void {
    if (p.to === "a") {
      this.a.input(p.seg, this.now);
      return;
    }
    if (this.b === undefined) {
      const v = this.listener.input(p.seg, A, this.now);
      if (v.action === "syn") {
        this.b = Tcb.accept({
          local: B,
          remote: A,
          iss: 7,
          settings: this.sb,
          now: this.now,
          syn: p.seg,
        });
        this.listener.addHalfOpen(this.b);
      }
      return;
    }
    this.b.input(p.seg, this.now);
  }

  /** Next moment something happens, or undefined when all is quiet. */
  private next(): Instant | undefined {
    let t: Instant | undefined;
    for (const p of this.wire) if (t === undefined || p.at < t) t = p.at;
    for (const tcb of [this.a, this.b]) {
      const d = tcb?.pollAt();
      if (d !== undefined && (t === undefined || d < t)) t = d;
    }
    return t;
  }

  /** Advances one event; `app` runs after each. Returns false when quiet or past `until`. */
  step(until: Instant, app?: (p: Pair) => void): boolean {
    const t = this.next();
    if (t === undefined || t > until) return false;
    this.now = max(this.now, t);
    this.wire.sort((x, y) => x.at - y.at || x.order - y.order);
    while (this.wire.length > 0 && this.wire[0]!.at <= this.now) this.deliver(this.wire.shift()!);
    for (const tcb of [this.a, this.b]) {
      const d = tcb?.pollAt();
      if (tcb !== undefined && d !== undefined && d <= this.now) tcb.onTimer(this.now);
    }
    app?.(this);
    this.collect();
    return true;
  }

  run(until: Instant, app?: (p: Pair) => void): void {
    app?.(this);
    this.collect();
    while (this.step(until, app)) {}
  }
}
