import { createHash } from "node:crypto";
import { type Duration, EPOCH, elapsed, type Instant, later, ms } from "../clock/time.ts";
import type { WireCounters, WireSettings } from "../link/sim-wire.ts";
import type { TcpSettings } from "../tcp/settings.ts";
import { State, stateName, type TcpError } from "../tcp/state.ts";
import type { TcbView } from "../tcp/view.ts";
import { Rng } from "../util/rng.ts";
import { ip } from "../wire/addr.ts";
import { simPair } from "./sim-pair.ts";

export interface SimTransferOptions {
  readonly bytes: number;
  readonly seed: number;
  readonly wire?: Partial<WireSettings>;
  readonly mtu?: number;
  /** Stop after this much simulated time (default 1 h). */
  readonly maxSimMs?: Duration;
  /** Stop after this many clock events (default 50 million). */
  readonly maxEvents?: number;
  readonly port?: number;
  /** TCP settings for both hosts (congestion control, buffers, window scaling …). */
  readonly tcp?: Partial<TcpSettings>;
  /**
   * Record the sender's congestion state and the receiver's progress every
   * `sampleEveryMs` of simulated time until the receiver has read the end of
   * the stream (read-only: the transfer itself is unchanged).
   */
  readonly sampleEveryMs?: Duration;
}

/** One look at the transfer (see `sampleEveryMs`). */
export interface SimSample {
  readonly t: Instant;
  /** Bytes the receiving application has read. */
  readonly received: number;
  /** The sender's cwnd and ssthresh, bytes. */
  readonly cwnd: number;
  readonly ssthresh: number;
  /** The sender's SND.NXT − SND.UNA, bytes. */
  readonly flight: number;
  /** The sender's SRTT (ms), once measured. */
  readonly srtt: Duration | undefined;
  /** The sender's loss-recovery episodes and data timeouts so far. */
  readonly recoveries: number;
  readonly timeouts: number;
}

export interface EndReport {
  /** RFC name of the final state. */
  readonly state: string;
  /** Every state the TCB went through, in order (RFC names). */
  readonly path: readonly string[];
  readonly error: TcpError | null;
  readonly retransmissions: number;
  /** Congestion control at the end: the controller and its loss-recovery counters. */
  readonly congestion: {
    readonly name: string;
    readonly timeouts: number;
    readonly recoveries: number;
    readonly fastRetransmits: number;
  };
}

export interface SimTransferResult {
  readonly ok: boolean;
  /** Why ok is false ("" when ok). */
  readonly failure: string;
  readonly seed: number;
  readonly bytes: number;
  readonly receivedBytes: number;
  readonly sentSha256: string;
  readonly receivedSha256: string;
  /** Simulated time when the receiver saw end of stream (null if never). */
  readonly transferMs: Duration | null;
  /** Simulated time when the run stopped (both ends CLOSED, TIME-WAIT included, or a limit). */
  readonly simulatedMs: Duration;
  readonly wallMs: number;
  readonly events: number;
  readonly retransmissions: number;
  readonly a: EndReport;
  readonly b: EndReport;
  readonly wire: { readonly "a->b": WireCounters; readonly "b->a": WireCounters };
  readonly stats: {
    readonly a: { packets: Record<string, number>; drops: Record<string, number> };
    readonly b: { packets: Record<string, number>; drops: Record<string, number> };
  };
  /** With `sampleEveryMs`: the samples, in time order. */
  readonly samples?: readonly SimSample[];
}

/** The receive buffer is drained in pieces of this size. */
const READ_CHUNK = 1 << 20;

/**
 * Host a (10.0.0.1) connects to host b (10.0.0.2, listening), sends `bytes`
 * seeded pseudo-random bytes and closes; b reads to end of stream and closes.
 * Runs a VirtualClock as fast as events allow, bounded by `maxSimMs` and
 * `maxEvents`, and reports hashes, times and final states.
 *
 * The applications are written against the TCB events directly (the
 * synchronous level of the stack), and act in a clock task of their own at
 * the current instant — never from inside the engine's event callback.
 */
export function runSimTransfer(opts: SimTransferOptions): SimTransferResult {
  const wallStart = performance.now();
  const port = opts.port ?? 5001;
  const world = simPair({
    seed: opts.seed,
    ...(opts.mtu !== undefined ? { mtu: opts.mtu } : {}),
    ...(opts.wire !== undefined ? { wire: opts.wire } : {}),
    ...(opts.tcp !== undefined ? { host: { tcp: opts.tcp } } : {}),
  });
  const { clock } = world;
  const data = new Rng(opts.seed).fork("data").bytes(opts.bytes);
  const sentSha256 = createHash("sha256").update(data).digest("hex");
  const received = createHash("sha256");
  let receivedBytes = 0;
  let transferMs: Duration | null = null;

  const aPath: string[] = [];
  const bPath: string[] = [];
  const track = (tcb: TcbView, path: string[]) => {
    path.push(stateName(tcb.state));
    tcb.observe({ stateChanged: (_t, _from, to) => path.push(stateName(to)) });
  };

  // ── receiver: b ──
  const listening = world.b.host.listen(port, 1);
  if (typeof listening === "string") throw new Error(`listen failed: ${listening}`);
  const listener = listening;
  let server: TcbView | undefined;
  let serverClosing = false;
  const serverStep = () => {
    if (server === undefined) {
      server = listener.accept();
      if (server === undefined) return;
      track(server, bPath);
      server.observe({ readable: () => schedule("b"), stateChanged: () => schedule("b") });
    }
    const now = clock.now();
    while (server.recvAvailable > 0) {
      const chunk = server.recv(READ_CHUNK, now);
      received.update(chunk);
      receivedBytes += chunk.length;
    }
    if (server.peerClosed && !serverClosing) {
      serverClosing = true;
      transferMs = elapsed(EPOCH, now);
      server.close(now);
    }
    world.b.attachment.flush();
  };
  world.b.host.events.acceptable = () => schedule("b");

  // ── sender: a ──
  const client = world.a.host.connect({ addr: ip("10.0.0.2"), port }, clock.now());
  if (typeof client === "string") throw new Error(`connect failed: ${client}`);
  track(client, aPath);
  let offset = 0;
  let clientClosed = false;
  const clientStep = () => {
    const now = clock.now();
    while (offset < data.length) {
      const n = client.send(data.subarray(offset), now);
      if (typeof n === "string" || n === 0) break;
      offset += n;
    }
    if (offset === data.length && !clientClosed && client.state === State.Established) {
      clientClosed = true;
      client.close(now);
    }
    world.a.attachment.flush();
  };
  client.observe({
    established: () => schedule("a"),
    writable: () => schedule("a"),
  });

  // One pending task per side at most: the engine's events only mark work to do.
  const pending = { a: false, b: false };
  function schedule(side: "a" | "b"): void {
    if (pending[side]) return;
    pending[side] = true;
    clock.schedule(clock.now(), () => {
      pending[side] = false;
      if (side === "a") clientStep();
      else serverStep();
    });
  }

  const samples: SimSample[] = [];
  const every = opts.sampleEveryMs;
  if (every !== undefined && every > 0) {
    const sample = () => {
      const cc = client.congestion;
      samples.push({
        t: clock.now(),
        received: receivedBytes,
        cwnd: cc.cwnd,
        ssthresh: cc.ssthresh,
        flight: cc.flightSize,
        srtt: client.srtt,
        recoveries: cc.stats.recoveries,
        timeouts: cc.stats.timeouts,
      });
      if (transferMs === null) clock.schedule(later(clock.now(), every), sample);
    };
    clock.schedule(later(clock.now(), every), sample);
  }

  world.a.attachment.flush();
  const maxSimMs = opts.maxSimMs ?? ms(3_600_000);
  const run = clock.runUntilIdle({
    maxTime: later(EPOCH, maxSimMs),
    maxEvents: opts.maxEvents ?? 50_000_000,
  });

  const receivedSha256 = received.digest("hex");
  const endOf = (tcb: TcbView | undefined, path: string[]): EndReport => ({
    state: tcb === undefined ? "NONE" : stateName(tcb.state),
    path,
    error: tcb?.error ?? null,
    retransmissions: tcb?.retransmissions ?? 0,
    congestion: {
      name: tcb?.congestion.name ?? "",
      timeouts: tcb?.congestion.stats.timeouts ?? 0,
      recoveries: tcb?.congestion.stats.recoveries ?? 0,
      fastRetransmits: tcb?.congestion.stats.fastRetransmits ?? 0,
    },
  });
  const a = endOf(client, aPath);
  const b = endOf(server, bPath);
  const aClean = client.state === State.Closed && client.error === undefined;
  const bClean =
    server !== undefined && server.state === State.Closed && server.error === undefined;
  let failure = "";
  if (receivedBytes !== data.length || receivedSha256 !== sentSha256) {
    failure = `received ${receivedBytes} of ${data.length} bytes${receivedBytes === data.length ? " (hash differs)" : ""}`;
  } else if (!aClean || !bClean) {
    failure = `not closed cleanly: a ${a.state}${a.error ? ` (${a.error})` : ""}, b ${b.state}${b.error ? ` (${b.error})` : ""}`;
  }
  if (!run.idle && failure === "") failure = "stopped by a limit with work pending";
  return {
    ok: failure === "",
    failure,
    seed: opts.seed,
    bytes: data.length,
    receivedBytes,
    sentSha256,
    receivedSha256,
    transferMs,
    simulatedMs: elapsed(EPOCH, clock.now()),
    wallMs: Math.round(performance.now() - wallStart),
    events: run.events,
    retransmissions: a.retransmissions + b.retransmissions,
    a,
    b,
    wire: {
      "a->b": structuredClone(world.wire.counters("a->b")),
      "b->a": structuredClone(world.wire.counters("b->a")),
    },
    stats: { a: world.a.host.stats(), b: world.b.host.stats() },
    ...(every !== undefined ? { samples } : {}),
  };
}
