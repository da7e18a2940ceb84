/** IPv6 packets shared by the wire, link and lab tests: a SYN and an echo between fd00::1 and fd00::2. */
import type { Icmpv6Message } from "../../src/wire/icmpv6.ts";
import { ip6 } from "../../src/wire/ipv6-addr.ts";
import { tcpSegment } from "../../src/wire/packet.ts";
import { buildIcmpv6Packet, buildTcpPacket6 } from "../../src/wire/packet6.ts";
import { Flag } from "../../src/wire/tcp-types.ts";

export const A6 = ip6("fd00::1");
export const B6 = ip6("fd00::2");

/** fd00::1.5000 > fd00::2.80: Flags [S], seq 1000, win 65535, options [mss 1440]. */
export const syn6 = tcpSegment({
  srcPort: 5000,
  dstPort: 80,
  seq: 1000,
  flags: Flag.SYN,
  window: 65535,
  options: [{ kind: "mss", value: 1440 }],
});

/** An echo request with 56 bytes of data: a 64-byte message, as ping sends. */
export const echo6 = {
  type: "echo-request",
  id: 1,
  seq: 1,
  data: new Uint8Array(56),
} satisfies Icmpv6Message;

export function synPacket6(): Uint8Array {
  return buildTcpPacket6(A6, B6, syn6);
}

export function echoPacket6(msg: Icmpv6Message = echo6, from = A6, to = B6): Uint8Array {
  return buildIcmpv6Packet(from, to, msg);
}
