import type { Connection } from "../api/net.ts";
import type { Clock, TimerHandle } from "../clock/clock.ts";
import { type Duration, type Instant, later } from "../clock/time.ts";
import { DeadlineHeap } from "../util/deadline-heap.ts";

/**
 * Closes a service's connections whose peer has sent nothing for `timeout`
 * (an HTTP keep-alive timeout, an echo idle timeout): no connection lives
 * forever once its peer has gone quiet or away. One clock timer for the
 * whole service, at the earliest deadline of a heap; traffic only moves the
 * TCB's last-heard time, and a connection found active when its deadline
 * comes is filed again at its new one — so a busy connection costs nothing
 * per segment and an idle one one heap entry.
 */
export class IdleReaper {
  private readonly heap = new DeadlineHeap<Connection, Instant>();
  private timer: TimerHandle | undefined;
  private armedAt: Instant | undefined;
  private serial = 0;
  /** Connections closed for idleness. */
  closed = 0;

  constructor(
    private readonly clock: Clock,
    readonly timeout: Duration,
    /** Gracefully closes an idle connection (its FIN goes after what is queued). */
    private readonly close: (conn: Connection) => void,
  ) {}

  watch(conn: Connection): void {
    this.heap.set(conn, later(this.clock.now(), this.timeout), ++this.serial);
    this.arm();
  }

  forget(conn: Connection): void {
    this.heap.delete(conn);
  }

  stop(): void {
    if (this.timer !== undefined) this.clock.cancel(this.timer);
    this.timer = undefined;
    this.armedAt = undefined;
  }

  private arm(): void {
    const at = this.heap.peek();
    if (at === this.armedAt) return;
    if (this.timer !== undefined) this.clock.cancel(this.timer);
    this.armedAt = at;
    this.timer = at === undefined ? undefined : this.clock.schedule(at, () => this.fire());
  }

  private fire(): void {
    this.timer = undefined;
    this.armedAt = undefined;
    const now = this.clock.now();
    for (const conn of this.heap.popDue(now)) {
      const heard = conn.lastHeard;
      if (heard === undefined) continue; // already gone
      const due = later(heard, this.timeout);
      if (due > now) {
        this.heap.set(conn, due, ++this.serial);
      } else {
        this.closed++;
        this.close(conn);
      }
    }
    this.arm();
  }
}
