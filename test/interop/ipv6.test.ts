/**
 * `tcplab serve` over IPv6 against the real kernel's tools: tcplab is
 * fd00::2 on its TUN device, the kernel fd00::1 (a /64 on the device, no
 * link-local address; a layer-3 device needs no neighbour discovery). Each
 * case starts serve in a fresh namespace, runs ping -6 / nc -6 / curl -6
 * inside it, stops serve and reads its counters. Needs root (skipped
 * without, unless CI=true).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { openTun } from "../../src/link/tun.ts";
import { TunError } from "../../src/link/tun-error.ts";
import {
  cleanupAll,
  expectBytes,
  expectPings,
  kernelHost,
  kernelIcmp6Counters,
  kernelListening,
  nsBash,
  probeClosedUdp,
  seededChunks,
  sha256Hex,
  skipKernel,
  startServe,
  tempDir,
  timed,
  within,
} from "./kernel-helpers.ts";

afterAll(cleanupAll);

const ADDR6 = "fd00::2";

describe.skipIf(skipKernel)("tcplab serve over IPv6", () => {
  test("the device has fd00::1/64 and no link-local address; serve is fd00::2", async () => {
    const run = await startServe(["--tun", "tl0"]);
    expect(run.ready.addr6).toBe(ADDR6);
    expect(run.ready.peer6).toBe("fd00::1");
    const addrs = await nsBash(run.netns, "ip -6 -o addr show dev tl0");
    const lines = addrs.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("inet6 fd00::1/64 scope global");
    // Tentative would mean duplicate address detection: a NOARP device has none.
    expect(lines[0]).not.toContain("tentative");
    const route = await nsBash(run.netns, `ip -6 route get ${ADDR6}`);
    expect(route.stdout).toContain("dev tl0");
    // IPv6 is on for the device only: other devices send no solicitations or reports.
    const all = await nsBash(run.netns, "sysctl -n net.ipv6.conf.all.disable_ipv6");
    expect(all.stdout.trim()).toBe("1");
    expect((await run.stop()).code).toBe(0);
  });

  test("ping -6: 56 and 1452 bytes in one packet each; 3000 bytes reassembled and answered in fragments", async () => {
    await timed("ping -6", async () => {
      const run = await startServe();
      // 1452 = 1500 − 40 (IPv6) − 8 (ICMPv6): the largest echo that needs no fragment.
      await expectPings(run.netns, ADDR6, [56, 1452, 3000]);
      const { code, stopped } = await run.stop();
      expect(code).toBe(0);
      const p = stopped.stats.packets;
      expect(p["icmp6.echo-replies-out"]).toBe(15);
      // 3000 data + 8 ICMPv6 = 3008 bytes: fragments of 1448 bytes (1500 − 40 − 8, in
      // 8-byte units, RFC 8200 §4.5), so 3 each way per echo.
      expect(p["ip6.reassembled"]).toBe(5);
      expect(p["ip6.fragments-in"]).toBe(15);
      expect(p["ip6.fragmented"]).toBe(5);
      expect(p["ip6.fragments-out"]).toBe(15);
      expect(stopped.stats.drops).toEqual({});
      // Nothing but the pings came: no router solicitation, no MLD report, no neighbour solicitation.
      expect(p["ip6.in"]).toBe(10 + 15);
    });
  });

  test("a closed UDP port draws ICMPv6 port unreachable; a closed TCP port a RST", async () => {
    await timed("ICMPv6 port unreachable, RST", async () => {
      const run = await startServe();
      const unreach = await probeClosedUdp(
        run.netns,
        ADDR6,
        kernelIcmp6Counters,
        "Icmp6InDestUnreachs",
      );
      expect(unreach).toBeGreaterThanOrEqual(1);

      const t0 = performance.now();
      const refused = await nsBash(run.netns, `curl -sS --max-time 5 -g 'http://[${ADDR6}]:81/'`);
      expect(refused.exitCode).toBe(7); // CURLE_COULDNT_CONNECT: the RST, not a timeout
      expect(performance.now() - t0).toBeLessThan(2000);

      const { code, stopped } = await run.stop();
      expect(code).toBe(0);
      const p = stopped.stats.packets;
      expect(p["icmp6.port-unreachable-out"]).toBeGreaterThanOrEqual(1);
      expect(p["tcp.rst-out"]).toBeGreaterThanOrEqual(1);
      expect(stopped.stats.drops["udp.no-socket"]).toBeGreaterThanOrEqual(1);
    });
  });

  test("UDP echo over IPv6 with nc -6 -u", async () => {
    const run = await startServe();
    const echo = await nsBash(run.netns, `printf 'hello udp6\\n' | nc -6 -u -w 1 ${ADDR6} 7`);
    expect(echo.stdout).toBe("hello udp6\n");
    const { code, stopped } = await run.stop();
    expect(code).toBe(0);
    expect(stopped.stats.packets["udp.in"]).toBe(1);
  });

  test("nc -6 to echo 7: the lines come back", async () => {
    const run = await startServe();
    const lines = Array.from({ length: 50 }, (_, i) => `line ${i} ${"x".repeat(i)}`).join("\n");
    const echo = await nsBash(run.netns, `printf '%s\\n' '${lines}' | nc -6 -N -w 5 ${ADDR6} 7`);
    expect(echo.exitCode).toBe(0);
    expect(echo.stdout).toBe(`${lines}\n`);
    const { code, stopped } = await run.stop();
    expect(code).toBe(0);
    expect(stopped.stats.packets["tcp.passive-opens"]).toBe(1);
  });

  test("curl -6 GET /bytes/104857600: size and SHA-256 match", async () => {
    await timed("curl -6 GET 100 MiB", async () => {
      const run = await startServe();
      const n = 104_857_600;
      await expectBytes(run.netns, `http://[${ADDR6}]`, n, "-6 -g");
      const { code, stopped } = await run.stop();
      expect(code).toBe(0);
      // It went over IPv6: at least the 100 MiB in 1428-byte segments (MSS 1440 less timestamps).
      expect(stopped.stats.packets["ip6.out"]).toBeGreaterThan(n / 1440);
      expect(stopped.stats.drops).toEqual({});
    });
  });
});

const MIB50 = 50 * 1024 * 1024;

describe.skipIf(skipKernel)("kernel host over IPv6 (library)", () => {
  test("tcplab as a client: 50 MiB to a kernel socat listener on [fd00::1] arrive intact", async () => {
    await timed("tcplab → kernel socat over IPv6 50 MiB", async () => {
      const kh = await kernelHost();
      const sink = kh.netns.spawn(
        ["bash", "-c", "set -o pipefail; socat -u TCP6-LISTEN:5000,reuseaddr STDOUT | sha256sum"],
        { stdout: "pipe" },
      );
      expect(await kernelListening(kh.netns.name, 5000)).toBe(true);
      const conn = await kh.net.connect("fd00::1", 5000);
      expect(conn.remote).toEqual({ family: 6, addr: [0xfd000000, 0, 0, 1], port: 5000 });
      for (const c of seededChunks(MIB50, 21)) await conn.write(c);
      await conn.end();
      conn.close();
      const out = await within(new Response(sink.stdout as ReadableStream).text(), 30_000, "socat");
      expect(out.split(" ")[0]).toBe(sha256Hex(seededChunks(MIB50, 21)));
      expect(await sink.exited).toBe(0);
      const stats = kh.host.stats();
      expect(stats.packets["ip6.out"]).toBeGreaterThan(MIB50 / 1440);
      expect(stats.drops).toEqual({});
      await kh.close();
    });
  });

  test("the kernel as a client: 50 MiB from socat to an AF_INET6 listener arrive intact", async () => {
    await timed("kernel socat → tcplab over IPv6 50 MiB", async () => {
      const kh = await kernelHost();
      const server = kh.net.listen(6000, undefined, 8, "AF_INET6");
      const file = join(tempDir(), "source");
      try {
        const data = new Uint8Array(MIB50);
        let at = 0;
        for (const c of seededChunks(MIB50, 22)) {
          data.set(c, at);
          at += c.length;
        }
        await Bun.write(file, data);
        const source = kh.netns.spawn(["socat", "-u", `OPEN:${file}`, "TCP6:[fd00::2]:6000"]);
        const conn = await within(server.accept(), 10_000, "accept");
        const hash = new Bun.CryptoHasher("sha256");
        let got = 0;
        for await (const chunk of conn) {
          hash.update(chunk);
          got += chunk.length;
        }
        conn.close();
        expect(got).toBe(MIB50);
        expect(hash.digest("hex")).toBe(sha256Hex(seededChunks(MIB50, 22)));
        expect(await within(source.exited, 10_000, "socat exit")).toBe(0);
        // With offloads the kernel left its checksums partial; the link completed them.
        const stats = kh.host.stats();
        expect(stats.drops).toEqual({});
        expect(stats.packets["ip6.in"]).toBeGreaterThan(MIB50 / 1440);
      } finally {
        server.close();
        await kh.close();
      }
    });
  });
});

/** The TunError `fn` fails with. */
async function tunErrorOf(fn: () => Promise<unknown>): Promise<TunError> {
  const err = await fn().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TunError);
  return err as TunError;
}

// Checked before anything is created, so these need no root.
test("IPv6 options of a TUN device: both addresses, one /64, an MTU of 1280 or more", async () => {
  const v4 = { localAddr: "10.0.0.1", peerAddr: "10.0.0.2" };
  const half = await tunErrorOf(() => openTun({ ...v4, localAddr6: "fd00::1" }));
  expect(half.reason).toBe("bad-address");
  expect(half.message).toContain("both addresses");
  const bad = await tunErrorOf(() =>
    openTun({ ...v4, localAddr6: "fd00::1", peerAddr6: "fd00::g" }),
  );
  expect(bad.message).toBe('peer IPv6 address "fd00::g" is not an IPv6 address (like fd00::1)');
  const apart = await tunErrorOf(() =>
    openTun({ ...v4, localAddr6: "fd00::1", peerAddr6: "fd01::2" }),
  );
  expect(apart.message).toContain("must differ within one /64");
  const same = await tunErrorOf(() =>
    openTun({ ...v4, localAddr6: "fd00::1", peerAddr6: "fd00::1" }),
  );
  expect(same.reason).toBe("bad-address");
  // RFC 8200 §5: a link carries 1280 bytes at least.
  const small = await tunErrorOf(() =>
    openTun({ ...v4, mtu: 1279, localAddr6: "fd00::1", peerAddr6: "fd00::2" }),
  );
  expect(small.message).toBe("MTU 1279 is too small for IPv6: use 1280 or more");
});

describe.skipIf(skipKernel)("kernel host under IPv6's minimum MTU", () => {
  test("a 1200-byte device carries IPv4 only: no IPv6 address on it or on the host", async () => {
    const kh = await kernelHost({ mtu: 1200 });
    expect(kh.tun.localAddr6).toBeUndefined();
    expect(kh.host.addr6).toBeUndefined();
    const addrs = await nsBash(kh.netns.name, "ip -6 -o addr show dev tl0");
    expect(addrs.stdout).toBe("");
    const ping = await nsBash(kh.netns.name, "ping -n -c 1 -W 2 10.0.0.2");
    expect(ping.exitCode).toBe(0);
    await kh.close();
  });
});
