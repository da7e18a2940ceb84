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
import { formatFlags, formatOption } from "../../wire/notation.ts";
import { TcpOptionKind } from "../../wire/tcp.ts";
import { Flag, type TcpOption } from "../../wire/tcp-types.ts";
import type { PacketStatement, PdTcpOption } from "../script/index.ts";
import type { FieldDiff } from "./report.ts";

/** TCP option kinds (IANA), shared with the wire codec. */
export const OptKind = TcpOptionKind;

/** One option exactly as it sits in the header: EOL and NOP are one byte each. */
export interface RawOption {
  readonly kind: number;
  /** The bytes after kind and length. */
  readonly data: Uint8Array;
}

/**
 * Walks the option bytes of a TCP header like packetdrill's iterator:
 * every byte of padding after an EOL is another EOL. Undefined if a length
 * is broken (the wire parser would have dropped such a segment anyway).
 */
export function rawOptions(bytes: Uint8Array): RawOption[] | undefined {
  const out: RawOption[] = [];
  let i = 0;
  while (i < bytes.length) {
    const kind = bytes[i] as number;
    if (kind === OptKind.EOL || kind === OptKind.NOP) {
      out.push({ kind, data: new Uint8Array(0) });
      i++;
      continue;
    }
    const len = bytes[i + 1];
    if (len === undefined || len < 2 || i + len > bytes.length) return undefined;
    out.push({ kind, data: bytes.subarray(i + 2, i + len) });
    i += len;
  }
  return out;
}

const be16 = (b: Uint8Array, i: number) => ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);
const be32 = (b: Uint8Array, i: number) =>
  (((b[i] ?? 0) << 24) | ((b[i + 1] ?? 0) << 16) | ((b[i + 2] ?? 0) << 8) | (b[i + 3] ?? 0)) >>> 0;

/** A raw option in script syntax; SACK edges shifted by `-sackBase` into the script's space. */
export function formatRawOption(o: RawOption, sackBase = 0): string {
  switch (o.kind) {
    case OptKind.EOL:
      return "eol";
    case OptKind.NOP:
      return "nop";
    case OptKind.MSS:
      return o.data.length === 2 ? `mss ${be16(o.data, 0)}` : `mss(len ${o.data.length + 2})`;
    case OptKind.WSCALE:
      return o.data.length === 1 ? `wscale ${o.data[0]}` : `wscale(len ${o.data.length + 2})`;
    case OptKind.SACK_PERMITTED:
      return "sackOK";
    case OptKind.TIMESTAMPS:
      return o.data.length === 8
        ? `TS val ${be32(o.data, 0)} ecr ${be32(o.data, 4)}`
        : `TS(len ${o.data.length + 2})`;
    case OptKind.SACK: {
      const blocks: string[] = [];
      for (let j = 0; j + 8 <= o.data.length; j += 8) {
        blocks.push(
          `${(be32(o.data, j) - sackBase) >>> 0}:${(be32(o.data, j + 4) - sackBase) >>> 0}`,
        );
      }
      return `sack ${blocks.join(" ")}`;
    }
    case OptKind.FAST_OPEN:
      return `FO ${hex(o.data)}`.trimEnd();
    case OptKind.FAST_OPEN_EXP:
      return `FOEXP ${hex(o.data)}`.trimEnd();
    default:
      return `kind ${o.kind}${o.data.length > 0 ? ` 0x${hex(o.data)}` : ""}`;
  }
}

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

export function formatRawOptions(opts: readonly RawOption[], sackBase = 0): string {
  return opts.length === 0 ? "" : `<${opts.map((o) => formatRawOption(o, sackBase)).join(",")}>`;
}

/** A segment tcplab sent, with seq, ack and SACK already mapped into the script's space. */
export interface ActualSegment {
  readonly flags: number;
  readonly seq: number;
  readonly ack: number;
  readonly win: number;
  readonly urg: number;
  readonly options: readonly RawOption[];
  /** What to subtract from SACK edges to show them in the script's space. */
  readonly sackBase: number;
  readonly payloadLen: number;
  /** IPv4 TOS byte (ECN in its low two bits) and TTL. */
  readonly tos: number;
  readonly ttl: number;
}

/** `> S. 0:0(0) ack 1 win 65535 <mss 1460>` for a segment tcplab sent. */
export function formatActual(a: ActualSegment): string {
  const parts = [
    ">",
    formatFlags(a.flags, "packetdrill"),
    `${a.seq}:${(a.seq + a.payloadLen) >>> 0}(${a.payloadLen})`,
  ];
  if (a.flags & Flag.ACK) parts.push(`ack ${a.ack}`);
  parts.push(`win ${a.win}`);
  if (a.flags & Flag.URG || a.urg !== 0) parts.push(`urg ${a.urg}`);
  const opts = formatRawOptions(a.options, a.sackBase);
  if (opts !== "") parts.push(opts);
  return parts.join(" ");
}

function pdKind(o: PdTcpOption): number {
  switch (o.kind) {
    case "eol":
      return OptKind.EOL;
    case "nop":
      return OptKind.NOP;
    case "mss":
      return OptKind.MSS;
    case "wscale":
      return OptKind.WSCALE;
    case "sackPermitted":
      return OptKind.SACK_PERMITTED;
    case "sack":
      return OptKind.SACK;
    case "timestamps":
      return OptKind.TIMESTAMPS;
    case "md5":
      return OptKind.MD5;
    case "fastOpen":
      return o.experimental ? OptKind.FAST_OPEN_EXP : OptKind.FAST_OPEN;
  }
}

/** packetdrill's rule for one option at the same position (kinds already equal). */
function optionMatches(want: PdTcpOption, got: RawOption, sackBase: number): boolean {
  switch (want.kind) {
    case "eol":
    case "nop":
      return true;
    case "mss":
      return got.data.length === 2 && be16(got.data, 0) === want.value;
    case "wscale":
      return got.data.length === 1 && got.data[0] === want.shift;
    case "sackPermitted":
      return got.data.length === 0;
    case "timestamps":
      // Neither TS val (no --tcp_ts_tick_usecs) nor an outbound ecr is compared.
      return got.data.length === 8;
    case "sack": {
      if (got.data.length !== want.blocks.length * 8) return false;
      return want.blocks.every(
        ([l, r], k) =>
          (be32(got.data, k * 8) - sackBase) >>> 0 === l >>> 0 &&
          (be32(got.data, k * 8 + 4) - sackBase) >>> 0 === r >>> 0,
      );
    }
    case "md5":
      return false; // never matched: scripts with md5 are unsupported before they run
    case "fastOpen":
      return hex(got.data) === want.cookie.toLowerCase();
  }
}

export function optionsMatch(
  want: readonly PdTcpOption[],
  got: readonly RawOption[],
  sackBase: number,
): boolean {
  if (want.length !== got.length) return false;
  return want.every((w, i) => {
    const g = got[i] as RawOption;
    return pdKind(w) === g.kind && optionMatches(w, g, sackBase);
  });
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
      formatRawOptions(got.options, got.sackBase) || "none",
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
