/**
 * The challenge-ACK side channel (CVE-2016-5696, RFC 5961 §10) replayed
 * against tcplab from the kernel's side of its namespace. Two kernel
 * connections to tcplab's echo port: a victim's and an attacker's. In each
 * round the attacker sends one RST with the victim's 4-tuple (hping3: raw,
 * from the same address) — inside the victim's window ("hit") or far out
 * of it ("miss") — then 20 inexact in-window RSTs on its own connection,
 * and counts the challenge ACKs tcplab sends it. With one fixed host-wide
 * budget a hit costs the attacker one of them; with a per-connection limit
 * and a randomised budget the count is the same either way.
 *
 * Needs root (skipped without, unless CI=true); all traffic stays inside
 * the namespace the test creates and removes.
 */
import { afterAll, describe, expect, test } from "bun:test";
import type { LinkEnd } from "../../src/link/link.ts";
import { startEcho } from "../../src/services/echo.ts";
import type { Tcb } from "../../src/tcp/tcb.ts";
import { parseIpv4 } from "../../src/wire/ipv4.ts";
import { parseTcp } from "../../src/wire/tcp.ts";
import { Flag } from "../../src/wire/tcp-types.ts";
import { cleanupAll, kernelHost, nsBash, skipKernel, timed, waitFor } from "./kernel-helpers.ts";

afterAll(cleanupAll);

/** The device, with every pure ACK tcplab sends counted by destination port. */
function countingAcks(tun: LinkEnd, acks: Map<number, number>): LinkEnd {
  return {
    mtu: tun.mtu,
    send(packet) {
      const ip = parseIpv4(packet);
      if (ip.ok) {
        const t = parseTcp(ip.value.payload, ip.value.header.src, ip.value.header.dst);
        if (t.ok && t.value.flags === Flag.ACK && t.value.payload.length === 0) {
          acks.set(t.value.dstPort, (acks.get(t.value.dstPort) ?? 0) + 1);
        }
      }
      tun.send(packet);
    },
    onReceive: (handler) => tun.onReceive(handler),
    ...(tun.onBatchEnd !== undefined
      ? { onBatchEnd: (handler: () => void) => tun.onBatchEnd?.(handler) }
      : {}),
  };
}

/** `count` RSTs from 10.0.0.1:`sport` to tcplab's echo port with sequence number `seq`. */
function rsts(ns: string, sport: number, seq: number, count: number) {
  return nsBash(
    ns,
    `hping3 -q -R -k -s ${sport} -p 7 -M ${seq >>> 0} -c ${count} -i u2000 10.0.0.2 2>&1 | tail -1`,
    10_000,
  );
}

describe.skipIf(skipKernel)("challenge ACKs against an off-path attacker (kernel peer)", () => {
  test("the attacker's challenge-ACK count does not depend on whether its probe hit the victim", async () => {
    await timed("challenge-ACK side channel", async () => {
      const acks = new Map<number, number>();
      // RFC 5961 §7's budget at 10 a second, as the attack on Linux 3.6–4.6 had it.
      const kh = await kernelHost({
        wrapLink: (tun) => countingAcks(tun, acks),
        host: { tcp: { challengeAckLimit: 10 } },
      });
      const ns = kh.netns.name;
      const echo = startEcho(kh.net);
      // Two idle kernel connections, held open for the rounds (bounded by sleep).
      const victimNc = nsBash(ns, "sleep 14 | nc -w 16 10.0.0.2 7 >/dev/null", 20_000);
      expect(await waitFor(() => kh.host.connections().length === 1, 5000)).toBe(true);
      const victim = kh.host.connections()[0] as Tcb;
      const attackerNc = nsBash(ns, "sleep 14 | nc -w 16 10.0.0.2 7 >/dev/null", 20_000);
      expect(await waitFor(() => kh.host.connections().length === 2, 5000)).toBe(true);
      const attacker = kh.host.connections().find((t) => t !== victim) as Tcb;
      expect(await waitFor(() => victim.state === 4 && attacker.state === 4, 5000)).toBe(true);

      const counts: Record<"hit" | "miss", number[]> = { hit: [], miss: [] };
      for (const round of ["miss", "hit", "miss", "hit", "miss", "hit"] as const) {
        // Each hping3 run lingers a second for replies: every round starts a
        // fresh second, where the host-wide budget is drawn again.
        const v = victim.rcvNxt;
        await rsts(ns, victim.remote.port, round === "hit" ? v + 1000 : v + 0x40000000, 1);
        const before = acks.get(attacker.remote.port) ?? 0;
        await rsts(ns, attacker.remote.port, attacker.rcvNxt + 100, 20);
        await Bun.sleep(200);
        counts[round].push((acks.get(attacker.remote.port) ?? 0) - before);
      }
      console.log(`[interop] challenge ACKs to the attacker: ${JSON.stringify(counts)}`);
      // The attacker gets challenge ACKs (its probes arrive and are in its window)…
      expect(counts.miss.every((n) => n >= 1)).toBe(true);
      // …and how many says nothing about the victim.
      expect(counts.hit).toEqual(counts.miss);
      expect([victim.state, attacker.state]).toEqual([4, 4]); // ESTABLISHED: no RST took
      echo.close();
      await kh.close();
      await Promise.allSettled([victimNc, attackerNc]);
    });
  }, 60_000);
});
