/**
 * `mtu BYTES`: the simulated path carries packets up to BYTES; a larger one
 * with DF is dropped by the router 10.0.0.254, which says so with ICMP
 * "fragmentation needed" (RFC 1191), and the sender lowers its MSS. The
 * hosts keep their own MTU and the MSS they announce. `blackhole BYTES`
 * drops large packets without a word (RFC 2923 §2.1), in both worlds. In
 * the kernel world the path is the kernel's: `mtu` refuses, and host
 * commands find the kernel's interface to tcplab in $TCPLAB_TUN.
 */
import { describe, expect, test } from "bun:test";
import { createKernelLabSession } from "../../src/lab/kernel-world.ts";
import { checkExpect } from "../../src/lab/lab-checks.ts";
import type { LabHost } from "../../src/lab/world.ts";
import { State } from "../../src/tcp/state.ts";
import type { Tcb } from "../../src/tcp/tcb.ts";
import { ip } from "../../src/wire/addr.ts";
import { icmpErrorQuote } from "../../src/wire/icmp.ts";
import { buildIcmpPacket, buildTcpPacket, tcpSegment } from "../../src/wire/packet.ts";
import {
  describeKernelWorld,
  established,
  linesOf,
  run,
  runAll,
  session,
  uniqueKernelNames,
} from "./helpers.ts";

describe("the path's MTU", () => {
  test("shown, set, and refused below 68 bytes", async () => {
    const { s } = session();
    expect((await run(s, "mtu")).text).toBe(
      "path MTU 1500 bytes: the path carries every packet the hosts send (their MTU is 1500)",
    );
    const set = await run(s, "mtu 1492");
    expect(set.text).toContain(
      'path MTU 1492 bytes; the hosts\' MTU is 1500: the router 10.0.0.254 answers a packet over 1492 bytes with DF by ICMP "fragmentation needed (mtu 1492)"',
    );
    expect(set.text).toContain("the sender lowers its MSS from that message (RFC 1191)");
    expect((await run(s, "faults")).text).toContain("one-way delay 10 ms; path MTU 1492 bytes");
    const bad = (await run(s, "mtu 40")).errors[0];
    expect(bad?.message).toBe('mtu: BYTES should be a whole number 68–65535, got "40"');
    expect((await run(s, "mtu")).text).toContain("path MTU 1492 bytes");
  });

  test("a full-sized segment draws the router's message; the sender resends it in segments that fit", async () => {
    const { s } = session();
    await run(s, "mtu 1492");
    const mark = s.checkContext().log.length;
    await established(s);
    const ok = (line: string) => checkExpect(s.checkContext(), line, mark).ok;
    expect(ok("segment a:#3 > b:80 S 0:0(0) <mss 1460,...>")).toBe(true);
    expect(ok("segment b:80 > a S. 0:0(0) ack 1 <mss 1460,...>")).toBe(true);
    await runAll(s, ["send #3 --bytes 1448", "step"]);
    // 1448 data bytes + 12 of timestamps + 40 of headers = 1500 > 1492.
    expect(ok("segment a:#3 > b:80 P. 1:1449(1448) dropped")).toBe(true);
    expect(
      ok("packet a < 10.0.0.254 > 10.0.0.1: ICMP 10.0.0.2 unreachable - need to frag (mtu 1492)"),
    ).toBe(true);
    expect((await run(s, "ladder 3")).text).toContain("✕");
    await run(s, "step");
    // 1492 − 40 − 12 = 1440 data bytes a segment: the 1448 go as 1440 and 8.
    expect(ok("segment b:#4 < a . 1:1441(1440)")).toBe(true);
    expect(ok("segment b:#4 < a P. 1441:1449(8)")).toBe(true);
    expect(ok("field a:#3 PMTU = 1492")).toBe(true);
    expect(ok("field a:#3 MSS = 1440")).toBe(true);
    expect(ok("stat a tcp.icmp-pmtu-lowered = 1")).toBe(true);
    const state = (await run(s, "state #3")).text;
    expect(state).toContain("send 1452 (the path's limit), receive 1448, peer offered 1460");
    expect(state).toContain(
      'path MTU      1492 from ICMP "fragmentation needed" (RFC 1191), forgotten in',
    );
  });

  test("state #ID shows a soft ICMP error the connection keeps for a timeout (RFC 1122 §4.2.3.9)", async () => {
    const { s } = session();
    await established(s);
    await run(s, "send #3 --bytes 100"); // in flight, not yet acknowledged
    const a = s.world.hosts[0] as LabHost;
    const tcb = s.tcbById(a, 3) as Tcb;
    const inFlight = buildTcpPacket(
      a.addr,
      tcb.remote.addr as number,
      tcpSegment({ srcPort: tcb.local.port, dstPort: 80, seq: tcb.sndUna, flags: 0x10 }),
    );
    a.link.inject(
      buildIcmpPacket(ip("10.0.0.254"), a.addr, {
        type: "dest-unreachable",
        code: 1,
        original: icmpErrorQuote(inFlight).slice(),
      }),
    );
    expect((await run(s, "state #3")).text).toMatch(
      /ICMP error {4}EHOSTUNREACH at \d+\.\d{3} s: a soft error, reported if the connection times out/,
    );
    expect(tcb.state).toBe(State.Established);
  });

  test("blackhole BYTES: large packets vanish, no ICMP; mtuProbing brings the MSS down", async () => {
    const { s } = session();
    expect((await run(s, "blackhole")).text).toContain("no black hole");
    await run(s, "blackhole 1000");
    expect((await run(s, "faults")).text).toContain("blackhole over 1000 bytes");
    await run(s, "set mtuProbing on");
    const mark = s.checkContext().log.length;
    await established(s);
    const ok = (line: string) => checkExpect(s.checkContext(), line, mark).ok;
    await runAll(s, ["send #3 --bytes 3000", "step 20s"]);
    expect(ok("segment a:#3 > b:80 . 1:1449(1448) dropped")).toBe(true);
    expect(ok("packet a < ICMP times 0")).toBe(true);
    // Third timeout: 1024 (still too big), fourth: 512, which crosses (RFC 4821 §7.7).
    expect(ok("segment b:#4 < a . 1:501(500)")).toBe(true);
    expect(ok("field a:#3 MSS = 500")).toBe(true);
    expect((await run(s, "state #3")).text).toContain(
      "black-hole fallback after timeouts (RFC 4821 §7.7): MSS at most 512",
    );
    expect((await run(s, "blackhole")).text).toMatch(
      /^blackhole over 1000 bytes: \d+ packet\(s\) dropped so far$/,
    );
    expect((await run(s, "blackhole off")).text).toBe("blackhole off");
    expect((await run(s, "faults")).text).toContain("no fault rules");
    expect((await run(s, "blackhole 40")).errors[0]?.message).toContain(
      'blackhole: BYTES should be a whole number 68–65535 or off, got "40"',
    );
  });
});

describeKernelWorld("the kernel's interface", () => {
  test("host commands name it $TCPLAB_TUN; a lower MTU there lowers the kernel's MSS", async () => {
    const names = uniqueKernelNames("mtu");
    const s = await createKernelLabSession({ ...names, trace: false, seed: 1 });
    const out: string[] = [];
    s.onOutput((bs) => {
      for (const b of bs) out.push(...linesOf(b));
    });
    try {
      expect((await run(s, "mtu 576")).errors[0]?.message).toContain(
        "the kernel world's path is the kernel's",
      );
      // A black hole is a fault rule at tcplab's interface: it works here too, both ways.
      expect((await run(s, "blackhole 1200")).text).toContain("blackhole over 1200 bytes");
      expect((await run(s, "faults")).text).toMatch(/lab\s+both\s+blackhole over 1200 bytes/);
      expect((await run(s, "blackhole off")).text).toBe("blackhole off");
      await run(s, "host echo dev=$TCPLAB_TUN");
      expect(out).toContain(`dev=${names.tunName}`);
      await runAll(s, ["pause", "delay 10ms", "listen 80"]);
      expect((await run(s, "host ip link set dev $TCPLAB_TUN mtu 576")).text).toBe("exit status 0");
      await runAll(s, ["host nc 10.0.0.2 80 >/dev/null &", "wait syn"]);
      expect(
        checkExpect(s.checkContext(), "segment lab:80 < kernel S 0:0(0) <mss 536,...>", 0).ok,
      ).toBe(true);
    } finally {
      await s.close();
    }
  }, 30_000);
});
