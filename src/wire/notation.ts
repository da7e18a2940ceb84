/**
 * TCP flags and options as people read and write them: tcpdump's notation
 * (the trace, `formatPacket`) and packetdrill's (scripts, the ladder, lab
 * checks, `inject`). The two share the flag letters and most option words;
 * they differ in SACK blocks (`sack 2 {1:2}{3:4}` against `sack 1:2 3:4`),
 * in an empty flag set (`none` against `-`) and in the brackets round the
 * option list.
 */
import { hex } from "./bytes.ts";
import { seqAdd } from "./seq.ts";
import { TcpOptionKind } from "./tcp.ts";
import { Flag, type TcpOption } from "./tcp-types.ts";

export type Notation = "tcpdump" | "packetdrill";

/** tcpdump's letters, in tcpdump's order (FIN first): "S.", "F.", "P.", "R". packetdrill reads the same. */
const FLAG_LETTERS: ReadonlyArray<readonly [number, string]> = [
  [Flag.FIN, "F"],
  [Flag.SYN, "S"],
  [Flag.RST, "R"],
  [Flag.PSH, "P"],
  [Flag.ACK, "."],
  [Flag.URG, "U"],
  [Flag.ECE, "E"],
  [Flag.CWR, "W"],
];

/** The flag bit a letter stands for ("." is ACK); undefined if it is not a flag letter. */
export function flagOfLetter(letter: string): number | undefined {
  return FLAG_LETTERS.find(([, l]) => l === letter)?.[0];
}

/**
 * The flag letters in tcpdump's order: "S.", "F.", "FSRP.UEW". No flag at
 * all is "none" in tcpdump's `Flags [...]` and "-" on a packetdrill line.
 */
export function formatFlags(flags: number, notation: Notation = "tcpdump"): string {
  let out = "";
  for (const [bit, letter] of FLAG_LETTERS) if (flags & bit) out += letter;
  if (out !== "") return out;
  return notation === "tcpdump" ? "none" : "-";
}

/** The inverse of formatFlags: "S.", "P.", "none"; undefined if not flag letters. */
export function parseFlags(text: string): number | undefined {
  if (text === "none") return 0;
  let flags = 0;
  for (const ch of text) {
    const bit = flagOfLetter(ch);
    if (bit === undefined) return undefined;
    flags |= bit;
  }
  return flags;
}

/** Flags as letters (`S.`) or as names (`SYN,ACK`, `syn|ack`, `fin+ack`). */
export function readFlags(text: string): number | undefined {
  const letters = parseFlags(text);
  if (letters !== undefined) return letters;
  let flags = 0;
  for (const name of text.split(/[,|+]/)) {
    const bit = (Flag as Record<string, number>)[name.toUpperCase()];
    if (bit === undefined) return undefined;
    flags |= bit;
  }
  return flags;
}

/** An option tcplab does not interpret: packetdrill's names where it has them, else tcpdump's form. */
function formatUnknown(type: number, data: Uint8Array, notation: Notation): string {
  if (notation === "packetdrill") {
    if (type === TcpOptionKind.FAST_OPEN) return `FO ${hex(data)}`.trimEnd();
    if (type === TcpOptionKind.FAST_OPEN_EXP) return `FOEXP ${hex(data)}`.trimEnd();
  }
  return data.length > 0 ? `unknown-${type} 0x${hex(data)}` : `unknown-${type}`;
}

/**
 * One option: `mss 1460`, `wscale 7`, `sackOK`, `TS val 1 ecr 0`, `nop`,
 * `eol`, and SACK blocks with `sackBase` subtracted from their edges (the
 * ISN of the data they acknowledge, to show them relative like the ACK).
 */
export function formatOption(o: TcpOption, notation: Notation, sackBase = 0): string {
  switch (o.kind) {
    case "eol":
    case "nop":
      return o.kind;
    case "mss":
      return `mss ${o.value}`;
    case "wscale":
      return `wscale ${o.shift}`;
    case "sackPermitted":
      return "sackOK";
    case "timestamps":
      return `TS val ${o.tsVal} ecr ${o.tsEcr}`;
    case "sack": {
      const edges = o.blocks.map(([l, r]) => [seqAdd(l, -sackBase), seqAdd(r, -sackBase)]);
      return notation === "tcpdump"
        ? `sack ${edges.length} ${edges.map(([l, r]) => `{${l}:${r}}`).join("")}`
        : `sack ${edges.map(([l, r]) => `${l}:${r}`).join(" ")}`;
    }
    case "unknown":
      return formatUnknown(o.type, o.data, notation);
  }
}

/** The option list as each notation brackets it (`[mss 1460,nop]`, `<mss 1460,nop>`); "" for none. */
export function formatOptions(
  options: readonly TcpOption[],
  notation: Notation,
  sackBase = 0,
): string {
  if (options.length === 0) return "";
  const list = options.map((o) => formatOption(o, notation, sackBase)).join(",");
  return notation === "tcpdump" ? `[${list}]` : `<${list}>`;
}

/** The fields of a packetdrill packet line, numbers already in the reader's space. */
export interface SegmentLine {
  readonly flags: number;
  readonly seq: number;
  readonly len: number;
  /** Shown when the ACK flag is set. */
  readonly ack: number;
  readonly win: number;
  /** Shown when defined. */
  readonly urg?: number;
  readonly options: readonly TcpOption[];
  /** Subtracted from SACK edges (see formatOption). */
  readonly sackBase?: number;
}

/** `S. 0:0(0) ack 1 win 65535 <mss 1460>`: a packetdrill packet line without its time and direction. */
export function formatSegmentLine(s: SegmentLine): string {
  const parts = [formatFlags(s.flags, "packetdrill"), `${s.seq}:${seqAdd(s.seq, s.len)}(${s.len})`];
  if (s.flags & Flag.ACK) parts.push(`ack ${s.ack}`);
  parts.push(`win ${s.win}`);
  if (s.urg !== undefined) parts.push(`urg ${s.urg}`);
  const opts = formatOptions(s.options, "packetdrill", s.sackBase);
  if (opts !== "") parts.push(opts);
  return parts.join(" ");
}
