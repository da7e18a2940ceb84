import type { Clock, Millis, TimerHandle } from "../clock/clock.ts";
import type { LinkEnd } from "../link/link.ts";
import type { Host } from "../stack/host.ts";

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
 * flush after every packet, so simulated runs keep their exact order.
 */
export interface Attachment {
  readonly host: Host;
  readonly link: LinkEnd;
  readonly clock: Clock;
  /** Sends what the host has queued and re-arms its timer: call after every user call. */
  flush(): void;
  /** Stops listening to the link and cancels the timer. */
  detach(): void;
}

export function attach(host: Host, link: LinkEnd, clock: Clock): Attachment {
  let timer: TimerHandle | undefined;
  let armedAt: Millis | undefined;
  let attached = true;
  /** Inside a burst of a batching link: flushes wait for its end. */
  let inBatch = false;
  let flushWanted = false;

  const fire = (): void => {
    timer = undefined;
    armedAt = undefined;
    if (!attached) return;
    host.poll(clock.now());
    flush();
  };

  const arm = (): void => {
    const at = host.pollAt();
    if (at === armedAt && (timer !== undefined || at === undefined)) return;
    if (timer !== undefined) clock.cancel(timer);
    armedAt = at;
    timer = at === undefined ? undefined : clock.schedule(at, fire);
  };

  const flush = (): void => {
    if (!attached) return;
    if (inBatch) {
      flushWanted = true;
      return;
    }
    const out = host.takeOutput();
    for (let i = 0; i < out.length; i++) link.send(out[i] as Uint8Array);
    arm();
  };

  const batching = link.onBatchEnd !== undefined;
  link.onReceive((packet) => {
    if (!attached) return;
    if (batching) inBatch = true;
    host.receive(packet, clock.now());
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
    detach() {
      attached = false;
      if (timer !== undefined) clock.cancel(timer);
      timer = undefined;
      armedAt = undefined;
    },
  };
}
