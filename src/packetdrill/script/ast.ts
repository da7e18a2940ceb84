/**
 * The typed tree of a packetdrill script.
 *
 * A script is a timeline: each statement happens at a time and is one of an
 * inbound (`<`, injected by the peer) or outbound (`>`, expected from the
 * stack under test) TCP segment, a socket system call, a shell command in
 * backquotes or a `%{ code }%` snippet. Line and column numbers are 1-based.
 *
 * The tree says what the script *wrote*; meaning (relative sequence numbers,
 * defaults for absent fields) is the runner's business, and the comments
 * below say what packetdrill does with each field so the runner can follow.
 */

import type { TcpOption } from "../../wire/tcp-types.ts";

/** A point in time as written: seconds (for display) and whole microseconds (for arithmetic). */
export interface TimeValue {
  /** Seconds as written, e.g. 0.1 for `0.100`. */
  readonly value: number;
  /** The same, in whole microseconds (packetdrill's internal unit), exact for up to 6 decimals. */
  readonly usecs: number;
}

/**
 * When a statement happens.
 * - `absolute`: `0.100` — seconds since the script started.
 * - `relative`: `+0.1` — seconds after the previous statement's time.
 * - `any`: `*` — whenever (outbound packets only).
 * A range (`0.1~0.2`, `+0.1~+0.2`; outbound packets only) has `end`, on the
 * same base as the start.
 */
export type Time =
  | ({ readonly kind: "absolute" | "relative"; readonly end?: TimeValue } & TimeValue)
  | { readonly kind: "any" };

/** `start:end(len)` — relative to the ISNs unless `absolute` (`!`, a FreeBSD-dialect extension). */
export type SeqSpec =
  | {
      readonly kind: "range";
      readonly start: number;
      readonly end: number;
      readonly len: number;
      readonly absolute: boolean;
    }
  /** `...(len)`: any sequence number, `len` payload bytes. */
  | { readonly kind: "any"; readonly len: number };

/**
 * A TCP option as written in `<...>`: one of the wire codec's options
 * (src/wire/tcp-types.ts) but an uninterpreted one, or one the codec does
 * not interpret, which packetdrill has words for.
 */
export type PdTcpOption =
  | Exclude<TcpOption, { readonly kind: "unknown" }>
  /** `md5 <hex>`: TCP-MD5 signature (RFC 2385). */
  | { readonly kind: "md5"; readonly hex: string }
  /** `FO [cookie]` (RFC 7413, kind 34) or `FOEXP [cookie]` (experimental kind 254). */
  | { readonly kind: "fastOpen"; readonly cookie: string; readonly experimental: boolean };

/** The IP-level fields a packet line may pin down: `[noecn]`, `[ect0]`, `(tos 0x10)`, `[ttl 64]`... */
export interface IpInfo {
  /** ECN codepoint; `ect01` (outbound only) accepts either ECT(0) or ECT(1). */
  readonly ecn?: "noecn" | "ect0" | "ect1" | "ce" | "ect01";
  readonly tos?: number;
  readonly flowLabel?: number;
  readonly ttl?: number;
}

export interface Ports {
  readonly src: number;
  readonly dst: number;
}

export type Direction = "<" | ">";

interface StatementBase {
  /** Line of the statement's first token. */
  readonly line: number;
  readonly column: number;
  /** The statement's source text, from its first to its last token. */
  readonly text: string;
  readonly time: Time;
  /** Set when the statement sits inside `#ifdef NAME` ... `#endif`: it runs only if NAME is defined. */
  readonly ifdef?: string;
}

/** A TCP segment line: `+0 > S. 0:0(0) ack 1 win 65535 <mss 1460,nop,wscale 6>`. */
export interface PacketStatement extends StatementBase {
  readonly type: "packet";
  /** `<` inbound: the runner injects it. `>` outbound: the stack must send it. */
  readonly direction: Direction;
  readonly ip?: IpInfo;
  readonly ports?: Ports;
  /** Flags as written, e.g. "S.", ".", "FP."; "" for `-` (no flags). */
  readonly flags: string;
  /** The same flags as a bit mask of `Flag` values (src/wire/tcp-types.ts). */
  readonly flagMask: number;
  readonly seq: SeqSpec;
  /** Absent: packetdrill sends ack 0 inbound; outbound, the ACK field is then not checked. */
  readonly ack?: number;
  /** Absent: the runner's default window inbound; not checked outbound. */
  readonly win?: number;
  readonly urg?: number;
  /** `[]` when no `<...>` was written (the segment carries no options); "any" for `<...>` (not checked). */
  readonly options: readonly PdTcpOption[] | "any";
}

/** `< udp (100)` — parsed so scripts can be read, not supported by the TCP runner. */
export interface UdpStatement extends StatementBase {
  readonly type: "udp";
  readonly direction: Direction;
  readonly ip?: IpInfo;
  readonly ports?: Ports;
  readonly length: number;
}

/** What an ICMP error quotes: a TCP segment's sequence range, or a UDP/raw payload length. */
export type IcmpEchoed =
  | { readonly protocol: "tcp"; readonly seq: SeqSpec }
  | { readonly protocol: "udp" | "raw"; readonly length: number };

/** `< icmp unreachable frag_needed mtu 1200 [1:1461(1460)]` — parsed, not supported by the TCP runner. */
export interface IcmpStatement extends StatementBase {
  readonly type: "icmp";
  readonly direction: Direction;
  readonly ip?: IpInfo;
  readonly icmpType: string;
  readonly code?: string;
  readonly mtu?: number;
  readonly id?: number;
  readonly echoed?: IcmpEchoed;
}

/** An argument or result of a system call. */
export type Expr =
  /** `...`: don't care (an argument the runner fills in, or a value not checked). */
  | { readonly kind: "ellipsis" }
  /** `65536`, `-1`, `0x02`: `text` keeps the spelling (hex results are compared as flags). */
  | { readonly kind: "int"; readonly value: number; readonly text: string }
  /** A symbol: `SOCK_STREAM`, `O_NONBLOCK`, `POLLIN`. */
  | { readonly kind: "word"; readonly name: string }
  /** `"abc"` (adjacent strings concatenated); `"abc"...` sets `ellipsis` (prefix match). Escapes kept as written. */
  | { readonly kind: "string"; readonly value: string; readonly ellipsis: boolean }
  /** `O_RDWR | O_NONBLOCK`. */
  | { readonly kind: "or"; readonly operands: readonly Expr[] }
  /** `[65536]`, `[]`. */
  | { readonly kind: "array"; readonly items: readonly Expr[] }
  /** `{fd=3, events=POLLIN}`, `{..., 1000}`. */
  | { readonly kind: "struct"; readonly fields: readonly StructField[] }
  /** `htons(8080)`, `inet_addr("192.0.2.1")`. */
  | { readonly kind: "call"; readonly name: string; readonly args: readonly Expr[] }
  /** `name=value` outside braces (packetdrill allows it anywhere). */
  | { readonly kind: "assign"; readonly name: string; readonly value: Expr };

export interface StructField {
  /** Absent for positional fields (`{..., 1000}`). */
  readonly name?: string;
  /** For `msg_iov(1)=[...]`: the parenthesised part after the name. */
  readonly nameArgs?: readonly Expr[];
  readonly value: Expr;
}

/** `= -1 EINPROGRESS (Operation now in progress)`, `= 0x02 (flags O_RDWR)`. */
export interface SyscallResult {
  readonly value: Expr;
  readonly errno?: string;
  /** The words in the trailing parentheses, as written. */
  readonly note?: string;
}

/** `+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)`. */
export interface SyscallStatement extends StatementBase {
  readonly type: "syscall";
  readonly name: string;
  readonly args: readonly Expr[];
  readonly result: SyscallResult;
  /**
   * `+0 ...0.2 accept(3, ..., ...) = 4`: a blocking call that must return at
   * `endTime`. packetdrill reads it on the same base as the start: absolute
   * when the statement's time is absolute, else relative to the *previous*
   * statement's time (like the start), not to the call's start.
   */
  readonly endTime?: TimeValue;
}

/** `` +0 `sysctl -w net.inet.tcp.rfc1323=1` `` — the command exactly as written between the backquotes. */
export interface ShellStatement extends StatementBase {
  readonly type: "shell";
  readonly command: string;
}

/** `+0 %{ assert tcpi_state == TCPI_ESTABLISHED }%` — a (Python) snippet, trimmed of spaces and tabs. */
export interface CodeStatement extends StatementBase {
  readonly type: "code";
  readonly code: string;
}

export type Statement =
  | PacketStatement
  | UdpStatement
  | IcmpStatement
  | SyscallStatement
  | ShellStatement
  | CodeStatement;

export interface ScriptOption {
  /** Without the leading `--`. */
  readonly name: string;
  /** Absent for a bare flag such as `--verbose`. */
  readonly value?: string;
  readonly line: number;
}

/** A command in backquotes without a time: before the first statement (init) or after the last (cleanup). */
export interface BareCommand {
  readonly command: string;
  readonly line: number;
}

export interface Script {
  /** `--name=value` lines, the last one winning; bare flags map to "". */
  readonly options: Readonly<Record<string, string>>;
  /** The same lines in order, repeats kept (e.g. several `--define=`). */
  readonly optionList: readonly ScriptOption[];
  readonly initCommand?: BareCommand;
  readonly cleanupCommand?: BareCommand;
  readonly statements: readonly Statement[];
  readonly source: string;
  readonly path?: string;
}

export interface PdParseError {
  readonly line: number;
  readonly column: number;
  readonly message: string;
  readonly path?: string;
}

export type ParseResult =
  | { readonly ok: true; readonly script: Script }
  | { readonly ok: false; readonly error: PdParseError };
