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
import type { TcbView } from "../../src/tcp/view.ts";
import { formatEndpoint, ip } from "../../src/wire/addr.ts";
import { checksumAccumulate, checksumFinish, pseudoHeaderSum } from "../../src/wire/checksum.ts";
import { formatPacket } from "../../src/wire/format.ts";
import { emitIcmp, icmpErrorQuote, icmpLength, parseIcmp } from "../../src/wire/icmp.ts";
import { emitIpv4, IpProto, parseIpv4, parseIpv4Quote } from "../../src/wire/ipv4.ts";
import { buildIcmpPacket, buildTcpPacket, tcpSegment } from "../../src/wire/packet.ts";
import { seqAdd } from "../../src/wire/seq.ts";
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

function makeWorld(): World {
  const tcp = { oooLimit: OOO_LIMIT };
  const a = host("a", { tcp });
  const b = host("b", {
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
      readonly quote: "ours" | "random" | "icmp-error" | "short";
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
      type: fc.oneof(fc.constantFrom(3, 11, 4, 5, 12), u8),
      code: fc.oneof(fc.constantFrom(0, 1, 2, 3, 4), u8),
      quote: fc.constantFrom("ours", "random", "icmp-error", "short"),
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
function ownPacket(w: World): Uint8Array {
  const c = w.conn;
  return buildTcpPacket(
    B,
    A,
    tcpSegment({
      srcPort: LISTEN_PORT,
      dstPort: w.connPort,
      seq: c.sndNxt,
      ack: c.rcvNxt,
      flags: Flag.ACK,
    }),
  );
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
      const body = new Uint8Array(8 + original.length);
      body[0] = t.type;
      body[1] = t.code;
      body.set(original, 8);
      const sum = checksumFinish(checksumAccumulate(body));
      body[2] = sum >>> 8;
      body[3] = sum & 0xff;
      return { proto: IpProto.ICMP, bytes: body };
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
  for (const d of a.dups) {
    const f = frags[d % frags.length];
    if (f !== undefined) frags.push(f);
  }
  // A deterministic shuffle driven by `order`.
  return frags
    .map((f, i) => ({ f, key: (a.order[i % a.order.length] ?? 0) * 16 + i }))
    .sort((x, y) => x.key - y.key)
    .map((x) => x.f);
}

// ───────────────────────────── the harness ─────────────────────────────

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
  private readonly w = makeWorld();

  fail(msg: string): never {
    throw new Finding(
      `${msg}\n--- the run (the seed printed with this failure replays it; "<" into the host, ">" out) ---\n${this.w.log.slice(-120).join("\n")}`,
    );
  }

  receive(pkt: Uint8Array): void {
    const w = this.w;
    w.log.push(`t=${w.now} < ${formatPacket(pkt)} [${pkt.length} bytes]`);
    hostileInputStats.packets++;
    w.b.receive(pkt, w.now);
    this.afterStep(pkt);
  }

  private afterStep(input: Uint8Array | undefined): void {
    const w = this.w;
    const out = w.b.takeOutput();
    for (const p of out) w.log.push(`  > ${formatPacket(p)}`);
    const inTcp = input !== undefined ? tcpOf(input) : undefined;
    for (const p of out) this.checkOutput(p, inTcp !== undefined && (inTcp.flags & Flag.RST) !== 0);
    this.checkBounds();
    // The application reads its UDP socket now and then; count what it gets.
  }

  private checkOutput(p: Uint8Array, answeringRst: boolean): void {
    const w = this.w;
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

  private checkBounds(): void {
    const w = this.w;
    const l = w.listener;
    if (l.halfOpen.size > l.halfOpenLimit)
      this.fail(`${l.halfOpen.size} half-open, limit ${l.halfOpenLimit}`);
    if (l.acceptQueue.length > l.backlog)
      this.fail(`${l.acceptQueue.length} in the accept queue, backlog ${l.backlog}`);
    const usage = w.b.reassemblyUsage();
    if (usage.bytes > REASM_BYTES || usage.datagrams > REASM_DATAGRAMS) {
      this.fail(`reassembly holds ${usage.bytes} bytes in ${usage.datagrams} datagrams`);
    }
    if (w.udp.queued > 1 && w.udp.queuedBytes > UDP_QUEUE)
      this.fail(`UDP queue ${w.udp.queuedBytes} bytes`);
    for (const t of w.b.connections()) {
      if (t.reassembly.bytes > OOO_LIMIT)
        this.fail(`${t.reassembly.bytes} out-of-order bytes held`);
    }
    // Connections: the ones we had, the accepted ones, and at most the backlog's worth more.
    const accepted = this.accepted;
    if (w.b.connections().length > w.baseConnections + accepted + HALF_OPEN + BACKLOG) {
      this.fail(`${w.b.connections().length} connections after ${accepted} accepted`);
    }
  }

  private accepted = 0;

  act(a: Action): void {
    const w = this.w;
    switch (a.k) {
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
    this.advance(later(w.now, ms(31_000)));
    this.readUdp();
    const { packets, drops } = w.b.stats();
    const p = (k: string) => packets[k] ?? 0;
    let dropped = 0;
    for (const [k, v] of Object.entries(drops)) if (k !== "ip.out-too-big") dropped += v;
    const icmpHandled =
      p("icmp.echo-requests-in") +
      p("icmp.echo-replies-in") +
      p("icmp.dest-unreachable-in") +
      p("icmp.time-exceeded-in") +
      p("icmp.other-in");
    const delivered =
      p("ip.fragments-reassembled") + icmpHandled + p("udp.delivered") + p("tcp.delivered");
    const received = p("ip.in") + p("ip.reassembled");
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
  const r = parseIpv4(pkt);
  if (!r.ok || r.value.header.protocol !== IpProto.TCP) return undefined;
  const s = parseTcp(r.value.payload, r.value.header.src, r.value.header.dst);
  return s.ok ? s.value : undefined;
}
