import { describe, expect, test } from "bun:test";
import { established, linesOf, run, runAll, session } from "./helpers.ts";

describe("a scripted whole session", () => {
  test("listen, connect, step to ESTABLISHED, ladder, close, TIME-WAIT, all CLOSED", async () => {
    const { s } = session();
    await runAll(s, ["b: listen 80", "connect 10.0.0.2 80"]);
    // The clock is paused: the SYN is on the wire, nothing has arrived.
    expect((await run(s, "state")).text).toContain("SYN-SENT");
    expect((await run(s, "b: state")).text).not.toContain("SYN-RECEIVED");
    let steps = 0;
    while (!(await run(s, "b: state")).text.includes("ESTABLISHED") && steps < 10) {
      await run(s, "step");
      steps++;
    }
    expect(steps).toBe(3); // SYN, SYN-ACK, ACK: one wire delay each
    const a = await run(s, "state");
    const b = await run(s, "b: state");
    expect(a.text).toMatch(/#3\s+:49152\s+10\.0\.0\.2:80\s+ESTABLISHED/);
    expect(b.text).toMatch(/-\s+:80\s+10\.0\.0\.1:49152\s+ESTABLISHED/);

    const ladder = linesOf((await run(s, "ladder")).blocks[0]);
    const arrows = ladder.filter((l) => l.includes("-->|") || l.includes("|<--"));
    expect(arrows.map((l) => /(?:\|-- |\|<-- )(\S+)/.exec(l)?.[1])).toEqual(["S", "S.", "."]);

    await runAll(s, ["b: accept", "close #3"]);
    expect((await run(s, "state")).text).toContain("FIN-WAIT-1");
    await runAll(s, ["step", "step", "b: close #4", "step"]);
    expect((await run(s, "state")).text).toContain("TIME-WAIT");
    await run(s, "step"); // the last ACK reaches b
    expect((await run(s, "b: state")).text).not.toContain("LAST-ACK");
    const st = await run(s, "step"); // 2·MSL later
    expect(st.text).toContain("t = 60.");
    expect(st.text).toContain("time-wait timer fired");
    expect(st.text).toContain("TIME-WAIT → CLOSED");
    for (const h of s.world.hosts) expect(h.host.connections()).toHaveLength(0);
  });
});

describe("HOST: prefix and use", () => {
  test("HOST: runs one command on another host; the prompt stays", async () => {
    const { s } = session();
    const r = await run(s, "b: listen 80");
    expect(r.text).toContain("listening on 10.0.0.2:80");
    expect(s.status().prompt).toBe("a> ");
    expect((await run(s, "state")).text).not.toContain("LISTEN");
  });

  test("use switches the current host and the prompt", async () => {
    const { s } = session();
    await runAll(s, ["use b", "listen 80"]);
    expect(s.status().prompt).toBe("b> ");
    expect(s.status().host).toBe("b");
    expect(s.status().connections.rows.map((r) => r[3]?.text)).toEqual(["LISTEN"]);
  });

  test("unknown host prefix, empty command, session commands refuse a prefix", async () => {
    const { s } = session();
    expect((await run(s, "c: listen 80")).errors[0]?.message).toContain('no host "c"');
    expect((await run(s, "b:")).errors[0]?.message).toContain("missing");
    const e = (await run(s, "b: step")).errors[0];
    expect(e?.message).toContain("not a host");
    expect(e?.usage).toBe("step [DURATION]");
    expect((await run(s, "use c")).errors[0]?.usage).toBe("use HOST");
  });
});

describe("completion", () => {
  test("command names, including two-word commands", () => {
    const { s } = session();
    expect(s.complete("st", 2)).toEqual({ candidates: ["state", "stats", "step"], start: 0 });
    expect(s.complete("udp ", 4).candidates).toEqual(["bind", "recv", "sendto"]);
    expect(s.complete("lab s", 5)).toEqual({ candidates: ["start"], start: 4 });
    expect(s.complete("", 0).candidates).toContain("b:");
  });

  test("hosts, socket ids, lab names, words, flags", async () => {
    const { s } = session();
    await established(s);
    expect(s.complete("use ", 4).candidates).toEqual(["a", "b"]);
    expect(s.complete("send #", 6)).toEqual({ candidates: ["#3"], start: 5 });
    expect(s.complete("b: close ", 9).candidates).toEqual(["#3", "#4"]);
    const labs = s.complete("lab start ", 10).candidates;
    expect(labs).toEqual([...labs].sort());
    expect(labs).toEqual(expect.arrayContaining(["close", "handshake"]));
    expect(s.complete("lab start hand", 14).candidates).toEqual(["handshake"]);
    expect(s.complete("shutdown #3 r", 13).candidates).toEqual(["rd", "rdwr"]);
    expect(s.complete("state --a", 9).candidates).toEqual(["--abs"]);
    expect(s.complete("drop next 1 ", 12).candidates).toContain("out");
    expect(s.complete("drop next 1 ", 12).candidates).toContain("syn");
    expect(s.complete("help dr", 7).candidates).toEqual(["drop next"]);
    // Only the part before the cursor counts.
    expect(s.complete("stxyz", 2).candidates).toEqual(["state", "stats", "step"]);
  });
});

describe("status and output", () => {
  test("status shows the world, the clock and the current host's table", async () => {
    const { s } = session();
    await established(s);
    const st = s.status();
    expect(st.world).toBe("simulated");
    expect(st.clock).toEqual({ now: "0.030 s", mode: "paused", speed: 1 });
    expect(st.connections.rows[0]?.[3]?.text).toBe("ESTABLISHED");
  });

  test("trace lines go to onOutput as packets happen, with drop marks", async () => {
    const { s, output } = session({ trace: true });
    await runAll(s, ["b: listen 80", "drop next 1 out SYN", "connect 10.0.0.2 80"]);
    const packets = output.filter((b) => b.kind === "packets").flatMap(linesOf);
    expect(packets).toHaveLength(1);
    expect(packets[0]).toMatch(
      /^a 0\.000000 > 10\.0\.0\.1\.49152 > 10\.0\.0\.2\.80: Flags \[S\], seq \d+, win 65535, options \[mss 1460,nop,wscale 0,sackOK,TS val 1 ecr 0\], length 0 {2}✕ dropped \(drop next 1 SYN out\)$/,
    );
    await run(s, "step"); // the RTO: the SYN again
    await run(s, "step"); // it arrives at b
    const later = output.filter((b) => b.kind === "packets").flatMap(linesOf);
    expect(later.slice(1)).toEqual([
      expect.stringMatching(/^a 1\.000000 > .*Flags \[S\]/),
      expect.stringMatching(/^b 1\.010000 < 10\.0\.0\.1\.49152 > 10\.0\.0\.2\.80: Flags \[S\]/),
      expect.stringMatching(/^b 1\.010000 > 10\.0\.0\.2\.80 > 10\.0\.0\.1\.49152: Flags \[S\.\]/),
    ]);
  });

  test("trace off stops packet lines; trace on HOST shows one host", async () => {
    const { s, output } = session({ trace: true });
    await runAll(s, ["trace off", "b: listen 80", "connect b 80"]);
    expect(output.filter((b) => b.kind === "packets")).toHaveLength(0);
    await runAll(s, ["trace on b", "step"]);
    const lines = output.filter((b) => b.kind === "packets").flatMap(linesOf);
    expect(lines.length).toBe(2);
    expect(lines.every((l) => l.startsWith("b "))).toBe(true);
    expect((await run(s, "trace maybe")).errors[0]?.usage).toBe("trace on|off [all|HOST]");
    expect((await run(s, "trace on c")).errors[0]?.message).toContain('no host "c"');
  });

  test("nothing throws out of execute: blank lines and garbage", async () => {
    const { s } = session();
    expect((await run(s, "")).blocks).toEqual([]);
    expect((await run(s, "   ")).blocks).toEqual([]);
    expect((await run(s, "frobnicate 1 2")).errors[0]?.message).toContain(
      'unknown command "frobnicate"',
    );
    expect((await run(s, 'send "unterminated')).errors).toHaveLength(1);
    const udp = (await run(s, "udp")).errors[0];
    expect(udp?.message).toBe("udp needs a subcommand");
    expect(udp?.usage).toContain("udp bind PORT");
    expect((await run(s, "udp frob")).errors[0]?.message).toBe('udp has no subcommand "frob"');
  });

  test("quit asks the shell to exit", async () => {
    const { s } = session();
    expect((await run(s, "quit")).result.quit).toBe(true);
  });

  test("help lists every command's usage; help CMD explains one; help for a family", async () => {
    const { s } = session();
    const all = await run(s, "help");
    for (const c of s.registry.all()) expect(all.text).toContain(c.usage);
    const one = await run(s, "help connect");
    expect(one.text).toContain("connect ADDR PORT");
    expect(one.text).toContain("RFC 9293 §3.10.1");
    expect((await run(s, "help udp")).text).toContain("udp sendto #ID ADDR PORT TEXT");
    expect((await run(s, "help drop next")).text).toContain("MATCH");
    expect((await run(s, "help nothing")).errors[0]?.usage).toBe("help [COMMAND]");
  });
});

describe("state changes between commands", () => {
  test("a connection that changes state outside any command is announced, once", async () => {
    const { s } = session();
    await runAll(s, ["trace off", "b: listen 80", "connect 10.0.0.2 80", "step", "step", "step"]);
    await run(s, "b: accept");
    const seen: string[] = [];
    s.onOutput((blocks) => {
      for (const b of blocks) if (b.kind === "text") seen.push(...linesOf(b));
    });
    // As a kernel peer or a running clock would: b's application aborts its
    // connection while no command runs (SO_LINGER 0 then close sends a RST).
    const b = s.hostNamed("b");
    if (b === undefined) throw new Error("no host b");
    b.sockets.setsockopt(4, "SO_LINGER", 0);
    b.sockets.close(4);
    await Promise.resolve(); // the session flushes one microtask after the event
    expect(seen.join("\n")).toMatch(/b \(#4\).*ESTABLISHED → CLOSED/);
    // The RST reaches a during the next command: that command's result reports
    // a's change, and b's is not repeated.
    const step = await run(s, "step");
    expect(step.text).toMatch(/a #3.*ESTABLISHED → CLOSED/);
    expect(step.text).not.toMatch(/b \(#4\)/);
    expect(seen.filter((l) => /b \(#4\).*→ CLOSED/.test(l))).toHaveLength(1);
  });
});
