import { describe, expect, test } from "bun:test";
import {
  activeStatements,
  type Expr,
  parseScript,
  type Script,
  type Statement,
} from "../../src/packetdrill/script/index.ts";
import { Flag } from "../../src/wire/tcp-types.ts";

function parse(text: string): Script {
  const r = parseScript(text);
  if (!r.ok)
    throw new Error(`unexpected parse error ${r.error.line}:${r.error.column}: ${r.error.message}`);
  return r.script;
}

/** The single statement of a one-statement script, without the bookkeeping fields. */
function only(text: string): Record<string, unknown> {
  const s = parse(text).statements;
  expect(s).toHaveLength(1);
  const { line: _l, column: _c, text: _t, time: _time, ...rest } = s[0] as Statement;
  return rest;
}

describe("comments, blank lines and option lines", () => {
  test("both comment styles and blank lines are skipped; statements keep their line numbers", () => {
    const script = parse(
      [
        "// header",
        "/* a block",
        "   comment */",
        "",
        "--ip_version=ipv4",
        "--tolerance_usecs=75000",
        "--local_ip=192.0.2.1",
        "--remote_ip=fd00::2",
        "--verbose",
        "",
        "0 close(3) = 0 // trailing comment",
        "+0.1 /* inline */ close(4) = 0",
      ].join("\n"),
    );
    expect(script.options).toEqual({
      ip_version: "ipv4",
      tolerance_usecs: "75000",
      local_ip: "192.0.2.1",
      remote_ip: "fd00::2",
      verbose: "",
    });
    expect(script.optionList.map((o) => o.line)).toEqual([5, 6, 7, 8, 9]);
    expect(script.optionList[4]).toEqual({ name: "verbose", line: 9 });
    expect(script.statements.map((s) => [s.line, s.column, s.text])).toEqual([
      [11, 1, "0 close(3) = 0"],
      [12, 1, "+0.1 /* inline */ close(4) = 0"],
    ]);
  });

  test("--define=NAME=value keeps packetdrill's spelling and repeats stay in optionList", () => {
    const script = parse('--define=A=1\n--define=CC="reno"\n0 close(3) = 0');
    expect(script.optionList.map((o) => o.value)).toEqual(["A=1", 'CC="reno"']);
    expect(script.options.define).toBe('CC="reno"');
  });

  test("a hyphenated option value is one word; a blank ends it", () => {
    const script = parse("--ip_version=ipv4-mapped-ipv6\n0 close(3) = 0");
    expect(script.options.ip_version).toBe("ipv4-mapped-ipv6");
    const r = parseScript("--ip_version=ipv4 -mapped\n0 close(3) = 0");
    expect(r.ok).toBe(false);
  });

  test("untimed commands before the first and after the last statement are init and cleanup", () => {
    const script = parse("`ifconfig lo up`\n0 close(3) = 0\n`echo done`\n");
    expect(script.initCommand).toEqual({ command: "ifconfig lo up", line: 1 });
    expect(script.cleanupCommand).toEqual({ command: "echo done", line: 3 });
    expect(script.statements).toHaveLength(1);
  });
});

describe("times", () => {
  const timeOf = (text: string) => parse(text).statements[0]?.time;

  test("absolute, relative and exact microseconds", () => {
    expect(timeOf("0.100 close(3) = 0")).toEqual({ kind: "absolute", value: 0.1, usecs: 100_000 });
    expect(timeOf("+0.1 close(3) = 0")).toEqual({ kind: "relative", value: 0.1, usecs: 100_000 });
    expect(timeOf("2 close(3) = 0")).toEqual({ kind: "absolute", value: 2, usecs: 2_000_000 });
    expect(timeOf("+.5 close(3) = 0")).toEqual({ kind: "relative", value: 0.5, usecs: 500_000 });
    // 0.000003 * 1e6 is 2.9999999999999996 in floating point; the literal is exact.
    expect(timeOf("0.000003 close(3) = 0")).toEqual({
      kind: "absolute",
      value: 0.000003,
      usecs: 3,
    });
  });

  test("'*' and ranges on outbound packets", () => {
    expect(timeOf("* > . 1:1(0) ack 1")).toEqual({ kind: "any" });
    expect(timeOf("0.1~0.2 > . 1:1(0) ack 1")).toEqual({
      kind: "absolute",
      value: 0.1,
      usecs: 100_000,
      end: { value: 0.2, usecs: 200_000 },
    });
    expect(timeOf("+0.1~+0.25 > . 1:1(0) ack 1")).toEqual({
      kind: "relative",
      value: 0.1,
      usecs: 100_000,
      end: { value: 0.25, usecs: 250_000 },
    });
  });
});

describe("packet lines", () => {
  test("a SYN with the FreeBSD option set", () => {
    expect(only("+0 > S 0:0(0) win 65535 <mss 1460,nop,wscale 6,sackOK,TS val 100 ecr 0>")).toEqual(
      {
        type: "packet",
        direction: ">",
        flags: "S",
        flagMask: Flag.SYN,
        seq: { kind: "range", start: 0, end: 0, len: 0, absolute: false },
        win: 65535,
        options: [
          { kind: "mss", value: 1460 },
          { kind: "nop" },
          { kind: "wscale", shift: 6 },
          { kind: "sackPermitted" },
          { kind: "timestamps", tsVal: 100, tsEcr: 0 },
        ],
      },
    );
  });

  test("flag words: S. . P. F. R R. SF FP. - and ECN letters", () => {
    const cases: Array<[string, string, number]> = [
      ["S.", "S.", Flag.SYN | Flag.ACK],
      [".", ".", Flag.ACK],
      ["P.", "P.", Flag.PSH | Flag.ACK],
      ["F.", "F.", Flag.FIN | Flag.ACK],
      ["R", "R", Flag.RST],
      ["R.", "R.", Flag.RST | Flag.ACK],
      ["SF", "SF", Flag.SYN | Flag.FIN],
      ["FP.", "FP.", Flag.FIN | Flag.PSH | Flag.ACK],
      ["SEW", "SEW", Flag.SYN | Flag.ECE | Flag.CWR],
      ["U.", "U.", Flag.URG | Flag.ACK],
      ["-", "", 0],
    ];
    for (const [written, flags, mask] of cases) {
      const st = only(`+0 < ${written} 1:1(0) win 100`);
      expect([st.flags, st.flagMask]).toEqual([flags, mask]);
    }
  });

  test("data segment with ack, win, urg and SACK blocks", () => {
    expect(only("+0 < P. 1:1001(1000) ack 1 win 257 urg 3 <nop,nop,sack 1:2 3:4>")).toEqual({
      type: "packet",
      direction: "<",
      flags: "P.",
      flagMask: Flag.PSH | Flag.ACK,
      seq: { kind: "range", start: 1, end: 1001, len: 1000, absolute: false },
      ack: 1,
      win: 257,
      urg: 3,
      options: [
        { kind: "nop" },
        { kind: "nop" },
        {
          kind: "sack",
          blocks: [
            [1, 2],
            [3, 4],
          ],
        },
      ],
    });
  });

  test("no option list means no options; <...> means options are not checked", () => {
    expect(only("+0 > . 1:1(0) ack 1 win 65535").options).toEqual([]);
    expect(only("+0 > . 1:1(0) ack 1 <...>").options).toBe("any");
  });

  test("eol, md5, Fast Open and 32-bit edges", () => {
    expect(
      only("+0 > S. 0:0(0) ack 4294967295 <eol,md5 abcd01,FO 0123456789abcdef,FOEXP>").options,
    ).toEqual([
      { kind: "eol" },
      { kind: "md5", hex: "abcd01" },
      { kind: "fastOpen", cookie: "0123456789abcdef", experimental: false },
      { kind: "fastOpen", cookie: "", experimental: true },
    ]);
  });

  test("FreeBSD dialect: ...(len) for any sequence number and ! for absolute ones", () => {
    expect(only("+0 > S. ...(0) ack 1 win 65535").seq).toEqual({ kind: "any", len: 0 });
    expect(only("+0 < . 1000:1000(0)! win 5").seq).toEqual({
      kind: "range",
      start: 1000,
      end: 1000,
      len: 0,
      absolute: true,
    });
  });

  test("IP info and ports", () => {
    const st = only("+0 < [ect0] 8080>80 S 0:0(0) win 100");
    expect(st.ip).toEqual({ ecn: "ect0" });
    expect(st.ports).toEqual({ src: 8080, dst: 80 });
    expect(only("+0 > (tos 0x10, flowlabel 0x1) . 1:1(0) ack 1").ip).toEqual({
      tos: 16,
      flowLabel: 1,
    });
    expect(only("+0 > [noecn] . 1:1(0) ack 1").ip).toEqual({ ecn: "noecn" });
  });

  test("UDP and ICMP lines become their own nodes", () => {
    expect(only("+0 < udp (100)")).toEqual({ type: "udp", direction: "<", length: 100 });
    expect(only("+0 < icmp unreachable frag_needed mtu 1200 [1:1461(1460)]")).toEqual({
      type: "icmp",
      direction: "<",
      icmpType: "unreachable",
      code: "frag_needed",
      mtu: 1200,
      echoed: {
        protocol: "tcp",
        seq: { kind: "range", start: 1, end: 1461, len: 1460, absolute: false },
      },
    });
    expect(only("+0 < icmp unreachable port_unreachable [udp (10)]")).toMatchObject({
      type: "icmp",
      echoed: { protocol: "udp", length: 10 },
    });
  });
});

describe("system calls", () => {
  const int = (value: number, text = String(value)): Expr => ({ kind: "int", value, text });
  const word = (name: string): Expr => ({ kind: "word", name });

  test("socket, fcntl flags with a hex result and note", () => {
    expect(only("+0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3")).toEqual({
      type: "syscall",
      name: "socket",
      args: [{ kind: "ellipsis" }, word("SOCK_STREAM"), word("IPPROTO_TCP")],
      result: { value: int(3) },
    });
    expect(only("+0 fcntl(3, F_GETFL) = 0x02 (flags O_RDWR)")).toMatchObject({
      result: { value: int(2, "0x02"), note: "flags O_RDWR" },
    });
    expect(only("+0 fcntl(3, F_SETFL, O_RDWR | O_NONBLOCK) = 0")).toMatchObject({
      args: [
        int(3),
        word("F_SETFL"),
        { kind: "or", operands: [word("O_RDWR"), word("O_NONBLOCK")] },
      ],
    });
  });

  test("errno and strerror note", () => {
    expect(
      only("+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)"),
    ).toMatchObject({
      name: "connect",
      result: { value: int(-1), errno: "EINPROGRESS", note: "Operation now in progress" },
    });
  });

  test("arrays, empty calls and strings", () => {
    expect(only("+0 getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNRESET], [4]) = 0")).toMatchObject({
      args: [
        int(3),
        word("SOL_SOCKET"),
        word("SO_ERROR"),
        { kind: "array", items: [word("ECONNRESET")] },
        { kind: "array", items: [int(4)] },
      ],
    });
    expect(only("+0 getpid() = 1")).toMatchObject({ name: "getpid", args: [] });
    expect(only('+0 write(4, "ab" "cd"..., 4) = 4')).toMatchObject({
      args: [int(4), { kind: "string", value: "abcd", ellipsis: true }, int(4)],
    });
  });

  test("structs: pollfd, sockaddr with calls, positional iovec", () => {
    expect(
      only("+0 poll([{fd=3, events=POLLIN|POLLOUT, revents=POLLIN}], 1, 0) = 1"),
    ).toMatchObject({
      args: [
        {
          kind: "array",
          items: [
            {
              kind: "struct",
              fields: [
                { name: "fd", value: int(3) },
                {
                  name: "events",
                  value: { kind: "or", operands: [word("POLLIN"), word("POLLOUT")] },
                },
                { name: "revents", value: word("POLLIN") },
              ],
            },
          ],
        },
        int(1),
        int(0),
      ],
    });
    const bind = only(
      '+0 bind(3, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("192.0.2.1")}, 16) = 0',
    );
    expect((bind.args as Expr[])[1]).toEqual({
      kind: "struct",
      fields: [
        { name: "sa_family", value: word("AF_INET") },
        { name: "sin_port", value: { kind: "call", name: "htons", args: [int(8080)] } },
        {
          name: "sin_addr",
          value: {
            kind: "call",
            name: "inet_addr",
            args: [{ kind: "string", value: "192.0.2.1", ellipsis: false }],
          },
        },
      ],
    });
    expect((only("+0 writev(4, [{..., 10}], 1) = 10").args as Expr[])[1]).toEqual({
      kind: "array",
      items: [{ kind: "struct", fields: [{ value: { kind: "ellipsis" } }, { value: int(10) }] }],
    });
  });

  test("a call may span lines inside its parentheses", () => {
    const s = parse(
      "+0 setsockopt(3, SOL_SOCKET,\n    SO_LINGER, {onoff=1, linger=0}, 8) = 0\n+0 close(3) = 0",
    );
    expect(s.statements.map((x) => x.line)).toEqual([1, 3]);
  });

  test("blocking call with an end time", () => {
    expect(only("+0 ...0.200 accept(3, ..., ...) = 4")).toMatchObject({
      name: "accept",
      endTime: { value: 0.2, usecs: 200_000 },
      result: { value: int(4) },
    });
    // packetdrill's lexer splits `+.1...0.2` into '+', .1, ..., 0.2.
    const st = parse("+.1...0.2 read(4, ..., 10) = 10").statements[0];
    expect(st?.time).toEqual({ kind: "relative", value: 0.1, usecs: 100_000 });
    expect(st?.type === "syscall" ? st.endTime : undefined).toEqual({ value: 0.2, usecs: 200_000 });
  });
});

describe("shell, code and #ifdef", () => {
  test("shell command keeps the raw text", () => {
    expect(only("+0 `sysctl -w net.inet.tcp.rfc1323=1`")).toEqual({
      type: "shell",
      command: "sysctl -w net.inet.tcp.rfc1323=1",
    });
    expect(only("+0 `sockstat -4 -P tcp -s | grep -c TIME_WAIT | grep 1`")).toEqual({
      type: "shell",
      command: "sockstat -4 -P tcp -s | grep -c TIME_WAIT | grep 1",
    });
  });

  test("code snippet is trimmed of spaces", () => {
    expect(only("+0 %{ assert tcpi_state == TCPI_ESTABLISHED }%")).toEqual({
      type: "code",
      code: "assert tcpi_state == TCPI_ESTABLISHED",
    });
  });

  test("#ifdef blocks tag their statements, and activeStatements picks a branch", () => {
    const script = parse(
      [
        "+0 close(3) = 0",
        "#ifdef STANDARD",
        "+0 > . 1:1(0) ack 1",
        "#endif",
        "#ifdef FreeBSD",
        "+0 close(4) = 0",
        "#endif",
        "+0 close(5) = 0",
      ].join("\n"),
    );
    expect(script.statements.map((s) => s.ifdef ?? null)).toEqual([
      null,
      "STANDARD",
      "FreeBSD",
      null,
    ]);
    expect(activeStatements(script).map((s) => s.line)).toEqual([1, 8]);
    expect(activeStatements(script, ["FreeBSD"]).map((s) => s.line)).toEqual([1, 6, 8]);
  });
});
