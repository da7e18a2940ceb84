import { describe, expect, test } from "bun:test";
import { simPair } from "../../src/runtime/sim-pair.ts";
import { blocksText } from "../../src/lab/session.ts";
import { formatIpv6Addr } from "../../src/wire/ipv6-addr.ts";
import { linesOf, run, runAll, session } from "./helpers.ts";

/** b listens for IPv6 peers on 80; a connects to [fd00::2]:80; both ends ESTABLISHED (#3 on a, #4 on b). */
async function established6(connect = "connect [fd00::2]:80") {
  const { s, output } = session({ trace: true });
  await runAll(s, ["b: listen 80 -6", connect, "step", "step", "step", "b: accept"]);
  return { s, output };
}

describe("the simulated world's IPv6 addresses", () => {
  test("a is 10.0.0.1 and fd00::1, b 10.0.0.2 and fd00::2; ipv6: false leaves them out", () => {
    const w = simPair();
    expect([w.a.host.addr6, w.b.host.addr6].map((a) => a && formatIpv6Addr(a))).toEqual([
      "fd00::1",
      "fd00::2",
    ]);
    expect(simPair({ ipv6: false }).a.host.addr6).toBeUndefined();
  });

  test("giving the hosts IPv6 addresses changes nothing on the IPv4 side: same seed, same SYN", () => {
    const firstSyn = (ipv6: boolean) => {
      const sent: Uint8Array[] = [];
      const w = simPair({
        seed: 7,
        ipv6,
        link: (_name, end) => ({
          get mtu() {
            return end.mtu;
          },
          send(p) {
            sent.push(p.slice());
            end.send(p);
          },
          onReceive: (h) => end.onReceive(h),
        }),
      });
      w.a.host.connect({ addr: w.b.host.addr, port: 80 }, w.clock.now());
      w.a.attachment.flush();
      return sent[0];
    };
    const withV6 = firstSyn(true);
    expect(withV6).toBeDefined();
    expect(withV6).toEqual(firstSyn(false) as Uint8Array);
  });

  test("the state table's title names both addresses", async () => {
    const { s } = session();
    const table = (await run(s, "b: state")).blocks[0];
    expect(table?.kind === "table" ? table.title : "").toStartWith("b 10.0.0.2 fd00::2");
  });
});

describe("socket commands over IPv6", () => {
  test("listen -6, connect [fd00::2]:80, accept, send and recv", async () => {
    const { s } = session();
    expect((await run(s, "b: listen 80 -6")).text).toBe(
      "#3 listening on [fd00::2]:80 (backlog 16)",
    );
    expect((await run(s, "connect [fd00::2]:80")).text).toContain(
      "#3 [fd00::1]:49152 → [fd00::2]:80 SYN-SENT",
    );
    await runAll(s, ["step", "step", "step"]);
    expect((await run(s, "b: accept")).text).toContain(
      "#4 accepted on #3: [fd00::2]:80 ← [fd00::1]:49152 ESTABLISHED",
    );
    await runAll(s, ["send #3 hello6", "step"]);
    expect((await run(s, "b: recv #4")).text).toBe('#4 read 6 bytes:\n"hello6"');
    const rows = linesOf((await run(s, "b: state")).blocks[0]);
    expect(rows.some((r) => r.startsWith("#3|[::]:80|*|LISTEN"))).toBe(true);
    expect(rows.some((r) => r.startsWith("#4|:80|[fd00::1]:49152|ESTABLISHED"))).toBe(true);
  });

  test("the SYN carries IPv6's MSS (MTU − 60, RFC 9293 §3.7.1) and the trace writes IP6", async () => {
    const { output } = await established6();
    const first = blocksText(output).split("\n")[0];
    expect(first).toStartWith("a 0.000000 > IP6 fd00::1.49152 > fd00::2.80: Flags [S]");
    expect(first).toContain("mss 1440");
  });

  test("-6 names a host's IPv6 address; ADDR:PORT and ADDR PORT are the same", async () => {
    const { s } = await established6("connect b 80 -6");
    expect((await run(s, "state #3")).text).toContain("[fd00::2]:80");
    const v4 = await run(s, "connect 10.0.0.2:80");
    expect(v4.text).toContain("10.0.0.1:49153 → 10.0.0.2:80 SYN-SENT");
  });

  test("an IPv4 listener does not take an IPv6 peer yet: the SYN is refused with RST", async () => {
    const { s } = session();
    await runAll(s, ["b: listen 80", "connect [fd00::2]:80", "step", "step"]);
    expect((await run(s, "state #3")).text).toContain("CLOSED");
    expect((await run(s, "sockopt #3 error")).text).toBe("#3 error = ECONNREFUSED");
  });

  test("udp bind -6, sendto a host name, recv shows the IPv6 sender", async () => {
    const { s } = session();
    await runAll(s, ["b: udp bind 53 -6", "udp bind 5000 -6", "udp sendto #3 b 53 hi", "step"]);
    expect((await run(s, "b: udp recv #3")).text).toBe(
      '#3 datagram of 2 bytes from [fd00::1]:5000:\n"hi"',
    );
    const wrong = await run(s, "udp sendto #3 10.0.0.2 53 hi");
    expect(wrong.errors[0]?.message).toContain("#3 is an IPv6 socket");
  });

  test("ping fd00::2 and ping b -6 send ICMPv6 echo requests that b answers", async () => {
    const { s, output } = session({ trace: true });
    await runAll(s, ["ping fd00::2", "ping b -6 100", "step", "step"]);
    const lines = blocksText(output).split("\n");
    expect(lines.filter((l) => l.startsWith("a ") && l.includes("ICMP6, echo reply"))).toEqual([
      "a 0.020000 < IP6 fd00::2 > fd00::1: ICMP6, echo reply, id 31771, seq 1, length 64",
      "a 0.020000 < IP6 fd00::2 > fd00::1: ICMP6, echo reply, id 31771, seq 2, length 108",
    ]);
  });
});

describe("inject, faults, ladder and mtu over IPv6", () => {
  test("inject #ID crafts an IPv6 segment of the connection: a RST in window closes it", async () => {
    const { s } = await established6();
    const r = await run(s, "inject #3 < R 1:1(0)");
    expect(r.text).toContain("injected into a: < IP6 fd00::2.80 > fd00::1.49152: Flags [R]");
    expect((await run(s, "state #3")).text).toContain("CLOSED");
  });

  test("inject tcp takes IPv6 endpoints; a bad checksum is dropped; families must match", async () => {
    const { s } = session();
    const bad = await run(s, "b: inject tcp [fd00::1]:4000 > [fd00::2]:80 flags=S csum=bad");
    expect(bad.text).toContain("b dropped it: tcp.bad-checksum");
    const mixed = await run(s, "b: inject tcp [fd00::1]:4000 > 10.0.0.2:80 flags=S");
    expect(mixed.errors[0]?.message).toContain("both IPv4 or both IPv6");
    // A well-formed SYN to a closed port draws a RST (RFC 9293 §3.10.7.1).
    const ok = await run(s, "b: inject tcp [fd00::1]:4000 > [fd00::2]:80 flags=S seq=1000 ttl=9");
    expect(ok.text).toContain("b replied with 1 segment(s)");
  });

  test("a fault rule drops an IPv6 SYN; the ladder draws it lost under the IPv6 addresses", async () => {
    const { s } = session();
    await runAll(s, ["b: listen 80 -6", "drop next 1 out SYN", "connect b 80 -6", "step 1s"]);
    const ladder = linesOf((await run(s, "ladder")).blocks[0]);
    expect(ladder[0]).toMatch(/^\s+time\s+a fd00::1\.49152\s+b fd00::2\.80$/);
    expect(ladder[1]).toContain("|-- S 0:0(0)");
    expect(ladder[1]).toContain("--✕");
    expect(ladder[2]).toMatch(/1\.000 .*\|-- S 0:0\(0\) .*-+>\|$/);
  });

  test("an IPv6 connection's segments are sampled for plot, as an IPv4 one's", async () => {
    const { s } = await established6();
    await runAll(s, ["send #3 --bytes 5000", "run 500ms"]);
    const a = s.world.hosts[0];
    const tcb = a && s.tcbById(a, 3);
    const sent = tcb && a.samples.series(tcb)?.sent.filter((x) => x.len > 0);
    // 5000 bytes at IPv6's MSS of 1428 (1440 less 12 of timestamps): four data segments.
    expect(sent?.map((x) => x.len)).toEqual([1428, 1428, 1428, 716]);
  });

  test("mtu below 1280 warns that IPv6 needs 1280 (RFC 8200 §5); 1280 does not", async () => {
    const { s } = session();
    const low = await run(s, "mtu 1200");
    expect(low.text).toContain("IPv6 needs links that carry 1280-byte packets (RFC 8200 §5)");
    expect((await run(s, "mtu 1280")).text).not.toContain("warning");
  });
});

describe("malformed IPv6 addresses say what is wrong and how to write them", () => {
  const cases: [string, string][] = [
    ["connect fd00:::2 80", 'ADDR: "fd00:::2" is not an IPv6 address: three colons in a row'],
    ["connect fd00::1::2 80", '"::" may appear only once'],
    ["connect 1:2:3 80", "3 groups where eight are needed"],
    ["connect [fd00::g]:80", '"g" is not a group of one to four hex digits'],
    ["connect [fd00::2]:70000", "a port number 1–65535 ([fd00::2]:80)"],
    ["connect fd00::2:80", "fd00::2:80 is one IPv6 address: for port 80 write [fd00::2]:80"],
    ["connect [fd00::2]:80 80", "the port twice"],
    ["connect 10.0.0.2 80 -6", "-6 picks a host's IPv6 address"],
    ["ping [fd00::2]", "brackets go around an IPv6 address only before a port"],
    ["ping 10.0.0.2:80", "the address goes without a port here: write 10.0.0.2"],
    ["listen 81 -4 -6", "-4 or -6, not both"],
    [
      "connect nowhere 80",
      "ADDR should be an IPv4 address (10.0.0.2), an IPv6 address (fd00::2) or a host name",
    ],
  ];
  for (const [line, message] of cases) {
    test(line, async () => {
      const { s } = session();
      const r = await run(s, line);
      expect(r.errors[0]?.message).toContain(message);
      expect(r.errors[0]?.usage).toBeDefined();
    });
  }
});
