import { describe, expect, test } from "bun:test";
import { hostSettingsFor, personalities, personalityNamed } from "../../src/tcp/personality.ts";
import { parsePacket } from "../../src/wire/packet.ts";
import type { TcpOption } from "../../src/wire/tcp-types.ts";
import { linesOf, run, runAll, session } from "./helpers.ts";

/** The options of the first TCP segment `host` sent (`>`) or received (`<`) with exactly FLAGS. */
function optionsOf(
  s: ReturnType<typeof session>["s"],
  host: string,
  dir: ">" | "<",
  flags: number,
): readonly TcpOption[] {
  for (const ev of s.world.log.all()) {
    if (ev.kind !== "packet" || ev.host !== host || ev.dir !== dir) continue;
    const p = parsePacket(ev.bytes, { verifyChecksum: false });
    if (p.ok && p.value.kind === "tcp" && p.value.tcp.flags === flags) return p.value.tcp.options;
  }
  throw new Error(`${host} ${dir} flags ${flags}: not found`);
}

/** Option kinds in wire order, with the shift and TSval where they matter. */
function layout(opts: readonly TcpOption[]): string[] {
  return opts.map((o) =>
    o.kind === "wscale"
      ? `wscale ${o.shift}`
      : o.kind === "timestamps"
        ? `TS ${o.tsVal}/${o.tsEcr}`
        : o.kind === "mss"
          ? `mss ${o.value}`
          : o.kind,
  );
}

const SYN = 0x02;
const SYN_ACK = 0x12;

describe("personalities", () => {
  test("hostSettingsFor maps the SYN layout onto TcpSettings", () => {
    const bsd = personalityNamed("freebsd");
    if (bsd === undefined) throw new Error("no freebsd");
    expect(hostSettingsFor(bsd)).toMatchObject({
      synOptionLayout: ["mss", "nop", "wscale", "sackOK", "TS"],
      synAckOptionLayout: ["mss", "nop", "wscale", "sackOK", "TS"],
      synOptionPadding: "eol",
      wscaleShift: 6,
      tsValStart: 100,
      rcvBuf: 65536,
    });
    const own = hostSettingsFor(personalities.tcplab as (typeof personalities)["tcplab"]);
    // tcplab: the smallest shift for the buffer, and TSvals a learner can read.
    expect(own).toHaveProperty("wscaleShift", undefined);
    expect(own.tsValStart).toBe(1);
  });

  test("the lab's hosts follow the tcplab personality by default", async () => {
    const { s } = session();
    await runAll(s, ["b: listen 80", "connect b 80", "step"]);
    expect(layout(optionsOf(s, "a", ">", SYN))).toEqual([
      "mss 1460",
      "nop",
      "wscale 0",
      "sackPermitted",
      "TS 1/0",
    ]);
    expect(layout(optionsOf(s, "b", ">", SYN_ACK))).toEqual([
      "mss 1460",
      "nop",
      "wscale 0",
      "sackPermitted",
      "TS 1/1",
    ]);
  });

  test("b as Linux and a as FreeBSD: each lays out its SYN / SYN-ACK as that system does", async () => {
    const { s } = session();
    expect((await run(s, "personality b linux")).text).toContain(
      "b now answers as linux (was tcplab)",
    );
    const r = await run(s, "a: personality freebsd");
    expect(r.text).toContain("a now answers as freebsd (was tcplab)");
    expect(r.text).toContain("new connections and listeners use it");
    await runAll(s, ["b: listen 80", "connect b 80", "step", "step", "step", "b: accept"]);
    // FreeBSD's SYN: <mss,nop,wscale 6,sackOK,TS val 100 ecr 0>.
    expect(layout(optionsOf(s, "a", ">", SYN))).toEqual([
      "mss 1460",
      "nop",
      "wscale 6",
      "sackPermitted",
      "TS 100/0",
    ]);
    // Linux's answer to it: <mss,sackOK,TS,nop,wscale 7>, echoing FreeBSD's TSval.
    expect(layout(optionsOf(s, "b", ">", SYN_ACK))).toEqual([
      "mss 1460",
      "sackPermitted",
      "TS 1/100",
      "nop",
      "wscale 7",
    ]);
    // The negotiated shifts: a scales b's windows by 7 and its own by 6 (RFC 7323 §2.2).
    const hostA = s.hostNamed("a");
    if (hostA === undefined) throw new Error("no host a");
    const a = s.tcbById(hostA, 3);
    expect([a?.sndWscale, a?.rcvWscale]).toEqual([7, 6]);
    // FreeBSD's 64 KiB buffer with shift 6: the ACK's window field is RCV.WND >> 6 (about 1024).
    const field = (a?.rcvWnd ?? 0) >> 6;
    expect(field).toBeGreaterThanOrEqual(1024);
    const ladder = linesOf((await run(s, "ladder")).blocks[0]);
    expect(ladder[3]).toContain(`ESTABLISHED |-- . 1:1(0) ack 1 win ${field} <TS val 120 ecr 1>`);
  });

  test("a switch applies to new connections and listeners only", async () => {
    const { s } = session();
    await runAll(s, ["b: listen 80", "connect b 80", "step"]);
    const r = await run(s, "personality b freebsd");
    expect(r.text).toContain("listen again for :80 to answer as freebsd");
    await runAll(s, ["step", "step"]);
    // The listener opened as tcplab answered as tcplab.
    expect(layout(optionsOf(s, "b", ">", SYN_ACK))).toContain("wscale 0");
    expect(s.hostNamed("b")?.host.tcpSettings.rcvBuf).toBe(65536);
    // Switching back restores every setting, not only the ones the personality names.
    await run(s, "personality b tcplab");
    expect(s.hostNamed("b")?.host.tcpSettings.rcvBuf).toBe(65535);
    expect(s.hostNamed("b")?.host.tcpSettings.sndBuf).toBe(256 * 1024);
  });

  test("personality shows each host; errors; completion offers hosts and names", async () => {
    const { s } = session();
    const all = (await run(s, "personality")).text;
    expect(all).toContain("a tcplab");
    expect(all).toContain("b tcplab");
    expect(all).toContain("SYN      <mss,nop,wscale 0,sackOK,TS>  TSval starts at 1, +1 per ms");
    const one = (await run(s, "personality b")).text;
    expect(one).toContain("b tcplab");
    expect(one).not.toContain("a tcplab");
    const e = (await run(s, "personality solaris")).errors[0];
    expect(e?.message).toBe('personality: no personality "solaris" (tcplab, freebsd, linux)');
    expect(e?.usage).toBe("personality [HOST] [NAME]");
    expect((await run(s, "personality c linux")).errors[0]?.message).toContain('no host "c"');
    expect(s.complete("personality ", 12).candidates).toEqual([
      "a",
      "b",
      "freebsd",
      "linux",
      "tcplab",
    ]);
    expect(s.complete("personality b ", 14).candidates).toEqual(["freebsd", "linux", "tcplab"]);
    expect(s.complete("personality b l", 15).candidates).toEqual(["linux"]);
  });
});
