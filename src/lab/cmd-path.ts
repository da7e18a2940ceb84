/**
 * The path as a shared resource: `bottleneck RATE [QUEUE]` makes the
 * simulated wire send at RATE behind one drop-tail queue (each direction),
 * so the connections between a and b share it; `sink #ID` makes a host read
 * whatever arrives on a connection as it arrives, as an application that
 * keeps up would — the receiver never closes its window, and what limits
 * the transfer is the network. `mtu BYTES` gives the path a smaller MTU
 * than the hosts': a larger packet is dropped on it, with no ICMP message
 * back — a path-MTU black hole (RFC 2923 §2.1).
 */

import { ms, scale } from "../clock/time.ts";
import type { TcbView } from "../tcp/view.ts";
import { formatDuration } from "./args.ts";
import { formatRate } from "./cmd-plot.ts";
import { err, hint, text } from "./cmd-sockets.ts";
import type { Registry } from "./registry.ts";
import type { LabEngine } from "./session.ts";
import type { Block } from "./view.ts";
import type { Bottleneck, World } from "./world.ts";

const USAGE = {
  bottleneck: "bottleneck RATE [QUEUE] | bottleneck off",
  mtu: "mtu [BYTES]",
  sink: "sink #ID [off]",
} as const;

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
    summary: "the path's MTU: a larger packet is dropped on the way",
    help: [
      "mtu 1492: the simulated path carries IP packets of at most 1492 bytes (each way), as a link with a",
      "smaller MTU somewhere between a and b would. The hosts' own MTU stays as it was, and so does the",
      "MSS their SYNs announce. A larger packet is dropped on the path (✕ in the trace and the ladder,",
      '"larger than the path\'s MTU"): TCP sets DF, so a router may not fragment it (RFC 1191), and here',
      'no ICMP "fragmentation needed" comes back — a black hole (RFC 2923 §2.1). mtu alone shows it.',
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
          ? `path MTU ${mtu} bytes; the hosts' MTU is ${hostMtu}: a packet over ${mtu} bytes is dropped on the path`
          : `path MTU ${mtu} bytes: the path carries every packet the hosts send (their MTU is ${hostMtu})`;
      return [
        text(
          line,
          ...(mtu < hostMtu
            ? [
                hint(
                  "no ICMP message says so (no path-MTU discovery here): the sender just sees no ACK",
                ),
              ]
            : []),
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
