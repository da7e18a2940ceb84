/**
 * Parses every script of the FreeBSD TCP test suite's state-event-engine
 * part, read at test time from `shared/conformance/` beside the repository
 * (never copied in). Without that directory the suite fails on CI and is
 * skipped, with the reason, elsewhere.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Glob } from "bun";
import {
  formatParseError,
  parseScript,
  type Script,
  type SeqSpec,
  type Statement,
} from "../../src/packetdrill/script/index.ts";

const DIR = fileURLToPath(
  new URL("../../../shared/conformance/freebsd-tcp-testsuite/state-event-engine/", import.meta.url),
);
const present = existsSync(DIR);

if (!present && process.env.CI === "true") {
  test("FreeBSD conformance scripts are present", () => {
    throw new Error(`${DIR} not found: CI must provide shared/conformance beside the repository`);
  });
} else if (!present) {
  test.skip(`FreeBSD conformance scripts: skipped, ${DIR} not found (shared/ must sit beside the clone)`, () => {});
} else {
  describe("FreeBSD tcp-testsuite state-event-engine scripts", () => {
    const files = [...new Glob("**/*.pkt").scanSync(DIR)].sort();
    const parsed = new Map<string, Script>();
    const failures: string[] = [];
    for (const f of files) {
      const r = parseScript(readFileSync(DIR + f, "utf8"), f);
      if (r.ok) parsed.set(f, r.script);
      else failures.push(formatParseError(r.error));
    }
    const all = [...parsed.entries()];

    test("all 614 scripts parse without error", () => {
      expect(files).toHaveLength(614);
      expect(failures).toEqual([]);
      expect(parsed.size).toBe(614);
    });

    test("options: --ip_version matches the file name, --tolerance_usecs is set", () => {
      for (const [f, s] of all) {
        const family = f.endsWith("-ipv6.pkt") ? "ipv6" : "ipv4";
        expect([f, s.options.ip_version]).toEqual([f, family]);
        expect([f, /^[0-9]+$/.test(s.options.tolerance_usecs ?? "")]).toEqual([f, true]);
      }
    });

    test("no line is skipped: every non-comment line is a statement, with its own line number", () => {
      for (const [f, s] of all) {
        // An independent reading of the file: drop `//` comments, blank lines, options and directives.
        const lines = s.source
          .split("\n")
          .map((text, i) => ({ line: i + 1, text: text.replace(/\/\/.*$/, "").trim() }))
          .filter((l) => l.text !== "" && !l.text.startsWith("--") && !l.text.startsWith("#"));
        expect([f, s.statements.map((st) => [st.line, st.text])]).toEqual([
          f,
          lines.map((l) => [l.line, l.text]),
        ]);
      }
    });

    test("every script opens a socket and has packet lines; packets agree with their source text", () => {
      const seqRe = /(?:(\d+):(\d+)\((\d+)\)|\.\.\.\((\d+)\))/;
      for (const [f, s] of all) {
        const packets = s.statements.filter((st) => st.type === "packet");
        expect([f, packets.length > 0]).toEqual([f, true]);
        expect([f, firstCall(s)]).toEqual([f, "socket"]);
        let sawSyn = false;
        for (const p of packets) {
          const m = seqRe.exec(p.text);
          expect([p.text, m !== null]).toEqual([p.text, true]);
          if (!m) continue;
          // `> ` lines after the first SYN must pin the sequence range (or say "any" explicitly).
          if (sawSyn && p.direction === ">") {
            const written: SeqSpec =
              m[4] !== undefined
                ? { kind: "any", len: Number(m[4]) }
                : {
                    kind: "range",
                    start: Number(m[1]),
                    end: Number(m[2]),
                    len: Number(m[3]),
                    absolute: false,
                  };
            expect([p.text, p.seq]).toEqual([p.text, written]);
          }
          if (p.flagMask & 0x02) sawSyn = true;
          const flagsWritten = /^\S+\s+[<>]\s+(\S+)/.exec(p.text)?.[1] ?? "(none)";
          expect([p.text, p.flags]).toEqual([p.text, flagsWritten]);
        }
        // Only scripts aimed at CLOSED or LISTEN endpoints have no handshake at all.
        if (!sawSyn) expect([f, /-(closed|listen)-ipv[46]\.pkt$/.test(f)]).toEqual([f, true]);
      }
    });

    test("inbound segments never use the outbound-only wildcards", () => {
      for (const [, s] of all) {
        for (const st of s.statements) {
          if (st.type !== "packet" || st.direction !== "<") continue;
          expect([st.text, st.options === "any", st.seq.kind]).toEqual([st.text, false, "range"]);
        }
      }
    });

    test("#ifdef blocks name STANDARD or FreeBSD, and come as a pair", () => {
      for (const [f, s] of all) {
        const names = new Set(s.statements.flatMap((st) => (st.ifdef ? [st.ifdef] : [])));
        if (names.size > 0) expect([f, [...names].sort()]).toEqual([f, ["FreeBSD", "STANDARD"]]);
      }
    });

    test("the runner's inventory: system calls, shell commands and code snippets used", () => {
      const calls = new Set<string>();
      const commands = new Set<string>();
      const code = new Set<string>();
      for (const [, s] of all) {
        for (const st of s.statements) {
          if (st.type === "syscall") calls.add(st.name);
          if (st.type === "shell") commands.add(st.command.split(" ")[0] ?? "");
          if (st.type === "code") code.add(st.code.replace(/TCPI_\w+/, "TCPI_*"));
        }
      }
      expect([...calls].sort()).toEqual([
        "accept",
        "bind",
        "close",
        "connect",
        "fcntl",
        "getsockopt",
        "listen",
        "read",
        "setsockopt",
        "shutdown",
        "socket",
      ]);
      expect([...commands].sort()).toEqual(["sockstat", "sysctl", "tcpdrop"]);
      expect([...code]).toEqual(["assert tcpi_state == TCPI_*"]);
    });
  });
}

function firstCall(s: Script): string {
  const st = s.statements.find(
    (x): x is Extract<Statement, { type: "syscall" }> => x.type === "syscall",
  );
  return st?.name ?? "";
}
