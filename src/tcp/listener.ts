import type { Instant } from "../clock/time.ts";
import type { Endpoint } from "../wire/addr.ts";
import { Flag, type TcpSegment } from "../wire/tcp-types.ts";
import { resetFor } from "./reset.ts";
import type { TcpSettings } from "./settings.ts";
import { State } from "./state.ts";
import type { DrivenTcb, TcbView } from "./view.ts";

export type ListenerVerdict =
  | { action: "drop"; reason: ListenerDropReason }
  | { action: "reset"; rst: TcpSegment }
  | { action: "syn" }
  /** The half-open set is full: answer with a SYN cookie and keep nothing (settings.synCookies). */
  | { action: "cookie" };

export type ListenerDropReason =
  | "rst"
  | "syn-ack"
  | "syn-fin"
  | "no-syn"
  | "backlog-full"
  | "closed";

/**
 * A socket in LISTEN (RFC 9293 §3.10.7.2) and its backlog: connections
 * half-open (SYN-RECEIVED) and completed ones waiting for accept().
 *
 * A SYN's text and a FIN on a SYN are not queued: they are left
 * unacknowledged by Tcb.accept so the peer sends them again after the
 * handshake. SYN+FIN may be dropped outright (settings.dropSynFin: a scan
 * signature rather than a connection).
 */
export class Listener {
  readonly local: Endpoint;
  readonly backlog: number;
  readonly halfOpenLimit: number;
  readonly settings: TcpSettings;
  private readonly queue: DrivenTcb[] = [];
  private readonly pending = new Set<DrivenTcb>();
  private closed = false;
  /** Stops watching a connection (once accepted, it belongs to the application). */
  private readonly unwatch = new Map<DrivenTcb, () => void>();
  /** Statistics: segments dropped, by reason (SYNs dropped for a full backlog under "backlog-full"). */
  readonly drops: Record<ListenerDropReason, number> = {
    rst: 0,
    "syn-ack": 0,
    "syn-fin": 0,
    "no-syn": 0,
    "backlog-full": 0,
    closed: 0,
  };

  constructor(
    local: Endpoint,
    opts: { backlog: number; halfOpenLimit?: number; settings: TcpSettings },
  ) {
    this.local = local;
    this.backlog = Math.max(1, opts.backlog);
    this.halfOpenLimit = opts.halfOpenLimit ?? this.backlog;
    this.settings = opts.settings;
  }

  get acceptQueue(): readonly TcbView[] {
    return this.queue;
  }

  get halfOpen(): ReadonlySet<TcbView> {
    return this.pending;
  }

  /** LISTEN-state processing of one segment, in the RFC's order. */
  input(seg: TcpSegment, _remote: Endpoint, now: Instant): ListenerVerdict {
    if (this.closed) return this.drop("closed");
    // First, check for a RST: "An incoming RST should be ignored."
    if (seg.flags & Flag.RST) return this.drop("rst");
    // Second, check for an ACK: "<SEQ=SEG.ACK><CTL=RST>" — for a SYN-ACK,
    // unless settings.listenSynAckReset says drop it silently (FreeBSD).
    if (seg.flags & Flag.ACK) {
      if (seg.flags & Flag.SYN && !this.settings.listenSynAckReset) return this.drop("syn-ack");
      const rst = resetFor(seg);
      return rst === undefined ? this.drop("rst") : { action: "reset", rst };
    }
    // Third, check for a SYN.
    if (!(seg.flags & Flag.SYN)) return this.drop("no-syn"); // fourth: anything else
    // RFC 9293 processes the SYN and leaves the FIN for later; settings.dropSynFin may drop it.
    if (seg.flags & Flag.FIN && this.settings.dropSynFin !== "never") return this.drop("syn-fin");
    // A full accept queue drops the SYN even with cookies: the connection could not be queued.
    if (this.queue.length >= this.backlog) return this.drop("backlog-full");
    if (this.pending.size >= this.halfOpenLimit) {
      if (!this.settings.synCookies) return this.drop("backlog-full");
      this.lastCookieAt = now;
      return { action: "cookie" };
    }
    return { action: "syn" };
  }

  /** When a SYN was last answered with a cookie: ACKs are checked for cookies only for a while after. */
  lastCookieAt: Instant | undefined;

  /** Whether the accept queue has room for one more connection. */
  get acceptRoom(): boolean {
    return this.queue.length < this.backlog;
  }

  /** Statistics: handshakes held back in SYN-RECEIVED because the accept queue was full. */
  acceptOverflows = 0;

  /**
   * Whether a half-open connection may complete its handshake now: the
   * accept queue has room. Half-open connections may outnumber the free
   * places in the accept queue: the one that completes when it is full
   * waits (TcbOptions.admit).
   */
  readonly admit = (): boolean => {
    if (this.queue.length < this.backlog) return true;
    this.acceptOverflows++;
    return false;
  };

  /** Tracks a Tcb opened with `admit` for a SYN this listener let through. */
  addHalfOpen(tcb: DrivenTcb): void {
    this.pending.add(tcb);
    const stop = tcb.observe({
      established: () => {
        if (!this.pending.delete(tcb)) return;
        this.queue.push(tcb);
      },
      closed: () => {
        // Reset or timed out before accept(): forget it.
        this.pending.delete(tcb);
        const i = this.queue.indexOf(tcb);
        if (i >= 0) this.queue.splice(i, 1);
        stop();
      },
    });
    // A connection that the application takes over is no longer ours to watch.
    this.unwatch.set(tcb, stop);
  }

  /** Next completed connection, if any. */
  accept(): TcbView | undefined {
    const tcb = this.queue.shift();
    if (tcb !== undefined) {
      this.unwatch.get(tcb)?.();
      this.unwatch.delete(tcb);
    }
    return tcb;
  }

  /**
   * Closing the listening socket aborts every connection not yet accepted
   * (ABORT, RFC 9293 §3.10.5: a RST). Half-open ones are forgotten without a
   * RST when settings.listenerCloseHalfOpen is "drop" (FreeBSD, Linux).
   */
  close(now: Instant): void {
    this.closed = true;
    const halfOpen = [...this.pending];
    const all = [...halfOpen, ...this.queue];
    this.pending.clear();
    this.queue.length = 0;
    const silent = this.settings.listenerCloseHalfOpen === "drop";
    for (const tcb of all) {
      this.unwatch.get(tcb)?.();
      if (tcb.state === State.Closed) continue;
      if (silent && halfOpen.includes(tcb)) tcb.closeWith("ECONNABORTED");
      else tcb.abort(now);
    }
    this.unwatch.clear();
  }

  private drop(reason: ListenerDropReason): ListenerVerdict {
    this.drops[reason]++;
    return { action: "drop", reason };
  }
}
