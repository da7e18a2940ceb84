/**
 * The lab shell under bad input and long runs: a long step runs in slices
 * and stops at Ctrl-C, the event log stays within its limit, oversized
 * commands are user errors with the usage, text is UTF-8, and a timer that
 * throws is reported while the hosts run on.
 */
import { describe, expect, test } from "bun:test";
import { instant, later, ms } from "../../src/clock/time.ts";
import { EventLog } from "../../src/lab/event-log.ts";
import { checkExpect } from "../../src/lab/lab-checks.ts";
import { LabClock } from "../../src/lab/lab-clock.ts";
import { established, run, runAll, session } from "./helpers.ts";

describe("a long step", () => {
  test("runs in slices: the event loop gets turns and Ctrl-C stops it where it is", async () => {
    const { s } = session();
    await established(s);
    // Work for every virtual millisecond of the ten minutes: 600,000 timers, as a bulk transfer makes.
    const tick = () => s.clock.schedule(later(s.clock.now(), ms(1)), tick);
    tick();
    let slices = 0;
    const off = s.onStatus(() => {
      slices++;
      if (slices === 8) s.interrupt();
    });
    let otherWork = 0;
    const timer = setInterval(() => otherWork++, 0);
    const r = await run(s, "step 10m");
    clearInterval(timer);
    off();
    expect(slices).toBeGreaterThanOrEqual(8);
    expect(otherWork).toBeGreaterThan(0);
    expect(r.text).toMatch(/interrupted, [\d.]+ s short of the step/);
    expect(s.clock.now()).toBeLessThan(600_000);
    // The shell is still there, and the clock can go on.
    expect((await run(s, "step 10ms")).errors).toEqual([]);
  }, 30_000);
});

describe("the event log", () => {
  test("keeps the most recent events, positions stay absolute, what it let go is counted", async () => {
    const { s } = session({ sim: { logLimit: 400 } });
    await established(s);
    for (let i = 0; i < 10; i++)
      await runAll(s, ["send #3 --bytes 60000", "step 1s", "b: recv #4"]);
    const log = s.world.log;
    expect(log.length).toBeGreaterThan(1000);
    expect(log.all().length).toBeLessThanOrEqual(400);
    expect(log.forgotten).toBe(log.length - log.all().length);
    expect(log.all()[0]?.index).toBe(log.forgotten);
    expect(log.since(log.length - 5).map((e) => e.index)).toEqual(
      [0, 1, 2, 3, 4].map((i) => log.length - 5 + i),
    );
    expect((await run(s, "stats")).text).toContain(
      `the lab's log keeps the last 400 events: ${log.forgotten} older ones were let go`,
    );
    expect((await run(s, "ladder 5")).errors).toEqual([]);
  });

  test("a small log trims in blocks and loses no recent event", () => {
    const log = new EventLog(8);
    for (let i = 0; i < 100; i++) log.packet(instant(i), "a", ">", new Uint8Array([i]));
    expect(log.length).toBe(100);
    expect(log.all().length).toBeLessThanOrEqual(8);
    expect(log.all().at(-1)?.index).toBe(99);
  });
});

describe("oversized and odd input is a user error, never an internal one", () => {
  test("inject with a payload past 65535 bytes, send --bytes past 64 MiB", async () => {
    const { s } = session();
    await established(s);
    const big = await run(s, "inject #3 < P. 1:65536(65535) ack 1");
    expect(big.errors[0]?.message).toContain(
      "an IPv4 datagram holds at most 65535 bytes (RFC 791), so at most 65495 bytes of data here",
    );
    expect(big.errors[0]?.usage).toContain("inject #ID");
    const huge = await run(s, "send #3 --bytes 99999999999999");
    expect(huge.errors[0]?.message).toContain("at most 67108864 (64 MiB)");
    expect(huge.errors[0]?.usage).toBe("send #ID TEXT | send #ID --bytes N");
    for (const r of [big, huge]) expect(r.text).not.toContain("internal error");
  });

  test("text is always UTF-8; \\xHH is one byte", async () => {
    const { s } = session();
    await established(s);
    await runAll(s, ['send #3 "café"', 'send #3 "café €"', 'send #3 "\\xff!"', "step 1s"]);
    const r = await run(s, "b: recv #4");
    // "café" 5 bytes, "café €" 9 (é is 2 bytes, € 3), then 0xff and "!"
    expect(r.text).toContain("read 16 bytes");
    expect(r.text).toContain('"caf\\xc3\\xa9caf\\xc3\\xa9 \\xe2\\x82\\xac\\xff!"');
  });
});

describe("a timer that throws", () => {
  test("is reported in the shell; the other timers still fire", async () => {
    const { s, output } = session();
    let fired = 0;
    s.clock.schedule(later(s.clock.now(), ms(5)), () => {
      throw new Error("boom");
    });
    s.clock.schedule(later(s.clock.now(), ms(6)), () => fired++);
    const r = await run(s, "step 1s");
    expect(r.errors).toEqual([]);
    expect(fired).toBe(1);
    const said = output.flatMap((b) => (b.kind === "error" ? [b.message] : []));
    expect(said).toEqual(["a timer failed and was skipped (the hosts run on): boom"]);
  });

  test("in a running clock (the kernel world's) it does not end the run", async () => {
    let now = 0;
    const clock = new LabClock({
      now: () => instant(now),
      sleep: async (ms) => {
        now += ms;
      },
    });
    const errors: unknown[] = [];
    clock.onError = (e) => errors.push(e);
    let after = 0;
    clock.schedule(instant(30), () => {
      throw new Error("kaboom");
    });
    clock.schedule(instant(60), () => after++);
    expect(await clock.run({ until: instant(100) })).toBe("until");
    expect(after).toBe(1);
    expect(errors.map((e) => (e as Error).message)).toEqual(["kaboom"]);
  });
});

describe("set keeps values within what the wire and the RFCs allow", () => {
  test("out-of-range values are user errors with the range", async () => {
    const { s } = session();
    const mss = await run(s, "set mss 70000");
    expect(mss.errors[0]?.message).toBe(
      "set: mss is 64 to 65535 (the MSS option is 16 bits, RFC 9293 §3.2)",
    );
    expect((await run(s, "set wscaleShift 99")).errors[0]?.message).toContain(
      "wscaleShift is 0 to 14",
    );
    expect((await run(s, "set msl 2d")).errors[0]?.message).toContain("msl is a duration");
    expect((await run(s, "set wscaleShift 14")).errors).toEqual([]);
    expect(s.current.host.tcpSettings.wscaleShift).toBe(14);
  });
});

describe("sequence numbers stay relative after the log lets the SYNs go", () => {
  test("the ladder and segment checks count from the ISNs of forgotten SYNs", async () => {
    const { s } = session({ sim: { logLimit: 200 } });
    await established(s);
    for (let i = 0; i < 6; i++) await runAll(s, ["send #3 --bytes 20000", "step 1s", "b: recv #4"]);
    expect(s.world.log.forgotten).toBeGreaterThan(0);
    // No SYN is among the events kept any more.
    expect(s.world.log.all()[0]?.index).toBeGreaterThan(10);
    const ladder = await run(s, "ladder 2");
    expect(ladder.text).toMatch(/\. 1:1\(0\) ack 1\d{5}|ack 1\d{5} win/);
    expect(ladder.text).not.toMatch(/\d{8,}/);
    await runAll(s, ["send #3 hi", "step"]);
    const mark = s.world.log.length - 4;
    expect(
      checkExpect(s.checkContext(), "segment a:#3 > b:80 P. 120001:120003(2) ack 1", mark).ok,
    ).toBe(true);
  });
});
