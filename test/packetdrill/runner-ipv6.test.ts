/**
 * The runner's `--ip_version=ipv6` mode: the packets on the link are IPv6
 * between fd00::1 (the peer) and fd00::2 (tcplab), with checksums over the
 * IPv6 pseudo-header (RFC 8200 §8.1); sockets are AF_INET6, so the MSS is
 * 1500 − 60 (RFC 9293 §3.7.1) and `sockstat -6` counts them. The same script
 * written for IPv4 runs over IPv4, with IPv4's MSS.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { formatResult, type ScriptResult } from "../../src/packetdrill/run/report.ts";
import { runScript } from "../../src/packetdrill/run/runner.ts";
import { parseIpv4 } from "../../src/wire/ipv4.ts";
import { IPV6_DEFAULT_HOP_LIMIT, type Ipv6Header } from "../../src/wire/ipv6.ts";
import { formatIpv6Addr } from "../../src/wire/ipv6-addr.ts";
import { parsePacket6 } from "../../src/wire/packet6.ts";
import { formatIpv4Addr } from "../../src/wire/addr.ts";

const NAME = "ipv6-handshake-data-close.pkt";
const TEXT = readFileSync(fileURLToPath(new URL(`./scripts/${NAME}`, import.meta.url)), "utf8");

interface Wire {
  readonly dir: "<" | ">";
  readonly bytes: Uint8Array;
}

async function run(text: string): Promise<{ r: ScriptResult; wire: Wire[] }> {
  const wire: Wire[] = [];
  const r = await runScript(text, {
    path: NAME,
    personality: "tcplab",
    onPacket: (dir, bytes) => wire.push({ dir, bytes: bytes.slice() }),
  });
  return { r, wire };
}

/** An IPv6 packet's header and TCP ports, its checksum verified; throws for anything else. */
function ipv6Tcp(bytes: Uint8Array): { h: Ipv6Header; src: string; dst: string } {
  const p = parsePacket6(bytes, { verifyChecksum: true });
  if (!p.ok) throw new Error(`not a valid IPv6 packet: ${p.drop}`);
  if (p.value.kind !== "tcp") throw new Error(`IPv6 carrying ${p.value.kind}, not TCP`);
  const h = p.value.ip.header;
  const t = p.value.tcp;
  return {
    h,
    src: `${formatIpv6Addr(h.src)}.${t.srcPort}`,
    dst: `${formatIpv6Addr(h.dst)}.${t.dstPort}`,
  };
}

/** The packet lines of a script, by direction. */
function packetLines(text: string, dir: "<" | ">"): number {
  return text.split("\n").filter((l) => new RegExp(`^\\S+\\s+${dir}\\s`).test(l)).length;
}

/** The script's IPv4 twin: what sets the FreeBSD suite's twins apart, and sockstat's family. */
function ipv4Twin(text: string): string {
  return text
    .replace("--ip_version=ipv6", "--ip_version=ipv4")
    .replaceAll("mss 1440", "mss 1460")
    .replace("TCP_MAXSEG, [1440]", "TCP_MAXSEG, [1460]")
    .replace("sockstat -6 -P tcp -s | grep -c LISTEN | grep 1", "SWAP")
    .replace(
      "sockstat -4 -P tcp -s | grep -c LISTEN | grep 0",
      "sockstat -6 -P tcp -s | grep -c LISTEN | grep 0",
    )
    .replace("SWAP", "sockstat -4 -P tcp -s | grep -c LISTEN | grep 1")
    .replace("sockstat -6 -P tcp -s | grep packetdril", "sockstat -4 -P tcp -s | grep packetdril");
}

describe(`${NAME}: a handshake, data each way and a close over IPv6`, () => {
  test("passes, every statement run", async () => {
    const { r } = await run(TEXT);
    expect(formatResult(r)).toBe(`ok    ${NAME}`);
    expect(r.statements).toBe(TEXT.split("\n").filter((l) => /^[0-9+]/.test(l)).length);
  });

  test("every packet on the link is IPv6 between fd00::1 and fd00::2, checksummed over the IPv6 pseudo-header", async () => {
    const { wire } = await run(TEXT);
    const inbound = wire.filter((w) => w.dir === "<");
    const outbound = wire.filter((w) => w.dir === ">");
    expect(inbound).toHaveLength(packetLines(TEXT, "<"));
    expect(outbound).toHaveLength(packetLines(TEXT, ">"));
    for (const w of inbound) {
      const p = ipv6Tcp(w.bytes);
      expect([p.src, p.dst]).toEqual(["fd00::1.40000", "fd00::2.8080"]);
    }
    for (const w of outbound) {
      const p = ipv6Tcp(w.bytes);
      expect([p.src, p.dst]).toEqual(["fd00::2.8080", "fd00::1.40000"]);
      // No fragment header or other extension: the segment fits the path (RFC 8200 §5).
      expect(p.h.nextHeader).toBe(6);
      expect(p.h.hopLimit).toBe(IPV6_DEFAULT_HOP_LIMIT);
    }
    // The largest segment is the peer's MSS plus 20 (TCP) and 40 (IPv6).
    expect(Math.max(...outbound.map((w) => w.bytes.length))).toBe(1220 + 20 + 40);
  });

  test("the IPv4 twin runs over IPv4 with IPv4's MSS", async () => {
    const { r, wire } = await run(ipv4Twin(TEXT));
    expect(formatResult(r)).toBe(`ok    ${NAME}`);
    expect(wire.length).toBe(packetLines(TEXT, "<") + packetLines(TEXT, ">"));
    for (const w of wire) {
      const p = parseIpv4(w.bytes);
      if (!p.ok) throw new Error(`not IPv4: ${p.drop}`);
      const ends = [formatIpv4Addr(p.value.header.src), formatIpv4Addr(p.value.header.dst)];
      expect(ends).toEqual(w.dir === "<" ? ["10.0.0.1", "10.0.0.2"] : ["10.0.0.2", "10.0.0.1"]);
    }
  });

  test("the MSS follows the family: IPv4's 1460 in the IPv6 script fails", async () => {
    const { r } = await run(TEXT.replace("ack 1 <mss 1440,", "ack 1 <mss 1460,"));
    expect(r.outcome).toBe("failed");
    expect(r.line).toBe(20);
    expect(r.fields?.map((f) => [f.field, f.actual])).toEqual([
      ["options", "<mss 1440,nop,wscale 0,sackOK,nop,nop>"],
    ]);
    const maxseg = await run(TEXT.replace("TCP_MAXSEG, [1440]", "TCP_MAXSEG, [1460]"));
    expect(maxseg.r).toMatchObject({ outcome: "failed", line: 14 });
  });

  test("sockstat -4 does not count the IPv6 listener", async () => {
    const { r } = await run(TEXT.replace("grep -c LISTEN | grep 0", "grep -c LISTEN | grep 1"));
    expect(r).toMatchObject({ outcome: "failed", line: 16 });
    expect(r.fields).toEqual([{ field: "sockets in LISTEN", expected: "1", actual: "0" }]);
  });
});

describe("IPv6 header fields of a line", () => {
  const open = [
    "--ip_version=ipv6",
    "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3",
    "+0 bind(3, ..., ...) = 0",
    "+0 listen(3, 1) = 0",
  ];

  test("an inbound line's tos, ttl and flowlabel are the Traffic Class, Hop Limit and Flow Label", async () => {
    const { r, wire } = await run(
      [
        ...open,
        "0.1 < [tos 0x20, flowlabel 0x12345, ttl 3] S 0:0(0) win 1000 <mss 1220>",
        "+0 > [ttl 64] S. 0:0(0) ack 1 <...>",
      ].join("\n"),
    );
    expect(r.outcome).toBe("passed");
    const syn = ipv6Tcp(wire[0]?.bytes ?? new Uint8Array()).h;
    expect([syn.trafficClass, syn.flowLabel, syn.hopLimit]).toEqual([0x20, 0x12345, 3]);
  });

  test("an outbound line's ttl is checked against the Hop Limit", async () => {
    const { r } = await run(
      [...open, "0.1 < S 0:0(0) win 1000 <mss 1220>", "+0 > [ttl 63] S. 0:0(0) ack 1 <...>"].join(
        "\n",
      ),
    );
    expect(r).toMatchObject({ outcome: "failed", line: 6 });
    expect(r.fields).toEqual([{ field: "ttl", expected: "63", actual: "64" }]);
  });

  test("a flowlabel the runner cannot honour is unsupported, not ignored", async () => {
    const out = await run(
      [...open, "0.1 < S 0:0(0) win 1000", "+0 > [flowlabel 0x1] S. 0:0(0) ack 1 <...>"].join("\n"),
    );
    expect(out.r).toMatchObject({ outcome: "unsupported", line: 6 });
    const v4 = await run([...open.slice(1), "0.1 < [flowlabel 0x1] S 0:0(0) win 1000"].join("\n"));
    expect(v4.r).toMatchObject({ outcome: "unsupported", line: 4 });
    expect(v4.r.reason).toContain("IPv6's");
  });
});
