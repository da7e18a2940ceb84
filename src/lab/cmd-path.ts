/**
 * The path as a shared resource: `bottleneck RATE [QUEUE]` makes the
 * simulated wire send at RATE behind one drop-tail queue (each direction),
 * so the connections between a and b share it; `sink #ID` makes a host read
 * whatever arrives on a connection as it arrives, as an application that
 * keeps up would — the receiver never closes its window, and what limits
 * the transfer is the network. `mtu BYTES` gives the path a smaller MTU
 * than the hosts': its router answers a larger packet with DF by ICMP
 * "fragmentation needed" (RFC 1191) and fragments one without DF; a larger
 * IPv6 packet it answers by ICMPv6 Packet Too Big (RFC 8201).
 * `blackhole BYTES` drops every packet over BYTES on the path without a
 * word, in either world — a path-MTU black hole (RFC 2923 §2.1).
 */

import { ms, scale } from "../clock/time.ts";
import type { TcbView } from "../tcp/view.ts";
import { IPV6_MIN_MTU } from "../wire/ipv6.ts";
import { formatDuration, parseInteger } from "./args.ts";
import { formatRate } from "./cmd-plot.ts";
import { err, hint, text } from "./cmd-sockets.ts";
import type { Registry } from "./registry.ts";
import type { LabEngine } from "./session.ts";
import { PATH_ROUTER, PATH_ROUTER6 } from "./sim-world.ts";
import type { Block, Line } from "./view.ts";
import type { Bottleneck, World } from "./world.ts";

const USAGE = {
  bottleneck: "bottleneck RATE [QUEUE] | bottleneck off",
  mtu: "mtu [BYTES]",
  blackhole: "blackhole [BYTES | off]",
  sink: "sink #ID [off]",
} as const;

/** How a black-hole rule is labelled (and found again). */
const BLACKHOLE = "blackhole";

/** The largest packet the queue is counted in (the wire's MTU). */
const PACKET = 1500;

/** `10mbit`, `10Mbit/s`, `2.5mbps`, `500kbit`, `1gbit`, `64000` (bit/s) → bit/s. */
export function parseRate(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)(?:bit(?:\/s)?|bps|b\/s)?$/i.exec(text);
  if (m === null) return undefined;
  const unit = { "": 1, k: 1e3, m: 1e6, g: 1e9 }[(m[2] as string).toLowerCase()] as number;
  const bits = Number(m[1]) * unit;
  return bits >= 1000 && Number.isFinite(bits) ? bits : undefined;
}

/** One bandwidth-delay product of the path in full-size packets: the classic queue size. */
export function bdpPackets(rate: number, oneWayDelay: number): number {
  return Math.max(2, Math.ceil((rate * ((2 * oneWayDelay) / 1000)) / 8 / PACKET));
}

/** How the bottleneck reads: `10 Mbit/s, queue 17 packets; a 1500-byte packet takes 1.2 ms`. */
export function describeBottleneck(b: Bottleneck): string {
  const q = b.queue === undefined ? "no queue limit" : `a queue of ${b.queue} packets`;
  return `${formatRate(b.rate)} each way, ${q}; a ${PACKET}-byte packet takes ${formatDuration(ms(Number(((PACKET * 8 * 1000) / b.rate).toFixed(3))))} to send`;
}

function setBottleneck(world: World, b: Bottleneck | undefined): Block | undefined {
  if (world.setBottleneck === undefined) {
    return err(
      "bottleneck: the kernel world's path is the kernel's (shape it there: host tc qdisc add dev … tbf …)",
      USAGE.bottleneck,
    );
  }
  world.setBottleneck(b);
  return undefined;
}

/** The unobserve function of each connection a host sinks. */
const sinks = new WeakMap<TcbView, () => void>();

export function registerPathCommands(reg: Registry<LabEngine>): void {
  reg.add({
    name: "bottleneck",
    usage: USAGE.bottleneck,
    summary: "make the path a bottleneck: a bandwidth and a queue every connection shares",
    help: [
      "bottleneck 10mbit: each direction of the wire sends 10 Mbit/s; a packet that finds the line busy",
      "waits in a drop-tail queue of QUEUE packets (default: one bandwidth-delay product), and one that",
      "finds the queue full is dropped (✕ in the trace, the ladder and plot #ID seq). Every connection",
      "between a and b waits in the same queue: plot #3 #5 rate shows how they share it.",
      "RATE: 500kbit, 10mbit, 10Mbit/s, 1gbit. bottleneck off: back to a wire that takes no time to send.",
      "Example: bottleneck 10mbit 20",
    ],
    args: [
      { name: "RATE", kind: "word", optional: true, open: true, values: ["off"] },
      { name: "QUEUE", kind: "int", optional: true, max: 100_000 },
    ],
    hostScoped: false,
    run(ctx, a) {
      const world = ctx.engine.world;
      const word = a.str("RATE");
      if (word === undefined) {
        const b = world.bottleneck?.();
        return [
          text(
            b === undefined
              ? "no bottleneck: the wire takes no time to send a packet"
              : `bottleneck ${describeBottleneck(b)}`,
          ),
        ];
      }
      if (word.toLowerCase() === "off") {
        if (a.num("QUEUE") !== undefined)
          return [err("bottleneck: off takes no QUEUE", USAGE.bottleneck)];
        return [setBottleneck(world, undefined) ?? text("bottleneck off")];
      }
      const rate = parseRate(word);
      if (rate === undefined) {
        return [
          err(
            `bottleneck: RATE should be a rate of at least 1 kbit/s like 10mbit or 500kbit, got "${word}"`,
            USAGE.bottleneck,
          ),
        ];
      }
      const given = a.num("QUEUE");
      const b: Bottleneck = { rate, queue: given ?? bdpPackets(rate, world.delay()) };
      const failed = setBottleneck(world, b);
      if (failed !== undefined) return [failed];
      return [
        text(
          `bottleneck ${describeBottleneck(b)}`,
          hint(
            given === undefined
              ? `the queue holds one bandwidth-delay product (${formatRate(rate)} × ${formatDuration(scale(world.delay(), 2))} round trip); bottleneck RATE QUEUE sets another`
              : "connections between a and b now share this queue",
          ),
        ),
      ];
    },
  });

  reg.add({
    name: "mtu",
    usage: USAGE.mtu,
    summary: "the path's MTU: a router answers a larger packet with ICMP (ICMPv6 for IPv6)",
    help: [
      "mtu 1492: the simulated path carries IP packets of at most 1492 bytes (each way), as a link with a",
      `smaller MTU behind the router ${PATH_ROUTER} (${PATH_ROUTER6}) would. The hosts' own MTU stays as it was,`,
      "and so does the MSS their SYNs announce. A larger packet with DF (TCP sets it) may not be fragmented:",
      'the router drops it (✕ in the trace and the ladder) and sends its sender ICMP "fragmentation needed"',
      "with the MTU of its next hop, from which path-MTU discovery lowers the MSS (RFC 1191). A packet",
      "without DF (UDP) is fragmented instead. A larger IPv6 packet is never fragmented on the way (RFC 8200",
      '§5): the router drops it and sends ICMPv6 "packet too big" with the MTU (RFC 4443 §3.2, RFC 8201).',
      "IPv6 needs a path of at least 1280 bytes (RFC 8200 §5): mtu warns below it, where the hosts discard",
      "the router's Packet Too Big (RFC 8201 §4) and larger IPv6 packets never arrive. blackhole BYTES drops",
      "large packets without a word. mtu alone shows the path's MTU.",
      "Example: mtu 1492   mtu 1500 (back to the hosts' MTU)",
    ],
    args: [{ name: "BYTES", kind: "int", optional: true, min: 68, max: 65535 }],
    hostScoped: false,
    run(ctx, a) {
      const world = ctx.engine.world;
      if (world.setPathMtu === undefined || world.pathMtu === undefined) {
        return [
          err(
            "mtu: the kernel world's path is the kernel's (set its MTU there: host ip link set dev … mtu N)",
            USAGE.mtu,
          ),
        ];
      }
      const hostMtu = Math.min(...world.hosts.map((h) => h.host.mtu));
      const bytes = a.num("BYTES");
      if (bytes !== undefined) world.setPathMtu(bytes);
      const mtu = world.pathMtu();
      const line =
        mtu < hostMtu
          ? `path MTU ${mtu} bytes; the hosts' MTU is ${hostMtu}: the router ${PATH_ROUTER} answers a packet over ${mtu} bytes with DF by ICMP "fragmentation needed (mtu ${mtu})", and fragments one without DF`
          : `path MTU ${mtu} bytes: the path carries every packet the hosts send (their MTU is ${hostMtu})`;
      const six = world.hosts.filter((h) => h.addr6 !== undefined).map((h) => h.name);
      const lower = mtu < hostMtu;
      // RFC 8201 §4: a Packet Too Big under 1280 is discarded, so nothing lowers IPv6's MSS.
      const below = lower
        ? `the router's Packet Too Big (mtu ${mtu}) is below that, so ${six.join(" and ")} discard it (RFC 8201 §4) and an IPv6 packet over ${mtu} bytes never arrives — an IPv6 connection stalls at its first full-sized segment`
        : `below that, IPv6 between ${six.join(" and ")} breaks`;
      const v6: Line[] =
        six.length === 0
          ? []
          : mtu < IPV6_MIN_MTU
            ? [
                [
                  {
                    text: `warning: IPv6 needs links that carry ${IPV6_MIN_MTU}-byte packets (RFC 8200 §5): ${below} (IPv4 is unaffected)`,
                    tone: "warn",
                  },
                ],
              ]
            : lower
              ? [
                  hint(
                    `the router ${PATH_ROUTER6} answers an IPv6 packet over ${mtu} bytes by ICMPv6 "packet too big (mtu ${mtu})" and never fragments it (RFC 8200 §5); the sender lowers its MSS to ${mtu - 60} from it (RFC 8201)`,
                  ),
                ]
              : [];
      return [
        text(
          line,
          ...(lower
            ? [
                hint(
                  "the sender lowers its MSS from that message (RFC 1191); blackhole BYTES drops large packets without one",
                ),
              ]
            : []),
          ...v6,
        ),
      ];
    },
  });

  reg.add({
    name: "blackhole",
    usage: USAGE.blackhole,
    summary: "drop every packet over BYTES on the path, and say nothing",
    help: [
      "blackhole 1000: every packet larger than 1000 bytes is dropped on the path, both ways (✕ in the",
      'trace and the ladder, "blackhole"), and no ICMP message says why — a router whose messages a',
      "firewall filters (RFC 2923 §2.1). Path-MTU discovery learns nothing: the sender sees no ACK and",
      "retransmits the same segment after each timeout. set mtuProbing on makes tcplab lower its MSS",
      "after repeated timeouts instead (RFC 4821 §7.7). Works in both worlds (in the kernel world at",
      "tcplab's interface). blackhole alone shows it; blackhole off or faults clear removes it.",
      "Example: blackhole 1000",
    ],
    args: [{ name: "BYTES", kind: "word", optional: true, open: true, values: ["off"] }],
    hostScoped: false,
    run(ctx, a) {
      const hosts = ctx.engine.world.hosts;
      const rules = hosts.flatMap((h) =>
        h.link.faults
          .rules()
          .filter((r) => r.spec.label?.startsWith(BLACKHOLE))
          .map((r) => ({ host: h, rule: r })),
      );
      const word = a.str("BYTES");
      if (word === undefined) {
        const first = rules[0];
        const hits = rules.reduce((n, r) => n + r.rule.hits, 0);
        return [
          text(
            first === undefined
              ? "no black hole: packets of any size cross the path (up to its MTU)"
              : `${first.rule.spec.label}: ${hits} packet(s) dropped so far`,
          ),
        ];
      }
      for (const r of rules) r.host.link.faults.removeRule(r.rule);
      if (word.toLowerCase() === "off") return [text("blackhole off")];
      const bytes = parseInteger(word);
      if (bytes === undefined || bytes < 68 || bytes > 65535) {
        return [
          err(
            `blackhole: BYTES should be a whole number 68–65535 or off, got "${word}"`,
            USAGE.blackhole,
          ),
        ];
      }
      const label = `${BLACKHOLE} over ${bytes} bytes`;
      const match = (p: Uint8Array) => p.length > bytes;
      // Where packets enter the path, before any router on it could answer:
      // each tcplab host's way out, and with one tcplab host (the kernel
      // world) its way in too, for the kernel's packets.
      const dir = hosts.length > 1 ? "out" : "both";
      for (const h of hosts) h.link.faults.addRule({ action: { kind: "drop" }, dir, match, label });
      return [
        text(
          `${label}: every packet over ${bytes} bytes is dropped on the path, both ways, without an ICMP message`,
          hint("set mtuProbing on: tcplab lowers its MSS after repeated timeouts (RFC 4821 §7.7)"),
        ),
      ];
    },
  });

  reg.add({
    name: "sink",
    usage: USAGE.sink,
    summary: "read whatever arrives on a connection as it arrives (an application that keeps up)",
    help: [
      "From now on the host reads every byte that arrives on #ID at once and throws it away, as a",
      "download to /dev/null would: the receive window stays open, so what limits the sender is cwnd",
      "and the path, not the reader. sink #ID off stops. Example: b: sink #4",
    ],
    args: [
      { name: "#ID", kind: "socket" },
      { name: "OFF", kind: "word", optional: true, values: ["off"] },
    ],
    run(ctx, a) {
      const { engine, host } = ctx;
      const fd = a.num("#ID") as number;
      const tcb = engine.tcbById(host, fd);
      if (tcb === undefined) return [err(`sink: #${fd} has no connection`, USAGE.sink)];
      const was = sinks.get(tcb);
      if (a.str("OFF") !== undefined) {
        was?.();
        sinks.delete(tcb);
        return [text(was === undefined ? `#${fd} was not sinking` : `#${fd}: reading stopped`)];
      }
      if (was !== undefined) return [text(`#${fd} already reads everything as it arrives`)];
      const clock = engine.clock;
      const read = (t: TcbView) => {
        // The host flushes after the segment: a window update, if one is due, goes out then.
        if (t.recvAvailable > 0) t.recv(t.recvAvailable, clock.now());
      };
      sinks.set(tcb, tcb.observe({ readable: read }));
      const waiting = tcb.recvAvailable;
      read(tcb);
      if (waiting > 0) host.attachment.flush();
      return [
        text(
          `${host.name} #${fd} reads everything as it arrives${waiting > 0 ? ` (${waiting} bytes waiting were read)` : ""}`,
        ),
      ];
    },
  });
}
