import { describe, expect, test } from "bun:test";
import { EPOCH, instant } from "../../src/clock/time.ts";
import { packetMatcher } from "../../src/lab/cmd-control.ts";
import { EventLog } from "../../src/lab/event-log.ts";
import { checkExpect } from "../../src/lab/lab-checks.ts";
import { ladderLines } from "../../src/lab/ladder.ts";
import { blocksText } from "../../src/lab/session.ts";
import type { LabHost } from "../../src/lab/world.ts";
import { ip } from "../../src/wire/addr.ts";
import { fragmentIpv6 } from "../../src/wire/ipv6-fragment.ts";
import { buildUdpPacket6 } from "../../src/wire/packet6.ts";
import { syn } from "../link/packets.ts";
import { A6, B6, echoPacket6, synPacket6 } from "../wire/packets6.ts";
import { linesOf, run, session } from "./helpers.ts";

/** A session in which b is handed an ICMPv6 echo and a sends an IPv6 SYN onto the wire. */
async function ipv6Arrivals() {
  const { s, output } = session({ trace: true });
  const [a, b] = s.world.hosts as LabHost[];
  b?.link.inject(echoPacket6());
  a?.link.emit(synPacket6());
  await run(s, "step");
  return { s, output };
}

describe("IPv6 packets in the lab (a is fd00::1, b fd00::2)", () => {
  test("the trace shows them as tcpdump's IP6 lines, and b answers them", async () => {
    const { output } = await ipv6Arrivals();
    // b answers the echo (RFC 4443 §4.2) and the SYN to a closed port with RST (RFC 9293 §3.10.7.1).
    expect(blocksText(output).split("\n")).toEqual([
      "b 0.000000 < IP6 fd00::1 > fd00::2: ICMP6, echo request, id 1, seq 1, length 64  (injected)",
      "b 0.000000 > IP6 fd00::2 > fd00::1: ICMP6, echo reply, id 1, seq 1, length 64",
      "a 0.000000 > IP6 fd00::1.5000 > fd00::2.80: Flags [S], seq 1000, win 65535, options [mss 1440], length 0  (injected)",
      "a 0.010000 < IP6 fd00::2 > fd00::1: ICMP6, echo reply, id 1, seq 1, length 64",
      "b 0.010000 < IP6 fd00::1.5000 > fd00::2.80: Flags [S], seq 1000, win 65535, options [mss 1440], length 0",
      "b 0.010000 > IP6 fd00::2.80 > fd00::1.5000: Flags [R.], seq 0, ack 1001, win 0, length 0",
    ]);
  });

  test("the ladder draws IPv6 packets between the hosts' IPv6 addresses, and skips others", async () => {
    const { s } = await ipv6Arrivals();
    expect(linesOf((await run(s, "ladder")).blocks[0])).toEqual([
      "    time              a fd00::1.5000                            b fd00::2.80",
      "   0.000              |-- icmp6 echo-request ----------------------------->|",
      "   0.000              |<-- icmp6 echo-reply -------------------------------|",
      "   0.000              |-- S 0:0(0) win 65535 <mss 1440> (injected) ------->|",
      "   0.010              |<-- R. 0:0(0) ack 1 win 0 --------------------------|",
    ]);
    // Not injected and between neither side: not a segment of this ladder.
    const log = new EventLog();
    log.packet(EPOCH, "b", "<", synPacket6(), false);
    const sides = [
      { name: "a", addr: ip("10.0.0.1") },
      { name: "b", addr: ip("10.0.0.2") },
    ] as const;
    const lines = ladderLines(log.all(), sides[0], sides[1], 10).map((l) =>
      l.map((x) => x.text).join(""),
    );
    expect(lines).toEqual(["no segments yet"]);
  });

  test("checks read them: segment patterns and packet lines", async () => {
    const { s } = await ipv6Arrivals();
    const ctx = s.checkContext();
    expect(checkExpect(ctx, "segment b:80 < S 0:0(0) <mss 1440>", 0).ok).toBe(true);
    const miss = checkExpect(ctx, "segment b:81 < S", 0);
    expect(miss.ok).toBe(false);
    expect(miss.message).toContain("closest: b:80 < [fd00::1]:5000 S 0:0(0) win 65535 <mss 1440>");
    expect(checkExpect(ctx, "packet b < ICMP6, echo request", 0).ok).toBe(true);
  });

  test("a SYN's ISN is remembered by direction after the log lets it go, either family", () => {
    const log = new EventLog(4);
    log.packet(EPOCH, "b", "<", synPacket6(), false);
    log.packet(EPOCH, "b", "<", syn(77), false);
    for (let i = 0; i < 4; i++) log.packet(instant(1), "b", "<", echoPacket6(), false);
    expect([...log.forgottenIsns]).toEqual([
      ["[fd00::1]:5000>[fd00::2]:80", 1000],
      [`${ip("10.0.0.1")}:43512>${ip("10.0.0.2")}:80`, 77],
    ]);
  });

  test("fault rules' words match IPv6 packets too", () => {
    const m = (word: string) => packetMatcher(word) as (p: Uint8Array) => boolean;
    expect(m("syn")(synPacket6())).toBe(true);
    expect(m("S")(synPacket6())).toBe(true);
    expect(m("data")(synPacket6())).toBe(false);
    expect(m("icmp")(echoPacket6())).toBe(true);
    expect(m("udp")(echoPacket6())).toBe(false);
    const big = buildUdpPacket6(A6, B6, { srcPort: 1, dstPort: 2, payload: new Uint8Array(3000) });
    const frags = fragmentIpv6(big, 1280, 9);
    if (!frags.ok) throw new Error(frags.reason);
    expect(frags.packets.map(m("frag"))).toEqual([true, true, true]);
    expect(frags.packets.map(m("lastfrag"))).toEqual([false, false, true]);
  });
});
