import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readPcap } from "../../src/link/pcap.ts";
import { established, linesOf, run, runAll, session } from "./helpers.ts";

describe("socket commands", () => {
  test("listen / connect / accept / send / recv", async () => {
    const { s } = session();
    expect((await run(s, "b: listen 80 4")).text).toBe("#3 listening on 10.0.0.2:80 (backlog 4)");
    const c = await run(s, "connect b 80");
    expect(c.text).toContain("#3 10.0.0.1:49152 → 10.0.0.2:80 SYN-SENT");
    expect(c.text).toContain("step");
    expect(c.text).toContain("CLOSED → SYN-SENT");
    expect((await run(s, "b: accept")).text).toContain("nothing to accept yet");
    await runAll(s, ["step", "step", "step"]);
    const acc = await run(s, "b: accept #3");
    expect(acc.text).toContain("#4 accepted on #3: 10.0.0.2:80 ← 10.0.0.1:49152 ESTABLISHED");
    expect((await run(s, "b: recv #4")).text).toBe("#4: nothing to read yet");
    expect((await run(s, 'send #3 "hi\\tthere\\r\\n"')).text).toContain("#3 queued 10 of 10 bytes");
    await run(s, "step");
    expect((await run(s, "b: recv #4 2")).text).toBe('#4 read 2 bytes:\n"hi"');
    expect((await run(s, "b: recv #4")).text).toBe('#4 read 8 bytes:\n"\\tthere\\r\\n"');
    expect((await run(s, "send #3 --bytes 30")).text).toContain("queued 30 of 30 bytes");
    // Nagle holds the small segment until the 10 bytes are acknowledged (delayed ACK, 200 ms).
    await run(s, "step 1s");
    expect((await run(s, "b: recv #4")).text).toContain('"abcdefghijklmnopqrstuvwxyzabcd"');
  });

  test("socket command errors name the problem and give the usage", async () => {
    const { s } = session();
    const CONNECT = "connect ADDR PORT [-6] [--port LOCAL]  (or ADDR:PORT, [IPV6]:PORT)";
    await established(s);
    const cases: [string, string, string][] = [
      ["listen", "missing PORT", "listen PORT [BACKLOG] [-4|-6]"],
      ["listen 0", "PORT should be a port number", "listen PORT [BACKLOG] [-4|-6]"],
      ["listen 80 x", "BACKLOG should be a whole number", "listen PORT [BACKLOG] [-4|-6]"],
      ["b: listen 80", "EADDRINUSE", "listen PORT [BACKLOG] [-4|-6]"],
      ["connect 10.0.0 80", "ADDR should be an IPv4 address", CONNECT],
      ["connect b", "missing PORT", CONNECT],
      ["connect b 80 90", 'unexpected "90"', CONNECT],
      ["accept", "no listening socket on a", "accept [#ID]"],
      ["send #9 x", "no socket #9 on a", "send #ID TEXT | send #ID --bytes N"],
      ["send three x", "should be a socket id", "send #ID TEXT | send #ID --bytes N"],
      ["send #3", "missing TEXT", "send #ID TEXT | send #ID --bytes N"],
      ["send #3 x --bytes 3", "not both", "send #ID TEXT | send #ID --bytes N"],
      ["send #3 --bytes", "--bytes needs a whole number", "send #ID TEXT | send #ID --bytes N"],
      ["send #3 --frob", "unknown option --frob", "send #ID TEXT | send #ID --bytes N"],
      ["send #3 bad\\x4", "two hex digits", "send #ID TEXT | send #ID --bytes N"],
      ["recv", "missing #ID", "recv #ID [N]"],
      ["recv #3 0", "N should be a whole number", "recv #ID [N]"],
      ["shutdown #3 up", "HOW should be one of rd, wr, rdwr", "shutdown #ID rd|wr|rdwr"],
      ["close #7", "no socket #7 on a", "close #ID"],
      ["abort", "missing #ID", "abort #ID"],
      ["sockopt #3 colour", "NAME should be one of", "sockopt #ID NAME [VALUE]"],
      ["sockopt #3 nodelay maybe", "nodelay takes on or off", "sockopt #ID NAME [VALUE]"],
      ["sockopt #3 rcvbuf lots", "rcvbuf takes a size", "sockopt #ID NAME [VALUE]"],
      ["sockopt #3 error 1", "read-only", "sockopt #ID NAME [VALUE]"],
      ["udp bind", "missing PORT", "udp bind PORT [-4|-6]"],
      ["udp sendto #3 b 53 hi", "EOPNOTSUPP", "udp sendto #ID ADDR PORT TEXT"],
      ["udp recv #3", "EOPNOTSUPP", "udp recv #ID"],
    ];
    for (const [line, message, usage] of cases) {
      const r = await run(s, line);
      expect({
        line,
        error: r.errors[0]?.message.includes(message) ? message : r.errors[0]?.message,
      }).toEqual({ line, error: message });
      expect({ line, usage: r.errors[0]?.usage }).toEqual({ line, usage });
    }
  });

  test("shutdown wr sends a FIN and the peer reads end of stream", async () => {
    const { s } = session();
    await established(s);
    expect((await run(s, "shutdown #3 wr")).text).toContain("#3 shut down (wr)");
    expect((await run(s, "state")).text).toContain("FIN-WAIT-1");
    await run(s, "step");
    expect((await run(s, "b: recv #4")).text).toBe("#4: end of stream (the peer's FIN was read)");
    // Half-closed: b can still send to a.
    await runAll(s, ["b: send #4 late", "step"]);
    expect((await run(s, "recv #3")).text).toContain('"late"');
  });

  test("close keeps the TCB as (#ID); abort sends a RST and leaves nothing", async () => {
    const { s } = session();
    await established(s);
    await run(s, "close #3");
    expect((await run(s, "state")).text).toMatch(/\(#3\)\s+:49152\s+10\.0\.0\.2:80.*FIN-WAIT-1/);
    expect((await run(s, "state #3")).text).toContain("FIN-WAIT-1");
    const b = await run(s, "b: abort #4");
    expect(b.text).toContain("#4 aborted");
    expect(b.text).toContain("→ CLOSED");
    const step = await run(s, "step");
    expect(step.text).toContain("2 packet(s) arrived"); // a's FIN at b, b's RST at a
    expect(s.world.hosts[0]?.host.connections()).toHaveLength(0);
  });

  test("sockopt reads and sets options", async () => {
    const { s } = session();
    await established(s);
    expect((await run(s, "sockopt #3 nodelay")).text).toBe("#3 nodelay = off");
    expect((await run(s, "sockopt #3 nodelay on")).text).toBe("#3 nodelay = on");
    expect((await run(s, "sockopt #3 sndbuf 4096")).text).toBe("#3 sndbuf = 4096");
    expect((await run(s, "sockopt #3 linger 0")).text).toBe("#3 linger = 0 s");
    expect((await run(s, "sockopt #3 linger")).text).toBe("#3 linger = 0 s");
    expect((await run(s, "sockopt #3 reuseaddr on")).text).toBe("#3 reuseaddr = on");
    expect((await run(s, "sockopt #3 error")).text).toBe("#3 error = none");
  });

  test("udp bind / sendto / recv", async () => {
    const { s } = session();
    expect((await run(s, "b: udp bind 53")).text).toBe("#3 UDP bound to 10.0.0.2:53");
    expect((await run(s, "udp bind 0")).text).toBe("#3 UDP bound to 10.0.0.1:49152");
    expect((await run(s, "udp sendto #3 10.0.0.2 53 query\\n")).text).toContain(
      "sent a datagram of 6 bytes",
    );
    expect((await run(s, "b: udp recv #3")).text).toBe("#3: no datagram queued");
    await run(s, "step");
    expect((await run(s, "b: udp recv #3")).text).toBe(
      '#3 datagram of 6 bytes from 10.0.0.1:49152:\n"query\\n"',
    );
    expect((await run(s, "b: udp bind 53")).errors[0]?.message).toContain("EADDRINUSE");
  });
});

describe("state and stats", () => {
  test("state table columns and numbers relative to ISS/IRS", async () => {
    const { s } = session();
    await established(s);
    await run(s, "send #3 hello");
    const r = await run(s, "state");
    const table = r.blocks[0];
    if (table?.kind !== "table") throw new Error("state should answer with a table");
    expect(table.columns).toEqual([
      "id",
      "local",
      "remote",
      "state",
      "SND.UNA",
      "SND.NXT",
      "SND.WND",
      "RCV.NXT",
      "RCV.WND",
      "RTO",
      "timers",
      "sndq",
      "rcvq",
    ]);
    // The local end is a port: the host's address is the table's title.
    expect(table.title).toBe("a 10.0.0.1 fd00::1 (sequence numbers relative to ISS/IRS)");
    expect(table.rows[0]?.map((c) => c.text)).toEqual([
      "#3",
      ":49152",
      "10.0.0.2:80",
      "ESTABLISHED",
      "1",
      "6",
      "65535",
      "1",
      "65535",
      "1s",
      "rtx 1s",
      "5",
      "0",
    ]);
    const tcb = s.world.hosts[0]?.host.connections()[0];
    if (tcb === undefined) throw new Error("no TCB");
    const abs = (await run(s, "state --abs")).blocks[0];
    if (abs?.kind !== "table") throw new Error("table expected");
    expect(abs.rows[0]?.[4]?.text).toBe(String((tcb.iss + 1) >>> 0));
    expect(abs.rows[0]?.[7]?.text).toBe(String((tcb.irs + 1) >>> 0));
  });

  test("state before the SYN-ACK: RCV.NXT unknown; listeners with their queues", async () => {
    const { s } = session();
    await runAll(s, ["b: listen 80", "connect b 80"]);
    expect(linesOf((await run(s, "state")).blocks[0])[0]).toBe(
      "#3|:49152|10.0.0.2:80|SYN-SENT|0|1|0|-|65535|1s|rtx 1s|0|0",
    );
    await run(s, "step");
    const b = linesOf((await run(s, "b: state")).blocks[0]);
    // A listener, as `ss` shows one: 1 handshake under way; accept queue 0 of a backlog of 16.
    expect(b[0]).toBe("#3|*:80|*|LISTEN|||||||1 half-open||0/16");
    expect(b[1]).toMatch(/^-\|:80\|10\.0\.0\.1:49152\|SYN-RECEIVED\|0\|1\|65535\|1\|/);
    await runAll(s, ["step", "step"]);
    expect(linesOf((await run(s, "b: state")).blocks[0])[0]).toBe("#3|*:80|*|LISTEN|||||||||1/16");
  });

  test("state #ID details one connection", async () => {
    const { s } = session();
    await established(s);
    const t = (await run(s, "state #3")).text;
    for (const k of ["ISS", "IRS", "SND.UNA", "RCV.NXT", "MSS", "RTO", "timers"])
      expect(t).toContain(k);
    expect(t).toContain("active open");
    expect((await run(s, "b: state #3")).text).toBe("#3 has no connection (LISTEN)");
  });

  test("stats lists counters and drops by reason", async () => {
    const { s } = session();
    await established(s);
    const r = await run(s, "b: stats");
    expect(r.text).toMatch(/tcp\.passive-opens +1\n/);
    expect(r.text).toContain("drops by reason");
    await run(s, "b: inject tcp a:1 > b:9 flags=S");
    expect((await run(s, "b: stats")).text).toMatch(/tcp\.no-socket +1/);
  });
});

describe("pcap", () => {
  test("pcap start / stop writes the host's packets", async () => {
    const { s } = session();
    const dir = mkdtempSync(join(tmpdir(), "tcplab-lab-"));
    try {
      const file = join(dir, "a.pcap");
      expect((await run(s, `pcap start ${file}`)).text).toContain("recording a's packets");
      expect((await run(s, `pcap start ${file}`)).errors[0]?.usage).toBe("pcap start FILE");
      await established(s);
      expect((await run(s, "pcap stop")).text).toBe("pcap closed: 3 packets");
      expect(existsSync(file)).toBe(true);
      expect(readPcap(new Uint8Array(readFileSync(file))).records).toHaveLength(3);
      expect((await run(s, "pcap stop")).errors[0]?.message).toContain("not recording");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("kernel-world commands in the simulated world", () => {
  test("wait and host explain that there is no kernel here", async () => {
    const { s } = session();
    const w = (await run(s, "wait syn")).errors[0];
    expect(w?.message).toBe(
      "wait: nothing comes from outside the simulated world: step or run moves it",
    );
    expect(w?.usage).toBe("wait [syn|fin|rst|data|ack] [MAX]");
    expect((await run(s, "host nc 10.0.0.2 80 &")).errors[0]?.message).toContain(
      "host: there is no kernel here",
    );
    expect((await run(s, "wait bogus")).errors[0]?.message).toContain("MAX should be a duration");
  });
});
