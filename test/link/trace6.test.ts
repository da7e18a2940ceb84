import { describe, expect, test } from "bun:test";
import { ms } from "../../src/clock/time.ts";
import { VirtualClock } from "../../src/clock/virtual-clock.ts";
import { SimWire } from "../../src/link/sim-wire.ts";
import { formatTraceLine, type TraceLine, trace } from "../../src/link/trace.ts";
import { Rng } from "../../src/util/rng.ts";
import { A6, B6, echo6, echoPacket6, synPacket6 } from "../wire/packets6.ts";
import { syn } from "./packets.ts";

describe("trace of either family", () => {
  test("IPv6 TCP and ICMPv6 show as tcpdump's IP6 lines; IPv4 as before", () => {
    const clock = new VirtualClock();
    const w = new SimWire(clock, new Rng(1), { settings: { delay: ms(5) } });
    const lines: TraceLine[] = [];
    const a = trace(w.a, (l) => lines.push(l), clock, "a");
    a.onReceive(() => {});
    w.b.onReceive(() => {});
    a.send(synPacket6());
    w.b.send(echoPacket6({ ...echo6, type: "echo-reply" }, B6, A6));
    a.send(syn(1000));
    clock.runUntilIdle();
    // The direction stands for tcpdump's "IP"; "IP6" stays, naming the family.
    expect(lines.map(formatTraceLine)).toEqual([
      "a 0.000000 > IP6 fd00::1.5000 > fd00::2.80: Flags [S], seq 1000, win 65535, options [mss 1440], length 0",
      "a 0.000000 > 10.0.0.1.43512 > 10.0.0.2.80: Flags [S], seq 1000, win 65535, length 0",
      "a 0.005000 < IP6 fd00::2 > fd00::1: ICMP6, echo reply, id 1, seq 1, length 64",
    ]);
  });
});
