/**
 * The runner's honesty check: deliberately broken scripts must fail, each
 * with a message that says what was expected and what tcplab did. A runner
 * that passed everything would fail here.
 */
import { describe, expect, test } from "bun:test";
import { formatResult, type ScriptResult } from "../../src/packetdrill/run/report.ts";
import { runScript } from "../../src/packetdrill/run/runner.ts";

const HEAD = `--ip_version=ipv4
--tolerance_usecs=1000
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    bind(3, ..., ...) = 0
+0    listen(3, 1) = 0
+0.1  < S 0:0(0) win 8192 <mss 1000>
`;
const SYNACK = "+0    > S. 0:0(0) ack 1 win 65535 <mss 1460>\n";
const HANDSHAKE = `${HEAD}${SYNACK}+0.05 < . 1:1(0) ack 1 win 8192\n+0    accept(3, ..., ...) = 4\n`;

async function run(text: string): Promise<ScriptResult> {
  return runScript(text, { path: "broken.pkt", personality: "tcplab" });
}

function field(r: ScriptResult, name: string) {
  return r.fields?.find((f) => f.field === name);
}

describe("the runner passes a correct script", () => {
  test("the handshake as tcplab does it", async () => {
    const r = await run(HANDSHAKE);
    expect(formatResult(r)).toBe("ok    broken.pkt");
  });
});

describe("deliberately broken scripts fail with a clear message", () => {
  test("wrong ack", async () => {
    const r = await run(`${HEAD}+0    > S. 0:0(0) ack 2 win 65535 <mss 1460>\n`);
    expect(r.outcome).toBe("failed");
    expect(r.line).toBe(7);
    expect(r.reason).toBe("tcplab's packet differs in ack");
    expect(field(r, "ack")).toEqual({ field: "ack", expected: "2", actual: "1" });
    const text = formatResult(r);
    expect(text).toContain("broken.pkt:7: +0    > S. 0:0(0) ack 2 win 65535 <mss 1460>");
    expect(text).toContain("expected: > S. 0:0(0) ack 2 win 65535 <mss 1460>");
    expect(text).toContain("actual:   > S. 0:0(0) ack 1 win 65535 <mss 1460> at 0.100000 s");
  });

  test("wrong flags", async () => {
    const r = await run(`${HEAD}+0    > S 0:0(0) win 65535 <mss 1460>\n`);
    expect(r.outcome).toBe("failed");
    expect(field(r, "flags")).toEqual({ field: "flags", expected: "S", actual: "S." });
  });

  test("a missing expected packet", async () => {
    const r = await run(`${HANDSHAKE}+0.1  > . 1:1(0) ack 1 win 65535\n`);
    expect(r.outcome).toBe("failed");
    expect(r.line).toBe(10);
    expect(r.reason).toBe("expected > . 1:1(0) ack 1 win 65535 but nothing was sent by 0.251000 s");
  });

  test("an unexpected extra packet", async () => {
    // No `>` line for the SYN-ACK: the next statement finds it.
    const r = await run(`${HEAD}+0.05 < . 1:1(0) ack 1 win 8192\n`);
    expect(r.outcome).toBe("failed");
    expect(r.line).toBe(7);
    expect(r.reason).toMatch(
      /^unexpected packet: tcplab sent > S\. \d+:\d+\(0\) ack 1 win 65535 <mss 1460> at 0\.100000 s$/,
    );
  });

  test("an unexpected packet after the last statement", async () => {
    const r = await run(HEAD);
    expect(r.outcome).toBe("failed");
    expect(r.reason).toContain("after the last statement");
  });

  test("wrong options", async () => {
    const r = await run(`${HEAD}+0    > S. 0:0(0) ack 1 win 65535 <mss 1460,sackOK,eol,eol>\n`);
    expect(r.outcome).toBe("failed");
    expect(field(r, "options")).toEqual({
      field: "options",
      expected: "<mss 1460,sackOK,eol,eol>",
      actual: "<mss 1460>",
    });
  });

  test("a line without options expects none", async () => {
    const r = await run(`${HEAD}+0    > S. 0:0(0) ack 1 win 65535\n`);
    expect(field(r, "options")).toEqual({
      field: "options",
      expected: "none",
      actual: "<mss 1460>",
    });
  });

  test("wrong window", async () => {
    const r = await run(`${HEAD}+0    > S. 0:0(0) ack 1 win 1000 <mss 1460>\n`);
    expect(r.outcome).toBe("failed");
    expect(field(r, "win")).toEqual({ field: "win", expected: "1000", actual: "65535" });
  });

  test("a syscall returning another value", async () => {
    const r = await run(
      `${HANDSHAKE}+0    getsockopt(4, IPPROTO_TCP, TCP_MAXSEG, [536], [4]) = 0\n`,
    );
    expect(r.outcome).toBe("failed");
    expect(r.reason).toBe("getsockopt() did not return what the script expects");
    expect(field(r, "TCP_MAXSEG")).toEqual({
      field: "TCP_MAXSEG",
      expected: "536",
      actual: "1000",
    });
  });

  test("a syscall returning an error the script does not expect", async () => {
    const r = await run(`${HEAD}${SYNACK}+0    accept(3, ..., ...) = 4\n`);
    expect(r.outcome).toBe("failed");
    // The listener is blocking: accept blocks, but the script wrote no `...END`.
    expect(r.reason).toContain("accept() blocked");
  });

  test("a wrong errno", async () => {
    const r = await run(
      `${HEAD}${SYNACK}+0    fcntl(3, F_SETFL, O_RDWR | O_NONBLOCK) = 0\n+0    accept(3, ..., ...) = -1 ECONNRESET\n`,
    );
    expect(field(r, "errno")).toEqual({ field: "errno", expected: "ECONNRESET", actual: "EAGAIN" });
  });

  test("a packet too late", async () => {
    // The SYN is retransmitted after 1 s, not 0.5 s.
    const r = await run(`--tolerance_usecs=1000
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    fcntl(3, F_SETFL, O_RDWR | O_NONBLOCK) = 0
+0    connect(3, ..., ...) = -1 EINPROGRESS
+0    > S 0:0(0) win 65535 <...>
0.5   > S 0:0(0) win 65535 <...>
`);
    expect(r.outcome).toBe("failed");
    expect(r.line).toBe(6);
    expect(r.reason).toBe("expected > S 0:0(0) win 65535 <...> but nothing was sent by 0.501000 s");
  });

  test("a packet too early", async () => {
    const r = await run(`--tolerance_usecs=1000
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    fcntl(3, F_SETFL, O_RDWR | O_NONBLOCK) = 0
+0    connect(3, ..., ...) = -1 EINPROGRESS
+0    > S 0:0(0) win 65535 <...>
1.5   > S 0:0(0) win 65535 <...>
`);
    expect(r.outcome).toBe("failed");
    expect(field(r, "time")).toEqual({
      field: "time",
      expected: "1.500000 s (± 0.001000)",
      actual: "1.000000 s",
    });
  });

  test("a blocking call returning at the wrong time", async () => {
    const r = await run(`--tolerance_usecs=1000
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    bind(3, ..., ...) = 0
+0    listen(3, 1) = 0
+0    ...0.5 accept(3, ..., ...) = 4
+0.2  < S 0:0(0) win 8000 <mss 1000>
+0    > S. 0:0(0) ack 1 win 65535 <mss 1460>
+0.1  < . 1:1(0) ack 1 win 8000
`);
    expect(r.outcome).toBe("failed");
    expect(r.line).toBe(5);
    expect(r.reason).toBe(
      "accept() returned at 0.300000 s, the script expects 0.500000 s (± 0.001000)",
    );
  });

  test("a wrong state assertion", async () => {
    const r = await run(`${HEAD}${SYNACK}+0    %{ assert tcpi_state == TCPI_ESTABLISHED }%\n`);
    expect(r.outcome).toBe("failed");
    expect(r.reason).toBe("tcpi_state is TCPI_SYN_RECEIVED, the script asserts TCPI_ESTABLISHED");
  });

  test("a wrong sockstat count", async () => {
    const r = await run(
      `${HANDSHAKE}+0    \`sockstat -4 -P tcp -s | grep -c ESTABLISHED | grep 2\`\n`,
    );
    expect(r.outcome).toBe("failed");
    expect(field(r, "sockets in ESTABLISHED")).toEqual({
      field: "sockets in ESTABLISHED",
      expected: "2",
      actual: "1",
    });
  });

  test("a parse error is a failure with its line", async () => {
    const r = await run("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 > Q 0:0(0) win 1\n");
    expect(r.outcome).toBe("failed");
    expect(r.reason).toContain("parse error: broken.pkt:2:");
  });
});

describe("what the runner cannot do is unsupported, never a pass", () => {
  test("sockstat -4/-6 under IPv4-mapped IPv6 (FreeBSD's tcp46 sockets)", async () => {
    const r = await run(
      "--ip_version=ipv4-mapped-ipv6\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 `sockstat -4 -P tcp -s | grep -c LISTEN | grep 0`\n",
    );
    expect(r).toMatchObject({ outcome: "unsupported", line: 3, statements: 0 });
    expect(r.reason).toContain("tcp46");
  });
  test("an IP version packetdrill does not know", async () => {
    const r = await run("--ip_version=ipv5\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n");
    expect(r).toMatchObject({
      outcome: "unsupported",
      reason: "--ip_version=ipv5 is not an IP version packetdrill knows",
    });
  });
  test("a socket domain other than AF_INET and AF_INET6", async () => {
    const r = await run("0 socket(AF_UNIX, SOCK_STREAM, IPPROTO_TCP) = 3\n");
    expect(r).toMatchObject({ outcome: "unsupported", line: 1 });
    expect(r.reason).toContain("only AF_INET and AF_INET6");
  });
  test("UDP lines", async () => {
    const r = await run("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 < udp (10)\n");
    expect(r).toMatchObject({ outcome: "unsupported", line: 2 });
  });
  test("an unknown system call", async () => {
    const r = await run("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 sendmsg(3, {}, 0) = 0\n");
    expect(r.reason).toBe("system call sendmsg() is not supported by the runner");
  });
  test("an unknown shell command", async () => {
    const r = await run("0 `ifconfig tun0 mtu 1200`\n");
    expect(r.outcome).toBe("unsupported");
    expect(r.reason).toContain("shell command `ifconfig tun0 mtu 1200`");
  });
  test("a sysctl without a tcplab setting", async () => {
    const r = await run("0 `sysctl -w net.inet.tcp.rfc1323=0`\n");
    expect(r.outcome).toBe("unsupported");
    expect(r.reason).toContain("net.inet.tcp.rfc1323=0");
  });
  test("other code snippets", async () => {
    const r = await run(
      "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 %{ assert tcpi_rto == 1000000 }%\n",
    );
    expect(r.outcome).toBe("unsupported");
  });
});
