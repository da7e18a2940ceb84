import { describe, expect, test } from "bun:test";
import { EPOCH, instant, ms } from "../../src/clock/time.ts";
import { LabClock, type RealTime } from "../../src/lab/lab-clock.ts";
import { formatPacket } from "../../src/wire/format.ts";
import { established, linesOf, run, runAll, session } from "./helpers.ts";

const INJECT_USAGE =
  "inject #ID <|> PACKET [csum=bad] | inject tcp SRC:PORT > DST:PORT [field=value …]";

describe("inject", () => {
  test("relative to a connection: a SYN-ACK for a SYN-SENT connection completes it", async () => {
    const { s } = session();
    await run(s, "connect 10.0.0.2 81"); // nobody on b will answer: we play the peer
    const r = await run(s, "inject #3 < S. 0:0(0) ack 1 win 1000 <mss 536>");
    expect(r.errors).toEqual([]);
    expect(r.text).toMatch(
      /injected into a: < IP 10\.0\.0\.2\.81 > 10\.0\.0\.1\.49152: Flags \[S\.\], seq \d+, ack \d+, win 1000, options \[mss 536\], length 0/,
    );
    expect(r.text).toContain("SYN-SENT → ESTABLISHED");
    expect(r.text).toContain("a replied with 1 segment(s)");
    const tcb = s.world.hosts[0]?.sockets.tcbOf(3);
    expect(tcb?.sndWnd).toBe(1000);
    expect(tcb?.sndMss).toBe(536);
    // "ack 1" means ISS + 1 on the wire.
    const bytes = s.world.log.all().find((e) => e.kind === "packet" && e.injected);
    if (bytes?.kind !== "packet") throw new Error("no injected packet logged");
    const ack = new DataView(bytes.bytes.buffer).getUint32(20 + 8);
    expect(ack).toBe(((tcb?.iss ?? 0) + 1) >>> 0);
    // Later relative segments count from the same peer ISN: data 1:6 is in order.
    await run(s, "inject #3 < P. 1:6(5) ack 1 win 1000");
    expect(tcb?.recvAvailable).toBe(5);
    expect((await run(s, "recv #3")).text).toContain('"abcde"');
  });

  test("options over the 40 bytes a header holds: a plain error with the usage, nothing sent", async () => {
    const { s } = session();
    await run(s, "connect 10.0.0.2 81");
    const before = s.world.log.length;
    const r = await run(s, "inject #3 < . 1:1(0) ack 1 win 65535 <sack 1:2 3:4 5:6 7:8 9:10>");
    // Five SACK blocks: 2 + 5 × 8 = 42 bytes.
    expect(r.errors).toEqual([
      {
        kind: "error",
        message: "inject: these options take 42 bytes; a TCP header holds at most 40",
        usage: INJECT_USAGE,
      },
    ]);
    expect(s.world.log.since(before).filter((e) => e.kind === "packet")).toEqual([]);
  });

  test("absolute fields: a SYN to a listener gets a SYN-ACK", async () => {
    const { s } = session();
    await run(s, "b: listen 80");
    const r = await run(
      s,
      "b: inject tcp 10.0.0.1:4000 > 10.0.0.2:80 flags=S seq=1000 win=512 mss=536",
    );
    expect(r.text).toContain(
      "< IP 10.0.0.1.4000 > 10.0.0.2.80: Flags [S], seq 1000, win 512, options [mss 536], length 0",
    );
    expect(r.text).toContain("b replied with 1 segment(s)");
    const reply = s.world.log
      .all()
      .filter((e) => e.kind === "packet" && e.host === "b" && e.dir === ">");
    expect(reply).toHaveLength(1);
    expect((await run(s, "b: state")).text).toContain("SYN-RECEIVED");
  });

  test("csum=bad is counted as a drop by the host, relative and absolute", async () => {
    const { s } = session();
    await established(s);
    const r = await run(s, "b: inject tcp a:49152 > b:80 flags=. seq=5 ack=7 csum=bad");
    expect(r.text).toContain("[bad tcp cksum]");
    expect(r.text).toContain("b dropped it: tcp.bad-checksum");
    expect(s.world.hosts[1]?.host.stats().drops["tcp.bad-checksum"]).toBe(1);
    await run(s, "inject #3 < P. 1:3(2) ack 1 csum=bad");
    expect(s.world.hosts[0]?.host.stats().drops["tcp.bad-checksum"]).toBe(1);
    expect(s.world.hosts[0]?.sockets.tcbOf(3)?.recvAvailable).toBe(0);
  });

  test("> puts a crafted segment on the wire as if the host had sent it", async () => {
    const { s } = session();
    await established(s);
    await run(s, "inject #3 > R 1:1(0)");
    await run(s, "step");
    expect(s.world.hosts[1]?.host.connections()).toHaveLength(0); // b took the RST
  });

  test("inject errors say what was wrong, with the usage", async () => {
    const { s } = session();
    await run(s, "connect b 80");
    const cases: [string, string][] = [
      ["inject", "missing #ID|tcp"],
      ["inject #3", "missing PACKET"],
      ["inject #8 < S 0:0(0)", "#8 on a has no connection"],
      ["inject three < S", 'expected #ID or tcp, got "three"'],
      ["inject #3 < Z 0:0(0)", "cannot read the segment"],
      ["inject #3 < S 0:0(0) <...>", "cannot read the segment"],
      ["inject tcp 10.0.0.1 > 10.0.0.2:80", "expected SRC:PORT > DST:PORT"],
      ["inject tcp 10.0.0.1:1 > 10.0.0.2:80 flags=Q", 'bad flags "Q"'],
      ["inject tcp 10.0.0.1:1 > 10.0.0.2:80 colour=red", 'unknown field "colour"'],
      ["inject tcp 10.0.0.1:1 > 10.0.0.2:80 win=70000", 'bad value for win: "70000"'],
      ["inject tcp 10.0.0.1:1 > 10.0.0.2:80 seq", "expected field=value"],
    ];
    for (const [line, message] of cases) {
      const e = (await run(s, line)).errors[0];
      expect({ line, m: e?.message.includes(message) ? message : e?.message }).toEqual({
        line,
        m: message,
      });
      expect(e?.usage).toBe(INJECT_USAGE);
    }
  });
});

describe("faults", () => {
  test("drop next SYN: the SYN is lost, and `step` retransmits it after the RTO", async () => {
    const { s } = session();
    await runAll(s, ["b: listen 80", "drop next 1 SYN", "connect b 80"]);
    const step = await run(s, "step");
    expect(step.text).toContain("t = 1.000 s (+1 s)");
    expect(step.text).toContain("a #3: retransmission timer fired");
    const syns = s.world.log
      .all()
      .filter((e) => e.kind === "packet" && e.host === "a" && e.dir === ">");
    expect(syns).toHaveLength(2);
    expect(syns[0]?.kind === "packet" && syns[0].dropped).toBe("drop next 1 SYN");
    await runAll(s, ["step", "step"]);
    expect((await run(s, "state")).text).toContain("ESTABLISHED");
  });

  test("drop next N in|out MATCH only takes matching packets, then retires", async () => {
    const { s } = session();
    await established(s);
    await run(s, "b: drop next 1 out ack");
    expect((await run(s, "faults")).text).toMatch(/1\s+b\s+out\s+drop next 1 ack out\s+1\s+0/);
    await runAll(s, ["send #3 x", "step", "step"]); // b's delayed pure ACK is dropped
    expect((await run(s, "faults")).text).toContain("no fault rules");
    const dropped = s.world.log.all().filter((e) => e.kind === "packet" && e.dropped !== undefined);
    expect(dropped).toHaveLength(1);
    expect((await run(s, "drop next 1 sideways")).errors[0]?.message).toContain("MATCH should be");
    expect((await run(s, "drop next 0")).errors[0]?.usage).toBe(
      "drop next N [in|out] [SYN|FIN|RST|data|ack|FLAGS]",
    );
  });

  test("reorder next N MATCH holds packets back so later ones overtake them; lastfrag", async () => {
    const { s } = session();
    const arrivals = () =>
      s.world.log
        .all()
        .filter((e) => e.kind === "packet" && e.host === "b" && e.dir === "<")
        .map((e) => (e.kind === "packet" ? formatPacket(e.bytes).replace(/^.*@/, "@") : ""));
    expect((await run(s, "reorder next 1 out frag")).text).toBe(
      "a will hold back the next 1 frag packet(s) it has sent",
    );
    expect((await run(s, "faults")).text).toMatch(/1\s+a\s+out\s+reorder next 1 frag out\s+1\s+0/);
    await runAll(s, ["ping b 4000", "step"]);
    // The fragments at offsets 1480 and 2960 arrive first; fragment zero 20 ms later.
    expect(arrivals()).toEqual(["@1480+)", "@2960)"]);
    await runAll(s, ["step", "step"]);
    expect(arrivals()).toEqual(["@1480+)", "@2960)", "@0+)"]);
    expect(s.world.hosts[1]?.host.stats().packets["ip.reassembled"]).toBe(1);
    // lastfrag takes the fragment with MF clear only.
    await runAll(s, ["step", "drop next 1 out lastfrag", "ping b 4000"]);
    const dropped = s.world.log.all().filter((e) => e.kind === "packet" && e.dropped !== undefined);
    // (The IP ID is keyed per destination, RFC 7739: any value.)
    expect(dropped.map((e) => (e.kind === "packet" ? formatPacket(e.bytes) : ""))).toEqual([
      expect.stringMatching(/^IP 10\.0\.0\.1 > 10\.0\.0\.2: icmp \(frag \d+:1048@2960\)$/),
    ]);
    expect((await run(s, "reorder next 1 sideways")).errors[0]?.message).toContain(
      'reorder next: MATCH should be SYN, FIN, RST, data, ack, udp, icmp, frag, lastfrag or flags like S., got "sideways"',
    );
  });

  test("loss, duplicate, corrupt, reorder, delay, faults, faults clear", async () => {
    const { s } = session();
    expect((await run(s, "loss 100%")).text).toContain("loss 100% on the path between a and b");
    await runAll(s, ["b: listen 80", "connect b 80"]);
    expect(s.world.log.all()[s.world.log.length - 1]).toMatchObject({ dropped: "loss 100%" });
    expect((await run(s, "loss 0")).text).toBe("loss off");
    await runAll(s, ["duplicate 50%", "corrupt 1", "reorder 5%"]);
    const list = (await run(s, "faults")).text;
    for (const w of ["duplicate 50%", "corrupt 1%", "reorder 5%", "one-way delay 10 ms"])
      expect(list).toContain(w);
    expect((await run(s, "faults clear")).text).toBe("removed 3 fault rule(s)");
    expect((await run(s, "delay 50ms")).text).toBe("one-way delay 50 ms (round trip 100 ms)");
    expect(s.world.delay()).toBe(ms(50));
    expect((await run(s, "loss 150%")).errors[0]?.usage).toBe("loss P%");
    expect((await run(s, "delay soon")).errors[0]?.usage).toBe("delay MS");
  });

  test("corrupted packets are dropped by the receiver's checksum check", async () => {
    const { s } = session();
    await runAll(s, ["corrupt 100%", "b: listen 80", "connect b 80", "step"]);
    const drops = s.world.hosts[1]?.host.stats().drops ?? {};
    const total = Object.values(drops).reduce((x, y) => x + y, 0);
    expect(total).toBe(1);
  });
});

describe("time", () => {
  test("the clock starts paused: connect emits the SYN, delivery waits for step", async () => {
    const { s } = session();
    await runAll(s, ["b: listen 80", "connect b 80"]);
    expect(s.world.hosts[1]?.host.connections()).toHaveLength(0);
    const c = await run(s, "clock");
    expect(c.text).toContain("now 0.000 s  paused  speed 1×");
    expect(c.text).toContain("1 packet(s) on the wire; next deadline: 0.010 s (in 10 ms)");
    expect(c.text).toMatch(
      /a\s+#3\s+10\.0\.0\.1:49152 → 10\.0\.0\.2:80\s+retransmission\s+1\.000 s\s+in 1 s/,
    );
  });

  test("step to the next deadline moves through TIME-WAIT", async () => {
    const { s } = session();
    await established(s);
    await runAll(s, ["close #3", "step", "step", "b: close #4", "step"]);
    const c = await run(s, "clock");
    expect(c.text).toMatch(/a\s+\(#3\)\s+.*time-wait\s+60\.\d+ s/);
    await run(s, "step"); // b's last ACK arrives
    const r = await run(s, "step");
    expect(r.text).toContain("(#3): time-wait timer fired");
    expect(r.text).toContain("TIME-WAIT → CLOSED");
    expect((await run(s, "step")).text).toContain("nothing is pending");
  });

  test("step DURATION lists the timers that fired, not those an ACK cancelled on the way", async () => {
    const { s } = session();
    await established(s);
    await run(s, "b: send #4 hello");
    // b's retransmission timer (1 s) is cancelled by a's delayed ACK (200 ms) long before.
    const r = await run(s, "step 5s");
    expect(r.text).toContain("a #3: delayed-ack timer fired");
    expect(r.text).not.toContain("retransmission timer fired");
    expect(r.text).toContain("t = 5.030 s (+5 s)");
  });

  test("step DURATION; duration syntax errors", async () => {
    const { s } = session();
    expect((await run(s, "step 1.5s")).text).toContain("t = 1.500 s (+1.5 s)");
    expect((await run(s, "step 2m")).text).toContain("t = 121.500 s");
    expect((await run(s, "step 200ms")).text).toContain("(+200 ms)");
    expect((await run(s, "step soon")).errors[0]?.usage).toBe("step [DURATION]");
  });

  test("run follows (fake) real time at speed, bounded, and pause/interrupt stop it", async () => {
    let now = 0;
    const fake: RealTime = {
      now: () => instant(now),
      sleep: async (ms) => {
        now += ms;
      },
    };
    const { s } = session({ realTime: fake });
    await runAll(s, ["b: listen 80", "connect b 80", "speed 2"]);
    const r = await run(s, "run 100ms");
    expect(r.text).toContain("ran 0.000 → 0.100 s (time reached)");
    expect((await run(s, "state")).text).toContain("ESTABLISHED");
    // Without DURATION: until nothing is pending.
    await run(s, "close #3");
    const idle = await run(s, "run");
    expect(idle.text).toContain("(nothing pending)");
    // a waits in FIN-WAIT-2 for b's FIN (no timer runs), b sits in CLOSE-WAIT.
    expect((await run(s, "state")).text).toContain("FIN-WAIT-2");
    expect((await run(s, "b: state")).text).toContain("CLOSE-WAIT");
    expect((await run(s, "speed 0")).errors[0]?.usage).toBe("speed X");
    expect((await run(s, "speed 5000")).errors[0]?.usage).toBe("speed X");
    expect((await run(s, "pause")).text).toContain("clock paused at");
  });

  test("interrupt stops a run", async () => {
    const real: RealTime = { now: () => EPOCH, sleep: () => Promise.resolve() };
    const clock = new LabClock(real);
    clock.schedule(instant(1000), () => {});
    const running = clock.run({ stopWhenIdle: true });
    expect(clock.mode).toBe("running");
    clock.pause();
    expect(await running).toBe("paused");
    expect(clock.now()).toBe(EPOCH);
  });

  test("state shows timers relative to now", async () => {
    const { s } = session();
    await runAll(s, ["b: listen 80", "connect b 80", "step 300ms"]);
    const row = linesOf((await run(s, "state")).blocks[0])[0];
    expect(row).toContain("ESTABLISHED");
    await runAll(s, ["send #3 hi"]);
    expect(linesOf((await run(s, "state")).blocks[0])[0]).toContain("rtx 1s");
  });
});
