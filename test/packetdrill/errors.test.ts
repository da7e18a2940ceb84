import { describe, expect, test } from "bun:test";
import { formatParseError, parseScript } from "../../src/packetdrill/script/index.ts";

/** The error of a script that must not parse, as `line:column: message`. */
function errorOf(text: string): string {
  const r = parseScript(text);
  if (r.ok) throw new Error(`expected a parse error for ${JSON.stringify(text)}`);
  return formatParseError(r.error);
}

describe("system call errors", () => {
  test("missing '=' before the result", () => {
    expect(errorOf("+0 close(3) 0")).toBe(
      "1:13: expected '=' and the expected result after close(...), found '0'",
    );
  });

  test("missing '=' at the end of the line points just after the call, not at the next line", () => {
    expect(errorOf("+0 close(3)\n+0 close(4) = 0")).toBe(
      "1:12: expected '=' and the expected result after close(...), found end of line",
    );
  });

  test("'=' with no result", () => {
    expect(errorOf("+0 close(3) =\n+0 close(4) = 0")).toBe(
      "1:14: expected the result of close() after '=', found end of line",
    );
  });

  test("unclosed argument list and unclosed note", () => {
    expect(errorOf("+0 write(3, ..., 10 = 10")).toBe(
      "1:21: expected ',' or ')' in the arguments of write(), found '='",
    );
    expect(errorOf("+0 write(3, ..., 10) = 10 (note")).toBe(
      "1:32: expected ')' to close the note opened at column 27, found end of line",
    );
  });

  test("a name without parentheses", () => {
    expect(errorOf("+0 foo bar")).toBe(
      "1:8: expected '(' after the system call name 'foo', found 'bar'",
    );
  });
});

describe("packet errors", () => {
  test("bad and repeated flags", () => {
    expect(errorOf("+0 > SX 0:0(0) win 5")).toBe(
      "1:6: invalid TCP flag 'X' in 'SX' (flags are F S R P . U E W, or - for none)",
    );
    expect(errorOf("+0 > SS 0:0(0) win 5")).toBe("1:6: TCP flag 'S' repeated in 'SS'");
    expect(errorOf("+0 > A 0:0(0)")).toBe("1:6: AccECN flag 'A' is not supported");
    expect(errorOf("+0 > 0:0(0) win 5")).toBe(
      "1:6: expected TCP flags (S, S., ., P., F., R, R., - ...) after the direction, found '0'",
    );
  });

  test("unterminated option list", () => {
    expect(errorOf("+0 > S 0:0(0) win 5 <mss 1460,nop\n+0 close(3) = 0")).toBe(
      "1:34: expected ',' or '>' in the TCP option list opened at column 21, found end of line",
    );
    expect(errorOf("+0 > S 0:0(0) win 5 <mss 1460 nop>")).toBe(
      "1:31: expected ',' or '>' in the TCP option list opened at column 21, found 'nop'",
    );
  });

  test("unknown and incomplete options", () => {
    expect(errorOf("+0 > S 0:0(0) win 5 <foo 3>")).toBe(
      "1:22: unknown TCP option 'foo' (expected nop, eol, mss N, wscale N, sackOK, sack L:R..., TS val N ecr N, md5 HEX, FO, FOEXP)",
    );
    expect(errorOf("+0 > S 0:0(0) win 5 <TS val 1>")).toBe(
      "1:30: expected 'ecr' after the TS value, found '>'",
    );
    expect(errorOf("+0 > S 0:0(0) win 5 <mss>")).toBe(
      "1:25: expected a value after 'mss', found '>'",
    );
  });

  test("<...> is only for outbound packets", () => {
    expect(errorOf("+0 < S 0:0(0) win 5 <...>")).toBe(
      "1:21: <...> for TCP options can only be used with outbound ('>') packets",
    );
  });

  test("sequence spec errors", () => {
    expect(errorOf("+0 > S 0:1(0) win 5")).toBe(
      "1:8: inconsistent sequence range 0:1(0): end must be start + length",
    );
    expect(errorOf("+0 > S 0:0 win 5")).toBe(
      "1:12: expected '(' and the payload length after the end sequence number, found 'win'",
    );
    expect(errorOf("+0 > S 4294967296:4294967296(0)")).toBe(
      "1:8: start sequence number 4294967296 is out of range (0..4294967295)",
    );
  });

  test("out-of-range and out-of-order fields, trailing words", () => {
    expect(errorOf("+0 > S 0:0(0) win 70000")).toBe(
      "1:19: window 70000 is out of range (0..65535)",
    );
    expect(errorOf("+0 > S 0:0(0) win 5 ack 1")).toBe(
      "1:21: expected 'urg N', '<' options or end of line in the packet, found 'ack' (the order is: flags seq ack win urg <options>)",
    );
    expect(errorOf("+0 > S 0:0(0) mss 1460")).toBe(
      "1:15: expected 'ack N', 'win N', 'urg N', '<' options or end of line in the packet, found 'mss'",
    );
  });

  test("unsupported encapsulation is an error that names it", () => {
    expect(errorOf("+0 > ipv4 1.2.3.4 > 5.6.7.8: S 0:0(0)")).toBe(
      "1:6: encapsulation prefix 'ipv4' is not supported (plain TCP/UDP/ICMP only)",
    );
  });
});

describe("time errors", () => {
  test("malformed times", () => {
    expect(errorOf("abc close(3) = 0")).toBe(
      "1:1: expected a time (like 0.100, +0.1, * or 0.1~0.2) at the start of the statement, found 'abc'",
    );
    expect(errorOf("+x close(3) = 0")).toBe(
      "1:2: expected a number of seconds after '+', found 'x'",
    );
    expect(errorOf("-1 close(3) = 0")).toBe("1:1: negative time -1");
    expect(errorOf("0.2~0.1 > . 1:1(0)")).toBe("1:5: time range is backwards");
    expect(errorOf("+0.1~0.2 > . 1:1(0)")).toBe(
      "1:6: expected '+' before the end of a relative time range (+0.1~+0.2), found '0.2'",
    );
  });

  test("'*' and ranges only for outbound packets", () => {
    expect(errorOf("* close(3) = 0")).toBe(
      "1:1: the time '*' can only be used with outbound ('>') packets",
    );
    expect(errorOf("+0.1~+0.2 < . 1:1(0)")).toBe(
      "1:1: a time range can only be used with outbound ('>') packets",
    );
  });

  test("a blocking call cannot end before it starts", () => {
    expect(errorOf("+0.3...0.2 accept(3, ..., ...) = 4")).toBe(
      "1:8: the blocking call's end time is before its start time",
    );
  });
});

describe("script-level errors", () => {
  test("two statements on one line", () => {
    expect(errorOf("+0 close(3) = 0 +0 close(4) = 0")).toBe(
      "1:17: expected end of line after the system call, found '+'",
    );
  });

  test("something that is not a statement after the time", () => {
    expect(errorOf("+0 ? close(3) = 0")).toBe(
      "1:4: expected a packet ('<' or '>'), a system call, a `command` or a %{ code }% snippet after the time, found '?'",
    );
  });

  test("options after the first statement, untimed commands in the middle", () => {
    expect(errorOf("0 close(3) = 0\n--mtu=1500")).toBe(
      "2:1: option '--mtu' must come before the first statement",
    );
    expect(errorOf("0 close(3) = 0\n`x`\n0 close(3) = 0")).toBe(
      "2:1: expected a time (like +0) before the `command`",
    );
  });

  test("unterminated comment, command, string and code", () => {
    expect(errorOf("/* never closed\n+0 close(3) = 0")).toBe(
      "1:1: unterminated /* comment: no closing */ before the end of file",
    );
    expect(errorOf("+0 `echo hi")).toBe(
      "1:4: unterminated backquoted command: no closing ` before the end of file",
    );
    expect(errorOf('+0 write(3, "abc, 3) = 3')).toBe(
      '1:13: unterminated string: no closing " before the end of file',
    );
    expect(errorOf("+0 %{ assert 1")).toBe(
      "1:4: unterminated %{ code snippet: no closing }% before the end of file",
    );
  });

  test("#ifdef structure", () => {
    expect(errorOf("#ifdef X\n+0 close(3) = 0")).toBe(
      "2:16: unterminated #ifdef X of line 1: expected #endif",
    );
    expect(errorOf("#endif")).toBe("1:1: #endif without a matching #ifdef");
    expect(errorOf("#ifdef X\n#ifdef Y\n#endif")).toBe(
      "2:1: #ifdef inside the #ifdef of line 1: nesting is not supported",
    );
    expect(errorOf("#else")).toBe(
      "1:1: unknown directive '#else': only #ifdef NAME and #endif are supported",
    );
  });

  test("the path is carried into the error", () => {
    const r = parseScript("+0 close(3)", "x.pkt");
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(formatParseError(r.error)).toBe(
        "x.pkt:1:12: expected '=' and the expected result after close(...), found end of line",
      );
  });
});
