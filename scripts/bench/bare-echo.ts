#!/usr/bin/env bun
/**
 * A bare echo on a TUN device, for the bench's ping figure: `bun
 * scripts/bench/bare-echo.ts NETNS` opens a device in NETNS (the kernel at
 * 10.0.0.1, this process at 10.0.0.2) through the same reader as tcplab
 * (openTun), answers each ICMP echo request in place from the reader's
 * callback — addresses swapped, type 0, ICMP checksum again — with no
 * stack, prints "ready", and closes the device on SIGTERM. Its round trip
 * is the floor of the reader's design on this machine.
 */
import { openTun } from "../../src/link/tun.ts";
import { internetChecksum } from "../../src/wire/checksum.ts";

const netns = process.argv[2];
if (netns === undefined) {
  console.error("usage: bun scripts/bench/bare-echo.ts NETNS");
  process.exit(2);
}
const tun = await openTun({ netns, name: "bench-e0", localAddr: "10.0.0.1", peerAddr: "10.0.0.2" });
tun.onReceive((p) => {
  const ihl = (p[0]! & 0x0f) * 4;
  if (p[9] !== 1 || p[ihl] !== 8) return; // ICMP echo requests only
  const r = p.slice();
  r.set(p.subarray(12, 16), 16);
  r.set(p.subarray(16, 20), 12);
  r[ihl] = 0;
  r[ihl + 2] = 0;
  r[ihl + 3] = 0;
  const sum = internetChecksum(r.subarray(ihl));
  r[ihl + 2] = sum >>> 8;
  r[ihl + 3] = sum & 0xff;
  tun.send(r);
});
process.on("SIGTERM", () => {
  void tun.close().then(() => process.exit(0));
});
console.log("ready");
