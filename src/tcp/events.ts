import { State, type TcpError } from "./state.ts";
import type { TcbEvents, TcbView } from "./view.ts";

/**
 * Events after processing, not during. While the engine processes a segment,
 * a timer or a user call, what it has to tell its users (a TCB's events, the
 * Host's) waits here; it is delivered once the work is done, in the order it
 * was raised — as smoltcp's dispatch never calls user code. A callback sees
 * the state and counters already updated by the segment that caused its
 * event, and what it does (a read, a write, a close) is processed on its
 * own, never in the middle of another segment. A segment's output routine
 * waits in the queue behind its events (TcbEvent.Output): what a callback
 * did — the bytes a readable callback read, those a writable one wrote — is
 * in the segments that answer it, as when the application had acted while
 * the segment was being processed.
 *
 * One queue serves a Host and its TCBs (a TCB without a Host makes its
 * own). The Host holds delivery for the length of an entry point
 * (receive, poll, …); a TCB's own calls deliver at their end. A call made
 * from a callback queues its events behind the ones being delivered.
 * Records are reused: no allocation per event.
 */

/** The TCB events of view.ts's TcbEvents, a segment's output routine, and a call the Host deferred. */
export enum TcbEvent {
  StateChanged,
  Readable,
  Writable,
  Established,
  Closed,
  /** The output routine after a segment (output.ts), run in turn behind the segment's events. */
  Output,
  Call,
}

/** What raises TCB events: it hands one to its listeners as they are at delivery (and runs its Output). */
export interface EventSource {
  deliverEvent(kind: TcbEvent, from: State, to: State, error: TcpError | undefined): void;
}

type Deferred = (a: unknown, b: unknown) => void;

class Pending {
  kind = TcbEvent.Call;
  source: EventSource | undefined = undefined;
  from = State.Closed;
  to = State.Closed;
  error: TcpError | undefined = undefined;
  fn: Deferred | undefined = undefined;
  a: unknown = undefined;
  b: unknown = undefined;
}

/** Hands one TCB event to one listener. */
export function fire(
  e: TcbEvents,
  tcb: TcbView,
  kind: TcbEvent,
  from: State,
  to: State,
  error: TcpError | undefined,
): void {
  switch (kind) {
    case TcbEvent.StateChanged:
      e.stateChanged?.(tcb, from, to);
      return;
    case TcbEvent.Readable:
      e.readable?.(tcb);
      return;
    case TcbEvent.Writable:
      e.writable?.(tcb);
      return;
    case TcbEvent.Established:
      e.established?.(tcb);
      return;
    case TcbEvent.Closed:
      e.closed?.(tcb, error);
      return;
    default:
      return;
  }
}

export class EventQueue {
  /** Records, reused; [0, length) are waiting. */
  private readonly records: Pending[] = [];
  private length = 0;
  /** Entry points in progress that hold delivery (hold/release). */
  private held = 0;
  private delivering = false;

  /** An entry point holds delivery, or a delivery is under way: what is raised now waits. */
  get busy(): boolean {
    return this.held > 0 || this.delivering;
  }

  /** A TCB event, delivered later to its listeners. */
  raise(
    source: EventSource,
    kind: TcbEvent,
    from = State.Closed,
    to = State.Closed,
    error?: TcpError,
  ): void {
    const r = this.next();
    r.kind = kind;
    r.source = source;
    r.from = from;
    r.to = to;
    r.error = error;
  }

  /** A call delivered in turn with the events (the Host's own events). `fn` should be made once, not per call. */
  defer<A, B>(fn: (a: A, b: B) => void, a: A, b: B): void {
    const r = this.next();
    r.kind = TcbEvent.Call;
    r.fn = fn as Deferred;
    r.a = a;
    r.b = b;
  }

  /** An entry point begins: nothing is delivered until the matching release(). */
  hold(): void {
    this.held++;
  }

  /** An entry point ends: delivers what waits once no other holds it. */
  release(): void {
    this.held--;
    this.deliver();
  }

  /**
   * Delivers the waiting events in order, and those the callbacks raise
   * meanwhile. Does nothing while an entry point holds delivery or a
   * delivery is under way further up the stack (that one goes on).
   */
  deliver(): void {
    if (this.length === 0 || this.held > 0 || this.delivering) return;
    this.delivering = true;
    let done = 0;
    try {
      while (done < this.length) {
        const r = this.records[done++] as Pending;
        if (r.kind === TcbEvent.Call) (r.fn as Deferred)(r.a, r.b);
        else (r.source as EventSource).deliverEvent(r.kind, r.from, r.to, r.error);
      }
    } finally {
      this.forget(done);
      this.delivering = false;
    }
  }

  private next(): Pending {
    let r = this.records[this.length];
    if (r === undefined) {
      r = new Pending();
      this.records.push(r);
    }
    this.length++;
    return r;
  }

  /** Lets go of the first `n` records; after a throw the rest wait for the next delivery. */
  private forget(n: number): void {
    for (let i = 0; i < n; i++) {
      const r = this.records[i] as Pending;
      r.source = undefined;
      r.error = undefined;
      r.fn = undefined;
      r.a = undefined;
      r.b = undefined;
    }
    if (n < this.length) this.records.push(...this.records.splice(0, n));
    this.length -= n;
  }
}
