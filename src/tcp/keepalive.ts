import { EPOCH, type Instant, later } from "../clock/time.ts";
import { seqAdd } from "../wire/seq.ts";
import { Flag } from "../wire/tcp-types.ts";
import { emit, unsentBytes } from "./output.ts";
import type { TcpSettings } from "./settings.ts";
import { State } from "./state.ts";
import type { Tcb } from "./tcb.ts";

/**
 * Keep-alive (RFC 9293 §3.8.4, RFC 1122 §4.2.3.6) and the user timeout
 * (RFC 9293 §3.8.3, RFC 5482): the two ways a quiet connection gives up.
 *
 * A probe is <SEQ=SND.NXT−1><ACK=RCV.NXT><CTL=ACK> with no data: its
 * sequence number is already acknowledged, so the peer finds it
 * unacceptable and must answer with an ACK (RFC 9293 §3.10.7.4 first
 * step). RFC 1122 allows one garbage byte instead, for peers that do not
 * answer an empty segment; we send none — the byte would have to be kept
 * after it was acknowledged, and every peer tcplab meets answers the
 * empty form (Linux and FreeBSD send it too).
 */
export class KeepAlive {
  /** SO_KEEPALIVE. */
  on: boolean;
  /** Last time the peer was heard from (or a busy connection was checked). */
  since: Instant;
  /** Probes sent since the peer was last heard from. */
  probes = 0;
  lastProbeAt: Instant = EPOCH;

  constructor(
    private readonly settings: TcpSettings,
    now: Instant,
  ) {
    this.on = settings.keepAlive;
    this.since = now;
  }

  /**
   * An acceptable segment from the peer (past PAWS and the sequence, RST,
   * SYN and ACK checks: segment-arrival.ts): the connection is alive, start
   * the idle time again.
   */
  heard(now: Instant): void {
    this.since = now;
    this.probes = 0;
  }

  /** Probes run only where a connection can sit idle with nothing of ours outstanding. */
  private applies(state: State): boolean {
    return (
      this.on &&
      (state === State.Established || state === State.CloseWait || state === State.FinWait2)
    );
  }

  /** When the keep-alive timer fires: idle after the last word from the peer, then every interval. */
  deadline(state: State): Instant | undefined {
    if (!this.applies(state)) return undefined;
    const s = this.settings;
    return this.probes === 0
      ? later(this.since, s.keepAliveIdle)
      : later(this.lastProbeAt, s.keepAliveInterval);
  }

  /**
   * The timer fired. After `keepAliveCount` unanswered probes the connection
   * is dropped (ETIMEDOUT); while data is outstanding the retransmission
   * timer watches the peer instead, so the idle period just starts again.
   */
  fire(tcb: Tcb, now: Instant): void {
    if (this.probes >= this.settings.keepAliveCount) {
      tcb.closeWith("ETIMEDOUT");
      return;
    }
    if (tcb.sendBuf.inFlight.length > 0 || unsentBytes(tcb) > 0) {
      // The idle period starts again, and so does the probe count: with
      // probes > 0 the deadline is lastProbeAt + interval, which would stay
      // at `now` and fire again at once, forever.
      this.since = now;
      this.probes = 0;
      return;
    }
    emit(tcb, seqAdd(tcb.sndNxt, -1), Flag.ACK);
    this.probes++;
    this.lastProbeAt = now;
  }
}
