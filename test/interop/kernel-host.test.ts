/**
 * The kernel host used as a library (startKernelHost): tcplab's connection
 * states observed through Tcb events while the kernel's tools close from
 * either side, tcplab as a client of kernel listeners, and two tcplab hosts
 * talking through the kernel's IP forwarding. Needs root (skipped without,
 * unless CI=true).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { SocketError } from "../../src/api/errors.ts";
import type { Connection } from "../../src/api/net.ts";
import { ms } from "../../src/clock/time.ts";
import type { KernelHost } from "../../src/runtime/kernel-host.ts";
import { startEcho } from "../../src/services/echo.ts";
import { stateName } from "../../src/tcp/state.ts";
import type { TcbView } from "../../src/tcp/view.ts";
import {
  cleanupAll,
  freshNetns,
  kernelHost,
  kernelListening,
  nsBash,
  seededChunks,
  sha256Hex,
  skipKernel,
  timed,
  waitFor,
  within,
} from "./kernel-helpers.ts";

afterAll(cleanupAll);

/** Records the state path of every connection the host opens or accepts. */
function watchStates(kh: KernelHost): Map<TcbView, string[]> {
  const paths = new Map<TcbView, string[]>();
  const prev = kh.host.events.connectionAdded;
  kh.host.events.connectionAdded = (tcb, state) => {
    prev?.(tcb, state);
    const path = [stateName(state)];
    paths.set(tcb, path);
    tcb.observe({ stateChanged: (_t, _from, to) => path.push(stateName(to)) });
  };
  return paths;
}

async function writeAll(conn: Connection, chunks: Iterable<Uint8Array>): Promise<void> {
  for (const c of chunks) await conn.write(c);
}

describe.skipIf(skipKernel)("kernel host (library)", () => {
  test("the kernel closes first: tcplab goes CLOSE-WAIT → LAST-ACK → CLOSED", async () => {
    await timed("close from the kernel side", async () => {
      const kh = await kernelHost();
      const paths = watchStates(kh);
      const echo = startEcho(kh.net);
      // nc -N: shutdown(SHUT_WR) after stdin's end, so the kernel's FIN comes first.
      const r = await nsBash(kh.netns.name, "printf 'one\\ntwo\\n' | nc -N -w 5 10.0.0.2 7");
      expect(r.stdout).toBe("one\ntwo\n");
      expect(r.exitCode).toBe(0);
      expect(paths.size).toBe(1);
      const [tcb, path] = [...paths][0] as [TcbView, string[]];
      expect(await waitFor(() => tcb.state === 0, 5000)).toBe(true);
      expect(path).toEqual(["SYN-RECEIVED", "ESTABLISHED", "CLOSE-WAIT", "LAST-ACK", "CLOSED"]);
      expect(tcb.error).toBeUndefined();
      expect(kh.host.connections()).toHaveLength(0);
      echo.close();
      await kh.close();
    });
  });

  test("tcplab closes first: FIN-WAIT-1 → FIN-WAIT-2 → TIME-WAIT → CLOSED (2×MSL)", async () => {
    await timed("close from tcplab's side", async () => {
      // A short MSL so TIME-WAIT ends within the test (RFC 9293 §3.10.8 timeout = 2×MSL).
      const kh = await kernelHost({ host: { tcp: { msl: ms(150) } } });
      const paths = watchStates(kh);
      const served = new Promise<void>((resolve, reject) => {
        kh.net.listen(5001, (conn) => {
          (async () => {
            await conn.write(new TextEncoder().encode("bye\n"));
            await conn.end(); // FIN, resolved once it is acknowledged
            conn.close();
          })().then(resolve, reject);
        });
      });
      // -d: nc reads nothing from stdin; it closes once tcplab's FIN arrives.
      const r = await nsBash(kh.netns.name, "nc -d -w 5 10.0.0.2 5001");
      expect(r.stdout).toBe("bye\n");
      await within(served, 5000, "server side done");
      const [tcb, path] = [...paths][0] as [TcbView, string[]];
      expect(await waitFor(() => tcb.state === 0, 5000)).toBe(true);
      expect(path).toEqual([
        "SYN-RECEIVED",
        "ESTABLISHED",
        "FIN-WAIT-1",
        "FIN-WAIT-2",
        "TIME-WAIT",
        "CLOSED",
      ]);
      expect(tcb.error).toBeUndefined();
      await kh.close();
    });
  });

  test("tcplab as a client: 50 MiB to a kernel socat listener arrive intact", async () => {
    await timed("tcplab → kernel socat 50 MiB", async () => {
      const kh = await kernelHost();
      const ns = kh.netns;
      const sink = ns.spawn(
        ["bash", "-c", "set -o pipefail; socat -u TCP-LISTEN:5000,reuseaddr STDOUT | sha256sum"],
        { stdout: "pipe" },
      );
      expect(await kernelListening(ns.name, 5000)).toBe(true);
      const n = 50 * 1024 * 1024;
      const t0 = performance.now();
      const conn = await kh.net.connect("10.0.0.1", 5000);
      expect(conn.remote).toEqual({ family: 4, addr: 0x0a000001, port: 5000 });
      await writeAll(conn, seededChunks(n, 11));
      await conn.end();
      conn.close();
      const out = await within(new Response(sink.stdout as ReadableStream).text(), 30_000, "socat");
      const secs = (performance.now() - t0) / 1000;
      console.log(
        `[interop]   tcplab → socat: ${secs.toFixed(2)} s, ${(n / 1e6 / secs).toFixed(1)} MB/s`,
      );
      expect(out.split(" ")[0]).toBe(sha256Hex(seededChunks(n, 11)));
      expect(await sink.exited).toBe(0);
      await kh.close();
    });
  });

  test("tcplab as a client: a closed kernel port refuses at once (the kernel's RST)", async () => {
    const kh = await kernelHost();
    const t0 = performance.now();
    const err = await kh.net.connect("10.0.0.1", 5999).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SocketError);
    expect((err as SocketError).code).toBe("ECONNREFUSED");
    expect(performance.now() - t0).toBeLessThan(1000);
    await kh.close();
  });

  test("two tcplab hosts on two TUN devices, routed by the kernel: 10 MiB intact", async () => {
    await timed("tcplab → kernel forwarding → tcplab 10 MiB", async () => {
      const ns = await freshNetns();
      const fwd = await nsBash(ns.name, "sysctl -w net.ipv4.ip_forward=1");
      expect(fwd.exitCode).toBe(0);
      const a = await kernelHost({
        netns: ns,
        tunName: "tla",
        addr: "10.0.1.2",
        peer: "10.0.1.1",
        name: "a",
      });
      const b = await kernelHost({
        netns: ns,
        tunName: "tlb",
        addr: "10.0.2.2",
        peer: "10.0.2.1",
        name: "b",
      });
      const before = await forwarded(ns.name);
      const bytesBefore = await transmitted(ns.name, "tla");

      const n = 10 * 1024 * 1024;
      const received = new Promise<string>((resolve, reject) => {
        const server = a.net.listen(6000, (conn) => {
          (async () => {
            expect(conn.remote).toEqual({
              family: 4,
              addr: 0x0a000202,
              port: conn.remote?.port ?? -1,
            });
            const h = new Bun.CryptoHasher("sha256");
            let total = 0;
            for await (const chunk of conn) {
              h.update(chunk);
              total += chunk.length;
            }
            await conn.end();
            conn.close();
            server.close();
            expect(total).toBe(n);
            return h.digest("hex");
          })().then(resolve, reject);
        });
      });
      const t0 = performance.now();
      const conn = await b.net.connect("10.0.1.2", 6000);
      await writeAll(conn, seededChunks(n, 23));
      await conn.end();
      conn.close();
      const got = await within(received, 30_000, "receiver");
      const secs = (performance.now() - t0) / 1000;
      console.log(
        `[interop]   b → kernel → a: ${secs.toFixed(2)} s, ${(n / 1e6 / secs).toFixed(1)} MB/s`,
      );
      expect(got).toBe(sha256Hex(seededChunks(n, 23)));
      // The kernel forwarded all of it: datagrams through its IP forwarding (a
      // super-segment with TUN offloads counts once), every byte out to a.
      expect((await forwarded(ns.name)) - before).toBeGreaterThan(n / 65535);
      expect((await transmitted(ns.name, "tla")) - bytesBefore).toBeGreaterThan(n);
      await a.close();
      await b.close();
    });
  });
});

/** The kernel's Ip ForwDatagrams counter inside `ns`. */
async function forwarded(ns: string): Promise<number> {
  const r = await nsBash(ns, "cat /proc/net/snmp");
  const rows = r.stdout.split("\n").filter((l) => l.startsWith("Ip:"));
  const names = (rows[0] ?? "").split(/\s+/);
  const values = (rows[1] ?? "").split(/\s+/);
  return Number(values[names.indexOf("ForwDatagrams")]);
}

/** Bytes the kernel transmitted on device `dev` inside `ns` (/proc/net/dev). */
async function transmitted(ns: string, dev: string): Promise<number> {
  const r = await nsBash(ns, "cat /proc/net/dev");
  const line = r.stdout.split("\n").find((l) => l.trim().startsWith(`${dev}:`));
  // Receive: bytes packets errs drop fifo frame compressed multicast; then transmit bytes.
  return Number(line?.split(":")[1]?.trim().split(/\s+/)[8]);
}
