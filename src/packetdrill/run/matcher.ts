/**
 * Comparing a packet tcplab sent with a script's `>` line, field by field,
 * the way packetdrill does (run_packet.c, verify_tcp and
 * verify_outbound_live_tcp_options):
 *
 * - flags: exact (every bit, ECE and CWR included);
 * - seq: exact in the script's relative space, unless written `...(len)`;
 * - ack: exact; a line without `ack` expects the ACK bit off and the field 0;
 * - win: exact when the line has `win`, not checked otherwise;
 * - urg: the urgent pointer, 0 unless written;
 * - options: exact, in order, each EOL and NOP counted, unless written
 *   `<...>`; a line without options expects none. TS val and TS ecr are not
 *   compared (packetdrill checks TS val only with --tcp_ts_tick_usecs, and
 *   never the ecr of an outbound segment);
 * - payload: its length (packetdrill compares the bytes with the zeros its
 *   writes send; tcplab's payload bytes are the application's);
 * - IP: ECN codepoint, TOS and TTL when the line pins them down.
 */

import { hex } from "../../wire/bytes.ts";
import {
  formatFlags,
  formatOption,
  formatOptions,
  formatSegmentLine,
} from "../../wire/notation.ts";
import { TcpOptionKind } from "../../wire/tcp.ts";
import { Flag, type TcpOption } from "../../wire/tcp-types.ts";
import type { PacketStatement, PdTcpOption } from "../script/index.ts";
import type { FieldDiff } from "./report.ts";

/** An option as the script wrote it, in packetdrill's notation. */
export function formatPdOption(o: PdTcpOption): string {
  switch (o.kind) {
    case "md5":
      return `md5 ${o.hex}`;
    case "fastOpen":
      return `${o.experimental ? "FOEXP" : "FO"}${o.cookie ? ` ${o.cookie}` : ""}`;
    default:
      return formatOption(o, "packetdrill");
  }
}

export function formatPdOptions(opts: readonly PdTcpOption[] | "any"): string {
  if (opts === "any") return "<...>";
  return opts.length === 0 ? "" : `<${opts.map(formatPdOption).join(",")}>`;
}

/** A segment tcplab sent, with seq, ack and SACK already mapped into the script's space. */
export interface ActualSegment {
  readonly flags: number;
  readonly seq: number;
  readonly ack: number;
  readonly win: number;
  readonly urg: number;
  /** Exactly as in the header: every NOP, and every EOL byte of the padding. */
  readonly options: readonly TcpOption[];
  /** What to subtract from SACK edges to show them in the script's space. */
  readonly sackBase: number;
  readonly payloadLen: number;
  /** IPv4 TOS byte (ECN in its low two bits) and TTL. */
  readonly tos: number;
  readonly ttl: number;
}

/** `> S. 0:0(0) ack 1 win 65535 <mss 1460>` for a segment tcplab sent. */
export function formatActual(a: ActualSegment): string {
  const line = formatSegmentLine({
    flags: a.flags,
    seq: a.seq,
    len: a.payloadLen,
    ack: a.ack,
    win: a.win,
    ...(a.flags & Flag.URG || a.urg !== 0 ? { urg: a.urg } : {}),
    options: a.options,
    sackBase: a.sackBase,
  });
  return `> ${line}`;
}

/** packetdrill's rule for one option at the same position. */
function optionMatches(want: PdTcpOption, got: TcpOption, sackBase: number): boolean {
  switch (want.kind) {
    case "eol":
    case "nop":
    case "sackPermitted":
      return got.kind === want.kind;
    case "mss":
      return got.kind === "mss" && got.value === want.value;
    case "wscale":
      return got.kind === "wscale" && got.shift === want.shift;
    case "timestamps":
      // Neither TS val (no --tcp_ts_tick_usecs) nor an outbound ecr is compared.
      return got.kind === "timestamps";
    case "sack":
      return (
        got.kind === "sack" &&
        got.blocks.length === want.blocks.length &&
        want.blocks.every(([l, r], k) => {
          const [gl, gr] = got.blocks[k] as readonly [number, number];
          return (gl - sackBase) >>> 0 === l >>> 0 && (gr - sackBase) >>> 0 === r >>> 0;
        })
      );
    case "md5":
      return false; // never matched: scripts with md5 are unsupported before they run
    case "fastOpen": {
      const kind = want.experimental ? TcpOptionKind.FAST_OPEN_EXP : TcpOptionKind.FAST_OPEN;
      return (
        got.kind === "unknown" && got.type === kind && hex(got.data) === want.cookie.toLowerCase()
      );
    }
  }
}

export function optionsMatch(
  want: readonly PdTcpOption[],
  got: readonly TcpOption[],
  sackBase: number,
): boolean {
  return (
    want.length === got.length &&
    want.every((w, i) => optionMatches(w, got[i] as TcpOption, sackBase))
  );
}

const ECN_CODE: Readonly<Record<string, number>> = { noecn: 0, ect1: 1, ect0: 2, ce: 3 };
const ECN_NAME = ["noecn", "ect1", "ect0", "ce"];

/**
 * Every field of `got` that the line `want` pins down and that differs.
 * `ignoreOptions` treats the option list as `<...>` (used only for the
 * conformance forecast, never for a pass).
 */
export function compareSegment(
  want: PacketStatement,
  got: ActualSegment,
  ignoreOptions = false,
): FieldDiff[] {
  const diffs: FieldDiff[] = [];
  const d = (field: string, expected: string | number, actual: string | number) =>
    diffs.push({ field, expected: String(expected), actual: String(actual) });

  if (want.flagMask !== got.flags)
    d("flags", formatFlags(want.flagMask, "packetdrill"), formatFlags(got.flags, "packetdrill"));
  if (want.seq.kind === "range" && want.seq.start >>> 0 !== got.seq >>> 0) {
    d("seq", want.seq.start, got.seq);
  }
  // A differing ACK bit is already a flags difference; the field is compared when the bits agree.
  const ackBitsAgree = (want.flagMask & Flag.ACK) === (got.flags & Flag.ACK);
  if (ackBitsAgree && (want.ack ?? 0) >>> 0 !== got.ack >>> 0) d("ack", want.ack ?? 0, got.ack);
  if (want.win !== undefined && want.win !== got.win) d("win", want.win, got.win);
  if ((want.urg ?? 0) !== got.urg) d("urg", want.urg ?? 0, got.urg);
  if (
    want.options !== "any" &&
    !ignoreOptions &&
    !optionsMatch(want.options, got.options, got.sackBase)
  ) {
    d(
      "options",
      formatPdOptions(want.options) || "none",
      formatOptions(got.options, "packetdrill", got.sackBase) || "none",
    );
  }
  if (want.seq.len !== got.payloadLen) d("payload length", want.seq.len, got.payloadLen);
  const ip = want.ip;
  if (ip !== undefined) {
    const ecn = got.tos & 3;
    if (ip.ecn !== undefined) {
      const ok = ip.ecn === "ect01" ? ecn === 1 || ecn === 2 : ECN_CODE[ip.ecn] === ecn;
      if (!ok) d("ecn", ip.ecn, ECN_NAME[ecn] ?? ecn);
    }
    if (ip.tos !== undefined && ip.tos !== got.tos)
      d("tos", `0x${ip.tos.toString(16)}`, `0x${got.tos.toString(16)}`);
    if (ip.ttl !== undefined && ip.ttl !== got.ttl) d("ttl", ip.ttl, got.ttl);
  }
  return diffs;
}

/** The script's own line for an outbound packet, normalised like formatActual. */
export function formatExpected(want: PacketStatement): string {
  const seq =
    want.seq.kind === "any"
      ? `...(${want.seq.len})`
      : `${want.seq.start}:${want.seq.end}(${want.seq.len})${want.seq.absolute ? "!" : ""}`;
  const parts = [want.direction, formatFlags(want.flagMask, "packetdrill"), seq];
  if (want.ack !== undefined) parts.push(`ack ${want.ack}`);
  if (want.win !== undefined) parts.push(`win ${want.win}`);
  if (want.urg !== undefined) parts.push(`urg ${want.urg}`);
  const opts = formatPdOptions(want.options);
  if (opts !== "") parts.push(opts);
  return parts.join(" ");
}
