import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  activeStatements,
  formatParseError,
  parseScript,
  type Script,
  type Statement,
} from "../../src/packetdrill/script/index.ts";
import { Flag } from "../../src/wire/tcp-types.ts";

function load(name: string): { text: string; path: string } {
  const path = fileURLToPath(new URL(`./scripts/${name}`, import.meta.url));
  return { text: readFileSync(path, "utf8"), path };
}

function parseFile(name: string): Script {
  const { text } = load(name);
  const r = parseScript(text, name);
  if (!r.ok) throw new Error(formatParseError(r.error));
  return r.script;
}

const at = (s: Script, line: number): Statement => {
  const st = s.statements.find((x) => x.line === line);
  if (!st) throw new Error(`no statement on line ${line}`);
  return st;
};

describe("passive-open-data.pkt", () => {
  const s = parseFile("passive-open-data.pkt");

  test("the timeline, statement by statement", () => {
    expect(s.options).toEqual({ ip_version: "ipv4", tolerance_usecs: "10000", mtu: "1500" });
    expect(
      s.statements.map(
        (x) =>
          `${x.line}:${x.type === "packet" ? x.direction + x.flags : x.type === "syscall" ? x.name : x.type}`,
      ),
    ).toEqual([
      "9:socket",
      "10:setsockopt",
      "11:bind",
      "12:listen",
      "15:<S",
      "16:>S.",
      "17:<.",
      "18:accept",
      "22:<P.",
      "23:>.",
      "24:<P.",
      "25:>.",
      "26:read",
      "29:poll",
      "30:write",
      "31:>P.",
      "32:<.",
      "35:close",
      "36:>F.",
      "37:<F.",
      "38:>.",
    ]);
  });

  test("the wildcard ACK carries timestamps and a SACK block; the ranged one checks no options", () => {
    expect(at(s, 23)).toMatchObject({
      time: { kind: "any" },
      ack: 1,
      options: [
        { kind: "nop" },
        { kind: "nop" },
        { kind: "timestamps", tsVal: 120, tsEcr: 710 },
        { kind: "nop" },
        { kind: "nop" },
        { kind: "sack", blocks: [[1001, 2001]] },
      ],
    });
    expect(at(s, 25)).toMatchObject({
      time: { kind: "relative", usecs: 0, end: { usecs: 40_000 } },
      ack: 2001,
      options: "any",
    });
  });

  test("the blocking write and the poll struct", () => {
    expect(at(s, 30)).toMatchObject({
      type: "syscall",
      name: "write",
      endTime: { usecs: 300_000 },
    });
    expect(at(s, 29)).toMatchObject({
      args: [
        {
          kind: "array",
          items: [
            {
              kind: "struct",
              fields: [
                { name: "fd", value: { kind: "int", value: 4, text: "4" } },
                { name: "events", value: { kind: "word", name: "POLLOUT" } },
                { name: "revents", value: { kind: "word", name: "POLLOUT" } },
              ],
            },
          ],
        },
        { kind: "int", value: 1, text: "1" },
        { kind: "int", value: 0, text: "0" },
      ],
    });
  });
});

describe("active-open-edges.pkt", () => {
  const s = parseFile("active-open-edges.pkt");

  test("options, init and cleanup commands", () => {
    expect(s.options).toEqual({
      ip_version: "ipv4",
      local_ip: "192.0.2.1",
      remote_ip: "192.0.2.2",
      define: "LABVARIANT=1",
    });
    expect(s.initCommand).toEqual({ command: "echo setting up", line: 11 });
    expect(s.cleanupCommand).toEqual({ command: "echo cleaning up", line: 35 });
  });

  test("a call split over two lines is one statement with its first line", () => {
    expect(at(s, 16)).toMatchObject({
      name: "setsockopt",
      args: [
        { kind: "int", value: 3 },
        { kind: "word", name: "SOL_SOCKET" },
        { kind: "word", name: "SO_LINGER" },
        {
          kind: "struct",
          fields: [
            { name: "onoff", value: { kind: "int", value: 1 } },
            { name: "linger", value: { kind: "int", value: 0 } },
          ],
        },
        { kind: "int", value: 8 },
      ],
    });
    expect(at(s, 18).line).toBe(18);
  });

  test("ECN marks, ECN flags and ports", () => {
    expect(at(s, 19)).toMatchObject({
      ip: { ecn: "noecn" },
      flags: "SEW",
      flagMask: Flag.SYN | Flag.ECE | Flag.CWR,
    });
    expect(at(s, 20)).toMatchObject({
      ip: { ecn: "ect0" },
      ports: { src: 80, dst: 40000 },
      flags: "S.E",
      flagMask: Flag.SYN | Flag.ACK | Flag.ECE,
      options: [{ kind: "mss", value: 1400 }, { kind: "eol" }],
    });
    expect(at(s, 21)).toMatchObject({ ip: { ecn: "ect01" }, direction: ">" });
  });

  test("code, #ifdef, ICMP and UDP nodes", () => {
    expect(at(s, 22)).toMatchObject({
      type: "code",
      code: "assert tcpi_state == TCPI_ESTABLISHED",
    });
    expect(at(s, 24)).toMatchObject({ type: "syscall", ifdef: "LABVARIANT" });
    expect(activeStatements(s).some((x) => x.line === 24)).toBe(false);
    expect(activeStatements(s, ["LABVARIANT"]).some((x) => x.line === 24)).toBe(true);
    expect(at(s, 27)).toMatchObject({
      type: "icmp",
      icmpType: "unreachable",
      code: "frag_needed",
      mtu: 1200,
    });
    expect(at(s, 28)).toMatchObject({ type: "udp", length: 32 });
  });

  test("string concatenation with a prefix match, any-sequence and absolute-sequence segments", () => {
    expect(at(s, 29)).toMatchObject({
      args: [{ kind: "int" }, { kind: "string", value: "hello!", ellipsis: true }, { kind: "int" }],
    });
    expect(at(s, 30)).toMatchObject({
      time: { kind: "absolute", usecs: 1_000_000, end: { usecs: 1_200_000 } },
      seq: { kind: "any", len: 6 },
    });
    expect(at(s, 31)).toMatchObject({
      seq: { kind: "range", start: 1, end: 1, len: 0, absolute: true },
      ack: 7,
      win: 0,
    });
    expect(at(s, 32)).toMatchObject({
      result: { errno: "ECONNRESET", note: "Connection reset by peer" },
    });
  });
});

test("broken-option-list.pkt: the error points at the end of the unterminated option list", () => {
  const { text } = load("broken-option-list.pkt");
  const r = parseScript(text, "broken-option-list.pkt");
  expect(r.ok).toBe(false);
  if (!r.ok) {
    expect(formatParseError(r.error)).toBe(
      "broken-option-list.pkt:10:52: expected ',' or '>' in the TCP option list opened at column 28, found end of line",
    );
  }
});
