/**
 * Recursive-descent parser for packetdrill scripts: text → `Script`.
 *
 * The grammar is packetdrill's parser.y (google/packetdrill, with the
 * `#ifdef`, `...(len)` and `!` extensions of the FreeBSD dialect), written
 * as one method per rule. Two deliberate differences, both for clearer
 * errors:
 * - a packet line (and its `<...>` option list) ends at the end of its line,
 *   and a statement must begin on a new line; system call arguments may
 *   still span lines inside brackets;
 * - constructs the TCP runner cannot use (GRE/MPLS/IP-in-IP prefixes, AccECN,
 *   SCTP, raw option bytes) are errors that name the construct.
 *
 * Errors carry line:column and say what was expected and what was found.
 * Internally a failure unwinds with `Failure`; `parseScript` is the only
 * place that catches it, so callers always get a result, never a throw.
 */

import { flagOfLetter } from "../../wire/notation.ts";
import type {
  BareCommand,
  Direction,
  Expr,
  IcmpEchoed,
  IpInfo,
  ParseResult,
  PdTcpOption,
  Ports,
  Script,
  ScriptOption,
  SeqSpec,
  Statement,
  StructField,
  SyscallResult,
  Time,
  TimeValue,
} from "./ast.ts";
import { LineIndex, lex, type Token } from "./lexer.ts";

class Failure {
  constructor(
    readonly line: number,
    readonly column: number,
    readonly message: string,
  ) {}
}

/** packetdrill's flag letters (tcp_packet.c): FIN SYN RST PSH ACK URG ECE CWR. */
const ECN_WORDS = new Set(["noecn", "ect0", "ect1", "ce", "ect01"]);
const U8 = 0xff;
const U16 = 0xffff;
const U32 = 0xffffffff;

/** Exact microseconds from a decimal literal (packetdrill truncates `secs * 1e6`). */
function toUsecs(text: string): number {
  const m = /^([0-9]*)(?:\.([0-9]*))?$/.exec(text);
  if (!m) return Math.trunc(Number(text) * 1e6);
  const whole = Number(m[1] === "" ? "0" : m[1]);
  const frac = (m[2] ?? "").padEnd(6, "0").slice(0, 6);
  return whole * 1_000_000 + Number(frac);
}

function describe(tok: Token): string {
  switch (tok.kind) {
    case "eof":
      return "end of file";
    case "string":
      return `string ${tok.text}`;
    case "backquote":
      return "a `command`";
    case "code":
      return "a %{ code }% snippet";
    case "ifdef":
      return `'#ifdef ${tok.value}'`;
    default:
      return `'${tok.text}'`;
  }
}

class Parser {
  private readonly toks: readonly Token[];
  private pos = 0;
  private readonly index: LineIndex;

  constructor(
    private readonly source: string,
    tokens: readonly Token[],
  ) {
    this.toks = tokens;
    this.index = new LineIndex(source);
  }

  // ---- token helpers -------------------------------------------------------

  private peek(k = 0): Token {
    const t = this.toks[this.pos + k] ?? this.toks[this.toks.length - 1];
    if (t === undefined) throw new Failure(1, 1, "internal error: no tokens");
    return t;
  }

  private prev(): Token | undefined {
    return this.pos > 0 ? this.toks[this.pos - 1] : undefined;
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== "eof") this.pos++;
    return t;
  }

  /** True when the next token sits on a later line than the last one consumed (or is EOF). */
  private atLineEnd(): boolean {
    const t = this.peek();
    const p = this.prev();
    return t.kind === "eof" || (p !== undefined && t.line > p.endLine);
  }

  /** The next token if it continues the current line, else undefined. */
  private peekSameLine(k = 0): Token | undefined {
    if (k === 0) return this.atLineEnd() ? undefined : this.peek();
    const p = this.peek(k - 1);
    const t = this.peek(k);
    return t.kind === "eof" || t.line > p.endLine || this.atLineEnd() ? undefined : t;
  }

  private isPunct(t: Token | undefined, ch: string): boolean {
    return t !== undefined && t.kind === "punct" && t.text === ch;
  }

  private isWord(t: Token | undefined, w?: string): boolean {
    return t !== undefined && t.kind === "word" && (w === undefined || t.text === w);
  }

  /** Fail at the next token, or at the end of the previous line when the line has ended. */
  private failExpected(expected: string, lineBound: boolean): never {
    const t = this.peek();
    const p = this.prev();
    if (lineBound && p !== undefined && (t.kind === "eof" || t.line > p.endLine)) {
      const at = this.index.position(p.end);
      throw new Failure(at.line, at.column, `expected ${expected}, found end of line`);
    }
    throw new Failure(t.line, t.column, `expected ${expected}, found ${describe(t)}`);
  }

  private failAt(t: Token, message: string): never {
    throw new Failure(t.line, t.column, message);
  }

  private expectPunct(ch: string, expected: string, lineBound: boolean): Token {
    const t = lineBound ? this.peekSameLine() : this.peek();
    if (!this.isPunct(t, ch)) this.failExpected(expected, lineBound);
    return this.next();
  }

  /** An integer token (decimal or hex), range-checked. */
  private integer(expected: string, max: number, what: string, lineBound = true): number {
    const t = lineBound ? this.peekSameLine() : this.peek();
    if (t === undefined || (t.kind !== "int" && t.kind !== "hex"))
      this.failExpected(expected, lineBound);
    this.next();
    const v = t.kind === "hex" ? Number.parseInt(t.text.slice(2), 16) : Number(t.text);
    if (v < 0 || v > max) this.failAt(t, `${what} ${t.text} is out of range (0..${max})`);
    return v;
  }

  // ---- script --------------------------------------------------------------

  parseScript(path: string | undefined): Script {
    const options: Record<string, string> = {};
    const optionList: ScriptOption[] = [];
    const statements: Statement[] = [];
    let initCommand: BareCommand | undefined;
    let cleanupCommand: BareCommand | undefined;
    let ifdef: { name: string; line: number } | undefined;

    for (;;) {
      const t = this.peek();
      if (t.kind === "eof") break;
      const p = this.prev();
      if (p !== undefined && t.line <= p.endLine && t.kind !== "ifdef" && t.kind !== "endif") {
        this.failAt(t, `expected end of line after the statement, found ${describe(t)}`);
      }
      if (t.kind === "ifdef") {
        if (ifdef) {
          this.failAt(
            t,
            `#ifdef inside the #ifdef of line ${ifdef.line}: nesting is not supported`,
          );
        }
        ifdef = { name: t.value, line: t.line };
        this.next();
        continue;
      }
      if (t.kind === "endif") {
        if (!ifdef) this.failAt(t, "#endif without a matching #ifdef");
        ifdef = undefined;
        this.next();
        continue;
      }
      if (t.kind === "option") {
        if (statements.length > 0 || initCommand) {
          this.failAt(t, `option '--${t.value}' must come before the first statement`);
        }
        const opt = this.parseOption();
        optionList.push(opt);
        options[opt.name] = opt.value ?? "";
        continue;
      }
      if (t.kind === "backquote") {
        // parser.y: an untimed command may open (init) or close (cleanup) the script.
        if (statements.length === 0 && !initCommand && !ifdef) {
          initCommand = { command: t.value, line: t.line };
          this.next();
          continue;
        }
        if (this.peek(1).kind === "eof" && !ifdef) {
          cleanupCommand = { command: t.value, line: t.line };
          this.next();
          continue;
        }
        this.failAt(t, "expected a time (like +0) before the `command`");
      }
      const st = this.parseStatement(ifdef?.name);
      statements.push(st);
    }
    if (ifdef) {
      const eof = this.peek();
      throw new Failure(
        eof.line,
        eof.column,
        `unterminated #ifdef ${ifdef.name} of line ${ifdef.line}: expected #endif`,
      );
    }
    const script: Script = {
      options,
      optionList,
      statements,
      source: this.source,
      ...(initCommand ? { initCommand } : {}),
      ...(cleanupCommand ? { cleanupCommand } : {}),
      ...(path !== undefined ? { path } : {}),
    };
    return script;
  }

  /** `--name`, `--name=value`, `--define=NAME=value` (option_value in parser.y). */
  private parseOption(): ScriptOption {
    const opt = this.next();
    if (!this.isPunct(this.peekSameLine(), "=")) return { name: opt.value, line: opt.line };
    this.next();
    const v = this.peekSameLine();
    const simple = ["int", "hex", "float", "word", "ipv4", "ipv6", "string"];
    if (v === undefined || !simple.includes(v.kind)) {
      this.failExpected(
        `a value after '--${opt.value}=' (a number, word, address or "string")`,
        true,
      );
    }
    this.next();
    let value = v.value;
    // A hyphenated word, as in --ip_version=ipv4-mapped-ipv6: the parts touch, no blanks between.
    let end = v.end;
    for (;;) {
      const dash = this.peekSameLine();
      const part = this.peekSameLine(1);
      if (v.kind !== "word" || !this.isPunct(dash, "-") || dash?.start !== end) break;
      if (
        part === undefined ||
        (part.kind !== "word" && part.kind !== "int") ||
        part.start !== dash.end
      )
        break;
      this.next();
      this.next();
      value = `${value}-${part.text}`;
      end = part.end;
    }
    if (v.kind === "word" && value === v.value && this.isPunct(this.peekSameLine(), "=")) {
      this.next();
      const rhs = this.peekSameLine();
      if (rhs === undefined || !["word", "int", "string", "backquote"].includes(rhs.kind)) {
        this.failExpected(`a value after '${v.text}='`, true);
      }
      this.next();
      value = `${v.text}=${rhs.text}`;
    }
    return { name: opt.value, value, line: opt.line };
  }

  private parseStatement(ifdef: string | undefined): Statement {
    const first = this.peek();
    const time = this.parseTime();
    const base = { line: first.line, column: first.column, time, ...(ifdef ? { ifdef } : {}) };
    const t = this.peekSameLine();
    let st: Statement;
    if (this.isPunct(t, "<") || this.isPunct(t, ">")) {
      st = this.parsePacket(base);
    } else if (t?.kind === "backquote") {
      this.next();
      st = { ...base, type: "shell", command: t.value, text: "" };
    } else if (t?.kind === "code") {
      this.next();
      st = { ...base, type: "code", code: t.value, text: "" };
    } else if (t?.kind === "ellipsis" || (t?.kind === "word" && this.isPunct(this.peek(1), "("))) {
      st = this.parseSyscall(base);
    } else if (t?.kind === "word") {
      this.next();
      this.failExpected(`'(' after the system call name '${t.text}'`, false);
    } else {
      this.failExpected(
        "a packet ('<' or '>'), a system call, a `command` or a %{ code }% snippet after the time",
        true,
      );
    }
    if (time.kind === "any" || time.end !== undefined) {
      // parser.y: wildcard and range times only make sense for packets we wait for.
      if (st.type !== "packet" || st.direction !== ">") {
        const what = time.kind === "any" ? "the time '*'" : "a time range";
        throw new Failure(
          first.line,
          first.column,
          `${what} can only be used with outbound ('>') packets`,
        );
      }
    }
    const last = this.prev() ?? first;
    if (!this.atLineEnd()) {
      const nxt = this.peek();
      this.failAt(
        nxt,
        `expected end of line after the ${this.kindName(st)}, found ${describe(nxt)}`,
      );
    }
    return { ...st, text: this.source.slice(first.start, last.end) };
  }

  private kindName(st: Statement): string {
    switch (st.type) {
      case "packet":
      case "udp":
      case "icmp":
        return "packet";
      case "syscall":
        return "system call";
      case "shell":
        return "command";
      case "code":
        return "code snippet";
    }
  }

  // ---- time ----------------------------------------------------------------

  private timeNumber(expected: string, lineBound: boolean): TimeValue {
    const t = lineBound ? this.peekSameLine() : this.peek();
    if (t === undefined || (t.kind !== "int" && t.kind !== "float"))
      this.failExpected(expected, lineBound);
    this.next();
    if (t.text.startsWith("-")) this.failAt(t, `negative time ${t.text}`);
    return { value: Number(t.text), usecs: toUsecs(t.text) };
  }

  /** event_time: `0.1`, `+0.1`, `*`, `0.1~0.2`, `+0.1~+0.2`. */
  private parseTime(): Time {
    const t = this.peek();
    const expected = "a time (like 0.100, +0.1, * or 0.1~0.2) at the start of the statement";
    if (this.isPunct(t, "*")) {
      this.next();
      return { kind: "any" };
    }
    let kind: "absolute" | "relative" = "absolute";
    if (this.isPunct(t, "+")) {
      this.next();
      kind = "relative";
      const n = this.peekSameLine();
      if (n === undefined || (n.kind !== "int" && n.kind !== "float")) {
        this.failExpected("a number of seconds after '+'", true);
      }
    } else if (t.kind !== "int" && t.kind !== "float") {
      this.failExpected(expected, false);
    }
    const start = this.timeNumber(expected, false);
    if (!this.isPunct(this.peekSameLine(), "~")) return { kind, ...start };
    this.next();
    if (kind === "relative") {
      this.expectPunct("+", "'+' before the end of a relative time range (+0.1~+0.2)", true);
    } else if (this.isPunct(this.peekSameLine(), "+")) {
      this.failAt(
        this.peek(),
        "an absolute time range ends in an absolute time (0.1~0.2), found '+'",
      );
    }
    const end = this.timeNumber("the end of the time range after '~'", true);
    if (end.usecs < start.usecs) this.failAt(this.prev() ?? t, "time range is backwards");
    return { kind, ...start, end };
  }

  // ---- packets -------------------------------------------------------------

  private parsePacket(base: {
    line: number;
    column: number;
    time: Time;
    ifdef?: string;
  }): Statement {
    const dirTok = this.next();
    const direction = dirTok.text as Direction;
    const head = this.peekSameLine();
    if (head?.kind === "word" && ["ipv4", "ipv6", "gre", "mpls"].includes(head.text)) {
      this.failAt(
        head,
        `encapsulation prefix '${head.text}' is not supported (plain TCP/UDP/ICMP only)`,
      );
    }
    const ip = this.parseIpInfo(direction);
    const withIp = ip ? { ip } : {};
    let ports = this.parsePorts();
    const kw = this.peekSameLine();
    if (this.isWord(kw, "udp")) {
      this.next();
      ports = ports ?? this.parsePorts();
      this.expectPunct("(", "'(' and the UDP payload length after 'udp'", true);
      const length = this.integer("the UDP payload length", U16, "UDP payload length");
      this.expectPunct(")", "')' after the UDP payload length", true);
      return {
        ...base,
        text: "",
        type: "udp",
        direction,
        ...withIp,
        ...(ports ? { ports } : {}),
        length,
      };
    }
    if (this.isWord(kw, "icmp")) {
      this.next();
      return this.parseIcmp(base, direction, ip);
    }
    if (kw?.kind === "word" && (kw.text === "sctp" || kw.text === "udplite")) {
      this.failAt(kw, `${kw.text} packets are not supported`);
    }
    const { flags, flagMask } = this.parseFlags();
    const seq = this.parseSeq("after the flags");
    let ack: number | undefined;
    let win: number | undefined;
    let urg: number | undefined;
    if (this.isWord(this.peekSameLine(), "ack")) {
      this.next();
      ack = this.integer("the acknowledgment number after 'ack'", U32, "ack");
    }
    if (this.isWord(this.peekSameLine(), "win")) {
      this.next();
      win = this.integer("the window after 'win'", U16, "window");
    }
    if (this.isWord(this.peekSameLine(), "urg")) {
      this.next();
      urg = this.integer("the urgent pointer after 'urg'", U16, "urgent pointer");
    }
    let options: readonly PdTcpOption[] | "any" = [];
    if (this.isPunct(this.peekSameLine(), "<")) {
      options = this.parseTcpOptions(direction);
    }
    const rest = this.peekSameLine();
    if (rest !== undefined) {
      const can = [
        ...(ack === undefined && win === undefined && urg === undefined ? ["'ack N'"] : []),
        ...(win === undefined && urg === undefined ? ["'win N'"] : []),
        ...(urg === undefined ? ["'urg N'"] : []),
      ];
      const before = options === "any" || options.length > 0 ? [] : [...can, "'<' options"];
      const list = [...before, "end of line"];
      const expected =
        list.length === 1 ? list[0] : `${list.slice(0, -1).join(", ")} or ${list.at(-1)}`;
      const order = ["ack", "win", "urg"].includes(rest.text)
        ? " (the order is: flags seq ack win urg <options>)"
        : "";
      this.failAt(rest, `expected ${expected} in the packet, found ${describe(rest)}${order}`);
    }
    return {
      ...base,
      text: "",
      type: "packet",
      direction,
      ...withIp,
      ...(ports ? { ports } : {}),
      flags,
      flagMask,
      seq,
      ...(ack !== undefined ? { ack } : {}),
      ...(win !== undefined ? { win } : {}),
      ...(urg !== undefined ? { urg } : {}),
      options,
    };
  }

  /** opt_ip_info: `[noecn]`, `(ect0)`, `[tos 0x10]`, `[ect0, flowlabel 0x1]`, `[ttl 64]`. */
  private parseIpInfo(direction: Direction): IpInfo | undefined {
    const open = this.peekSameLine();
    if (!this.isPunct(open, "[") && !this.isPunct(open, "(")) return undefined;
    // `(` also opens nothing else here; `[` could only be IP info at this point.
    this.next();
    const close = open?.text === "[" ? "]" : ")";
    const info: { ecn?: IpInfo["ecn"]; tos?: number; flowLabel?: number; ttl?: number } = {};
    for (;;) {
      const w = this.peekSameLine();
      if (w?.kind === "word" && ECN_WORDS.has(w.text)) {
        this.next();
        if (w.text === "ect01" && direction !== ">") {
          this.failAt(w, "[ect01] can only be used with outbound ('>') packets");
        }
        info.ecn = w.text as IpInfo["ecn"];
      } else if (this.isWord(w, "tos")) {
        this.next();
        info.tos = this.integer("a value after 'tos'", U8, "tos");
      } else if (this.isWord(w, "flowlabel")) {
        this.next();
        info.flowLabel = this.integer("a value after 'flowlabel'", 0xfffff, "flow label");
      } else if (this.isWord(w, "ttl")) {
        this.next();
        info.ttl = this.integer("a value after 'ttl'", U8, "ttl");
      } else {
        this.failExpected(
          `IP info (noecn, ect0, ect1, ce, ect01, tos N, flowlabel N or ttl N) after '${open?.text}'`,
          true,
        );
      }
      if (this.isPunct(this.peekSameLine(), ",")) {
        this.next();
        continue;
      }
      this.expectPunct(close, `',' or '${close}' to close the IP info`, true);
      return info;
    }
  }

  /** opt_port_info: `8080>80`. */
  private parsePorts(): Ports | undefined {
    const a = this.peekSameLine();
    if (a?.kind !== "int" || !this.isPunct(this.peekSameLine(1), ">")) return undefined;
    const src = this.integer("a source port", U16, "source port");
    this.next();
    const dst = this.integer("a destination port after '>'", U16, "destination port");
    return { src, dst };
  }

  /** flags: adjacent word and '.' tokens (`S.`, `FP.`, `.`), or `-` for none. */
  private parseFlags(): { flags: string; flagMask: number } {
    const first = this.peekSameLine();
    const expected = "TCP flags (S, S., ., P., F., R, R., - ...) after the direction";
    if (this.isPunct(first, "-")) {
      this.next();
      return { flags: "", flagMask: 0 };
    }
    if (first === undefined || !(first.kind === "word" || this.isPunct(first, "."))) {
      this.failExpected(expected, true);
    }
    let text = "";
    let end = first.start;
    for (;;) {
      const t = this.peek();
      if (t.start !== end || !(t.kind === "word" || this.isPunct(t, "."))) break;
      text += t.text;
      end = t.end;
      this.next();
    }
    let mask = 0;
    for (const ch of text) {
      const bit = flagOfLetter(ch);
      if (bit === undefined) {
        const why =
          ch === "A" || /[0-7]/.test(ch)
            ? `AccECN flag '${ch}' is not supported`
            : `invalid TCP flag '${ch}' in '${text}' (flags are F S R P . U E W, or - for none)`;
        this.failAt(first, why);
      }
      if (mask & bit) this.failAt(first, `TCP flag '${ch}' repeated in '${text}'`);
      mask |= bit;
    }
    return { flags: text, flagMask: mask };
  }

  /** seq: `start:end(len)`, `start:end(len)!` (absolute), `...(len)`. */
  private parseSeq(where: string): SeqSpec {
    const expected = `a sequence range start:end(length), like 0:0(0), ${where}`;
    const t = this.peekSameLine();
    if (t?.kind === "ellipsis") {
      this.next();
      this.expectPunct("(", "'(' and a payload length after '...'", true);
      const len = this.integer("a payload length", U16, "payload length");
      this.expectPunct(")", "')' after the payload length", true);
      return { kind: "any", len };
    }
    if (t?.kind !== "int") this.failExpected(expected, true);
    const start = this.integer(expected, U32, "start sequence number");
    this.expectPunct(":", "':' after the start sequence number (start:end(length))", true);
    const end = this.integer("the end sequence number after ':'", U32, "end sequence number");
    this.expectPunct("(", "'(' and the payload length after the end sequence number", true);
    const len = this.integer("the payload length", U16, "payload length");
    this.expectPunct(")", "')' after the payload length", true);
    if (end !== start + len) {
      this.failAt(
        t,
        `inconsistent sequence range ${start}:${end}(${len}): end must be start + length`,
      );
    }
    let absolute = false;
    if (this.isPunct(this.peekSameLine(), "!")) {
      this.next();
      absolute = true;
    }
    return { kind: "range", start, end, len, absolute };
  }

  /** opt_tcp_options: `<...>` or `<opt, opt, ...>`, all on the packet's line. */
  private parseTcpOptions(direction: Direction): readonly PdTcpOption[] | "any" {
    const open = this.next();
    if (this.peekSameLine()?.kind === "ellipsis") {
      this.next();
      this.expectPunct(">", "'>' after '<...'", true);
      if (direction !== ">") {
        this.failAt(open, "<...> for TCP options can only be used with outbound ('>') packets");
      }
      return "any";
    }
    const opts: PdTcpOption[] = [];
    for (;;) {
      opts.push(this.parseTcpOption());
      const t = this.peekSameLine();
      if (this.isPunct(t, ",")) {
        this.next();
        continue;
      }
      if (this.isPunct(t, ">")) {
        this.next();
        return opts;
      }
      this.failExpected(`',' or '>' in the TCP option list opened at column ${open.column}`, true);
    }
  }

  private parseTcpOption(): PdTcpOption {
    const t = this.peekSameLine();
    const known =
      "nop, eol, mss N, wscale N, sackOK, sack L:R..., TS val N ecr N, md5 HEX, FO, FOEXP";
    if (t === undefined || t.kind !== "word") this.failExpected(`a TCP option (${known})`, true);
    this.next();
    switch (t.text) {
      case "nop":
        return { kind: "nop" };
      case "eol":
        return { kind: "eol" };
      case "sackOK":
        return { kind: "sackPermitted" };
      case "mss":
        return { kind: "mss", value: this.integer("a value after 'mss'", U16, "mss") };
      case "wscale":
        return {
          kind: "wscale",
          shift: this.integer("a shift count after 'wscale'", U8, "wscale"),
        };
      case "sack": {
        const blocks: Array<readonly [number, number]> = [];
        do {
          const left = this.integer("a SACK block L:R after 'sack'", U32, "SACK left edge");
          this.expectPunct(":", "':' in the SACK block", true);
          const right = this.integer("the right edge of the SACK block", U32, "SACK right edge");
          blocks.push([left, right]);
        } while (this.peekSameLine()?.kind === "int");
        return { kind: "sack", blocks };
      }
      case "TS": {
        if (!this.isWord(this.peekSameLine(), "val")) this.failExpected("'val' after 'TS'", true);
        this.next();
        const tsVal = this.integer("the timestamp value after 'val'", U32, "TS val");
        if (!this.isWord(this.peekSameLine(), "ecr"))
          this.failExpected("'ecr' after the TS value", true);
        this.next();
        const tsEcr = this.integer("the echo reply after 'ecr'", U32, "TS ecr");
        return { kind: "timestamps", tsVal, tsEcr };
      }
      case "md5": {
        const h = this.peekSameLine();
        if (h === undefined || (h.kind !== "word" && h.kind !== "int"))
          this.failExpected("a hex key after 'md5'", true);
        this.next();
        return { kind: "md5", hex: h.text };
      }
      case "FO":
      case "FOEXP": {
        const h = this.peekSameLine();
        let cookie = "";
        if (h !== undefined && (h.kind === "word" || h.kind === "int")) {
          this.next();
          cookie = h.text;
        }
        return { kind: "fastOpen", cookie, experimental: t.text === "FOEXP" };
      }
      default:
        return this.failAt(t, `unknown TCP option '${t.text}' (expected ${known})`);
    }
  }

  /** icmp_packet_spec: `icmp TYPE [CODE] [mtu N] [id N] [[seq] | [udp (N)] | [raw (N)]]`. */
  private parseIcmp(
    base: { line: number; column: number; time: Time; ifdef?: string },
    direction: Direction,
    ip: IpInfo | undefined,
  ): Statement {
    const type = this.peekSameLine();
    if (type?.kind !== "word")
      this.failExpected("an ICMP type (e.g. unreachable) after 'icmp'", true);
    this.next();
    let code: string | undefined;
    const c = this.peekSameLine();
    if (c?.kind === "word" && c.text !== "mtu" && c.text !== "id") {
      this.next();
      code = c.text;
    }
    let mtu: number | undefined;
    let id: number | undefined;
    if (this.isWord(this.peekSameLine(), "mtu")) {
      this.next();
      mtu = this.integer("a value after 'mtu'", U16, "mtu");
    }
    if (this.isWord(this.peekSameLine(), "id")) {
      this.next();
      id = this.integer("a value after 'id'", U16, "id");
    }
    let echoed: IcmpEchoed | undefined;
    if (this.isPunct(this.peekSameLine(), "[")) {
      this.next();
      const w = this.peekSameLine();
      if (this.isWord(w, "udp") || this.isWord(w, "raw")) {
        this.next();
        this.expectPunct("(", `'(' after '${w?.text}'`, true);
        const length = this.integer("a payload length", U16, "payload length");
        this.expectPunct(")", "')' after the payload length", true);
        echoed = { protocol: w?.text === "udp" ? "udp" : "raw", length };
      } else {
        echoed = { protocol: "tcp", seq: this.parseSeq("in the quoted segment") };
      }
      this.expectPunct("]", "']' after the quoted segment", true);
    }
    return {
      ...base,
      text: "",
      type: "icmp",
      direction,
      ...(ip ? { ip } : {}),
      icmpType: type.text,
      ...(code !== undefined ? { code } : {}),
      ...(mtu !== undefined ? { mtu } : {}),
      ...(id !== undefined ? { id } : {}),
      ...(echoed ? { echoed } : {}),
    };
  }

  // ---- system calls --------------------------------------------------------

  /** syscall_spec: `[...END] name(args) = result [ERRNO] [(note)]`. */
  private parseSyscall(base: {
    line: number;
    column: number;
    time: Time;
    ifdef?: string;
  }): Statement {
    let endTime: TimeValue | undefined;
    if (this.peek().kind === "ellipsis") {
      this.next();
      endTime = this.timeNumber(
        "the end time of the blocking call after '...' (like ...0.200)",
        true,
      );
      if (base.time.kind !== "any" && endTime.usecs < base.time.usecs) {
        this.failAt(
          this.prev() ?? this.peek(),
          "the blocking call's end time is before its start time",
        );
      }
    }
    const nameTok = this.peekSameLine();
    if (nameTok?.kind !== "word") this.failExpected("a system call name after the end time", true);
    this.next();
    const name = nameTok.text;
    this.expectPunct("(", `'(' after the system call name '${name}'`, true);
    const args = this.parseExprList(")", `the arguments of ${name}()`);
    this.expectPunct("=", `'=' and the expected result after ${name}(...)`, true);
    if (this.atLineEnd()) this.failExpected(`the result of ${name}() after '='`, true);
    const value = this.parseExpr();
    let errno: string | undefined;
    let note: string | undefined;
    const e = this.peekSameLine();
    if (e?.kind === "word") {
      this.next();
      errno = e.text;
    }
    if (this.isPunct(this.peekSameLine(), "(")) note = this.parseNote();
    const result: SyscallResult = {
      value,
      ...(errno !== undefined ? { errno } : {}),
      ...(note !== undefined ? { note } : {}),
    };
    return {
      ...base,
      text: "",
      type: "syscall",
      name,
      args,
      result,
      ...(endTime ? { endTime } : {}),
    };
  }

  /** note: `(words...)` on the same line, kept as written. */
  private parseNote(): string {
    const open = this.next();
    for (;;) {
      const t = this.peekSameLine();
      if (t === undefined)
        this.failExpected(`')' to close the note opened at column ${open.column}`, true);
      this.next();
      if (this.isPunct(t, ")")) return this.source.slice(open.end, t.start).trim();
    }
  }

  // ---- expressions ---------------------------------------------------------

  /** Items separated by ',' up to `close` (which is consumed); may span lines. */
  private parseExprList(close: string, what: string): Expr[] {
    const items: Expr[] = [];
    if (this.isPunct(this.peek(), close)) {
      this.next();
      return items;
    }
    for (;;) {
      items.push(this.parseExpr());
      const t = this.peek();
      if (this.isPunct(t, ",")) {
        this.next();
        continue;
      }
      if (this.isPunct(t, close)) {
        this.next();
        return items;
      }
      this.failExpected(`',' or '${close}' in ${what}`, false);
    }
  }

  /** expression: operands joined by '|'. */
  private parseExpr(): Expr {
    const first = this.parseOperand();
    if (!this.isPunct(this.peek(), "|")) return first;
    const operands = [first];
    while (this.isPunct(this.peek(), "|")) {
      this.next();
      operands.push(this.parseOperand());
    }
    return { kind: "or", operands };
  }

  private parseOperand(): Expr {
    const t = this.peek();
    switch (t.kind) {
      case "ellipsis":
        this.next();
        return { kind: "ellipsis" };
      case "int":
      case "hex": {
        this.next();
        const value = t.kind === "hex" ? Number.parseInt(t.text.slice(2), 16) : Number(t.text);
        return { kind: "int", value, text: t.text };
      }
      case "string": {
        this.next();
        let value = t.value;
        while (this.peek().kind === "string") value += this.next().value;
        const ellipsis = this.peek().kind === "ellipsis";
        if (ellipsis) this.next();
        return { kind: "string", value, ellipsis };
      }
      case "word": {
        this.next();
        // A call only when '(' touches the name: `htons(8080)`; `= FOO (note)` is a result and a note.
        const paren = this.peek();
        if (this.isPunct(paren, "(") && paren.start === t.end) {
          this.next();
          return { kind: "call", name: t.text, args: this.parseExprList(")", `${t.text}(...)`) };
        }
        if (this.isPunct(this.peek(), "=")) {
          this.next();
          return { kind: "assign", name: t.text, value: this.parseExpr() };
        }
        return { kind: "word", name: t.text };
      }
      case "punct":
        if (t.text === "[") {
          this.next();
          return { kind: "array", items: this.parseExprList("]", "the array") };
        }
        if (t.text === "{") {
          this.next();
          return { kind: "struct", fields: this.parseStructFields() };
        }
        break;
      default:
        break;
    }
    return this.failExpected('a value (number, name, ..., "string", [array] or {struct})', true);
  }

  private parseStructFields(): StructField[] {
    const fields: StructField[] = [];
    if (this.isPunct(this.peek(), "}")) {
      this.next();
      return fields;
    }
    for (;;) {
      const e = this.parseExpr();
      if (e.kind === "assign") {
        fields.push({ name: e.name, value: e.value });
      } else if (e.kind === "call" && this.isPunct(this.peek(), "=")) {
        // msghdr's `msg_iov(1)=[...]`
        this.next();
        fields.push({ name: e.name, nameArgs: e.args, value: this.parseExpr() });
      } else {
        fields.push({ value: e });
      }
      const t = this.peek();
      if (this.isPunct(t, ",")) {
        this.next();
        continue;
      }
      if (this.isPunct(t, "}")) {
        this.next();
        return fields;
      }
      this.failExpected("',' or '}' in the struct", false);
    }
  }
}

/**
 * Parses a packetdrill script. Never throws: a malformed script yields the
 * first error with its line and column.
 */
export function parseScript(text: string, path?: string): ParseResult {
  const withPath = path !== undefined ? { path } : {};
  const lexed = lex(text);
  if (!lexed.ok) return { ok: false, error: { ...lexed.error, ...withPath } };
  try {
    return { ok: true, script: new Parser(text, lexed.tokens).parseScript(path) };
  } catch (e) {
    if (e instanceof Failure) {
      return {
        ok: false,
        error: { line: e.line, column: e.column, message: e.message, ...withPath },
      };
    }
    throw e;
  }
}
