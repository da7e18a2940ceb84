import { describe, expect, test } from "bun:test";
import {
  formatFlags,
  formatOption,
  formatOptions,
  formatSegmentLine,
  readFlags,
} from "../../src/wire/notation.ts";
import { Flag, type TcpOption } from "../../src/wire/tcp-types.ts";

const SACK: TcpOption = {
  kind: "sack",
  blocks: [
    [1001, 2001],
    [3001, 4001],
  ],
};

describe("notation: tcpdump's and packetdrill's", () => {
  test("no flag is none for tcpdump, - on a packetdrill line; letters are shared", () => {
    expect(formatFlags(0)).toBe("none");
    expect(formatFlags(0, "packetdrill")).toBe("-");
    expect(formatFlags(Flag.SYN | Flag.ACK, "packetdrill")).toBe("S.");
  });

  test("flags may be read as letters or as names", () => {
    expect(readFlags("S.")).toBe(Flag.SYN | Flag.ACK);
    expect(readFlags("syn|ack")).toBe(Flag.SYN | Flag.ACK);
    expect(readFlags("FIN,ACK")).toBe(Flag.FIN | Flag.ACK);
    expect(readFlags("-")).toBeUndefined();
  });

  test("SACK blocks: counted and braced for tcpdump, edge pairs for packetdrill, relative to a base", () => {
    expect(formatOption(SACK, "tcpdump", 1000)).toBe("sack 2 {1:1001}{2001:3001}");
    expect(formatOption(SACK, "packetdrill", 1000)).toBe("sack 1:1001 2001:3001");
  });

  test("the option list's brackets, and options tcplab does not interpret", () => {
    const opts: TcpOption[] = [
      { kind: "mss", value: 1460 },
      { kind: "nop" },
      { kind: "unknown", type: 34, data: Uint8Array.of(0xab) },
    ];
    expect(formatOptions(opts, "tcpdump")).toBe("[mss 1460,nop,unknown-34 0xab]");
    expect(formatOptions(opts, "packetdrill")).toBe("<mss 1460,nop,FO ab>");
    expect(formatOptions([], "packetdrill")).toBe("");
  });

  test("a packetdrill line: ack only with the ACK bit, urg when given", () => {
    const base = { seq: 0, len: 0, ack: 1, win: 65535, options: [] };
    expect(formatSegmentLine({ ...base, flags: Flag.SYN })).toBe("S 0:0(0) win 65535");
    expect(formatSegmentLine({ ...base, flags: Flag.ACK | Flag.URG, len: 10, urg: 3 })).toBe(
      ".U 0:10(10) ack 1 win 65535 urg 3",
    );
  });
});
