/**
 * The runner's `--ip_version=ipv4-mapped-ipv6` mode, as packetdrill defines
 * it: the packets on the link are IPv4 between 10.0.0.1 (the peer) and
 * 10.0.0.2 (tcplab) with IPv4's MSS, while the script's sockets are AF_INET6
 * and name both ends ::ffff:10.0.0.x (RFC 4291 §2.5.5.2, RFC 3493 §3.7).
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { formatResult, type ScriptResult } from "../../src/packetdrill/run/report.ts";
import { runScript } from "../../src/packetdrill/run/runner.ts";
import { formatIpv4Addr } from "../../src/wire/addr.ts";
import { parsePacket } from "../../src/wire/packet.ts";
import { Flag } from "../../src/wire/tcp-types.ts";

const PASSIVE = "mapped-passive-open.pkt";
const ACTIVE = "mapped-active-open.pkt";
const load = (name: string) =>
  readFileSync(fileURLToPath(new URL(`./scripts/${name}`, import.meta.url)), "utf8");

interface Played {
  readonly r: ScriptResult;
  readonly wire: { readonly dir: "<" | ">"; readonly bytes: Uint8Array }[];
  readonly trace: string[];
}

async function play(name: string, text = load(name)): Promise<Played> {
  const wire: Played["wire"] = [];
  const trace: string[] = [];
  const r = await runScript(text, {
    path: name,
    personality: "tcplab",
    onPacket: (dir, bytes) => wire.push({ dir, bytes: bytes.slice() }),
    trace: (l) => trace.push(l),
  });
  return { r, wire, trace };
}

/** An IPv4 TCP packet's ends and SYN MSS, its checksums verified; throws for anything else. */
function ipv4Tcp(bytes: Uint8Array): { ends: string[]; syn: boolean; mss: number | undefined } {
  const p = parsePacket(bytes, { verifyChecksum: true });
  if (!p.ok) throw new Error(`not a valid IPv4 packet: ${p.drop}`);
  if (p.value.kind !== "tcp") throw new Error(`IPv4 carrying ${p.value.kind}, not TCP`);
  const { header } = p.value.ip;
  const t = p.value.tcp;
  const mss = t.options.find((o) => o.kind === "mss");
  return {
    ends: [
      `${formatIpv4Addr(header.src)}.${t.srcPort}`,
      `${formatIpv4Addr(header.dst)}.${t.dstPort}`,
    ],
    syn: (t.flags & Flag.SYN) !== 0,
    mss: mss?.kind === "mss" ? mss.value : undefined,
  };
}

/** The lines of a script that are statements. */
const statements = (text: string) => text.split("\n").filter((l) => /^[0-9+]/.test(l)).length;

describe.each([
  [PASSIVE, "10.0.0.1.40000", "10.0.0.2.8080"],
  [ACTIVE, "10.0.0.1.8080", "10.0.0.2.49152"],
])("%s over IPv4 from AF_INET6 sockets", (name, peer, us) => {
  test("passes, every statement run", async () => {
    const { r } = await play(name);
    expect(formatResult(r)).toBe(`ok    ${name}`);
    expect(r.statements).toBe(statements(load(name)));
  });

  test("every packet on the link is IPv4 between the script's ends; both SYNs carry IPv4's MSS", async () => {
    const { wire } = await play(name);
    expect(wire.length).toBeGreaterThan(0);
    for (const w of wire) expect(w.bytes[0]! >> 4).toBe(4);
    const packets = wire.map((w) => ({ dir: w.dir, ...ipv4Tcp(w.bytes) }));
    for (const p of packets) expect(p.ends).toEqual(p.dir === "<" ? [peer, us] : [us, peer]);
    // tcplab's SYN or SYN-ACK offers 1500 − 20 (IPv4) − 20 (TCP), not IPv6's 1440.
    const ours = packets.filter((p) => p.dir === ">" && p.syn);
    expect(ours.map((p) => p.mss)).toEqual([1460]);
  });
});

describe("the sockets name both ends in the mapped form", () => {
  test("the accepted socket: getsockname ::ffff:10.0.0.2, getpeername ::ffff:10.0.0.1", async () => {
    const { trace } = await play(PASSIVE);
    expect(trace.filter((l) => l.includes("accepted fd"))).toEqual([
      "0.110000       accepted fd 4: ::ffff:10.0.0.2.8080 to ::ffff:10.0.0.1.40000",
    ]);
  });

  test("connect(3, ..., ...) goes to ::ffff:10.0.0.1; the socket names itself ::ffff:10.0.0.2", async () => {
    const { trace } = await play(ACTIVE);
    expect(trace.filter((l) => l.includes("connected fd"))).toEqual([
      "0.050000       connected fd 3: ::ffff:10.0.0.2.49152 to ::ffff:10.0.0.1.8080",
    ]);
  });

  test("the same script under --ip_version=ipv4 has AF_INET sockets with plain IPv4 names", async () => {
    const text = load(PASSIVE).replace(
      "\n--ip_version=ipv4-mapped-ipv6\n",
      "\n--ip_version=ipv4\n",
    );
    const { r, trace } = await play(PASSIVE, text);
    expect(r.outcome).toBe("passed");
    expect(trace.filter((l) => l.includes("accepted fd"))).toEqual([
      "0.110000       accepted fd 4: 10.0.0.2.8080 to 10.0.0.1.40000",
    ]);
  });
});

describe("what sets the mode apart is checked", () => {
  test("an IPv6-sized MSS (1440) fails: the wire is IPv4", async () => {
    const text = load(PASSIVE).replace("ack 1 <mss 1460,", "ack 1 <mss 1440,");
    const { r } = await play(PASSIVE, text);
    expect(r).toMatchObject({ outcome: "failed", line: 18 });
    expect(r.fields?.map((f) => [f.field, f.actual])).toEqual([
      ["options", "<mss 1460,nop,wscale 0,sackOK,nop,nop>"],
    ]);
    const maxseg = load(PASSIVE).replace("TCP_MAXSEG, [1460]", "TCP_MAXSEG, [1440]");
    expect((await play(PASSIVE, maxseg)).r).toMatchObject({ outcome: "failed", line: 15 });
  });

  test("sockstat -4/-6 is unsupported: FreeBSD's tcp46 sockets are not modelled", async () => {
    const text = load(PASSIVE).replace(
      "+0    listen(3, 1) = 0",
      "+0    listen(3, 1) = 0\n+0    `sockstat -6 -P tcp -s | grep -c LISTEN | grep 1`",
    );
    const { r } = await play(PASSIVE, text);
    expect(r).toMatchObject({ outcome: "unsupported", line: 15, statements: 0 });
    expect(r.reason).toContain("tcp46");
  });
});
