/**
 * A background host command ends with the world, and so does everything it
 * started: a child it put in the background (which ignores SIGINT), or the
 * children of a forking server.
 */
import { expect, test } from "bun:test";
import { createKernelLabSession } from "../../src/lab/kernel-world.ts";
import { describeKernelWorld, run, uniqueKernelNames } from "./helpers.ts";

function running(pattern: string): boolean {
  return Bun.spawnSync(["pgrep", "-f", pattern]).exitCode === 0;
}

describeKernelWorld("kernel world: host jobs", () => {
  test("a background command's own background child does not outlive the world", async () => {
    // A duration no other process uses, to find this one by its command line.
    const marker = `sleep 41.${process.pid % 1000}`;
    const s = await createKernelLabSession({ ...uniqueKernelNames("j"), trace: false, seed: 1 });
    try {
      await run(s, `host sh -c "${marker} & wait" &`);
      await run(s, "host sleep 0.3");
      expect(running(marker)).toBe(true);
    } finally {
      await s.close();
    }
    await Bun.sleep(200);
    expect(running(marker)).toBe(false);
  }, 20_000);
});
