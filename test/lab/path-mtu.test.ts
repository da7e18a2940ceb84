/**
 * `mtu BYTES`: the simulated path carries packets up to BYTES; a larger one
 * is dropped on it and marked so in the log (a black hole: no ICMP back),
 * while the hosts keep their own MTU and the MSS they announce. In the
 * kernel world the path is the kernel's: `mtu` refuses, and host commands
 * find the kernel's interface to tcplab in $TCPLAB_TUN.
 */
import { describe, expect, test } from "bun:test";
import { createKernelLabSession } from "../../src/lab/kernel-world.ts";
import { checkExpect } from "../../src/lab/lab-checks.ts";
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
      "path MTU 1492 bytes; the hosts' MTU is 1500: a packet over 1492 bytes is dropped on the path",
    );
    expect(set.text).toContain("no ICMP message says so");
    expect((await run(s, "faults")).text).toContain("one-way delay 10 ms; path MTU 1492 bytes");
    const bad = (await run(s, "mtu 40")).errors[0];
    expect(bad?.message).toBe('mtu: BYTES should be a whole number 68–65535, got "40"');
    expect((await run(s, "mtu")).text).toContain("path MTU 1492 bytes");
  });

  test("a full-sized segment is dropped on a smaller path; the SYNs still announce 1460", async () => {
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
    expect(ok("segment b:#4 < a P. 1:1449(1448)")).toBe(false);
    expect((await run(s, "ladder 1")).text).toContain("✕");
    // Back to 1500: the retransmission gets through.
    await runAll(s, ["mtu 1500", "step", "step"]);
    expect(ok("segment b:#4 < a P. 1:1449(1448)")).toBe(true);
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
