/**
 * The cost of out-of-order reassembly against a hostile peer: one-byte
 * segments into every other byte of an open window, each answered at once
 * with a duplicate ACK and its SACK blocks (RFC 5681 §4.2, RFC 2018). A Tcb
 * on its own, no wire and no root: the engine's work per segment, timed.
 *
 * The holes are counted twice: with the default oooHoleLimit (the queue
 * stops growing at 1024 holes and drops the rest), and with the limit off,
 * so that 20,000 holes are really held — the case that shows the cost per
 * segment does not grow with the number of holes. The figure asked of it:
 * 20,000 holes within 12× the time of 2,000 (10× the segments).
 */

import { EPOCH, instant } from "../../src/clock/time.ts";
import { defaultTcpSettings, type TcpSettings } from "../../src/tcp/settings.ts";
import { openTcb } from "../../src/tcp/tcb.ts";
import type { DrivenTcb } from "../../src/tcp/view.ts";
import { seqAdd } from "../../src/wire/seq.ts";
import { Flag, type TcpSegment } from "../../src/wire/tcp-types.ts";

export const REASSEMBLY_HOLES = [2000, 20_000] as const;
/** The bound of the ratio 20,000 / 2,000 holes (10× the segments). */
export const REASSEMBLY_MAX_RATIO = 12;

export interface ReassemblyCase {
  readonly holes: number;
  readonly holeLimit: number | "off";
  /** CPU seconds, the least of the repetitions (the least disturbed by other work on the machine). */
  readonly seconds: number;
  /** Holes the queue held at the end. */
  readonly held: number;
}

export interface ReassemblyBench {
  readonly cases: readonly ReassemblyCase[];
  /** Seconds for 20,000 holes over seconds for 2,000, limit off. */
  readonly ratio: number;
  readonly ok: boolean;
  readonly command: string;
}

const LOCAL = { addr: 0x0a000001, port: 80 };
const REMOTE = { addr: 0x0a000002, port: 40000 };

/** ESTABLISHED with SACK and a window that spans 2·holes bytes; the peer's ISS is 5000. */
function victim(holes: number, holeLimit: number): DrivenTcb {
  const settings: TcpSettings = {
    ...defaultTcpSettings,
    rcvBuf: Math.max(65_535, 2 * holes + 1000),
    oooHoleLimit: holeLimit,
    timestamps: false,
  };
  const tcb = openTcb.connect({ local: LOCAL, remote: REMOTE, iss: 1000, settings, now: EPOCH });
  tcb.takeOutput();
  const synAck = segment(5000, Flag.SYN | Flag.ACK, [
    { kind: "mss", value: 1460 },
    { kind: "sackPermitted" },
  ]);
  tcb.input({ ...synAck, payload: new Uint8Array(0) }, EPOCH);
  tcb.takeOutput();
  return tcb;
}

function segment(seq: number, flags: number, options: TcpSegment["options"] = []): TcpSegment {
  return {
    srcPort: REMOTE.port,
    dstPort: LOCAL.port,
    seq,
    ack: 1001,
    flags,
    window: 65535,
    urgentPointer: 0,
    options,
    payload: ONE_BYTE,
  };
}

const ONE_BYTE = new Uint8Array([0x78]);

/** Seconds to take `holes` one-byte segments at every other byte (output drained each time). */
function once(holes: number, holeLimit: number): { seconds: number; held: number } {
  const tcb = victim(holes, holeLimit);
  Bun.gc(true); // every run starts from a collected heap
  // CPU time of this process, not the wall clock: on a shared machine other
  // work stretches wall time unevenly between a short case and a long one.
  const start = process.cpuUsage();
  for (let i = 0; i < holes; i++) {
    tcb.input(segment(seqAdd(5001, 1 + 2 * i), Flag.ACK), instant(1));
    tcb.takeOutput();
  }
  const used = process.cpuUsage(start);
  const seconds = (used.user + used.system) / 1e6;
  return { seconds, held: tcb.reassembly.holes };
}

export function runReassemblyBench(reps = 7): ReassemblyBench {
  // Warm-up: let the JIT see the path at both sizes first.
  for (const holes of REASSEMBLY_HOLES) once(holes, Number.POSITIVE_INFINITY);
  const cases: ReassemblyCase[] = [];
  for (const holeLimit of [defaultTcpSettings.oooHoleLimit, Number.POSITIVE_INFINITY]) {
    for (const holes of REASSEMBLY_HOLES) {
      const runs = Array.from({ length: reps }, () => once(holes, holeLimit));
      cases.push({
        holes,
        holeLimit: Number.isFinite(holeLimit) ? holeLimit : "off",
        seconds: Math.min(...runs.map((r) => r.seconds)),
        held: runs[0]?.held ?? 0,
      });
    }
  }
  const off = (n: number) => cases.find((c) => c.holeLimit === "off" && c.holes === n)?.seconds;
  const ratio = (off(20_000) ?? Number.NaN) / (off(2000) ?? Number.NaN);
  return {
    cases,
    ratio,
    ok: ratio <= REASSEMBLY_MAX_RATIO,
    command: "bun scripts/bench-sim.ts --reassembly-only",
  };
}

export function reassemblyText(r: ReassemblyBench): string {
  const rows = r.cases.map(
    (c) =>
      `  ${String(c.holes).padStart(6)} holes  limit ${String(c.holeLimit).padStart(4)}  ${(c.seconds * 1000).toFixed(1).padStart(8)} ms  held ${c.held}`,
  );
  return [
    "out-of-order reassembly (one-byte segments into every other byte, SACK on):",
    ...rows,
    `  20,000 / 2,000 holes (limit off): ${r.ratio.toFixed(2)}× (at most ${REASSEMBLY_MAX_RATIO}×) ${r.ok ? "ok" : "TOO SLOW"}`,
  ].join("\n");
}

export function reassemblyMarkdown(r: ReassemblyBench): string {
  return [
    "## Out-of-order reassembly against a hostile peer",
    "",
    `One-byte segments into every other byte of an open window, each answered with a duplicate ACK and SACK blocks; a Tcb alone, CPU time, the least of 7 runs. With the hole limit off every hole is held: 20,000 holes take ${r.ratio.toFixed(2)}× the time of 2,000 (bound ${REASSEMBLY_MAX_RATIO}×, 10× the segments).`,
    "",
    "| holes sent | hole limit | time | holes held |",
    "|---:|---:|---:|---:|",
    ...r.cases.map(
      (c) => `| ${c.holes} | ${c.holeLimit} | ${(c.seconds * 1000).toFixed(1)} ms | ${c.held} |`,
    ),
    "",
  ].join("\n");
}
