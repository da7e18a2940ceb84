import { describe, expect, test } from "bun:test";
import { isValidIpv6, lex } from "../../src/packetdrill/script/index.ts";

function kinds(text: string): string[] {
  const r = lex(text);
  if (!r.ok) throw new Error(r.error.message);
  return r.tokens.filter((t) => t.kind !== "eof").map((t) => `${t.kind}:${t.value}`);
}

describe("lexer", () => {
  test("a sequence range is numbers and punctuation, not an IPv6 address", () => {
    expect(kinds("1:1001(1000)")).toEqual([
      "int:1",
      "punct::",
      "int:1001",
      "punct:(",
      "int:1000",
      "punct:)",
    ]);
    expect(kinds("sack 1:2 3:4")).toEqual([
      "word:sack",
      "int:1",
      "punct::",
      "int:2",
      "int:3",
      "punct::",
      "int:4",
    ]);
  });

  test("addresses are single tokens; the ':' after an IPv6 address is left over", () => {
    expect(kinds("192.0.2.1 fd00::2: ::1 2001:db8:0:0:0:0:0:1")).toEqual([
      "ipv4:192.0.2.1",
      "ipv6:fd00::2",
      "punct::",
      "ipv6:::1",
      "ipv6:2001:db8:0:0:0:0:0:1",
    ]);
  });

  test("time, ellipsis and end time split as packetdrill's flex rules do", () => {
    expect(kinds("+.1...0.200")).toEqual(["punct:+", "float:.1", "ellipsis:...", "float:0.200"]);
    expect(kinds("+0...30")).toEqual(["punct:+", "int:0", "ellipsis:...", "int:30"]);
    expect(kinds("0.1~0.2")).toEqual(["float:0.1", "punct:~", "float:0.2"]);
  });

  test("numbers: negative, hex; a word may start with a digit", () => {
    expect(kinds("-1 0x02 3des S.")).toEqual([
      "int:-1",
      "hex:0x02",
      "word:3des",
      "word:S",
      "punct:.",
    ]);
  });

  test("options, strings, commands, code and directives carry their meaning in value", () => {
    expect(kinds('--ip_version=ipv4 "a\\"b" `x -y` %{ assert 1 }% #ifdef FreeBSD #endif')).toEqual([
      "option:ip_version",
      "punct:=",
      "word:ipv4",
      'string:a\\"b',
      "backquote:x -y",
      "code:assert 1",
      "ifdef:FreeBSD",
      "endif:#endif",
    ]);
  });

  test("tokens know their line and column, multi-line tokens their end line", () => {
    const r = lex("  a\n\t`x\ny` b");
    if (!r.ok) throw new Error(r.error.message);
    expect(r.tokens.map((t) => [t.value, t.line, t.column, t.endLine])).toEqual([
      ["a", 1, 3, 1],
      ["x\ny", 2, 2, 3],
      ["b", 3, 4, 3],
      ["", 3, 5, 3],
    ]);
  });

  test("IPv6 validation", () => {
    for (const good of [
      "::",
      "::1",
      "fd00::2",
      "1:2:3:4:5:6:7:8",
      "::ffff:192.0.2.1",
      "2001:db8::1:0",
    ]) {
      expect([good, isValidIpv6(good)]).toEqual([good, true]);
    }
    for (const bad of [
      "1:2",
      "1::2::3",
      "1:2:3:4:5:6:7:8:9",
      "12345::",
      "::1.2.3",
      "g::1",
      "1:2:3:4:5:6:7::8",
    ]) {
      expect([bad, isValidIpv6(bad)]).toEqual([bad, false]);
    }
  });
});
