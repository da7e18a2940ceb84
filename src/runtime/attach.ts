import type { Clock, TimerHandle } from "../clock/clock.ts";
import { type Duration, type Instant, later, max, ms } from "../clock/time.ts";
import type { LinkEnd } from "../link/link.ts";
import type { Host } from "../stack/host.ts";
import type { Offload } from "../wire/offload.ts";

/**
 * A Host bound to a link and a clock: the one place where the sans-IO host
 * meets time and packets. Packets from the link go to `host.receive(packet,
 * now)`; the host's output is flushed to the link; the host's next deadline
 * (`pollAt()`) is kept armed as a single clock timer.
 *
 * A link that delivers in bursts (LinkEnd.onBatchEnd, the TUN device) gets
 * one flush per burst: every packet of the burst is processed first, then
 * the output goes out and the timer is re-armed once — a burst of ACKs
 * opens the window once and is answered by one train of segments. Flushes
 * asked for during the burst (user calls made from the host's events) wait
 * for its end, in the same task. Other links (the simulated wire) get a
 * flush after every packet, so simulated runs keep their exact order. A
 * flush asked for while the host delivers a packet's or a timer's events
 * waits for the end of that packet or timer: the events come first, then
 * the output.
 */
/** Where a throw inside the host was caught: a timer run, a packet's processing, or taking its output. */
export type HostErrorSource = "poll" | "receive" | "flush";

export interface AttachOptions {
  /**
   * A throw from the host (a bug: bad input is dropped, never thrown). The
   * attachment contains it, reports it here — the lab shows it — and keeps
   * the host running: its output is flushed and its timer re-armed.
   * Without a handler the error is written to stderr.
   */
  readonly onError?: (error: unknown, source: HostErrorSource) => void;
}

/**
 * After a throw from poll, the timer is re-armed no sooner than this: a
 * deadline that throws every time would otherwise fire again at once, forever.
 */
export const ERROR_RETRY_MS: Duration = ms(100);

export interface Attachment {
  readonly host: Host;
  readonly link: LinkEnd;
  readonly clock: Clock;
  /** Sends what the host has queued and re-arms its timer: call after every user call. */
  flush(): void;
  /** Stops listening to the link and cancels the timer. */
  detach(): void;
  /** Throws contained so far (see AttachOptions.onError). */
  readonly errors: number;
}

export function attach(
  host: Host,
  link: LinkEnd,
  clock: Clock,
  opts: AttachOptions = {},
): Attachment {
  let timer: TimerHandle | undefined;
  let errors = 0;
  /** No timer before this (after a throw from poll). */
  let notBefore: Instant | undefined;
  const report = (error: unknown, source: HostErrorSource): void => {
    errors++;
    if (opts.onError !== undefined) opts.onError(error, source);
    else console.error(`tcplab: host ${host.name}: error in ${source}:`, error);
  };
  let armedAt: Instant | undefined;
  let attached = true;
  /** Inside a burst of a batching link: flushes wait for its end. */
  let inBatch = false;
  /** Inside host.receive or host.poll (its events' callbacks included): flushes wait for its end. */
  let inHost = false;
  let flushWanted = false;

  const fire = (): void => {
    timer = undefined;
    armedAt = undefined;
    if (!attached) return;
    const now = clock.now();
    inHost = true;
    try {
      host.poll(now);
    } catch (error) {
      notBefore = later(now, ERROR_RETRY_MS);
      report(error, "poll");
    } finally {
      inHost = false;
    }
    flush();
  };

  const arm = (): void => {
    let at = host.pollAt();
    if (at !== undefined && notBefore !== undefined) {
      if (clock.now() >= notBefore) notBefore = undefined;
      else at = max(at, notBefore);
    }
    if (at === armedAt && (timer !== undefined || at === undefined)) return;
    if (timer !== undefined) clock.cancel(timer);
    armedAt = at;
    timer = at === undefined ? undefined : clock.schedule(at, fire);
  };

  const flush = (): void => {
    if (!attached) return;
    if (inBatch || inHost) {
      flushWanted = true;
      return;
    }
    flushWanted = false;
    try {
      host.flushOutput(send);
    } catch (error) {
      report(error, "flush");
    }
    arm();
  };

  // Offloaded packets (super-segments, partial checksums) go to the link as they are.
  const send = (packet: Uint8Array, offload: Offload | undefined): void =>
    link.send(packet, offload);
  const batching = link.onBatchEnd !== undefined;
  link.onReceive((packet, offload) => {
    if (!attached) return;
    if (batching) inBatch = true;
    inHost = true;
    try {
      host.receive(packet, clock.now(), offload);
    } catch (error) {
      report(error, "receive");
    } finally {
      inHost = false;
    }
    flush();
  });
  link.onBatchEnd?.(() => {
    if (!inBatch) return;
    inBatch = false;
    if (flushWanted) {
      flushWanted = false;
      flush();
    }
  });

  return {
    host,
    link,
    clock,
    flush,
    get errors() {
      return errors;
    },
    detach() {
      attached = false;
      if (timer !== undefined) clock.cancel(timer);
      timer = undefined;
      armedAt = undefined;
    },
  };
}
