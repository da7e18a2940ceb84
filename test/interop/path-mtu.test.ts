/**
 * Path MTU discovery against the Linux kernel (RFC 1191): the kernel in
 * tcplab's namespace forwards to a second namespace over a veth link whose
 * route carries at most 1280 bytes (`mtu lock 1280`). curl there downloads
 * from tcplab's HTTP service; tcplab's 1500-byte segments (DF set) make
 * the kernel answer ICMP "fragmentation needed, mtu 1280", tcplab lowers
 * its MSS, resends, and the body arrives whole (SHA-256 checked).
 *
 * With the kernel's messages filtered (tcplab's fault layer drops ICMP
 * arriving), the path is a black hole (RFC 2923 §2.1): settings.mtuProbing
 * (RFC 4821 §7.7) still gets the download through after a few timeouts.
 *
 *   curl (ns B, 10.0.1.2) ── pv1 ═ pv0 (10.0.1.1, route mtu 1280) ── kernel ── tl0 ── tcplab 10.0.0.2
 */
import { afterAll, describe, expect, test } from "bun:test";
import { faults } from "../../src/link/faults.ts";
import { startHttp } from "../../src/services/http.ts";
import type { TcpSettings } from "../../src/tcp/settings.ts";
import {
  bytesStreamSha256,
  cleanupAll,
  freshNetns,
  kernelHost,
  nsBash,
  skipKernel,
  waitFor,
} from "./kernel-helpers.ts";

afterAll(cleanupAll);

const BYTES = 4 * 1024 * 1024;

/** tcplab serving HTTP in namespace A, curl's namespace B behind a 1280-byte route. */
async function narrowPath(opts: { tcp?: Partial<TcpSettings>; dropIcmp?: boolean } = {}) {
  const kh = await kernelHost({
    ...(opts.tcp !== undefined ? { host: { tcp: opts.tcp } } : {}),
    ...(opts.dropIcmp
      ? {
          wrapLink: (tun) => {
            const link = faults(tun);
            link.addRule({
              action: { kind: "drop" },
              dir: "in",
              match: (p) => p[9] === 1, // IPv4 protocol 1: ICMP
              label: "ICMP filtered",
            });
            return link;
          },
        }
      : {}),
  });
  startHttp(kh.net);
  // What each connection knew of its path when it ended.
  const ended: { pmtu: number; probedMss: number | undefined; timeouts: number }[] = [];
  kh.host.events.connectionRemoved = (tcb) =>
    ended.push({
      pmtu: tcb.pmtu.mtu,
      probedMss: tcb.pmtu.probedMss,
      timeouts: tcb.congestion.stats.timeouts,
    });
  const b = await freshNetns();
  const a = kh.netns.name;
  const setup = await nsBash(
    a,
    [
      `ip link add pv0 type veth peer name pv1 netns ${b.name}`,
      "ip addr add 10.0.1.1/24 dev pv0",
      "ip link set pv0 up",
      "sysctl -qw net.ipv4.ip_forward=1",
      // The forwarding decision honours a locked route MTU (ip_dst_mtu_maybe_forward).
      "ip route replace 10.0.1.0/24 dev pv0 src 10.0.1.1 mtu lock 1280",
    ].join(" && "),
  );
  expect(setup.stderr).toBe("");
  expect(setup.exitCode).toBe(0);
  const peer = await nsBash(
    b.name,
    "ip link set lo up && ip addr add 10.0.1.2/24 dev pv1 && ip link set pv1 up && ip route add default via 10.0.1.1",
  );
  expect(peer.exitCode).toBe(0);
  return { kh, a, b: b.name, ended };
}

async function download(ns: string, maxTime: number) {
  return nsBash(
    ns,
    `curl -sS --fail --max-time ${maxTime} -w '%{stderr}%{size_download}' http://10.0.0.2/bytes/${BYTES} | sha256sum`,
    (maxTime + 10) * 1000,
  );
}

describe.skipIf(skipKernel)("path MTU against the kernel (RFC 1191)", () => {
  test("the kernel's fragmentation needed lowers tcplab's MSS; 4 MiB arrive whole", async () => {
    const { kh, a, b, ended } = await narrowPath();
    const r = await download(b, 60);
    expect(r.stderr).toBe(String(BYTES));
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split(" ")[0]).toBe(bytesStreamSha256(BYTES));
    const stats = kh.host.stats();
    expect(stats.packets["tcp.icmp-pmtu-lowered"]).toBeGreaterThanOrEqual(1);
    // The message came at once and the data went again at once: no timeout (RFC 1191 §6.5).
    expect(await waitFor(() => ended.length > 0)).toBe(true); // curl's FIN closes it
    expect(ended).toEqual([{ pmtu: 1280, probedMss: undefined, timeouts: 0 }]);
    const sent = await nsBash(a, "nstat -az IcmpOutDestUnreachs");
    expect(sent.stdout).toMatch(/IcmpOutDestUnreachs\s+[1-9]/);
  }, 90_000);

  test("the kernel's messages filtered: a black hole, which mtuProbing gets through", async () => {
    const { kh, b, ended } = await narrowPath({ tcp: { mtuProbing: true }, dropIcmp: true });
    const r = await download(b, 80);
    expect(r.stderr).toBe(String(BYTES));
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split(" ")[0]).toBe(bytesStreamSha256(BYTES));
    // Nothing heard from the kernel: the fallback alone found the size.
    expect(kh.host.stats().packets["tcp.icmp-pmtu-lowered"]).toBeUndefined();
    expect(kh.host.stats().packets["icmp.in"]).toBeUndefined();
    expect(await waitFor(() => ended.length > 0)).toBe(true);
    // Three timeouts, then 1024 (Linux's tcp_base_mss): a 1064-byte packet fits 1280.
    expect(ended.map((e) => [e.pmtu, e.probedMss])).toEqual([[1500, 1024]]);
    expect(ended[0]?.timeouts).toBeGreaterThanOrEqual(3);
  }, 110_000);
});
