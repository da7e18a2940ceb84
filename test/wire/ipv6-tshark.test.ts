/**
 * An independent reader: tshark decodes IPv6 packets our codecs built,
 * written to a pcap as LINKTYPE_RAW (the link type does not change for
 * IPv6: the version nibble tells the families apart). Skipped without tshark.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { instant } from "../../src/clock/time.ts";
import { pcapMemory } from "../../src/link/pcap.ts";
import { icmpv6ErrorQuote } from "../../src/wire/icmpv6.ts";
import { ip6 } from "../../src/wire/ipv6-addr.ts";
import { fragmentIpv6 } from "../../src/wire/ipv6-fragment.ts";
import { tcpSegment } from "../../src/wire/packet.ts";
import { buildIcmpv6Packet, buildTcpPacket6, buildUdpPacket6 } from "../../src/wire/packet6.ts";
import { Flag } from "../../src/wire/tcp-types.ts";

const A = ip6("fd00::1");
const B = ip6("fd00::2");
// tshark is an optional tool on a developer's machine; CI installs it
// (scripts/setup.ts --ci), so under CI=true the test runs and fails without it.
const skipTshark = Bun.which("tshark") === null && process.env.CI !== "true";
if (skipTshark)
  console.warn("ipv6-tshark skipped: tshark not installed (bun scripts/setup.ts installs it)");

function packets(): Uint8Array[] {
  const syn = tcpSegment({
    srcPort: 5000,
    dstPort: 80,
    seq: 1,
    flags: Flag.SYN,
    window: 65535,
    options: [{ kind: "mss", value: 1440 }, { kind: "sackPermitted" }],
  });
  const udp = buildUdpPacket6(A, B, { srcPort: 5000, dstPort: 9, payload: new Uint8Array(3000) });
  const frags = fragmentIpv6(udp, 1280, 42);
  if (!frags.ok) throw new Error(frags.reason);
  const quote = icmpv6ErrorQuote(udp);
  return [
    buildTcpPacket6(A, B, syn),
    buildTcpPacket6(A, B, syn, {
      extensions: [
        { kind: "hop-by-hop", options: [] },
        { kind: "destination", options: [{ type: 0x1e, data: new Uint8Array(3) }] },
        // Type 253 (RFC 4727, experimental): a segment routing header (4) would need a segment list.
        { kind: "routing", routingType: 253, segmentsLeft: 0 },
      ],
    }),
    buildUdpPacket6(A, B, { srcPort: 5000, dstPort: 9, payload: new Uint8Array(3).fill(1) }),
    buildIcmpv6Packet(A, B, { type: "echo-request", id: 1, seq: 1, data: new Uint8Array(56) }),
    buildIcmpv6Packet(B, A, { type: "dest-unreachable", code: 4, original: quote }),
    buildIcmpv6Packet(B, A, { type: "packet-too-big", mtu: 1280, original: quote }),
    buildIcmpv6Packet(B, A, { type: "parameter-problem", code: 1, pointer: 6, original: quote }),
    ...frags.packets,
    // One wrong on purpose, so a check that finds nothing has been shown to look.
    buildTcpPacket6(A, B, syn, { checksum: "bad" }),
  ];
}

function tshark(pcap: string, args: string[]): string[][] {
  const out = Bun.spawnSync([
    "tshark",
    "-n",
    "-r",
    pcap,
    "-o",
    "tcp.check_checksum:TRUE",
    "-o",
    "udp.check_checksum:TRUE",
    ...args,
  ]);
  expect(out.exitCode).toBe(0);
  return out.stdout
    .toString()
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => l.split("\t"));
}

describe("tshark reads what the IPv6 codecs write", () => {
  test.skipIf(skipTshark)(
    "headers, extension chains, ICMPv6 and fragments decode with good checksums",
    () => {
      const dir = mkdtempSync(join(tmpdir(), "tcplab-ipv6-"));
      try {
        const pcap = join(dir, "ipv6.pcap");
        const { writer, bytes } = pcapMemory();
        for (const [i, p] of packets().entries()) writer.write(instant(i), p);
        writeFileSync(pcap, bytes());
        const bad = tshark(pcap, [
          "-Y",
          '_ws.malformed || _ws.expert.severity == "error" || tcp.checksum.status == "Bad" || udp.checksum.status == "Bad" || icmpv6.checksum.status == "Bad"',
          "-T",
          "fields",
          "-e",
          "frame.number",
        ]);
        expect(bad).toEqual([["11"]]); // the deliberately bad one, and only it
        const rows = tshark(pcap, [
          "-T",
          "fields",
          "-E",
          "occurrence=a",
          "-E",
          "aggregator=,",
          "-e",
          "ipv6.nxt",
          "-e",
          "tcp.checksum.status",
          "-e",
          "udp.checksum.status",
          "-e",
          "icmpv6.type",
          "-e",
          "icmpv6.code",
          "-e",
          "icmpv6.checksum.status",
          "-e",
          "icmpv6.mtu",
          "-e",
          "icmpv6.pointer",
          "-e",
          "udp.length",
          "-e",
          "ipv6.hopopts.nxt",
          "-e",
          "ipv6.dstopts.nxt",
          "-e",
          "ipv6.routing.nxt",
        ]);
        // [next headers, tcp, udp checksum status (1 good, 2 unverified), icmpv6 type, code, status,
        //  mtu, pointer, udp length, next header after hop-by-hop, destination options, routing]
        expect(rows).toEqual([
          ["6", "1", "", "", "", "", "", "", "", "", "", ""],
          ["0", "1", "", "", "", "", "", "", "", "60", "43", "6"],
          ["17", "", "1", "", "", "", "", "", "11", "", "", ""],
          ["58", "", "", "128", "0", "1", "", "", "", "", "", ""],
          // Errors: the quote is cut, so the quoted UDP checksum cannot be checked.
          ["58,17", "", "2", "1", "4", "1", "", "", "3008", "", "", ""],
          ["58,17", "", "2", "2", "0", "1", "1280", "", "3008", "", "", ""],
          ["58,17", "", "2", "4", "1", "1", "", "6", "3008", "", "", ""],
          ["44", "", "", "", "", "", "", "", "", "", "", ""],
          ["44", "", "", "", "", "", "", "", "", "", "", ""],
          // tshark reassembles the three fragments: the whole datagram's checksum is good.
          ["44", "", "1", "", "", "", "", "", "3008", "", "", ""],
          ["6", "0", "", "", "", "", "", "", "", "", "", ""],
        ]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
