import { expect, test } from "bun:test";
import { createKernelLabSession, pump } from "../../src/lab/kernel-world.ts";
import type { Block } from "../../src/lab/view.ts";
import { describeKernelWorld, linesOf, run, uniqueKernelNames } from "./helpers.ts";

test("a host command's output is passed on a line at a time, the rest at its end", async () => {
  const pieces = [
    "nc: ",
    "connect to 10.0.0.2 port 81 (tcp) failed",
    ": Connection refused\n",
    "tail",
  ];
  const enc = new TextEncoder();
  const reader = {
    read: async () => {
      const p = pieces.shift();
      return p === undefined ? { done: true } : { done: false, value: enc.encode(p) };
    },
    cancel: async () => {},
  };
  const got: string[] = [];
  await pump(reader, "stderr", { output: (text) => got.push(text) });
  expect(got).toEqual([
    "nc: connect to 10.0.0.2 port 81 (tcp) failed: Connection refused\n",
    "tail",
  ]);
});

// The kernel world needs root and /dev/net/tun: without them these tests are skipped
// (with the reason), except under CI=true, where they fail.
describeKernelWorld("kernel world", () => {
  test("the kernel pings tcplab and connects to a lab listener; host streams output", async () => {
    const s = await createKernelLabSession({
      ...uniqueKernelNames("k"),
      trace: false,
      seed: 1,
    });
    try {
      const out: string[] = [];
      s.onOutput((bs) => {
        for (const b of bs) out.push(...linesOf(b));
      });
      expect(s.status().world).toBe("kernel");
      expect(s.status().prompt).toBe("lab> ");
      expect(s.status().clock.mode).toBe("running");
      await run(s, "listen 7");
      const ping = await run(s, "host ping -c 1 -W 2 10.0.0.2");
      expect(ping.text).toBe("exit status 0");
      expect(out.join("\n")).toContain("1 received");
      // A kernel client connects, sends and closes; tcplab's listener completes the handshake.
      await run(s, "host printf hello | timeout 1 nc -q 0 10.0.0.2 7; true");
      const acc = await run(s, "accept");
      expect(acc.text).toContain("#4 accepted on #3");
      expect((await run(s, "recv #4")).text).toContain('"hello"');
      const ladder = linesOf((await run(s, "ladder")).blocks[0]);
      expect(ladder[0]).toContain("kernel 10.0.0.1");
      expect(ladder.some((l) => l.includes("|<-- S 0:0(0)"))).toBe(true);
      expect(ladder.some((l) => l.includes("SYN-RECEIVED |-- S. 0:0(0) ack 1"))).toBe(true);
      // tcplab's timers can be paused and stepped while the kernel keeps real time.
      expect((await run(s, "pause")).text).toContain("clock paused");
      expect((await run(s, "step 1s")).errors).toEqual([]);
      expect((await run(s, "b: state")).errors[0]?.message).toContain('no host "b"');
      // interrupt() ends a running host command (Ctrl-C).
      const started = performance.now();
      const pending = s.execute("host sleep 20 | cat");
      s.interrupt();
      const r = await pending;
      expect(linesOf(r.blocks[0])).toEqual(["interrupted"]);
      expect(performance.now() - started).toBeLessThan(10_000);
    } finally {
      await s.close();
    }
  }, 30_000);

  test("the kernel reaches tcplab over IPv6: host ping -6, with fragments; a closed UDP port draws port unreachable", async () => {
    const s = await createKernelLabSession({ ...uniqueKernelNames("k6"), trace: false, seed: 3 });
    try {
      const out: string[] = [];
      s.onOutput((bs) => {
        for (const b of bs) out.push(...linesOf(b));
      });
      const ping = await run(s, "host ping -6 -c 1 -W 2 -s 3000 fd00::2");
      expect(ping.text).toBe("exit status 0");
      expect(out.join("\n")).toContain("3008 bytes from fd00::2");
      // ICMPv6 port unreachable from tcplab: nc -z -v (it probes only with -v) reports the refusal.
      const probe = await run(s, "host nc -6 -u -z -v -w 1 fd00::2 9999");
      expect(probe.text).toBe("exit status 1");
      const stats = s.world.hosts[0]?.host.stats();
      expect(stats?.packets["icmp6.port-unreachable-out"]).toBeGreaterThanOrEqual(1);
      expect(stats?.packets["ip6.reassembled"]).toBe(1);
    } finally {
      await s.close();
    }
  }, 30_000);

  test("host … & runs in the background; wait waits for the kernel; personality applies to lab", async () => {
    const s = await createKernelLabSession({ ...uniqueKernelNames("bg"), trace: false, seed: 2 });
    const out: Block[] = [];
    s.onOutput((bs) => out.push(...bs));
    try {
      expect((await run(s, "wait 200ms")).text).toContain(
        "nothing arrived from the kernel in 200 ms",
      );
      await run(s, "pause");
      await run(s, "delay 10ms");
      await run(s, "personality linux");
      await run(s, "listen 80");
      const started = await run(s, "host nc 10.0.0.2 80 &");
      expect(started.text).toMatch(/^\[1\] nc 10\.0\.0\.2 80 {2}\(pid \d+, in the background\)$/);
      expect(s.jobs.jobs.size).toBe(1);
      // The SYN arrived while nc runs on: wait sees it at once (it came after the previous command began).
      // (or a moment later, while wait waits).
      expect((await run(s, "wait syn")).text).toMatch(
        /^a SYN from the kernel (has arrived|arrived after)/,
      );
      await run(s, "step");
      // tcplab answered as Linux: <mss,sackOK,TS,nop,wscale 7>, in Linux's order.
      const ladder = linesOf((await run(s, "ladder")).blocks[0]);
      expect(
        ladder.some((l) =>
          /SYN-RECEIVED \|-- S\. 0:0\(0\) ack 1 win \d+ <mss 1460,sackOK,TS val 1 ecr \d+,wscale 7>/.test(
            l,
          ),
        ),
      ).toBe(true);
      // A background job that ends by itself says so, its output tagged with its number.
      await run(s, "host echo from job two &");
      for (let i = 0; i < 100 && !out.flatMap(linesOf).some((l) => l.startsWith("[2] done")); i++)
        await Bun.sleep(20);
      const lines = out.flatMap(linesOf);
      expect(lines).toContain("[2] from job two");
      expect(lines).toContain("[2] done: echo from job two (exit status 0)");
      // A host command's streamed output counts as its output (for lab `output` checks).
      await run(s, "host echo hello from the namespace");
      expect(s.lastOutput).toContain("hello from the namespace");
    } finally {
      await s.close();
    }
    // The background nc ended with the world, silently.
    expect(s.jobs.jobs.size).toBe(0);
    expect(out.flatMap(linesOf).some((l) => l.includes("done: nc"))).toBe(false);
  }, 30_000);
});
