/**
 * The hostile packets of test/stack/hostile-input.test.ts, as a module: the
 * action generator and the Run that feeds a Host and checks after every
 * packet what it sends, that it stays bounded, and at the end that every
 * packet is accounted for. The test file runs it under bun test;
 * scripts/fuzz.ts runs it for a soak of any length.
 */
import fc from "fast-check";
import { EPOCH, type Instant, later, max, ms } from "../../src/clock/time.ts";
import type { Host } from "../../src/stack/host.ts";
import type { UdpSocket } from "../../src/stack/udp-socket.ts";
import type { Listener } from "../../src/tcp/listener.ts";
import { State } from "../../src/tcp/state.ts";
import type { Tcb } from "../../src/tcp/tcb.ts";
import type { TcbView } from "../../src/tcp/view.ts";
import { formatEndpoint, ip } from "../../src/wire/addr.ts";
import { checksumAccumulate, checksumFinish, pseudoHeaderSum } from "../../src/wire/checksum.ts";
import { formatPacket } from "../../src/wire/format.ts";
import { formatIpPacket } from "../../src/wire/format6.ts";
import { emitIcmp, icmpErrorQuote, icmpLength, parseIcmp } from "../../src/wire/icmp.ts";
import { parseIcmpv6 } from "../../src/wire/icmpv6.ts";
import { emitIpv4, IpProto, parseIpv4, parseIpv4Quote } from "../../src/wire/ipv4.ts";
import {
  emitIpv6,
  type Ipv6ExtensionRepr,
  ipv6HeaderLength,
  isIpv6Fragment,
  NextHeader,
  parseIpv6,
  parseIpv6Quote,
} from "../../src/wire/ipv6.ts";
import {
  type Ipv6Addr,
  ip6,
  ipv6Equal,
  isIpv6Loopback,
  isIpv6Multicast,
  isIpv6Unspecified,
  readIpv6Addr,
} from "../../src/wire/ipv6-addr.ts";
import {
  buildIcmpPacket,
  buildTcpPacket,
  buildUdpPacket,
  tcpSegment,
} from "../../src/wire/packet.ts";
import {
  buildIcmpv6Packet,
  buildTcpPacket6,
  buildUdpPacket6,
  parsePacket6,
} from "../../src/wire/packet6.ts";
import { seqAdd, seqDiff } from "../../src/wire/seq.ts";
import { emitTcp, parseTcp, tcpLength } from "../../src/wire/tcp.ts";
import { Flag } from "../../src/wire/tcp-types.ts";
import { emitUdp, parseUdp, udpLength } from "../../src/wire/udp.ts";
import { A, B, host, pump } from "./util.ts";

const BACKLOG = 3;
const HALF_OPEN = 4;
const REASM_BYTES = 16 * 1024;
const REASM_DATAGRAMS = 8;
const UDP_QUEUE = 3000;
const OOO_LIMIT = 4000;
export const LISTEN_PORT = 80;
const UDP_PORT = 53;

// ───────────────────────────── the world ─────────────────────────────

interface World {
  readonly b: Host;
  readonly listener: Listener;
  readonly udp: UdpSocket;
  /** B's end of the connection A opened before the run. */
  readonly conn: TcbView;
  readonly connPort: number;
  now: Instant;
  udpRead: number;
  readonly log: string[];
  /** How many connections the host held before the hostile packets. */
  readonly baseConnections: number;
}

function makeWorld(ipv6: boolean): World {
  const tcp = { oooLimit: OOO_LIMIT };
  const a = host("a", { tcp });
  const b = host("b", {
    ...(ipv6 ? { addr6: B6 } : {}),
    tcp,
    reassembly: { maxBytes: REASM_BYTES, maxDatagrams: REASM_DATAGRAMS },
    udpQueueBytes: UDP_QUEUE,
  });
  const listener = b.listen(LISTEN_PORT, BACKLOG, { halfOpenLimit: HALF_OPEN });
  if (typeof listener === "string") throw new Error(listener);
  const udp = b.udpBind(UDP_PORT);
  if (typeof udp === "string") throw new Error(udp);
  const client = a.connect({ addr: B, port: LISTEN_PORT }, EPOCH);
  if (typeof client === "string") throw new Error(client);
  pump(a, b, EPOCH);
  const conn = listener.accept();
  if (conn === undefined || conn.state !== State.Established) throw new Error("no connection");
  // Data in flight from b, never acknowledged: ICMP errors have a window to quote.
  conn.send(new Uint8Array(6000), EPOCH);
  b.takeOutput();
  return {
    b,
    listener,
    udp,
    conn,
    connPort: client.local.port,
    now: EPOCH,
    udpRead: 0,
    log: [],
    baseConnections: b.connections().length,
  };
}

// ───────────────────────────── packet specs ─────────────────────────────

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u8 = fc.integer({ min: 0, max: 0xff });

/** Sources: our peer A, other hosts, the addresses RFC 1122 §3.2.1.3 rules out, anything. */
const srcArb = fc.oneof(
  { arbitrary: fc.constant(A), weight: 4 },
  { arbitrary: fc.integer({ min: ip("10.0.1.0"), max: ip("10.0.255.254") }), weight: 3 },
  {
    arbitrary: fc.constantFrom(
      0,
      0xffffffff,
      ip("127.0.0.1"),
      ip("224.0.0.1"),
      ip("240.0.0.1"),
      B,
      ip("10.255.255.255"),
    ),
    weight: 2,
  },
  { arbitrary: u32, weight: 1 },
);

const dstArb = fc.oneof(
  { arbitrary: fc.constant(B), weight: 8 },
  { arbitrary: fc.constantFrom(0xffffffff, A, ip("224.0.0.1"), 0), weight: 1 },
  { arbitrary: u32, weight: 1 },
);

type Transport =
  | {
      readonly k: "tcp";
      readonly port: "listen" | "conn" | "other";
      readonly srcPort: number;
      readonly flags: number;
      readonly seqDelta: number;
      readonly ackDelta: number;
      readonly win: number;
      readonly len: number;
    }
  | { readonly k: "udp"; readonly open: boolean; readonly srcPort: number; readonly len: number }
  | { readonly k: "echo"; readonly len: number }
  | {
      readonly k: "icmp-error";
      readonly type: number;
      readonly code: number;
      /** Bytes 6–7 of the header: a "fragmentation needed"'s next-hop MTU (RFC 1191 §4). */
      readonly mtu: number;
      /**
       * What it quotes: one of our segments at SND.NXT ("ours", out of the
       * window RFC 5927 §4.1 allows), inside SND.UNA..SND.NXT ("window"), with
       * other ports ("ports"); one of our UDP datagrams ("udp"); anything.
       */
      readonly quote: "ours" | "window" | "ports" | "udp" | "random" | "icmp-error" | "short";
      /** Where in the window ("window"), or the port change ("ports"). */
      readonly delta: number;
      readonly bytes: Uint8Array;
    }
  | { readonly k: "proto"; readonly proto: number; readonly len: number };

const smallDelta = fc.oneof(fc.constantFrom(0, -1, 1), fc.integer({ min: -70000, max: 70000 }));

const transportArb: fc.Arbitrary<Transport> = fc.oneof(
  {
    arbitrary: fc.record({
      k: fc.constant("tcp" as const),
      port: fc.constantFrom("listen", "conn", "conn", "other"),
      srcPort: fc.oneof(fc.constant(0), u16),
      flags: fc.oneof(
        fc.constantFrom(
          Flag.SYN,
          Flag.ACK,
          Flag.RST,
          Flag.RST | Flag.ACK,
          Flag.SYN | Flag.ACK,
          Flag.ACK | Flag.PSH,
          Flag.FIN | Flag.ACK,
          Flag.SYN | Flag.FIN,
          0,
        ),
        u8,
      ),
      seqDelta: smallDelta,
      ackDelta: smallDelta,
      win: u16,
      len: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 1400 })),
    }),
    weight: 5,
  },
  {
    arbitrary: fc.record({
      k: fc.constant("udp" as const),
      open: fc.boolean(),
      srcPort: u16,
      len: fc.oneof(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 5000 })),
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      k: fc.constant("echo" as const),
      len: fc.integer({ min: 0, max: 3000 }),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      k: fc.constant("icmp-error" as const),
      type: fc.oneof(fc.constantFrom(3, 3, 11, 4, 5, 12), u8),
      code: fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 4), u8),
      mtu: fc.oneof(fc.constantFrom(0, 1, 68, 100, 296, 552, 576, 1006, 1500, 65535), u16),
      quote: fc.constantFrom(
        "ours",
        "window",
        "window",
        "ports",
        "udp",
        "random",
        "icmp-error",
        "short",
      ),
      delta: u32,
      bytes: fc.uint8Array({ maxLength: 60 }),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      k: fc.constant("proto" as const),
      proto: u8,
      len: fc.integer({ min: 0, max: 200 }),
    }),
    weight: 1,
  },
);

/** A field of the IPv4 header set to a chosen value (the header checksum is fixed afterwards or not). */
interface IpMut {
  readonly at: 0 | 1 | 2 | 4 | 6 | 8 | 9 | 10;
  readonly value: number;
}

const ipMutArb: fc.Arbitrary<IpMut> = fc.record({
  at: fc.constantFrom(0, 1, 2, 4, 6, 8, 9, 10) as fc.Arbitrary<IpMut["at"]>,
  value: fc.oneof(
    u16,
    fc.constantFrom(0, 0x45, 0x46, 0x4f, 0x2000, 0x4000, 0x1fff, 0x3fff, 0xffff),
  ),
});

type Action =
  | { readonly k: "random"; readonly bytes: Uint8Array }
  | {
      readonly k: "packet";
      readonly src: number;
      readonly dst: number;
      readonly t: Transport;
      readonly ipMuts: readonly IpMut[];
      readonly fixIp: boolean;
      readonly edits: ReadonlyArray<readonly [number, number]>;
      readonly fixTransport: boolean;
      readonly cut: number | null;
    }
  | {
      readonly k: "frags";
      readonly src: number;
      readonly t: Transport;
      readonly id: number;
      readonly cuts: readonly number[];
      /** Per fragment: 0 as cut, ±8·n shifted (an overlap or a hole), 65528 far. */
      readonly shifts: readonly number[];
      readonly flipMf: readonly boolean[];
      readonly dups: readonly number[];
      readonly order: readonly number[];
      readonly garble: boolean;
    }
  | {
      readonly k: "flood";
      readonly n: number;
      readonly complete: readonly boolean[];
      readonly seed: number;
    }
  | {
      /** Forged "fragmentation needed" messages about the connection, in a burst (RFC 5927 §4.1). */
      readonly k: "icmp-flood";
      readonly n: number;
      readonly inWindow: boolean;
      readonly seed: number;
    }
  | { readonly k: "time"; readonly dt: number }
  | { readonly k: "accept" }
  | { readonly k: "read" };

export const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    arbitrary: fc.record({
      k: fc.constant("random" as const),
      bytes: fc.oneof(
        fc.uint8Array({ maxLength: 80 }),
        fc
          .tuple(fc.integer({ min: 0x45, max: 0x4f }), fc.uint8Array({ maxLength: 80 }))
          .map(([b0, rest]) => Uint8Array.of(b0, ...rest)),
      ),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      k: fc.constant("packet" as const),
      src: srcArb,
      dst: dstArb,
      t: transportArb,
      ipMuts: fc.oneof(
        { arbitrary: fc.constant([] as IpMut[]), weight: 3 },
        { arbitrary: fc.array(ipMutArb, { maxLength: 3 }), weight: 2 },
      ),
      fixIp: fc.oneof(
        { arbitrary: fc.constant(true), weight: 5 },
        { arbitrary: fc.constant(false), weight: 1 },
      ),
      edits: fc.oneof(
        { arbitrary: fc.constant([] as Array<[number, number]>), weight: 3 },
        { arbitrary: fc.array(fc.tuple(fc.nat(60), u8), { maxLength: 4 }), weight: 2 },
      ),
      fixTransport: fc.oneof(
        { arbitrary: fc.constant(true), weight: 5 },
        { arbitrary: fc.constant(false), weight: 1 },
      ),
      cut: fc.option(fc.nat(80), { freq: 8 }),
    }),
    weight: 8,
  },
  {
    arbitrary: fc.record({
      k: fc.constant("frags" as const),
      src: fc.oneof({ arbitrary: fc.constant(A), weight: 3 }, { arbitrary: srcArb, weight: 1 }),
      t: transportArb,
      id: fc.integer({ min: 0, max: 7 }),
      cuts: fc.array(fc.integer({ min: 1, max: 400 }), { maxLength: 5 }),
      shifts: fc.array(
        fc.oneof(
          { arbitrary: fc.constant(0), weight: 6 },
          { arbitrary: fc.integer({ min: -3, max: 3 }).map((n) => n * 8), weight: 2 },
          { arbitrary: fc.constant(65528), weight: 1 },
        ),
        { maxLength: 6 },
      ),
      flipMf: fc.array(
        fc.oneof(
          { arbitrary: fc.constant(false), weight: 8 },
          { arbitrary: fc.constant(true), weight: 1 },
        ),
        {
          maxLength: 6,
        },
      ),
      dups: fc.array(fc.nat(5), { maxLength: 2 }),
      order: fc.array(fc.nat(100), { minLength: 6, maxLength: 6 }),
      garble: fc.oneof(
        { arbitrary: fc.constant(false), weight: 4 },
        { arbitrary: fc.constant(true), weight: 1 },
      ),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      k: fc.constant("icmp-flood" as const),
      n: fc.integer({ min: 1, max: 12 }),
      inWindow: fc.boolean(),
      seed: u32,
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      k: fc.constant("flood" as const),
      n: fc.integer({ min: 1, max: 30 }),
      complete: fc.array(fc.boolean(), { maxLength: 30 }),
      seed: u32,
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      k: fc.constant("time" as const),
      dt: fc.oneof(fc.integer({ min: 0, max: 3000 }), fc.constantFrom(30_001, 61_000, 200_000)),
    }),
    weight: 2,
  },
  { arbitrary: fc.constant({ k: "accept" } as const), weight: 1 },
  { arbitrary: fc.constant({ k: "read" } as const), weight: 1 },
) as fc.Arbitrary<Action>;

// ───────────────────────────── building packets ─────────────────────────────

function filler(len: number, seed: number): Uint8Array {
  const out = new Uint8Array(len);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** One of the host's own packets, as a peer would quote it in an ICMP error. */
function ownPacket(w: World, seq = w.conn.sndNxt, ports = 0): Uint8Array {
  const c = w.conn;
  return buildTcpPacket(
    B,
    A,
    tcpSegment({
      srcPort: LISTEN_PORT ^ (ports & 0xffff),
      dstPort: w.connPort ^ (ports >>> 16),
      seq,
      ack: c.rcvNxt,
      flags: Flag.ACK,
      payload: new Uint8Array(1200),
    }),
    { dontFragment: true },
  );
}

/** A sequence number in SND.UNA..SND.NXT when anything is in flight (else SND.UNA: outside). */
function inWindow(w: World, delta: number): number {
  const flight = seqDiff(w.conn.sndNxt, w.conn.sndUna);
  return seqAdd(w.conn.sndUna, flight > 0 ? delta % flight : 0);
}

/** An ICMP error message (type, code, next-hop MTU) quoting `original`, checksum good. */
function icmpErrorBytes(type: number, code: number, mtu: number, original: Uint8Array): Uint8Array {
  const body = new Uint8Array(8 + original.length);
  body[0] = type;
  body[1] = code;
  body[6] = mtu >>> 8;
  body[7] = mtu & 0xff;
  body.set(original, 8);
  const sum = checksumFinish(checksumAccumulate(body));
  body[2] = sum >>> 8;
  body[3] = sum & 0xff;
  return body;
}

/** The transport bytes and protocol number, with a good checksum for `src` → `dst`. */
function transportBytes(
  w: World,
  t: Transport,
  src: number,
  dst: number,
): { proto: number; bytes: Uint8Array } {
  switch (t.k) {
    case "tcp": {
      const conn = t.port === "conn";
      const seg = tcpSegment({
        srcPort: conn ? w.connPort : t.srcPort,
        dstPort: t.port === "other" ? (t.srcPort ^ 0x5a5a) & 0xffff : LISTEN_PORT,
        seq: seqAdd(w.conn.rcvNxt, t.seqDelta),
        ack: seqAdd(w.conn.sndNxt, t.ackDelta),
        flags: t.flags,
        window: t.win,
        payload: filler(t.len, t.seqDelta),
      });
      const bytes = new Uint8Array(tcpLength(seg));
      emitTcp(seg, src, dst, bytes);
      return { proto: IpProto.TCP, bytes };
    }
    case "udp": {
      const d = {
        srcPort: t.srcPort,
        dstPort: t.open ? UDP_PORT : 7777,
        payload: filler(t.len, t.srcPort),
      };
      const bytes = new Uint8Array(udpLength(d));
      emitUdp(d, src, dst, bytes);
      return { proto: IpProto.UDP, bytes };
    }
    case "echo": {
      const msg = { type: "echo-request" as const, id: 1, seq: t.len, data: filler(t.len, 7) };
      const bytes = new Uint8Array(icmpLength(msg));
      emitIcmp(msg, bytes);
      return { proto: IpProto.ICMP, bytes };
    }
    case "icmp-error": {
      let original: Uint8Array;
      switch (t.quote) {
        case "ours":
          original = icmpErrorQuote(ownPacket(w));
          break;
        case "window":
          original = icmpErrorQuote(ownPacket(w, inWindow(w, t.delta)));
          break;
        case "ports":
          original = icmpErrorQuote(ownPacket(w, inWindow(w, t.delta), t.delta | 1));
          break;
        case "udp":
          original = icmpErrorQuote(
            buildUdpPacket(B, A, {
              srcPort: UDP_PORT,
              dstPort: t.delta & 0xffff,
              payload: t.bytes,
            }),
          );
          break;
        case "icmp-error": {
          // A quote of an ICMP error we might have sent.
          const inner = buildIcmpPacket(B, A, {
            type: "dest-unreachable",
            code: 3,
            original: t.bytes,
          });
          original = icmpErrorQuote(inner);
          break;
        }
        case "short":
          original = icmpErrorQuote(ownPacket(w)).subarray(0, t.bytes.length % 28);
          break;
        default:
          original = t.bytes;
      }
      return { proto: IpProto.ICMP, bytes: icmpErrorBytes(t.type, t.code, t.mtu, original) };
    }
    case "proto":
      return { proto: t.proto, bytes: filler(t.len, t.proto) };
  }
}

function ipHeaderChecksum(pkt: Uint8Array): void {
  const hl = Math.min(pkt.length, ((pkt[0] ?? 0) & 0x0f) * 4);
  if (hl < 20) return;
  pkt[10] = 0;
  pkt[11] = 0;
  const sum = checksumFinish(checksumAccumulate(pkt, 0, 0, hl));
  pkt[10] = sum >>> 8;
  pkt[11] = sum & 0xff;
}

/** Recomputes a TCP/UDP/ICMP checksum after edits, so the edits reach the code behind the checksum. */
function fixTransportChecksum(proto: number, t: Uint8Array, src: number, dst: number): void {
  const at =
    proto === IpProto.TCP ? 16 : proto === IpProto.UDP ? 6 : proto === IpProto.ICMP ? 2 : -1;
  if (at < 0 || t.length < at + 2) return;
  t[at] = 0;
  t[at + 1] = 0;
  const start = proto === IpProto.ICMP ? 0 : pseudoHeaderSum(src, dst, proto, t.length);
  let sum = checksumFinish(checksumAccumulate(t, start));
  if (proto === IpProto.UDP && sum === 0) sum = 0xffff; // RFC 768: 0 means "no checksum"
  t[at] = sum >>> 8;
  t[at + 1] = sum & 0xff;
}

function packetOf(w: World, a: Extract<Action, { k: "packet" }>): Uint8Array {
  const { proto, bytes } = transportBytes(w, a.t, a.src, a.dst);
  for (const [at, v] of a.edits) if (at < bytes.length) bytes[at] = v;
  if (a.fixTransport) fixTransportChecksum(proto, bytes, a.src, a.dst);
  const pkt = new Uint8Array(20 + bytes.length);
  emitIpv4({ src: a.src, dst: a.dst, protocol: proto, identification: 0x4242 }, bytes.length, pkt);
  pkt.set(bytes, 20);
  for (const m of a.ipMuts) {
    if (m.at === 0 || m.at === 1 || m.at === 8 || m.at === 9) pkt[m.at] = m.value & 0xff;
    else {
      pkt[m.at] = (m.value >>> 8) & 0xff;
      pkt[m.at + 1] = m.value & 0xff;
    }
  }
  if (a.fixIp) ipHeaderChecksum(pkt);
  return a.cut === null ? pkt : pkt.subarray(0, a.cut);
}

/** Cuts a datagram into fragments by hand; shifts, MF flips and duplicates make them hostile. */
function fragmentsOf(w: World, a: Extract<Action, { k: "frags" }>): Uint8Array[] {
  const { proto, bytes } = transportBytes(w, a.t, a.src, B);
  const cuts = [...new Set(a.cuts.map((c) => c * 8).filter((c) => c < bytes.length))].sort(
    (x, y) => x - y,
  );
  if (cuts.length === 0) cuts.push(Math.max(8, Math.floor(bytes.length / 16) * 8));
  const starts = [0, ...cuts];
  const frags = starts.map((start, i) => {
    const end = Math.min(bytes.length, starts[i + 1] ?? bytes.length);
    let data = bytes.subarray(start, Math.max(start, end));
    if (a.garble && i === 0) data = data.map((x) => x ^ 0xff);
    const shift = a.shifts[i] ?? 0;
    let offset = shift === 65528 ? 65528 : Math.max(0, start + shift);
    if (offset / 8 > 0x1fff) offset = 0x1fff * 8;
    let mf = end < bytes.length;
    if (a.flipMf[i]) mf = !mf;
    const len = Math.min(data.length, 0xffff - 20);
    const pkt = new Uint8Array(20 + len);
    emitIpv4(
      {
        src: a.src,
        dst: B,
        protocol: proto,
        identification: 0x7000 + a.id,
        fragmentOffset: offset,
        moreFragments: mf,
      },
      len,
      pkt,
    );
    pkt.set(data.subarray(0, len), 20);
    return pkt;
  });
  return duplicatedAndShuffled(frags, a.dups, a.order);
}

/** Fragments with the ones `dups` names sent twice, in a deterministic shuffle driven by `order`. */
function duplicatedAndShuffled(
  frags: Uint8Array[],
  dups: readonly number[],
  order: readonly number[],
): Uint8Array[] {
  for (const d of dups) {
    const f = frags[d % frags.length];
    if (f !== undefined) frags.push(f);
  }
  return frags
    .map((f, i) => ({ f, key: (order[i % order.length] ?? 0) * 16 + i }))
    .sort((x, y) => x.key - y.key)
    .map((x) => x.f);
}

// ───────────────────────────── IPv6 ─────────────────────────────

export const A6 = ip6("fd00::1");
export const B6 = ip6("fd00::2");

const u32x4 = fc.tuple(u32, u32, u32, u32);

/** IPv6 sources: our peer, other hosts, what RFC 4291 rules out (::, ::1, multicast, ourselves), anything. */
const src6Arb: fc.Arbitrary<Ipv6Addr> = fc.oneof(
  { arbitrary: fc.constant(A6), weight: 4 },
  { arbitrary: fc.tuple(u32, u32).map(([x, y]) => [0xfd000000, 0, x, y] as const), weight: 2 },
  {
    arbitrary: fc.constantFrom(
      ip6("::"),
      ip6("::1"),
      ip6("ff02::1"),
      B6,
      ip6("fe80::1"),
      ip6("::ffff:10.0.0.1"),
    ),
    weight: 2,
  },
  { arbitrary: u32x4, weight: 1 },
);

const dst6Arb: fc.Arbitrary<Ipv6Addr> = fc.oneof(
  { arbitrary: fc.constant(B6), weight: 8 },
  { arbitrary: fc.constantFrom(ip6("ff02::1"), A6, ip6("::"), ip6("::1")), weight: 1 },
  { arbitrary: u32x4, weight: 1 },
);

/** Option types by their two high bits (RFC 8200 §4.2): skip, discard, discard and report (always, unless multicast). */
const optionArb = fc.record({
  type: fc.constantFrom(0x05, 0x1e, 0x5e, 0x9e, 0xde, 0x01),
  data: fc.uint8Array({ maxLength: 6 }),
});

/** Extension headers in any order and number: more than MAX_EXTENSION_HEADERS is a flood. */
const extensionArb: fc.Arbitrary<Ipv6ExtensionRepr> = fc.oneof(
  fc.record({
    kind: fc.constantFrom("hop-by-hop" as const, "destination" as const),
    options: fc.array(optionArb, { maxLength: 10 }),
  }),
  fc.record({
    kind: fc.constant("routing" as const),
    routingType: fc.nat(4),
    segmentsLeft: fc.constantFrom(0, 0, 1, 2),
  }),
  fc.record({
    kind: fc.constant("fragment" as const),
    offset: fc.constantFrom(0, 0, 8),
    more: fc.boolean(),
    identification: u32,
  }),
);

type Transport6 =
  | { readonly k: "tcp"; readonly listen: boolean; readonly flags: number; readonly len: number }
  | { readonly k: "udp"; readonly open: boolean; readonly len: number; readonly zero: boolean }
  | { readonly k: "echo"; readonly len: number }
  | { readonly k: "icmp6"; readonly type: number; readonly code: number; readonly len: number }
  | { readonly k: "proto"; readonly proto: number; readonly len: number };

const transport6Arb: fc.Arbitrary<Transport6> = fc.oneof(
  fc.record({
    k: fc.constant("tcp" as const),
    listen: fc.boolean(),
    flags: fc.oneof(fc.constantFrom(Flag.SYN, Flag.ACK, Flag.RST, Flag.SYN | Flag.ACK), u8),
    len: fc.integer({ min: 0, max: 1400 }),
  }),
  fc.record({
    k: fc.constant("udp" as const),
    open: fc.boolean(),
    len: fc.oneof(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 4000 })),
    zero: fc.oneof(
      { arbitrary: fc.constant(false), weight: 5 },
      { arbitrary: fc.constant(true), weight: 1 },
    ),
  }),
  fc.record({ k: fc.constant("echo" as const), len: fc.integer({ min: 0, max: 3000 }) }),
  fc.record({
    k: fc.constant("icmp6" as const),
    // Errors, echo, neighbour discovery, unknown informational and error types.
    type: fc.oneof(fc.constantFrom(1, 2, 3, 4, 100, 129, 133, 135, 136, 137, 200), u8),
    code: fc.nat(5),
    len: fc.integer({ min: 0, max: 1400 }),
  }),
  fc.record({
    k: fc.constant("proto" as const),
    proto: fc.constantFrom(NextHeader.NO_NEXT_HEADER, NextHeader.ESP, 99, 255),
    len: fc.nat(40),
  }),
);

type Action6 =
  | { readonly k: "random6"; readonly bytes: Uint8Array }
  | {
      readonly k: "packet6";
      readonly src: Ipv6Addr;
      readonly dst: Ipv6Addr;
      readonly t: Transport6;
      readonly extensions: readonly Ipv6ExtensionRepr[];
      readonly edits: ReadonlyArray<readonly [number, number]>;
      readonly cut: number | null;
    }
  | {
      readonly k: "frags6";
      readonly src: Ipv6Addr;
      readonly t: Transport6;
      readonly id: number;
      /** In 8-byte units; a raw cut (tiny, not a multiple of 8) now and then. */
      readonly cuts: readonly number[];
      readonly raw: boolean;
      /** Per fragment: 0 as cut, ±8·n shifted (an overlap or a hole). */
      readonly shifts: readonly number[];
      readonly dups: readonly number[];
      readonly order: readonly number[];
    }
  | { readonly k: "icmp6-flood"; readonly n: number; readonly seed: number };

export const action6Arb: fc.Arbitrary<Action6> = fc.oneof(
  {
    arbitrary: fc
      .tuple(fc.integer({ min: 0x60, max: 0x6f }), fc.uint8Array({ maxLength: 120 }))
      .map(([b0, rest]) => ({ k: "random6" as const, bytes: Uint8Array.of(b0, ...rest) })),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      k: fc.constant("packet6" as const),
      src: src6Arb,
      dst: dst6Arb,
      t: transport6Arb,
      extensions: fc.oneof(
        { arbitrary: fc.constant([] as Ipv6ExtensionRepr[]), weight: 3 },
        { arbitrary: fc.array(extensionArb, { maxLength: 4 }), weight: 2 },
        { arbitrary: fc.array(extensionArb, { minLength: 15, maxLength: 20 }), weight: 1 },
        // A chain that goes round and round: one header repeated past any sender's use.
        {
          arbitrary: fc
            .integer({ min: 15, max: 40 })
            .map((n) => Array<Ipv6ExtensionRepr>(n).fill({ kind: "destination", options: [] })),
          weight: 1,
        },
      ),
      edits: fc.oneof(
        { arbitrary: fc.constant([] as Array<[number, number]>), weight: 3 },
        { arbitrary: fc.array(fc.tuple(fc.nat(80), u8), { maxLength: 4 }), weight: 1 },
      ),
      cut: fc.option(fc.nat(90), { freq: 8 }),
    }),
    weight: 8,
  },
  {
    arbitrary: fc.record({
      k: fc.constant("frags6" as const),
      src: fc.oneof({ arbitrary: fc.constant(A6), weight: 3 }, { arbitrary: src6Arb, weight: 1 }),
      t: transport6Arb,
      id: fc.nat(7),
      cuts: fc.array(fc.integer({ min: 1, max: 200 }), { maxLength: 5 }),
      raw: fc.oneof(
        { arbitrary: fc.constant(false), weight: 5 },
        { arbitrary: fc.constant(true), weight: 1 },
      ),
      shifts: fc.array(
        fc.oneof(
          { arbitrary: fc.constant(0), weight: 6 },
          { arbitrary: fc.integer({ min: -3, max: 3 }).map((n) => n * 8), weight: 2 },
        ),
        { maxLength: 6 },
      ),
      dups: fc.array(fc.nat(5), { maxLength: 2 }),
      order: fc.array(fc.nat(100), { minLength: 6, maxLength: 6 }),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      k: fc.constant("icmp6-flood" as const),
      n: fc.integer({ min: 1, max: 60 }),
      seed: u32,
    }),
    weight: 1,
  },
);

/** The upper-layer bytes of a transport spec from `src` to `dst`, and its Next Header. */
function transport6Bytes(
  t: Transport6,
  src: Ipv6Addr,
  dst: Ipv6Addr,
): { nh: number; bytes: Uint8Array } {
  const upper = (p: Uint8Array) => p.slice(40);
  switch (t.k) {
    case "tcp": {
      const seg = tcpSegment({
        srcPort: 40000,
        dstPort: t.listen ? LISTEN_PORT : 81,
        seq: 1,
        flags: t.flags,
        window: 65535,
        payload: filler(t.len, t.len),
      });
      return { nh: NextHeader.TCP, bytes: upper(buildTcpPacket6(src, dst, seg)) };
    }
    case "udp": {
      const d = { srcPort: 5353, dstPort: t.open ? UDP_PORT : 54, payload: filler(t.len, 7) };
      const checksum = t.zero ? ("none" as const) : ("good" as const);
      return { nh: NextHeader.UDP, bytes: upper(buildUdpPacket6(src, dst, d, { checksum })) };
    }
    case "echo": {
      const msg = { type: "echo-request", id: 1, seq: 2, data: filler(t.len, 3) } as const;
      return { nh: NextHeader.ICMPV6, bytes: upper(buildIcmpv6Packet(src, dst, msg)) };
    }
    case "icmp6": {
      // Long enough, it quotes a UDP datagram of ours; shorter, junk.
      const body = filler(t.len, t.type);
      const ours = buildUdpPacket6(B6, A6, {
        srcPort: UDP_PORT,
        dstPort: 9,
        payload: new Uint8Array(8),
      });
      if (body.length >= 4 + ours.length) body.set(ours, 4);
      const msg = { type: "other", icmpType: t.type, code: t.code, body } as const;
      return { nh: NextHeader.ICMPV6, bytes: upper(buildIcmpv6Packet(src, dst, msg)) };
    }
    case "proto":
      return { nh: t.proto, bytes: filler(t.len, 5) };
  }
}

function packet6Of(a: Extract<Action6, { k: "packet6" }>): Uint8Array {
  const { nh, bytes } = transport6Bytes(a.t, a.src, a.dst);
  const repr = { src: a.src, dst: a.dst, nextHeader: nh, extensions: a.extensions };
  const hl = ipv6HeaderLength(repr);
  if (hl - 40 + bytes.length > 0xffff) return bytes;
  const pkt = new Uint8Array(hl + bytes.length);
  emitIpv6(repr, bytes.length, pkt, 0);
  pkt.set(bytes, hl);
  for (const [at, v] of a.edits) if (at < pkt.length) pkt[at] = v;
  return a.cut === null ? pkt : pkt.subarray(0, a.cut);
}

/** Cuts an upper-layer message into IPv6 fragments by hand: shifts overlap, tiny cuts break RFC 7112. */
function fragments6Of(a: Extract<Action6, { k: "frags6" }>): Uint8Array[] {
  const { nh, bytes } = transport6Bytes(a.t, a.src, B6);
  const unit = a.raw ? 1 : 8;
  const cuts = [...new Set(a.cuts.map((c) => c * unit).filter((c) => c < bytes.length))].sort(
    (x, y) => x - y,
  );
  if (cuts.length === 0) cuts.push(Math.max(8, Math.floor(bytes.length / 16) * 8));
  const starts = [0, ...cuts];
  const frags = starts.map((start, i) => {
    const end = Math.min(bytes.length, starts[i + 1] ?? bytes.length);
    const data = bytes.subarray(start, Math.max(start, end));
    const offset = Math.min(0xfff8, Math.max(0, start + (a.shifts[i] ?? 0)) & ~7);
    const ext = {
      kind: "fragment",
      offset,
      more: end < bytes.length,
      identification: a.id,
    } as const;
    const repr = { src: a.src, dst: B6, nextHeader: nh, extensions: [ext] };
    const pkt = new Uint8Array(48 + data.length);
    emitIpv6(repr, data.length, pkt, 0);
    pkt.set(data, 48);
    return pkt;
  });
  return duplicatedAndShuffled(frags, a.dups, a.order);
}

/** A burst from many sources: pings, neighbour discovery, errors, closed UDP ports (the rate limit). */
function icmp6Flood(a: Extract<Action6, { k: "icmp6-flood" }>): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < a.n; i++) {
    const r = (a.seed + i * 2654435761) >>> 0;
    const src: Ipv6Addr = [0xfd000001, 0, 0, r];
    const data = filler(r & 0x3f, r);
    switch (r % 4) {
      case 0:
        out.push(
          buildIcmpv6Packet(src, B6, { type: "echo-request", id: r & 0xffff, seq: i, data }),
        );
        break;
      case 1:
        out.push(buildIcmpv6Packet(src, B6, { type: "other", icmpType: 135, code: 0, body: data }));
        break;
      case 2:
        out.push(
          buildIcmpv6Packet(src, B6, { type: "packet-too-big", mtu: r & 0xffff, original: data }),
        );
        break;
      default:
        out.push(
          buildUdpPacket6(src, B6, { srcPort: 1000, dstPort: 2000 + (r & 0xff), payload: data }),
        );
    }
  }
  return out;
}

// ───────────────────────────── the harness ─────────────────────────────

/** RFC 4291: not ::, ::1 or multicast. */
const isSingleNode6 = (a: Ipv6Addr): boolean =>
  !isIpv6Multicast(a) && !isIpv6Unspecified(a) && !isIpv6Loopback(a);

const isUnicast = (addr: number): boolean => {
  const first = addr >>> 24;
  return addr !== 0 && first !== 127 && first < 224;
};

/** RFC 792 / RFC 1122 §3.2.2: ICMP types that are errors (never answered with an error). */
const ICMP_ERRORS = new Set([3, 4, 5, 11, 12]);

/** Packets handed to a Host so far, by every Run in this process (the soak counts them). */
export const hostileInputStats = { packets: 0 };

/** An invariant a Run checks did not hold (as opposed to a throw from the stack). */
export class Finding extends Error {}

export class Run {
  private readonly w: World;
  /** The host has an IPv6 address too, and IPv6 packets come in beside IPv4 ones. */
  private readonly ipv6: boolean;

  constructor(opts: { readonly ipv6?: boolean } = {}) {
    this.ipv6 = opts.ipv6 === true;
    this.w = makeWorld(this.ipv6);
  }

  fail(msg: string): never {
    throw new Finding(
      `${msg}\n--- the run (the seed printed with this failure replays it; "<" into the host, ">" out) ---\n${this.w.log.slice(-120).join("\n")}`,
    );
  }

  receive(pkt: Uint8Array): void {
    const w = this.w;
    w.log.push(`t=${w.now} < ${formatIpPacket(pkt)} [${pkt.length} bytes]`);
    hostileInputStats.packets++;
    w.b.receive(pkt, w.now);
    this.afterStep(pkt);
  }

  private afterStep(input: Uint8Array | undefined): void {
    const w = this.w;
    const out = w.b.takeOutput();
    for (const p of out) w.log.push(`  > ${formatIpPacket(p)}`);
    const inTcp = input !== undefined ? tcpOf(input) : undefined;
    for (const p of out) this.checkOutput(p, inTcp !== undefined && (inTcp.flags & Flag.RST) !== 0);
    this.checkBounds();
    // The application reads its UDP socket now and then; count what it gets.
  }

  private checkOutput(p: Uint8Array, answeringRst: boolean): void {
    const w = this.w;
    if (p.length > 0 && (p[0] as number) >> 4 === 6) {
      this.checkOutput6(p, answeringRst);
      return;
    }
    const parsed = parseIpv4(p);
    if (!parsed.ok) this.fail(`we sent an invalid IPv4 packet: ${parsed.drop}`);
    const { header, payload } = parsed.value;
    if (header.totalLength !== p.length) this.fail("total length differs from the packet");
    if (p.length > w.b.mtu) this.fail(`packet of ${p.length} bytes over the MTU`);
    if (header.src !== B) this.fail("a packet not from our address");
    if (header.dst === B) this.fail(`a packet to ourselves ${formatPacket(p)}`);
    // RFC 1122 §3.2.1.3: 0.0.0.0, 127/8, multicast, class E and broadcast name no single host.
    if (!isUnicast(header.dst) || header.dst === 0xffffffff) {
      this.fail(`a packet to a non-unicast address ${formatPacket(p)}`);
    }
    if (header.fragmentOffset !== 0 || header.moreFragments) return; // checked when whole
    switch (header.protocol) {
      case IpProto.TCP: {
        const seg = parseTcp(payload, header.src, header.dst);
        if (!seg.ok) this.fail(`our TCP segment does not parse: ${seg.drop}`);
        if (answeringRst && seg.value.flags & Flag.RST) this.fail("a RST answered with a RST");
        // RFC 1191 §6.5: nothing sent with DF over the path MTU the connection knows.
        const tcb = w.b.connection(seg.value.srcPort, {
          addr: header.dst,
          port: seg.value.dstPort,
        });
        if (tcb !== undefined && header.dontFragment && p.length > tcb.pmtu.mtu)
          this.fail(`${p.length} bytes with DF over the path MTU ${tcb.pmtu.mtu}`);
        return;
      }
      case IpProto.UDP: {
        const d = parseUdp(payload, header.src, header.dst);
        if (!d.ok) this.fail(`our UDP datagram does not parse: ${d.drop}`);
        return;
      }
      case IpProto.ICMP: {
        const m = parseIcmp(payload);
        if (!m.ok) this.fail(`our ICMP message does not parse: ${m.drop}`);
        const msg = m.value;
        if (msg.type !== "dest-unreachable" && msg.type !== "time-exceeded") return;
        // RFC 1122 §3.2.2: never an error about an error, a non-unicast source, a broadcast.
        const q = parseIpv4Quote(msg.original);
        if (!q.ok) this.fail("our ICMP error quotes no IPv4 header");
        const qh = q.value.header;
        if (!isUnicast(qh.src)) this.fail(`an ICMP error about a datagram from ${qh.src >>> 0}`);
        if (qh.dst === 0xffffffff || qh.dst >>> 28 === 0xe)
          this.fail("an ICMP error about a broadcast/multicast");
        if (header.dst !== qh.src) this.fail("an ICMP error not sent to the quoted source");
        if (qh.fragmentOffset !== 0) this.fail("an ICMP error about a non-first fragment");
        if (qh.protocol === IpProto.ICMP) {
          const type = q.value.transport[0];
          if (
            type === undefined ||
            ICMP_ERRORS.has(type) ||
            ![0, 8, 13, 14, 15, 16, 17, 18].includes(type)
          ) {
            this.fail(`an ICMP error about an ICMP message of type ${type}`);
          }
        }
        return;
      }
      default:
        this.fail(`we sent protocol ${header.protocol}`);
    }
  }

  /**
   * What we send over IPv6: valid, from our address to a single node (RFC
   * 4291), within the MTU; an ICMPv6 error never about an error, a redirect,
   * a packet not to us or from no single node (RFC 4443 §2.4(e)), and at
   * most 1280 bytes (§2.4(c)).
   */
  private checkOutput6(p: Uint8Array, answeringRst: boolean): void {
    const w = this.w;
    const parsed = parseIpv6(p);
    if (!parsed.ok) this.fail(`we sent an invalid IPv6 packet: ${parsed.drop}`);
    const { header } = parsed.value;
    if (40 + header.payloadLength !== p.length) this.fail("payload length differs from the packet");
    if (p.length > w.b.mtu) this.fail(`packet of ${p.length} bytes over the MTU`);
    if (!ipv6Equal(header.src, B6)) this.fail("a packet not from our address");
    if (!isSingleNode6(header.dst) || ipv6Equal(header.dst, B6)) {
      this.fail(`a packet to a non-unicast address or ourselves ${formatIpPacket(p)}`);
    }
    if (isIpv6Fragment(parsed.value)) return; // checked when whole
    const { src, dst } = header;
    const payload = parsed.value.payload;
    switch (parsed.value.protocol) {
      case NextHeader.TCP: {
        const seg = parseTcp(payload, src, dst);
        if (!seg.ok) this.fail(`our TCP segment does not parse: ${seg.drop}`);
        if (answeringRst && seg.value.flags & Flag.RST) this.fail("a RST answered with a RST");
        return;
      }
      case NextHeader.UDP: {
        const d = parseUdp(payload, src, dst);
        if (!d.ok) this.fail(`our UDP datagram does not parse: ${d.drop}`);
        return;
      }
      case NextHeader.ICMPV6: {
        const m = parseIcmpv6(payload, src, dst);
        if (!m.ok) this.fail(`our ICMPv6 message does not parse: ${m.drop}`);
        const msg = m.value;
        if (!("original" in msg)) return;
        if (p.length > 1280) this.fail(`an ICMPv6 error of ${p.length} bytes`);
        const o = msg.original;
        if (o.length < 40) this.fail("our ICMPv6 error quotes no IPv6 header");
        const qsrc = readIpv6Addr(o, 8);
        if (!isSingleNode6(qsrc)) this.fail("an ICMPv6 error about a packet from no single node");
        if (!ipv6Equal(qsrc, dst)) this.fail("an ICMPv6 error not sent to the quoted source");
        if (!ipv6Equal(readIpv6Addr(o, 24), B6))
          this.fail("an ICMPv6 error about a packet not to us");
        const q = parseIpv6Quote(o);
        if (
          q.ok &&
          q.value.protocol === NextHeader.ICMPV6 &&
          q.value.fragmentOffset === undefined
        ) {
          const type = q.value.transport[0];
          if (type !== undefined && (type < 128 || type === 137))
            this.fail(`an ICMPv6 error about an ICMPv6 message of type ${type}`);
        }
        return;
      }
      default:
        this.fail(`we sent Next Header ${parsed.value.protocol}`);
    }
  }

  private checkBounds(): void {
    const w = this.w;
    const l = w.listener;
    if (l.halfOpen.size > l.halfOpenLimit)
      this.fail(`${l.halfOpen.size} half-open, limit ${l.halfOpenLimit}`);
    if (l.acceptQueue.length > l.backlog)
      this.fail(`${l.acceptQueue.length} in the accept queue, backlog ${l.backlog}`);
    const usage = w.b.reassemblyUsage();
    // One reassembler per family, each with these bounds.
    const families = this.ipv6 ? 2 : 1;
    if (usage.bytes > REASM_BYTES * families || usage.datagrams > REASM_DATAGRAMS * families) {
      this.fail(`reassembly holds ${usage.bytes} bytes in ${usage.datagrams} datagrams`);
    }
    if (w.udp.queued > 1 && w.udp.queuedBytes > UDP_QUEUE)
      this.fail(`UDP queue ${w.udp.queuedBytes} bytes`);
    for (const t of w.b.connections()) {
      if (t.reassembly.bytes > OOO_LIMIT)
        this.fail(`${t.reassembly.bytes} out-of-order bytes held`);
      // RFC 1191 §3 and the floor against forged reports (settings.minPmtu).
      if (t.pmtu.mtu < t.settings.minPmtu) this.fail(`path MTU ${t.pmtu.mtu} under the floor`);
      if (t.effSndMss < 1 || t.sndMss < Math.min(t.settings.minMss, t.settings.mss))
        this.fail(`send MSS ${t.sndMss} under minMss`);
      // The records in flight cover SND.UNA..SND.NXT exactly, however often they were cut.
      let at = t.sndUna;
      const inFlight = (t as Tcb).sendBuf.inFlight;
      for (const rec of inFlight) {
        if (rec.seq !== at || rec.len <= 0) this.fail(`records in flight broken at ${rec.seq}`);
        at = seqAdd(rec.seq, rec.len);
      }
      if (inFlight.length > 0 && at !== t.sndNxt)
        this.fail(`records in flight end at ${at}, SND.NXT ${t.sndNxt}`);
    }
    // Connections: the ones we had, the accepted ones, and at most the backlog's worth more.
    const accepted = this.accepted;
    if (w.b.connections().length > w.baseConnections + accepted + HALF_OPEN + BACKLOG) {
      this.fail(`${w.b.connections().length} connections after ${accepted} accepted`);
    }
  }

  private accepted = 0;

  act(a: Action | Action6): void {
    const w = this.w;
    switch (a.k) {
      case "random6":
        this.receive(a.bytes);
        return;
      case "packet6": {
        this.receive(packet6Of(a));
        return;
      }
      case "frags6":
        for (const f of fragments6Of(a)) this.receive(f);
        return;
      case "icmp6-flood":
        for (const p of icmp6Flood(a)) this.receive(p);
        return;
      case "random":
        this.receive(a.bytes);
        return;
      case "packet":
        this.receive(packetOf(w, a));
        return;
      case "frags":
        for (const f of fragmentsOf(w, a)) this.receive(f);
        return;
      case "flood":
        this.flood(a);
        return;
      case "icmp-flood":
        this.icmpFlood(a);
        return;
      case "time":
        this.advance(later(w.now, ms(a.dt)));
        return;
      case "accept": {
        const t = w.listener.accept();
        if (t !== undefined) {
          this.accepted++;
          w.log.push(`t=${w.now} accept() -> ${formatEndpoint(t.remote)}`);
        }
        return;
      }
      case "read":
        this.readUdp();
        return;
    }
  }

  private readUdp(): void {
    const w = this.w;
    for (let m = w.udp.recvFrom(); m !== undefined; m = w.udp.recvFrom()) w.udpRead++;
  }

  /**
   * RFC 5927's attacker: "fragmentation needed" quoting the connection,
   * from routers anywhere, next-hop MTUs anything. Each costs one lookup;
   * none may take the path MTU under the floor or grow anything.
   */
  private icmpFlood(a: Extract<Action, { k: "icmp-flood" }>): void {
    const w = this.w;
    for (let i = 0; i < a.n; i++) {
      const r = (a.seed + i * 2654435761) >>> 0;
      const seq = a.inWindow ? inWindow(w, r) : seqAdd(w.conn.sndNxt, r >>> 1);
      const msg = icmpErrorBytes(3, 4, r & 0xffff, icmpErrorQuote(ownPacket(w, seq)));
      const pkt = new Uint8Array(20 + msg.length);
      emitIpv4(
        { src: ip("10.8.0.0") + (r & 0xffff), dst: B, protocol: IpProto.ICMP },
        msg.length,
        pkt,
      );
      pkt.set(msg, 20);
      this.receive(pkt);
    }
  }

  /** SYNs from many sources, then the ACKs of our SYN-ACKs for some of them (all at once: the queues fill). */
  private flood(a: Extract<Action, { k: "flood" }>): void {
    const w = this.w;
    const acks: Uint8Array[] = [];
    for (let i = 0; i < a.n; i++) {
      const src = ip("10.9.0.0") + ((a.seed + i * 7919) & 0xffff);
      const port = 1024 + (((a.seed >>> 3) + i) % 60000);
      const syn = buildTcpPacket(
        src,
        B,
        tcpSegment({
          srcPort: port,
          dstPort: LISTEN_PORT,
          seq: 1000 * i,
          flags: Flag.SYN,
          window: 65535,
        }),
      );
      w.log.push(`t=${w.now} < ${formatPacket(syn)}`);
      w.b.receive(syn, w.now);
      const out = w.b.takeOutput();
      for (const p of out) w.log.push(`  > ${formatPacket(p)}`);
      for (const p of out) this.checkOutput(p, false);
      this.checkBounds();
      if (!a.complete[i]) continue;
      const synAck = out
        .map(tcpOf)
        .find((s) => s !== undefined && s.flags === (Flag.SYN | Flag.ACK) && s.dstPort === port);
      if (synAck === undefined) continue;
      const seg = tcpSegment({
        srcPort: port,
        dstPort: LISTEN_PORT,
        seq: 1000 * i + 1,
        ack: seqAdd(synAck.seq, 1),
        flags: Flag.ACK,
        window: 65535,
      });
      acks.push(buildTcpPacket(src, B, seg));
    }
    for (const ack of acks) this.receive(ack);
  }

  advance(to: Instant): void {
    const w = this.w;
    for (let i = 0; ; i++) {
      const at = w.b.pollAt();
      if (at === undefined || at > to) break;
      if (i > 10_000) this.fail(`timer livelock at ${at}`);
      w.now = max(w.now, at);
      w.log.push(`t=${w.now} poll`);
      w.b.poll(w.now);
      this.afterStep(undefined);
    }
    w.now = max(w.now, to);
  }

  /**
   * Every fragment held has timed out; then what came in is what was dropped
   * (by named reason) plus what was delivered:
   *   ip.in + ip.reassembled = Σ input drops + ip.fragments-reassembled
   *                            + ICMP messages handled + udp.delivered + tcp.delivered
   * (a reassembled datagram enters the demux once more, its fragments are its parts).
   */
  finish(): void {
    const w = this.w;
    // IPv4 reassembly gives up after 30 s, IPv6's after 60 s (RFC 8200 §4.5).
    this.advance(later(w.now, ms(this.ipv6 ? 61_000 : 31_000)));
    this.readUdp();
    const { packets, drops } = w.b.stats();
    const p = (k: string) => packets[k] ?? 0;
    let dropped = 0;
    for (const [k, v] of Object.entries(drops)) {
      if (k !== "ip.out-too-big" && k !== "ip6.out-too-big") dropped += v;
    }
    const icmpHandled =
      p("icmp.echo-requests-in") +
      p("icmp.echo-replies-in") +
      p("icmp.dest-unreachable-in") +
      p("icmp.time-exceeded-in") +
      p("icmp.other-in");
    const icmp6Handled =
      p("icmp6.echo-requests-in") +
      p("icmp6.echo-replies-in") +
      p("icmp6.dest-unreachable-in") +
      p("icmp6.packet-too-big-in") +
      p("icmp6.time-exceeded-in") +
      p("icmp6.parameter-problem-in") +
      p("icmp6.other-errors-in");
    const delivered =
      p("ip.fragments-reassembled") +
      p("ip6.fragments-reassembled") +
      icmpHandled +
      icmp6Handled +
      p("udp.delivered") +
      p("tcp.delivered");
    const received = p("ip.in") + p("ip.reassembled") + p("ip6.in") + p("ip6.reassembled");
    if (dropped + delivered !== received) {
      this.fail(
        `accounting: ${received} in (ip.in ${p("ip.in")} + reassembled ${p("ip.reassembled")}) but ${dropped} dropped + ${delivered} delivered\n${JSON.stringify({ packets, drops })}`,
      );
    }
    if (p("udp.delivered") !== w.udpRead)
      this.fail(`udp.delivered ${p("udp.delivered")}, the socket gave ${w.udpRead}`);
  }
}

export function tcpOf(pkt: Uint8Array) {
  if (pkt.length > 0 && (pkt[0] as number) >> 4 === 6) {
    const r6 = parsePacket6(pkt);
    return r6.ok && r6.value.kind === "tcp" ? r6.value.tcp : undefined;
  }
  const r = parseIpv4(pkt);
  if (!r.ok || r.value.header.protocol !== IpProto.TCP) return undefined;
  const s = parseTcp(r.value.payload, r.value.header.src, r.value.header.dst);
  return s.ok ? s.value : undefined;
}
