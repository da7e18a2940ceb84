/**
 * `tcplab serve` against the real kernel's tools: each case starts serve as a
 * subprocess in a fresh namespace, uses ping / nc / curl / tshark from inside
 * it, then stops serve with a signal and checks it exited 0 and removed the
 * namespace. Needs root (skipped without, unless CI=true).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { offloadByDefault } from "../../src/runtime/kernel-host.ts";
import { chargenPeriod } from "../../src/services/chargen.ts";
import {
  AS_NOBODY,
  bytesStreamSha256,
  cleanupAll,
  expectBytes,
  expectPings,
  kernelIcmpCounters,
  nsBash,
  probeClosedUdp,
  runServeToEnd,
  seededChunks,
  sha256Hex,
  skipKernel,
  startServe,
  tempDir,
  timed,
} from "./kernel-helpers.ts";

afterAll(cleanupAll);

const URL_BASE = "http://10.0.0.2";

describe.skipIf(skipKernel)("tcplab serve", () => {
  test("ready line, then SIGTERM and SIGINT: exit 0, namespace removed", async () => {
    await timed("serve lifecycle", async () => {
      for (const signal of ["SIGTERM", "SIGINT"] as const) {
        const run = await startServe(["--tun", "tl0"]);
        expect(run.ready).toEqual({
          ready: true,
          netns: run.netns,
          addr: "10.0.0.2",
          peer: "10.0.0.1",
          addr6: "fd00::2",
          peer6: "fd00::1",
          mtu: 1500,
          tun: "tl0",
          // Offloads unless the suite runs with TCPLAB_OFFLOAD=off; all tcplab asks for (no TSO6).
          offload: offloadByDefault()
            ? { requested: true, granted: "csum+tso4" }
            : { requested: false, granted: "none" },
          services: { tcp: [7, 9, 19, 80], udp: [7] },
          pid: run.proc.pid,
        });
        const link = await nsBash(run.netns, "ip -o link show dev tl0");
        expect(link.stdout).toContain("mtu 1500");
        const { code, stopped } = await run.stop(signal);
        expect(code).toBe(0);
        expect(stopped.stopped).toBe(true);
        expect(stopped.reason).toBe(signal);
      }
    });
  });

  test("bad arguments: exit 2 and a line naming the argument", async () => {
    await timed("serve bad arguments", async () => {
      const cases: [string[], string][] = [
        [["--mtu", "20"], "--mtu"],
        [["--addr", "10.0.0.300"], "--addr"],
        [["--peer", "x"], "--peer"],
        [["--tun", "a-name-far-too-long"], "--tun"],
        [["--netns", "no/slash"], "--netns"],
        [["--bogus"], "--bogus"],
      ];
      for (const [args, name] of cases) {
        const r = await runServeToEnd(args);
        expect(r.code).toBe(2);
        expect(r.stdout).toBe("");
        expect(r.stderr.split("\n")[0]).toContain(name);
      }
    });
  });

  test("a namespace name held by someone else: the TunError's line, exit 1, left alone", async () => {
    const name = `tcplab-k${process.pid}-foreign`;
    expect(Bun.spawnSync(["ip", "netns", "add", name]).exitCode).toBe(0);
    try {
      const r = await runServeToEnd(["--netns", name]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      const lines = r.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`ip netns del ${name}`);
      expect(Bun.spawnSync(["ip", "netns", "list"]).stdout.toString()).toContain(name);
    } finally {
      Bun.spawnSync(["ip", "netns", "del", name]);
    }
  });

  test("without root: the one-line TunError on stderr, exit 1", async () => {
    const tcplab = new URL("../../cli/tcplab.ts", import.meta.url).pathname;
    const r = Bun.spawnSync([...AS_NOBODY, process.execPath, tcplab, "serve"], {
      env: { ...process.env, HOME: "/tmp" },
    });
    expect(r.exitCode).toBe(1);
    expect(r.stdout.toString()).toBe("");
    expect(r.stderr.toString()).toBe(
      "tcplab serve: tcplab needs root to create a TUN device: run with sudo, or use `bun run lab` without root for the simulated world\n",
    );
  });

  test("ping: 5 replies at 56 and 1472 bytes; 4000 bytes reassembled and answered in fragments", async () => {
    await timed("ping", async () => {
      const run = await startServe();
      await expectPings(run.netns, "10.0.0.2", [56, 1472, 4000]);
      const { code, stopped } = await run.stop();
      expect(code).toBe(0);
      const p = stopped.stats.packets;
      expect(p["icmp.echo-replies-out"]).toBe(15);
      // 4000 data + 8 ICMP = 4008 bytes: 3 fragments at MTU 1500, each way.
      expect(p["ip.reassembled"]).toBe(5);
      expect(p["ip.fragmented"]).toBe(5);
      expect(p["ip.fragments-out"]).toBe(15);
      expect(stopped.stats.drops).toEqual({});
    });
  });

  test("nc to echo 7: the lines come back; discard 9 takes data; chargen 19 sends RFC 864 lines", async () => {
    await timed("nc echo/discard/chargen", async () => {
      const run = await startServe();
      const lines = Array.from({ length: 50 }, (_, i) => `line ${i} ${"x".repeat(i)}`).join("\n");
      const echo = await nsBash(run.netns, `printf '%s\\n' '${lines}' | nc -N -w 5 10.0.0.2 7`);
      expect(echo.exitCode).toBe(0);
      expect(echo.stdout).toBe(`${lines}\n`);

      const discard = await nsBash(run.netns, "head -c 1000000 /dev/zero | nc -N -w 5 10.0.0.2 9");
      expect(discard.exitCode).toBe(0);
      expect(discard.stdout).toBe("");

      // Read 2 periods and a bit, then hang up (head closes the pipe, nc ends).
      const want = 2 * 95 * 74 + 740;
      const chargen = await nsBash(
        run.netns,
        `nc -d -w 5 10.0.0.2 19 | head -c ${want} | base64 -w0`,
      );
      const got = new Uint8Array(Buffer.from(chargen.stdout, "base64"));
      expect(got.length).toBe(want);
      const period = chargenPeriod();
      const expected = new Uint8Array(want);
      for (let i = 0; i < want; i++) expected[i] = period[i % period.length] as number;
      expect(Buffer.from(got).equals(Buffer.from(expected))).toBe(true);
      expect(new TextDecoder().decode(got.subarray(0, 74))).toBe(
        " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefg\r\n",
      );

      const { code, stopped } = await run.stop();
      expect(code).toBe(0);
      expect(stopped.stats.packets["tcp.passive-opens"]).toBe(3);
    });
  });

  test("UDP echo with nc -u; a closed UDP port draws port unreachable; a closed TCP port a RST", async () => {
    await timed("udp echo, port unreachable, RST", async () => {
      const run = await startServe();
      const echo = await nsBash(run.netns, "printf 'hello udp\\n' | nc -u -w 1 10.0.0.2 7");
      expect(echo.stdout).toBe("hello udp\n");

      const unreach = await probeClosedUdp(
        run.netns,
        "10.0.0.2",
        kernelIcmpCounters,
        "InDestUnreachs",
      );
      expect(unreach).toBeGreaterThanOrEqual(1);

      const t0 = performance.now();
      const refused = await nsBash(run.netns, "curl -sS --max-time 5 http://10.0.0.2:81/", 10_000);
      const took = performance.now() - t0;
      expect(refused.exitCode).toBe(7); // CURLE_COULDNT_CONNECT
      // curl 7.88 words ECONNREFUSED as "Couldn't connect to server"; the RST is counted below.
      expect(refused.stderr).toContain("Failed to connect to 10.0.0.2 port 81");
      expect(took).toBeLessThan(2000);

      const { code, stopped } = await run.stop();
      expect(code).toBe(0);
      expect(stopped.stats.packets["icmp.port-unreachable-out"]).toBeGreaterThanOrEqual(1);
      expect(stopped.stats.packets["tcp.rst-out"]).toBeGreaterThanOrEqual(1);
      expect(stopped.stats.drops["udp.no-socket"]).toBeGreaterThanOrEqual(1);
    });
  });

  test("curl GET /bytes/1048576 and /bytes/104857600: size and SHA-256 match", async () => {
    await timed("curl GET 1 MiB + 100 MiB", async () => {
      const run = await startServe();
      for (const n of [1_048_576, 104_857_600]) await expectBytes(run.netns, URL_BASE, n);
      expect((await run.stop()).code).toBe(0);
    });
  });

  test("curl POST 50 MiB to /sha256 (Content-Length and chunked): the answer matches", async () => {
    await timed("curl POST 50 MiB x2", async () => {
      const dir = tempDir();
      const file = join(dir, "body.bin");
      const n = 50 * 1024 * 1024;
      const chunks = [...seededChunks(n, 7)];
      writeFileSync(file, Buffer.concat(chunks));
      const want = sha256Hex(chunks);
      const run = await startServe();
      for (const extra of ["", "-H 'Transfer-Encoding: chunked'"]) {
        const t0 = performance.now();
        const r = await nsBash(
          run.netns,
          `curl -sS --fail ${extra} --data-binary @${file} ${URL_BASE}/sha256`,
          60_000,
        );
        const secs = (performance.now() - t0) / 1000;
        console.log(`[interop]   POST 50 MiB ${extra || "(Content-Length)"}: ${secs.toFixed(2)} s`);
        expect(r.exitCode).toBe(0);
        expect(r.stdout).toBe(`${want}\n`);
      }
      expect((await run.stop()).code).toBe(0);
    });
  });

  test("HTTP: the index page, 404, 405, 400, and keep-alive across requests", async () => {
    await timed("http statuses", async () => {
      const run = await startServe();
      const status = async (args: string) =>
        (await nsBash(run.netns, `curl -s -o /dev/null -w '%{http_code}' ${args}`)).stdout;
      const page = await nsBash(run.netns, `curl -sS --fail ${URL_BASE}/`);
      expect(page.stdout).toContain("<title>tcplab</title>");
      expect(await status(`${URL_BASE}/nothing-here`)).toBe("404");
      expect(await status(`-X POST ${URL_BASE}/`)).toBe("405");
      expect(await status(`${URL_BASE}/sha256`)).toBe("405");
      expect(await status(`${URL_BASE}/bytes/abc`)).toBe("400");
      expect(await status(`-H 'Content-Length: nope' ${URL_BASE}/`)).toBe("400");
      // Three requests, one connection (curl reports 0 new connects after the first).
      const ka = await nsBash(
        run.netns,
        `curl -sS -o /dev/null -o /dev/null -o /dev/null -w '%{num_connects},' ${URL_BASE}/ ${URL_BASE}/bytes/10 ${URL_BASE}/`,
      );
      expect(ka.stdout).toBe("1,0,0,");
      const { code, stopped } = await run.stop();
      expect(code).toBe(0);
      expect(stopped.stats.packets["tcp.passive-opens"]).toBe(7);
    });
  });

  test("a pcap of a whole run: tshark finds no malformed packets and no bad checksums", async () => {
    await timed("pcap + tshark", async () => {
      const dir = tempDir();
      const pcap = join(dir, "run.pcap");
      const run = await startServe(["--pcap", pcap]);
      expect(run.ready.pcap).toBe(pcap);
      const get = await nsBash(run.netns, `curl -sS --fail ${URL_BASE}/bytes/1000000 | sha256sum`);
      expect(get.stdout.split(" ")[0]).toBe(bytesStreamSha256(1_000_000));
      const post = await nsBash(
        run.netns,
        `head -c 300000 /dev/zero | curl -sS --fail --data-binary @- ${URL_BASE}/sha256`,
      );
      expect(post.exitCode).toBe(0);
      await nsBash(
        run.netns,
        "ping -n -c 2 -i 0.05 -s 3000 10.0.0.2; printf 'x' | nc -u -w 1 10.0.0.2 7",
      );
      await nsBash(run.netns, "curl -s http://10.0.0.2:81/; nc -u -z -w 1 10.0.0.2 9999");
      const { code, stopped } = await run.stop();
      expect(code).toBe(0);

      const prefs = [
        "-o",
        "ip.check_checksum:TRUE",
        "-o",
        "tcp.check_checksum:TRUE",
        "-o",
        "udp.check_checksum:TRUE",
      ];
      const bad = Bun.spawnSync([
        "tshark",
        "-n",
        "-r",
        pcap,
        ...prefs,
        "-Y",
        // The one thing allowed: the kernel's TCP checksum written 0xffff for a
        // zero fold (CSUM_MANGLED_0; both ones'-complement zeros are valid,
        // RFC 1624 §3), which tshark flags. tcplab never sends 0xffff.
        '(_ws.malformed || _ws.expert.severity == "error" || ip.checksum.status == "Bad" || tcp.checksum.status == "Bad" || udp.checksum.status == "Bad" || icmp.checksum.status == "Bad") && !(ip.src == 10.0.0.1 && tcp.checksum == 0xffff)',
      ]);
      expect(bad.exitCode).toBe(0);
      expect(bad.stdout.toString()).toBe("");
      const count = (filter: string) => {
        const r = Bun.spawnSync([
          "tshark",
          "-n",
          "-r",
          pcap,
          ...prefs,
          "-Y",
          filter,
          "-T",
          "fields",
          "-e",
          "frame.number",
        ]);
        return r.stdout
          .toString()
          .split("\n")
          .filter((l) => l !== "").length;
      };
      const p = stopped.stats.packets;
      const tcpPackets = (p["tcp.in"] ?? 0) + (p["tcp.out"] ?? 0);
      expect(tcpPackets).toBeGreaterThan(700); // 1 MB down is ≥ 685 full segments
      expect(count("tcp")).toBe(tcpPackets);
      // Every packet both ways is in the file (fragments as separate frames).
      expect(count("ip")).toBe((p["ip.in"] ?? 0) + (p["ip.out"] ?? 0));
      expect(readFileSync(pcap).length).toBeGreaterThan(1_000_000);
    });
  }, 60_000);
});
