import { describe, expect, test } from "bun:test";
import { createKernelLabSession } from "../../src/lab/kernel-world.ts";
import { kernelWorldUnavailable } from "../../src/link/tun-preflight.ts";
import { linesOf, run } from "./helpers.ts";

// The kernel world needs root and /dev/net/tun; elsewhere these tests are skipped.
const unavailable = kernelWorldUnavailable() !== undefined || Bun.which("ip") === null;

describe.skipIf(unavailable)("kernel world", () => {
  test("the kernel pings tcplab and connects to a lab listener; host streams output", async () => {
    const s = await createKernelLabSession({
      netns: "tcplab-labtest",
      tunName: "tcplabt0",
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
});
