import type { Clock } from "../../src/clock/clock.ts";
import { State } from "../../src/tcp/state.ts";
import type { TcbView } from "../../src/tcp/view.ts";

/**
 * An application that writes `data` to `tcb` and closes: from the engine's
 * events, synchronously, as the sockets layer wakes a blocked send — the
 * harshest timing for the output routine.
 */
export function streamOut(tcb: TcbView, data: Uint8Array, clock: Clock): void {
  let offset = 0;
  const write = (t: TcbView) => {
    const now = clock.now();
    while (offset < data.length) {
      const n = t.send(data.subarray(offset), now);
      if (typeof n === "string" || n === 0) break;
      offset += n;
    }
    if (offset === data.length && t.state === State.Established) t.close(now);
  };
  tcb.observe({ established: write, writable: write });
}
