/**
 * `mtu BYTES` over IPv6: the path's router (fd00::fe beside 10.0.0.254)
 * never fragments an IPv6 packet (RFC 8200 §5); it drops a larger one and
 * answers by ICMPv6 Packet Too Big with the MTU (RFC 4443 §3.2), from which
 * the sender learns the path MTU and lowers its MSS to PMTU − 60 (RFC
 * 8201 §4). A Packet Too Big under IPv6's minimum of 1280 bytes is
 * discarded (RFC 8201 §4): below that, nothing lowers the MSS.
 */
import { describe, expect, test } from "bun:test";
import { checkExpect } from "../../src/lab/lab-checks.ts";
import { blocksText, type LabEngine } from "../../src/lab/session.ts";
import { run, runAll, session } from "./helpers.ts";

/** The data length of each IPv6 segment a sent, in trace order, and whether the path dropped it. */
function aSegments(trace: string): { len: number; dropped: boolean; line: number }[] {
  return trace
    .split("\n")
    .map((l, line) => ({ l, line }))
    .filter(({ l }) => l.startsWith("a ") && l.includes(" > IP6 fd00::1.49152 > fd00::2.80:"))
    .map(({ l, line }) => ({
      len: Number(/length (\d+)/.exec(l)?.[1]),
      dropped: l.includes("✕ dropped (larger than the path's MTU; routers never fragment IPv6)"),
      line,
    }));
}

/** The lab `expect` lines (lab-checks.ts) that do not hold over the whole session. */
function failing(s: LabEngine, lines: readonly string[]): string[] {
  return lines.filter((line) => !checkExpect(s.checkContext(), line, 0).ok);
}

/** mtu BYTES, then a→[fd00::2]:80 (#3 on a, #4 on b) and a sends `bytes` to b for a second. */
async function sendOver(mtu: number, bytes: number): Promise<{ s: LabEngine; trace: string }> {
  const { s, output } = session({ trace: true });
  await runAll(s, [`mtu ${mtu}`, "b: listen 80 -6", "connect [fd00::2]:80"]);
  await runAll(s, ["step", "step", "step", "b: accept", `send #3 --bytes ${bytes}`, "run 1s"]);
  return { s, trace: blocksText(output) };
}

describe("the path's MTU over IPv6", () => {
  test("mtu 1400 says the IPv6 router answers by Packet Too Big", async () => {
    const { s } = session();
    const r = await run(s, "mtu 1400");
    expect(r.text).toContain(
      'the router fd00::fe answers an IPv6 packet over 1400 bytes by ICMPv6 "packet too big (mtu 1400)" and never fragments it (RFC 8200 §5); the sender lowers its MSS to 1340 from it (RFC 8201)',
    );
    expect(r.text).not.toContain("warning");
  });

  test("a full-sized IPv6 segment draws Packet Too Big; the sender resends in segments that fit and the data arrives", async () => {
    const { s, trace } = await sendOver(1400, 5000);
    const ptb = trace
      .split("\n")
      .findIndex(
        (l) =>
          l.startsWith("a ") &&
          l.includes("< IP6 fd00::fe > fd00::1: ICMP6, packet too big, mtu 1400"),
      );
    expect(ptb).toBeGreaterThan(0);
    const segs = aSegments(trace).filter((x) => x.len > 0);
    // 1428 data bytes + 12 of timestamps + 60 of headers = 1500 > 1400: dropped before the message.
    expect(segs.filter((x) => x.line < ptb).map((x) => [x.len, x.dropped])).toContainEqual([
      1428,
      true,
    ]);
    // After it none is dropped, and none carries more than 1400 − 60 − 12 = 1328 data bytes.
    const after = segs.filter((x) => x.line > ptb);
    expect(after.length).toBeGreaterThan(0);
    expect(after.some((x) => x.dropped)).toBe(false);
    expect(Math.max(...after.map((x) => x.len))).toBe(1328);
    expect(failing(s, ["field a:#3 PMTU = 1400", "field a:#3 MSS = 1328"])).toEqual([]);
    const state = (await run(s, "state #3")).text;
    expect(state).toContain("send 1340 (the path's limit), receive 1428, peer offered 1440");
    expect(state).toContain(
      'path MTU      1400 from ICMPv6 "packet too big" (RFC 8201), forgotten in',
    );
    expect((await run(s, "b: recv #4")).text).toStartWith("#4 read 5000 bytes");
  });

  test("under 1280 the Packet Too Big reaches a and is discarded (RFC 8201 §4): the large segment never arrives", async () => {
    const { s: fresh } = session();
    expect((await run(fresh, "mtu 1200")).text).toContain(
      "warning: IPv6 needs links that carry 1280-byte packets (RFC 8200 §5): the router's Packet Too Big (mtu 1200) is below that, so a and b discard it (RFC 8201 §4)",
    );
    const { s, trace } = await sendOver(1200, 3000);
    expect(trace).toContain("< IP6 fd00::fe > fd00::1: ICMP6, packet too big, mtu 1200");
    expect(failing(s, ["stat a icmp6.ptb-below-minimum >= 1", "field a:#3 PMTU = 1500"])).toEqual(
      [],
    );
    const data = aSegments(trace).filter((x) => x.len > 0);
    expect(data.length).toBeGreaterThan(0);
    expect(data.every((x) => x.dropped)).toBe(true);
    expect((await run(s, "b: recv #4")).text).toBe("#4: nothing to read yet");
  });
});
