import { EPOCH, type Instant, later, ms } from "../clock/time.ts";
import { ChallengeAckLimiter, type Random32 } from "../tcp/challenge.ts";
import { EventQueue } from "../tcp/events.ts";
import { IsnGenerator } from "../tcp/isn.ts";
import { Listener } from "../tcp/listener.ts";
import { resetFor } from "../tcp/reset.ts";
import { defaultTcpSettings, mssForMtu, type TcpSettings } from "../tcp/settings.ts";
import { State } from "../tcp/state.ts";
import {
  COOKIE_MINUTES,
  type CookieKeys,
  cookieKeys,
  cookieSynAck,
  synFromCookie,
} from "../tcp/syn-cookie.ts";
import { openTcb, type TcbOwner } from "../tcp/tcb.ts";
import type { DrivenTcb, TcbEvents, TcbView } from "../tcp/view.ts";
import { DeadlineHeap } from "../util/deadline-heap.ts";
import { Rng } from "../util/rng.ts";
import { type Endpoint, familyOf, type Ipv4Addr } from "../wire/addr.ts";
import {
  emitIcmpv6,
  type Icmpv6Message,
  Icmpv6ParamProblem,
  Icmpv6TimeExceeded,
  Icmpv6Type,
  Icmpv6Unreachable,
  icmpv6ErrorQuote,
  icmpv6Length,
  isIcmpv6Error,
  parseIcmpv6,
} from "../wire/icmpv6.ts";
import {
  emitIcmp,
  type IcmpMessage,
  IcmpTimeExceeded,
  IcmpUnreachable,
  icmpErrorQuote,
  icmpLength,
  parseIcmp,
} from "../wire/icmp.ts";
import { icmpErrorMeaning, parseQuotedDatagram } from "../wire/icmp-errors.ts";
import {
  icmpv6ErrorMeaning,
  parseQuotedPacket6,
  pointsAtTransport,
} from "../wire/icmpv6-errors.ts";
import {
  emitIpv4,
  IPV4_HEADER_LEN,
  IpProto,
  type Ipv4Header,
  ipv4ReprOf,
  isFragment,
  parseIpv4,
} from "../wire/ipv4.ts";
import {
  emitIpv6,
  findUpperLayer,
  IPV6_HEADER_LEN,
  IPV6_MIN_MTU,
  type Ipv6FragmentInfo,
  type Ipv6Packet,
  isIpv6Fragment,
  NextHeader,
  parseIpv6,
} from "../wire/ipv6.ts";
import {
  type Ipv6Addr,
  ipv6Equal,
  ipv6Key,
  isIpv6Loopback,
  isIpv6Multicast,
  isIpv6Unspecified,
  readIpv6Addr,
} from "../wire/ipv6-addr.ts";
import {
  fragmentIpv6,
  IPV6_REASSEMBLY_TIMEOUT_MS,
  ipv6FragmentKey,
  reassembleIpv6,
} from "../wire/ipv6-fragment.ts";
import type { Parsed } from "../wire/result.ts";
import { CHECKSUM_PARTIAL, type Offload, softwareSegments, tcpGso } from "../wire/offload.ts";
import { seqAdd, seqGt } from "../wire/seq.ts";
import {
  emitTcp,
  parseTcp,
  type TcpEmitOptions,
  type TcpParseOptions,
  tcpHeaderLength,
  tcpLength,
} from "../wire/tcp.ts";
import { Flag, type TcpOption, type TcpSegment } from "../wire/tcp-types.ts";
import { emitUdp, parseUdp, UDP_HEADER_LEN, type UdpDatagram } from "../wire/udp.ts";
import { ConnectionTable } from "./connection-table.ts";
import { type CounterSnapshot, Counters } from "./counters.ts";
import { ipv4Packets } from "../wire/ipv4-fragment.ts";
import { IpIds } from "./ip-id.ts";
import { PathMtuCache, type PathMtuEntry } from "./path-mtu-cache.ts";
import { type PeerFamily, PortTable } from "./port-table.ts";
import { EphemeralPorts, isValidPort } from "./ports.ts";
import { type FragmentDrop, Reassembler, type ReassemblyOptions } from "./reassembly.ts";
import { TokenBucket } from "./token-bucket.ts";
import { DEFAULT_UDP_DATAGRAMS, UdpSocket } from "./udp-socket.ts";

/** Errors a host call can return because of the caller's arguments or the port space. */
export type StackError = "EADDRINUSE" | "EADDRNOTAVAIL" | "EINVAL" | "EMSGSIZE";

export interface HostOptions {
  readonly name: string;
  readonly addr: Ipv4Addr;
  /** The host's IPv6 address; without one IPv6 packets are IPv4 input's to drop (bad-version). */
  readonly addr6?: Ipv6Addr;
  /** Largest IPv4 packet the host sends (default 1500). The TCP MSS is derived from it: MTU − 40 (IPv6: MTU − 60). */
  readonly mtu?: number;
  /** TCP behaviour; `mss` is always derived from the MTU unless given here. */
  readonly tcp?: Partial<TcpSettings>;
  /**
   * ISN choice: a generator, or a fixed ISN (labs and tests), or RFC 6528
   * hashing by default, keyed by `secret` (16 bytes). The secret comes from
   * the edge — the sans-IO host draws no entropy itself; without one a key
   * derived from the address stands in (repeatable, for simulations and
   * tests — not secret).
   */
  readonly isn?: IsnGenerator | { readonly fixed?: number; readonly secret?: Uint8Array };
  readonly reassembly?: Omit<ReassemblyOptions, "onDiscard" | "onTimeout">;
  /** Default receive queue bound of a UDP socket, in bytes. */
  readonly udpQueueBytes?: number;
  /** Default receive queue bound of a UDP socket, in datagrams. */
  readonly udpQueueDatagrams?: number;
  /** Where the ephemeral port cursor starts (RFC 6335 range 49152–65535). */
  readonly ephemeralStart?: number;
  /** TTL (IPv6: hop limit) of packets we originate (default 64). */
  readonly ttl?: number;
  /**
   * Entropy from the edge, 32 random bits per call: each second's
   * challenge-ACK budget and the keys of the IP ID counters. The sans-IO
   * host reads none itself; without it a generator seeded from the address
   * stands in (repeatable, for simulations and tests — not secret).
   */
  readonly random?: Random32;
  /** ICMP error rate limit (RFC 1812 §4.3.2.8): a token bucket for the host. */
  readonly icmpErrors?: { readonly perSecond: number; readonly burst: number };
  /** 16 secret bytes for SYN cookies; default: derived from the ISN generator's secret. */
  readonly cookieSecret?: Uint8Array;
  /** What the link does for the host (a TUN device with offloads); default nothing. */
  readonly offload?: HostOffload;
}

/**
 * The link's offloads, as the host uses them on output. With `checksum`,
 * TCP segments leave with a partial checksum (wire/offload.ts) that the
 * link completes. With `gsoMaxBytes` too, a run of segments one drain of a
 * connection's output produced — consecutive, full-sized but the last,
 * headers alike — leaves as one super-segment of at most that many IPv4
 * bytes, which the link cuts into those very segments. The TCP engine
 * still sees, records and retransmits each segment on its own.
 */
export interface HostOffload {
  readonly checksum: boolean;
  /** Largest super-segment (IPv4 total length); 0: none. */
  readonly gsoMaxBytes: number;
}

/**
 * Notifications for the api layer and the lab; all optional. Like the TCBs'
 * events they are delivered after the packet, timer or call that raised
 * them has been processed, in the order raised (src/tcp/events.ts).
 */
export interface HostEvents {
  /** A connection of `listener` completed its handshake: `listener.accept()` will return it. */
  acceptable?(listener: Listener, port: number): void;
  /**
   * A TCB entered the connection table (active or passive open), in `state`;
   * it may have moved on by delivery (its stateChanged events follow).
   */
  connectionAdded?(tcb: TcbView, state: State): void;
  /** A TCB reached CLOSED and left the table. */
  connectionRemoved?(tcb: TcbView): void;
  /** An ICMP error arrived for one of our datagrams (quoted header parsed by the caller if needed). */
  icmpError?(msg: IcmpMessage, from: Ipv4Addr): void;
  /** An ICMPv6 error arrived (RFC 4443 §3), whether or not TCP or UDP took it. */
  icmp6Error?(msg: Icmpv6Error, from: Ipv6Addr): void;
}

/** An ICMPv6 error message: one that quotes the packet it is about. */
export type Icmpv6Error = Extract<Icmpv6Message, { readonly original: Uint8Array }>;

export interface ConnectOptions {
  /** Local port; 0 or absent picks an ephemeral one. */
  readonly localPort?: number;
  readonly events?: TcbEvents;
  /** Per-connection settings (SO_RCVBUF, SO_SNDBUF, TCP_NODELAY …) over the host's. */
  readonly settings?: Partial<TcpSettings>;
}

export interface ListenOptions {
  readonly settings?: Partial<TcpSettings>;
  /**
   * Peers of this family only (an AF_INET socket, an IPv6-only AF_INET6 one);
   * both when left out (a dual-stack AF_INET6 socket, RFC 3493 §3.7). One
   * listener per port and family: an IPv4 and an IPv6 listener share a port.
   */
  readonly family?: PeerFamily;
  readonly halfOpenLimit?: number;
}

interface ListenerEntry {
  readonly port: number;
  readonly listener: Listener;
  readonly settings: TcpSettings;
  /** Our end of every connection it accepts (one object shared by them all). */
  readonly local: Endpoint;
  /** The same over IPv6, when the host has an IPv6 address. */
  readonly local6: Endpoint | undefined;
  /** The only family it takes peers of, if one. */
  readonly family: PeerFamily | undefined;
}

/** An ICMP error message (RFC 792): what TCP and UDP are told about. */
type IcmpError = Extract<IcmpMessage, { type: "dest-unreachable" | "time-exceeded" }>;

/** A datagram ready for demux: a whole packet, or one rebuilt from fragments. */
interface Datagram {
  readonly header: Ipv4Header;
  readonly payload: Uint8Array;
  /**
   * The packet as received (link padding past its total length included),
   * when it was not reassembled: quoted verbatim by ICMP errors.
   */
  readonly raw: Uint8Array | undefined;
  /** The link vouched for the transport checksum, or will complete it (Offload): not verified here. */
  readonly checksumTrusted: boolean;
  /** Segments a TCP super-segment stands for (its Offload.gsoSize); 1 otherwise. */
  readonly segments: number;
}

/** The first fragment of an IPv6 packet in reassembly: its headers through the Fragment header. */
interface FirstFragment6 {
  readonly head: Uint8Array;
  readonly fragment: Ipv6FragmentInfo;
}

/** What an ICMPv6 error we originate says (RFC 4443 §3.1, §3.3, §3.4). */
type Icmpv6ErrorOut =
  | { readonly type: "dest-unreachable" | "time-exceeded"; readonly code: number }
  | { readonly type: "parameter-problem"; readonly code: number; readonly pointer: number };

const BROADCAST = 0xffffffff;

/** The super-segment arena: room for the 64-segment burst one event may send (settings.maxBurst). */
const ARENA_BYTES = 2 * 1024 * 1024;

/** A datagram was queued on `sock`: its reader learns after the packet (the api layer wakes readers). */
const udpReadable = (sock: UdpSocket): void => sock.onReadable?.(sock);

/** Linux's host-wide ICMP budget: net.ipv4.icmp_msgs_per_sec 1000, icmp_msgs_burst 50. */
const DEFAULT_ICMP_ERRORS = { perSecond: 1000, burst: 50 } as const;

/** A repeatable stand-in for the edge's entropy (HostOptions.random). */
function seededRandom(addr: Ipv4Addr): Random32 {
  const rng = new Rng(addr);
  return () => rng.uint32();
}

/** A repeatable stand-in for the edge's ISN secret (HostOptions.isn). */
function seededSecret(addr: Ipv4Addr): Uint8Array {
  return new Rng(addr).fork("isn").bytes(16);
}

/**
 * RFC 1122 §3.2.2: no ICMP error about a datagram whose source does not name
 * a single host (0.0.0.0, broadcast, multicast/class E, loopback).
 */
function isUnicastSource(addr: Ipv4Addr): boolean {
  const first = addr >>> 24;
  return addr !== 0 && first !== 127 && first < 224;
}

/** RFC 4291 §2.5.2, §2.5.3, §2.7: an address that names a single other node (not ::, ::1, multicast). */
function isUnicast6(a: Ipv6Addr): boolean {
  return !isIpv6Multicast(a) && !isIpv6Unspecified(a) && !isIpv6Loopback(a);
}

/** Our end of a connection `entry` accepts from `remote`: the address of the peer's family. */
function localFor(entry: ListenerEntry, remote: Endpoint): Endpoint {
  return (remote.family === 6 ? entry.local6 : undefined) ?? entry.local;
}

/**
 * Whether an IPv6 packet is an ICMPv6 error or a redirect (RFC 4443
 * §2.4(e.1), (e.2)): its chain followed by lengths to an ICMPv6 type.
 */
function isAboutIcmpv6Error(packet: Uint8Array): boolean {
  const end = Math.min(
    packet.length,
    IPV6_HEADER_LEN + (((packet[4] as number) << 8) | (packet[5] as number)),
  );
  const chain = findUpperLayer(packet.subarray(0, end), packet[6] as number, IPV6_HEADER_LEN);
  if (chain === undefined || chain.protocol !== NextHeader.ICMPV6) return false;
  if (chain.fragmentOffset !== undefined || chain.at >= end) return false;
  const type = packet[chain.at] as number;
  return isIcmpv6Error(type) || type === Icmpv6Type.REDIRECT;
}

/** A peer of either family, as TCP and UDP file it. */
function endpointOf(addr: Ipv4Addr | Ipv6Addr, port: number): Endpoint {
  return typeof addr === "number" ? { addr, port } : { family: 6, addr, port };
}

/**
 * An IPv4 end host, and an IPv6 one when given `addr6`, sans-IO: packets go in through `receive(packet, now)`,
 * come out through `takeOutput()`, and time moves only through `now`
 * arguments and `poll(now)` at `pollAt()`.
 */
export class Host {
  readonly name: string;
  readonly addr: Ipv4Addr;
  readonly addr6: Ipv6Addr | undefined;
  readonly mtu: number;
  readonly tcpSettings: TcpSettings;
  readonly isn: IsnGenerator;
  readonly counters = new Counters();
  readonly challengeAcks: ChallengeAckLimiter;
  events: HostEvents = {};
  readonly ttl: number;
  readonly udpQueueBytes: number;
  readonly udpQueueDatagrams: number;

  private out: Uint8Array[] = [];
  /** The offload of each packet in `out` (undefined: a whole, checksummed packet). */
  private outOffload: (Offload | undefined)[] = [];
  private readonly tcpEmit: TcpEmitOptions | undefined;
  /** Largest super-segment; 0 without segmentation offload. */
  private readonly gsoMax: number;
  /** The run of segments being gathered into a super-segment (see emitSegment). */
  private run: TcpSegment[] = [];
  private runBytes = 0;
  /**
   * Where super-segments are built, reused from one flush to the next:
   * fresh 64 KiB buffers cost more in page faults than the copy into them.
   */
  private arena = new Uint8Array(0);
  private arenaUsed = 0;
  private readonly ipIds: IpIds;
  private readonly icmpErrorBucket: TokenBucket;
  private readonly reassembler: Reassembler<Ipv4Header>;
  /** IPv6's own, as Linux keeps them apart: the same bounds, RFC 8200 §4.5's timeout. */
  private readonly reassembler6: Reassembler<FirstFragment6>;
  private readonly tcbs = new ConnectionTable();
  /** RFC 1191 §5: path MTUs learned from ICMP, per destination. */
  private readonly pathMtus = new PathMtuCache();
  /** RFC 8201 §5.2: the same from ICMPv6 Packet Too Big, by `ipv6Key`. */
  private readonly pathMtus6 = new PathMtuCache<string>();
  /** The latest time the host was given: what ages pathMtus6 for output that has no clock (UDP). */
  private seen: Instant = EPOCH;
  /** Listeners by port and the family of the peers they take. */
  private readonly listenerPorts = new PortTable<ListenerEntry>();
  /** Passive opens not yet handed to their listener's accept queue. */
  private readonly halfOpen = new Map<DrivenTcb, ListenerEntry>();
  /** UDP sockets by port and the family of the peers they take. */
  private readonly udpPorts = new PortTable<UdpSocket>();
  private readonly ephemeral: EphemeralPorts;
  private readonly cookies: CookieKeys;
  /**
   * Per-packet work must not grow with the number of connections (an idle
   * one costs nothing): each TCB's next deadline waits in a heap, and the
   * TCBs that changed since the host last looked (output queued, timers
   * moved — by a user call, a segment or a timer) in `touched`.
   */
  private readonly timers = new DeadlineHeap<DrivenTcb, Instant>();
  private readonly touched = new Set<DrivenTcb>();
  private readonly owner: TcbOwner = { touched: (tcb) => this.touched.add(tcb) };
  /** The TCBs' events and the host's, held while the host works and delivered after. */
  private readonly eventQueue = new EventQueue();
  // The host's events, made once: each is queued with its arguments (no closure per event).
  private readonly emitAdded = (tcb: TcbView, state: State): void =>
    this.events.connectionAdded?.(tcb, state);
  private readonly emitRemoved = (tcb: TcbView): void => this.events.connectionRemoved?.(tcb);
  private readonly emitAcceptable = (entry: ListenerEntry): void =>
    this.events.acceptable?.(entry.listener, entry.port);
  private readonly emitIcmpError = (msg: IcmpMessage, from: Ipv4Addr): void =>
    this.events.icmpError?.(msg, from);
  private readonly emitIcmp6Error = (msg: Icmpv6Error, from: Ipv6Addr): void =>
    this.events.icmp6Error?.(msg, from);
  /** Connections in TIME-WAIT, oldest first: bounded by settings.timeWaitLimit. */
  private readonly timeWait = new Set<DrivenTcb>();
  /**
   * Each TCB's place in the order of opening: TCBs due together run oldest
   * first, and connections() lists them in this order.
   */
  private readonly serial = new Map<DrivenTcb, number>();
  private opened = 0;

  constructor(opts: HostOptions) {
    this.name = opts.name;
    this.addr = opts.addr >>> 0;
    if (opts.addr6 !== undefined && !isUnicast6(opts.addr6)) {
      throw new RangeError("the IPv6 address must be unicast (not ::, ::1 or multicast)");
    }
    this.addr6 = opts.addr6;
    this.mtu = opts.mtu ?? 1500;
    if (!Number.isInteger(this.mtu) || this.mtu < 68) {
      // RFC 791: every internet module must handle 68-byte datagrams.
      throw new RangeError(`MTU must be an integer ≥ 68, got ${opts.mtu}`);
    }
    // RFC 9293 §3.7.1 / RFC 879: MSS = MTU − 20 (IP header) − 20 (TCP header); an IPv6 TCB takes 20 less.
    this.tcpSettings = { ...defaultTcpSettings, mss: mssForMtu(this.mtu), ...opts.tcp };
    const isn = opts.isn;
    this.isn =
      isn instanceof IsnGenerator
        ? isn
        : new IsnGenerator({ fixed: isn?.fixed, secret: isn?.secret ?? seededSecret(this.addr) });
    const random = opts.random ?? seededRandom(this.addr);
    this.challengeAcks = new ChallengeAckLimiter(
      this.tcpSettings.challengeAckLimit,
      random,
      () => this.tcpSettings.challengeAckRandom,
    );
    this.ipIds = new IpIds(random);
    const icmp = opts.icmpErrors ?? DEFAULT_ICMP_ERRORS;
    this.icmpErrorBucket = new TokenBucket(icmp.perSecond, icmp.burst);
    this.cookies = cookieKeys(opts.cookieSecret ?? this.isn.derive("tcplab syn cookies"));
    this.ttl = opts.ttl ?? 64;
    this.udpQueueBytes = opts.udpQueueBytes ?? 64 * 1024;
    this.udpQueueDatagrams = opts.udpQueueDatagrams ?? DEFAULT_UDP_DATAGRAMS;
    this.ephemeral = new EphemeralPorts(opts.ephemeralStart);
    const offload = opts.offload;
    this.tcpEmit = offload?.checksum === true ? { checksum: "partial" } : undefined;
    this.gsoMax = offload?.checksum === true ? Math.min(offload.gsoMaxBytes, 0xffff) : 0;
    this.reassembler = new Reassembler<Ipv4Header>({
      ...opts.reassembly,
      onDiscard: (reason: FragmentDrop, fragments: number) =>
        this.counters.drop("ip", reason, Math.max(1, fragments)),
      // RFC 792, RFC 1122 §3.3.2: Time Exceeded, code 1, about the first fragment.
      onTimeout: (header, data, now) =>
        this.sendIcmpError(
          { header, payload: data, raw: undefined, checksumTrusted: false, segments: 1 },
          IcmpTimeExceeded.REASSEMBLY,
          now,
          "time-exceeded",
        ),
    });
    this.reassembler6 = new Reassembler<FirstFragment6>({
      ...opts.reassembly,
      timeout: ms(IPV6_REASSEMBLY_TIMEOUT_MS),
      onDiscard: (reason: FragmentDrop, fragments: number) =>
        this.counters.drop("ip6", reason, Math.max(1, fragments)),
      // RFC 8200 §4.5: Time Exceeded, code 1, about the first fragment — only if it came.
      onTimeout: (first, data, now) => {
        const packet = new Uint8Array(first.head.length + data.length);
        packet.set(first.head);
        packet.set(data, first.head.length);
        this.sendIcmp6Error(
          packet,
          { type: "time-exceeded", code: Icmpv6TimeExceeded.REASSEMBLY },
          now,
        );
      },
    });
  }

  // ───────────────────────────── input ─────────────────────────────

  /**
   * One IPv4 packet from the link (or IPv6, by its version nibble, when the host has an IPv6 address). Never throws on bad bytes: every discard
   * is counted. What it raises is delivered once it is processed.
   * `offload` is what a link with offloads says of it: its transport
   * checksum is not verified here, and a TCP super-segment goes to its
   * connection whole — one segment of many MSS, one copy.
   */
  receive(packet: Uint8Array, now: Instant, offload?: Offload): void {
    if (now > this.seen) this.seen = now;
    this.eventQueue.hold();
    try {
      this.input(packet, now, offload);
    } finally {
      this.eventQueue.release();
    }
    this.settle(); // the output the events and the segment's output routine queued
  }

  private input(packet: Uint8Array, now: Instant, offload: Offload | undefined): void {
    const addr6 = this.addr6;
    // The link's offloads are IPv4's (HostOffload): IPv6 verifies its own checksums.
    if (addr6 !== undefined && packet.length > 0 && (packet[0] as number) >> 4 === 6) {
      this.input6(packet, addr6, now);
      return;
    }
    const gso = offload?.gsoSize ?? 0;
    const segments = gso > 0 ? gsoSegmentCount(packet, gso) : 1;
    this.counters.count("ip", "in", segments);
    const parsed = parseIpv4(packet);
    if (!parsed.ok) {
      this.counters.drop("ip", parsed.drop);
      return;
    }
    const { header, payload } = parsed.value;
    // RFC 1122 §3.2.1.3: a source that names no single host (broadcast, multicast, class E) is discarded.
    // So is our own address from the link: forged (a "land" packet), and our
    // replies to it would come back to us (Linux: a martian source).
    if (header.src >>> 28 >= 0xe || header.src === BROADCAST || header.src === this.addr) {
      this.counters.drop("ip", "bad-source");
      return;
    }
    const dst = header.dst;
    // RFC 1122 §3.2.1.3: a host accepts datagrams for its address (and, for UDP, limited broadcast).
    if (dst !== this.addr && !(dst === BROADCAST && header.protocol === IpProto.UDP)) {
      this.counters.drop("ip", "not-for-us");
      return;
    }
    if (!isFragment(header)) {
      if (segments > 1) this.counters.count("tcp", "gso-in");
      this.deliver(
        { header, payload, raw: packet, checksumTrusted: offload !== undefined, segments },
        now,
      );
      return;
    }
    this.counters.count("ip", "fragments-in");
    const result = this.reassembler.input(
      {
        src: header.src,
        dst: header.dst,
        protocol: header.protocol,
        identification: header.identification,
        offset: header.fragmentOffset,
        moreFragments: header.moreFragments,
        payload: payload.slice(), // the link may reuse its buffer
        header,
      },
      header.headerLength,
      now,
    );
    if (result.kind === "drop") {
      this.counters.drop("ip", result.reason);
      return;
    }
    if (result.kind === "pending") return;
    this.counters.count("ip", "reassembled");
    this.counters.count("ip", "fragments-reassembled", result.fragments);
    const whole: Ipv4Header = {
      ...result.header,
      totalLength: result.header.headerLength + result.payload.length,
      moreFragments: false,
      fragmentOffset: 0,
    };
    this.deliver(
      {
        header: whole,
        payload: result.payload,
        raw: undefined,
        checksumTrusted: false,
        segments: 1,
      },
      now,
    );
  }

  /**
   * One IPv6 packet (RFC 8200): the header chain, the source and destination
   * checks (RFC 4291), reassembly, then the upper layer. Every discard is
   * counted as `ip6.<reason>`.
   */
  private input6(packet: Uint8Array, addr6: Ipv6Addr, now: Instant): void {
    this.counters.count("ip6", "in");
    const parsed = parseIpv6(packet);
    if (!parsed.ok) {
      this.counters.drop("ip6", parsed.drop);
      // RFC 8200 §4: a header we cannot process is answered with a Parameter Problem.
      const pp = parsed.paramProblem;
      if (pp !== undefined && packet.length >= IPV6_HEADER_LEN) {
        const msg = { type: "parameter-problem", code: pp.code, pointer: pp.pointer } as const;
        this.sendIcmp6Error(packet, msg, now);
      }
      return;
    }
    const ip = parsed.value;
    const { src, dst } = ip.header;
    // RFC 4291 §2.7: a multicast source names no sender; §2.5.3: ::1 never
    // comes from a link. Our own address from the link is forged (as IPv4's "land").
    if (isIpv6Multicast(src) || isIpv6Loopback(src) || ipv6Equal(src, addr6)) {
      this.counters.drop("ip6", "bad-source");
      return;
    }
    // Only our address: we join no multicast group (a layer-3 device needs no neighbour discovery).
    if (!ipv6Equal(dst, addr6)) {
      this.counters.drop("ip6", "not-for-us");
      return;
    }
    if (!isIpv6Fragment(ip) || ip.fragment === undefined) {
      this.deliver6(ip, packet, now);
      return;
    }
    this.counters.count("ip6", "fragments-in");
    const f = ip.fragment;
    const result = this.reassembler6.input(
      {
        key: ipv6FragmentKey(src, dst, f.identification),
        offset: f.offset,
        moreFragments: f.more,
        payload: ip.payload.slice(), // the link may reuse its buffer
        header: { head: packet.slice(0, ip.payloadOffset), fragment: f },
      },
      // RFC 8200 §4.5: the unfragmentable part after the fixed header counts toward 65535.
      f.at - IPV6_HEADER_LEN,
      now,
    );
    if (result.kind === "drop") {
      this.counters.drop("ip6", result.reason);
      return;
    }
    if (result.kind === "pending") return;
    this.counters.count("ip6", "reassembled");
    this.counters.count("ip6", "fragments-reassembled", result.fragments);
    const first = result.header;
    const whole = reassembleIpv6(first.head, first.fragment, result.payload);
    if (whole === undefined) {
      this.counters.drop("ip6", "fragment-bad");
      return;
    }
    // RFC 8200 §4.5: the headers after the Fragment header are processed only now.
    const again = parseIpv6(whole);
    if (!again.ok) {
      this.counters.drop("ip6", again.drop);
      const pp = again.paramProblem;
      if (pp !== undefined) {
        const msg = { type: "parameter-problem", code: pp.code, pointer: pp.pointer } as const;
        this.sendIcmp6Error(whole, msg, now);
      }
      return;
    }
    if (isIpv6Fragment(again.value)) {
      this.counters.drop("ip6", "fragment-nested");
      return;
    }
    this.deliver6(again.value, whole, now);
  }

  /** A whole IPv6 packet for us; `bytes` is it as received or rebuilt (what errors quote). */
  private deliver6(ip: Ipv6Packet, bytes: Uint8Array, now: Instant): void {
    switch (ip.protocol) {
      case NextHeader.ICMPV6:
        this.icmp6Input(ip, now);
        return;
      case NextHeader.UDP:
        this.counters.count("udp", "in");
        if (!this.udpDeliver(parseUdp(ip.payload, ip.header.src, ip.header.dst), ip.header.src)) {
          // RFC 4443 §3.1: Port Unreachable, code 4.
          const msg = { type: "dest-unreachable", code: Icmpv6Unreachable.PORT } as const;
          this.sendIcmp6Error(bytes, msg, now);
        }
        return;
      case NextHeader.TCP:
        this.counters.count("tcp", "in");
        // RFC 4291 §2.5.2: the unspecified address names no peer — no connection, no reset.
        if (isIpv6Unspecified(ip.header.src)) {
          this.counters.drop("tcp", "bad-source");
          return;
        }
        this.tcpDemux(
          parseTcp(ip.payload, ip.header.src, ip.header.dst, this.tcpParseOptions(false)),
          ip.header.src,
          now,
        );
        return;
      case NextHeader.NO_NEXT_HEADER:
        // RFC 8200 §4.7: nothing follows; the packet is for no one.
        this.counters.drop("ip6", "no-next-header");
        return;
      default: {
        // RFC 8200 §4: an unrecognised Next Header — Parameter Problem code 1 pointing at it.
        this.counters.drop("ip6", "unknown-protocol");
        const code = Icmpv6ParamProblem.UNRECOGNIZED_NEXT_HEADER;
        this.sendIcmp6Error(
          bytes,
          { type: "parameter-problem", code, pointer: ip.protocolAt },
          now,
        );
      }
    }
  }

  private icmp6Input(ip: Ipv6Packet, now: Instant): void {
    this.counters.count("icmp6", "in");
    const { src, dst } = ip.header;
    const parsed = parseIcmpv6(ip.payload, src, dst);
    if (!parsed.ok) {
      // Neighbour discovery among them (RFC 4861 §3: a layer-3 device has no link addresses).
      this.counters.drop("icmp6", parsed.drop);
      return;
    }
    const msg = parsed.value;
    switch (msg.type) {
      case "echo-request":
        // RFC 4443 §4.2: the same identifier, sequence number and data, to the source.
        this.counters.count("icmp6", "echo-requests-in");
        if (isIpv6Unspecified(src)) return;
        this.sendIcmp6(src, { type: "echo-reply", id: msg.id, seq: msg.seq, data: msg.data });
        this.counters.count("icmp6", "echo-replies-out");
        return;
      case "echo-reply":
        this.counters.count("icmp6", "echo-replies-in");
        return;
      case "other":
        // RFC 4443 §2.4(a): an unknown error goes to the upper layer (none takes
        // one yet); (b): an unknown informational message is discarded.
        if (isIcmpv6Error(msg.icmpType)) this.counters.count("icmp6", "other-errors-in");
        else this.counters.drop("icmp6", "unknown-informational");
        return;
      default: {
        this.eventQueue.defer(this.emitIcmp6Error, msg, src);
        const ignored = this.icmp6ErrorInput(msg, now);
        if (ignored === undefined) this.counters.count("icmp6", `${msg.type}-in`);
        else this.counters.drop("icmp6", ignored);
      }
    }
  }

  /**
   * An ICMPv6 error about one of our packets (RFC 4443 §2.4(d)): as
   * icmpErrorInput, by the quote's ports and `ipEndpointKey`. Returns why it
   * was ignored, if it was (counted as `icmp6.<reason>`).
   */
  private icmp6ErrorInput(msg: Icmpv6Error, now: Instant): string | undefined {
    // RFC 8201 §4: a Packet Too Big under the minimum link MTU is discarded
    // (no atomic fragments instead: RFC 8021).
    if (msg.type === "packet-too-big" && msg.mtu < IPV6_MIN_MTU) return "ptb-below-minimum";
    const q = parseQuotedPacket6(msg.original);
    if (!q.ok) return q.drop === "truncated" ? "quote-truncated" : "quote-bad";
    const { header, protocol, srcPort, dstPort, seq } = q.value;
    const addr6 = this.addr6;
    if (addr6 === undefined || !ipv6Equal(header.src, addr6)) return "quote-not-ours";
    const remote: Endpoint = { family: 6, addr: header.dst, port: dstPort };
    const meaning =
      msg.type === "packet-too-big"
        ? ({ errno: "EMSGSIZE", hard: false } as const)
        : icmpv6ErrorMeaning(
            msg.type,
            msg.code,
            msg.type === "parameter-problem" && pointsAtTransport(q.value, msg.pointer),
          );
    if (protocol === NextHeader.UDP) {
      const sock = this.udpPorts.get(srcPort, 6);
      if (sock === undefined) return "no-socket";
      if (msg.type === "packet-too-big") this.learnPathMtu6(header.dst, msg.mtu, now);
      sock.icmpError({ ...meaning, to: remote });
      this.counters.count("udp", "icmp-errors");
      return undefined;
    }
    if (protocol !== NextHeader.TCP) return undefined; // about a ping of ours: counted only
    const tcb = this.tcbs.get(srcPort, remote);
    if (tcb === undefined) return "no-connection";
    const verdict = tcb.icmpError(
      msg.type === "packet-too-big"
        ? { type: "packet-too-big", mtu: msg.mtu, seq }
        : { type: "icmpv6", meaning, seq },
      now,
    );
    this.afterTcb(tcb);
    if (verdict === "pmtu-lowered") this.learnPathMtu6(header.dst, tcb.pmtu.mtu, now);
    else if (verdict !== "soft-error" && verdict !== "aborted") return verdict;
    this.counters.count("tcp", `icmp6-${verdict}`);
    return undefined;
  }

  /** RFC 8201 §5.2: a lower path MTU for `dst`, kept for 10 minutes (§5.3). */
  private learnPathMtu6(dst: Ipv6Addr, mtu: number, now: Instant): void {
    const key = ipv6Key(dst);
    const known = this.pathMtus6.lookup(key, now)?.mtu ?? this.mtu;
    if (mtu >= known) return;
    const agesAt = later(now, this.tcpSettings.pmtuExpiry);
    this.pathMtus6.learn(key, { mtu, clamped: false, agesAt });
  }

  private deliver(dg: Datagram, now: Instant): void {
    switch (dg.header.protocol) {
      case IpProto.ICMP:
        this.icmpInput(dg, now);
        return;
      case IpProto.UDP:
        this.udpInput(dg, now);
        return;
      case IpProto.TCP:
        this.tcpInput(dg, now);
        return;
      default:
        // RFC 1122 §3.2.2.1: a host SHOULD send Protocol Unreachable for a transport it lacks.
        this.counters.drop("ip", "unknown-protocol");
        this.sendIcmpError(dg, IcmpUnreachable.PROTOCOL, now);
    }
  }

  private icmpInput(dg: Datagram, now: Instant): void {
    this.counters.count("icmp", "in");
    const parsed = parseIcmp(dg.payload);
    if (!parsed.ok) {
      this.counters.drop("icmp", parsed.drop);
      return;
    }
    const msg = parsed.value;
    switch (msg.type) {
      case "echo-request":
        // RFC 1122 §3.2.2.6: reply with the same identifier, sequence number and data.
        this.counters.count("icmp", "echo-requests-in");
        if (!isUnicastSource(dg.header.src)) return;
        this.sendIcmp(dg.header.src, {
          type: "echo-reply",
          id: msg.id,
          seq: msg.seq,
          data: msg.data,
        });
        this.counters.count("icmp", "echo-replies-out");
        return;
      case "echo-reply":
        this.counters.count("icmp", "echo-replies-in");
        return;
      case "dest-unreachable":
      case "time-exceeded": {
        this.eventQueue.defer(this.emitIcmpError, msg, dg.header.src);
        const ignored = this.icmpErrorInput(msg, now);
        if (ignored === undefined) this.counters.count("icmp", `${msg.type}-in`);
        else this.counters.drop("icmp", ignored);
        return;
      }
      default:
        this.counters.count("icmp", "other-in");
    }
  }

  /**
   * An ICMP error about one of our datagrams (RFC 1122 §3.2.2): its quote
   * names the transport, the peer and the ports; the connection
   * (src/tcp/icmp-error.ts) or the UDP socket takes it from there. Returns
   * why it was ignored, if it was (counted as `icmp.<reason>`).
   */
  private icmpErrorInput(msg: IcmpError, now: Instant): string | undefined {
    const q = parseQuotedDatagram(msg.original);
    if (!q.ok) return q.drop === "truncated" ? "quote-truncated" : "quote-bad";
    const { header, srcPort, dstPort, seq } = q.value;
    // Only a datagram we could have sent: from our address (RFC 5927 §4.1's checks start here).
    if (header.src !== this.addr) return "quote-not-ours";
    const remote: Endpoint = { addr: header.dst, port: dstPort };
    if (header.protocol === IpProto.UDP) {
      const sock = this.udpPorts.get(srcPort, 4);
      if (sock === undefined) return "no-socket";
      sock.icmpError({ ...icmpErrorMeaning(msg.type, msg.code), to: remote });
      this.counters.count("udp", "icmp-errors");
      return undefined;
    }
    if (header.protocol !== IpProto.TCP) return undefined; // about a ping of ours: counted only
    const tcb = this.tcbs.get(srcPort, remote);
    if (tcb === undefined) return "no-connection";
    const verdict = tcb.icmpError(
      {
        type: msg.type,
        code: msg.code,
        nextHopMtu: msg.type === "dest-unreachable" ? (msg.nextHopMtu ?? 0) : 0,
        quotedLength: header.totalLength,
        seq,
      },
      now,
    );
    this.afterTcb(tcb);
    if (verdict === "pmtu-lowered") {
      const p = tcb.pmtu;
      this.pathMtus.learn(remote.addr, { mtu: p.mtu, clamped: p.clamped, agesAt: p.agesAt ?? now });
    } else if (verdict !== "soft-error" && verdict !== "aborted") {
      return verdict;
    }
    this.counters.count("tcp", `icmp-${verdict}`);
    return undefined;
  }

  private udpInput(dg: Datagram, now: Instant): void {
    this.counters.count("udp", "in");
    const parsed = parseUdp(dg.payload, dg.header.src, dg.header.dst, {
      verifyChecksum: !dg.checksumTrusted,
    });
    // RFC 1122 §3.2.2.1 / §4.1.3.1: Port Unreachable — never about a broadcast.
    if (!this.udpDeliver(parsed, dg.header.src) && dg.header.dst !== BROADCAST) {
      this.sendIcmpError(dg, IcmpUnreachable.PORT, now);
    }
  }

  /**
   * A datagram from `src` of either family to its socket. Returns false when
   * no socket has its port (the caller answers with its family's error).
   */
  private udpDeliver(parsed: Parsed<UdpDatagram>, src: Ipv4Addr | Ipv6Addr): boolean {
    if (!parsed.ok) {
      this.counters.drop("udp", parsed.drop);
      return true;
    }
    const d = parsed.value;
    const sock = this.udpPorts.get(d.dstPort, typeof src === "number" ? 4 : 6);
    if (sock === undefined) {
      this.counters.drop("udp", "no-socket");
      return false;
    }
    const ok = sock.deliver({ from: endpointOf(src, d.srcPort), data: d.payload.slice() });
    if (!ok) {
      this.counters.drop("udp", "queue-full");
      return true;
    }
    this.counters.count("udp", "delivered");
    this.eventQueue.defer(udpReadable, sock, undefined);
    return true;
  }

  private tcpInput(dg: Datagram, now: Instant): void {
    this.counters.count("tcp", "in", dg.segments);
    const { src, dst } = dg.header;
    // RFC 1122 §3.2.1.3 (g), done by the transport: 0.0.0.0 and 127/8 may
    // reach UDP (a host learning its address), but never name a TCP peer —
    // no connection, no reset.
    if (!isUnicastSource(src)) {
      this.counters.drop("tcp", "bad-source");
      return;
    }
    this.tcpDemux(
      parseTcp(dg.payload, src, dst, this.tcpParseOptions(dg.checksumTrusted)),
      src,
      now,
    );
  }

  /** A bad option length: skipped or the segment dropped (settings.badOptionLength); counted either way. */
  private tcpParseOptions(checksumTrusted: boolean): TcpParseOptions {
    const skipBad = this.tcpSettings.badOptionLength === "skip";
    return {
      verifyChecksum: !checksumTrusted,
      badOptions: skipBad ? "skip" : "drop",
      onSkippedOption: () => this.counters.count("tcp", "bad-option-skipped"),
    };
  }

  /** A segment from `src` of either family: to its connection, a listener, or answered with a reset. */
  private tcpDemux(parsed: Parsed<TcpSegment>, src: Ipv4Addr | Ipv6Addr, now: Instant): void {
    if (!parsed.ok) {
      this.counters.drop("tcp", parsed.drop);
      return;
    }
    // RFC 6335 §6: port 0 is reserved and names no endpoint. A SYN from it
    // would open a connection no reply can reach; nothing answers it, not
    // even with a reset (a probe from port 0 learns nothing).
    if (parsed.value.srcPort === 0 || parsed.value.dstPort === 0) {
      this.counters.drop("tcp", "bad-port");
      return;
    }
    // Copy the payload out of the link's buffer: the TCB may keep it.
    const p = parsed.value;
    const seg: TcpSegment = p.payload.length === 0 ? p : { ...p, payload: p.payload.slice() };
    const remote = endpointOf(src, seg.srcPort);
    const tcb = this.tcbs.get(seg.dstPort, remote);
    let issAbove: number | undefined;
    if (tcb !== undefined) {
      // The host looks at the TCB (output, timers, table) once the packet's
      // events and the segment's output routine have run: receive() settles.
      tcb.input(seg, now);
      if (tcb.reopenedBy === undefined) {
        this.counters.count("tcp", "delivered");
        return;
      }
      // A new SYN ended TIME-WAIT (RFC 1122 §4.2.2.13): it is a connection
      // request like any other, and its ISS must lie above the old SND.NXT.
      // The old TCB leaves the table first.
      this.afterTcb(tcb);
      issAbove = tcb.sndNxt;
    }
    // A SYN goes to the listener of its family on the port (RFC 3493 §3.7).
    const entry = this.listenerPorts.get(seg.dstPort, familyOf(remote));
    if (entry !== undefined) {
      this.listenInput(entry, seg, remote, now, issAbove);
      return;
    }
    // RFC 9293 §3.10.7.1: no connection — answer with a reset (never to a RST).
    this.counters.drop("tcp", "no-socket");
    const rst = resetFor(seg);
    if (rst !== undefined) {
      this.sendSegment(remote, rst);
      this.counters.count("tcp", "rst-out");
    }
  }

  private listenInput(
    entry: ListenerEntry,
    seg: TcpSegment,
    remote: Endpoint,
    now: Instant,
    issAbove?: number,
  ): void {
    if (this.cookieAck(entry, seg, remote, now)) return;
    const verdict = entry.listener.input(seg, remote, now);
    switch (verdict.action) {
      case "cookie": {
        // RFC 4987 §3.6: the half-open set is full — answer without keeping anything.
        this.counters.count("tcp", "delivered");
        this.sendSegment(
          remote,
          cookieSynAck(entry.settings, this.cookies, seg, localFor(entry, remote), remote, now),
        );
        this.counters.count("tcp", "syncookies-sent");
        return;
      }
      case "drop":
        this.counters.drop("tcp", `listen-${verdict.reason}`);
        return;
      case "reset":
        this.counters.count("tcp", "delivered");
        this.sendSegment(remote, verdict.rst);
        this.counters.count("tcp", "rst-out");
        return;
      case "syn": {
        this.counters.count("tcp", "delivered");
        const local = localFor(entry, remote);
        let iss = this.isn.next(local, remote, now);
        if (issAbove !== undefined && !seqGt(iss, issAbove)) iss = seqAdd(issAbove, 1);
        const tcb = openTcb.accept({
          local,
          remote,
          iss,
          settings: entry.settings,
          now,
          syn: seg,
          challengeLimiter: this.challengeAcks,
          owner: this.owner,
          eventQueue: this.eventQueue,
          admit: entry.listener.admit,
        });
        this.startPathMtu(tcb, now);
        this.addPassive(entry, tcb);
        this.afterTcb(tcb);
      }
    }
  }

  /** A passive open joins its listener's half-open set and the connection table. */
  private addPassive(entry: ListenerEntry, tcb: DrivenTcb): void {
    entry.listener.addHalfOpen(tcb);
    this.halfOpen.set(tcb, entry);
    this.add(tcb);
    this.counters.count("tcp", "passive-opens");
    this.eventQueue.defer(this.emitAdded, tcb, tcb.state);
  }

  /**
   * An ACK reaching a listener that answered SYNs with cookies lately
   * (within a cookie's lifetime): if SEG.ACK − 1 is a valid cookie, the
   * connection is made as if it had waited in SYN-RECEIVED, and the ACK
   * completes it. Returns whether the segment was dealt with.
   */
  private cookieAck(
    entry: ListenerEntry,
    seg: TcpSegment,
    remote: Endpoint,
    now: Instant,
  ): boolean {
    const l = entry.listener;
    const f = seg.flags;
    if ((f & (Flag.ACK | Flag.SYN | Flag.RST)) !== Flag.ACK || l.lastCookieAt === undefined) {
      return false;
    }
    if (now - l.lastCookieAt > COOKIE_MINUTES * 60_000 || !entry.settings.synCookies) return false;
    const local = localFor(entry, remote);
    const found = synFromCookie(this.cookies, seg, local, remote, now);
    if (found === undefined) {
      this.counters.count("tcp", "syncookies-failed");
      return false; // the listener answers it as any stray ACK (a reset)
    }
    if (!l.acceptRoom) {
      // Linux drops it too: the peer's retransmission may find room later.
      this.counters.drop("tcp", "listen-backlog-full");
      return true;
    }
    this.counters.count("tcp", "delivered");
    this.counters.count("tcp", "syncookies-recv");
    const tcb = openTcb.fromCookie({
      local,
      remote,
      iss: found.iss,
      settings: entry.settings,
      now,
      syn: found.syn,
      tsEcr: found.tsEcr,
      challengeLimiter: this.challengeAcks,
      owner: this.owner,
      eventQueue: this.eventQueue,
      admit: l.admit,
    });
    this.startPathMtu(tcb, now);
    this.addPassive(entry, tcb);
    tcb.input(seg, now);
    // The cookie matched SEG.ACK exactly, so the handshake completes; anything else is dropped quietly.
    if (tcb.state === State.SynReceived) tcb.closeWith(undefined);
    this.afterTcb(tcb);
    return true;
  }

  /**
   * Drains a TCB's output at once (causal order), hands finished handshakes
   * over, forgets CLOSED TCBs and files the TCB's next deadline.
   */
  private afterTcb(tcb: DrivenTcb): void {
    this.touched.delete(tcb); // first: what a later call does to it is seen again
    // RFC 1191: DF lets the path say it is too narrow — unless a report was
    // below the floor (path-mtu.ts) or path-MTU discovery is off.
    const df = tcb.settings.pmtuDiscovery && !tcb.pmtu.clamped;
    // Each payload is copied into its packet before the drain returns: the views may go.
    const remote = tcb.remote;
    if (remote.family === 6) {
      tcb.drainOutput((seg) => this.sendTcp6(remote.addr, seg));
    } else if (this.gsoMax === 0 || !df) {
      // Without DF the segments may be fragmented on the way: no super-segments then.
      tcb.drainOutput((seg) => this.sendTcp(remote.addr, seg, df));
    } else {
      tcb.drainOutput((seg) => this.emitSegment(remote.addr, seg));
      this.endRun(remote.addr);
    }
    if (this.halfOpen.size > 0) {
      const entry = this.halfOpen.get(tcb);
      if (entry !== undefined && tcb.state !== State.SynReceived) {
        this.halfOpen.delete(tcb);
        if (tcb.state !== State.Closed)
          this.eventQueue.defer(this.emitAcceptable, entry, undefined);
      }
    }
    if (tcb.state === State.TimeWait && !this.timeWait.has(tcb)) this.enteredTimeWait(tcb);
    if (tcb.state === State.Closed) this.forget(tcb);
    else if (this.tcbs.get(tcb.local.port, tcb.remote) === tcb) {
      this.timers.set(tcb, tcb.pollAt(), this.rank(tcb));
    }
  }

  /** A new TIME-WAIT beyond the bound ends the oldest one early (its TCB closes quietly). */
  private enteredTimeWait(tcb: DrivenTcb): void {
    this.timeWait.add(tcb);
    while (this.timeWait.size > this.tcpSettings.timeWaitLimit) {
      const oldest = this.timeWait.values().next().value as DrivenTcb;
      this.timeWait.delete(oldest);
      oldest.closeWith(undefined);
      this.counters.count("tcp", "time-wait-reaped");
    }
  }

  /**
   * Every TCB touched since the host last looked, in the order they were
   * touched; what that raises is delivered after, and the TCBs its callbacks
   * touch are looked at too.
   */
  private settle(): void {
    while (this.touched.size > 0) {
      this.eventQueue.hold();
      try {
        for (const tcb of this.touched) this.afterTcb(tcb);
      } finally {
        this.eventQueue.release();
      }
    }
  }

  private rank(tcb: DrivenTcb): number {
    return this.serial.get(tcb) ?? 0;
  }

  private add(tcb: DrivenTcb): void {
    this.serial.set(tcb, ++this.opened);
    this.tcbs.set(tcb);
  }

  private forget(tcb: DrivenTcb): void {
    this.timers.delete(tcb);
    this.timeWait.delete(tcb);
    this.serial.delete(tcb);
    if (!this.tcbs.delete(tcb)) return;
    this.halfOpen.delete(tcb);
    this.eventQueue.defer(this.emitRemoved, tcb, undefined);
  }

  /** RFC 1191 §6.5, RFC 8201 §5.2: a new connection starts from the path MTU known for its peer. */
  private startPathMtu(tcb: DrivenTcb, now: Instant): void {
    const remote = tcb.remote;
    let known: PathMtuEntry | undefined;
    if (remote.family === 6) {
      if (this.pathMtus6.size > 0) known = this.pathMtus6.lookup(ipv6Key(remote.addr), now);
    } else if (this.pathMtus.size > 0) {
      known = this.pathMtus.lookup(remote.addr, now);
    }
    if (known !== undefined) tcb.knownPathMtu(known.mtu, known.clamped, known.agesAt);
  }

  // ───────────────────────────── output ─────────────────────────────

  /**
   * Whole IPv4 packets to put on the link, oldest first; draining empties
   * the queue. Offloaded packets come out as the link would send them:
   * super-segments cut, checksums completed (softwareSegments).
   */
  takeOutput(): Uint8Array[] {
    const out: Uint8Array[] = [];
    this.flushOutput((packet, offload) => {
      if (offload === undefined) out.push(packet);
      else for (const p of softwareSegments(packet, offload)) out.push(p);
    });
    return out;
  }

  /**
   * Hands every queued packet to `send`, oldest first, with its offload
   * (HostOptions.offload) — what a link with offloads takes as it is. A
   * super-segment's bytes are valid during the call only (the host builds
   * the next ones in the same memory): a link that keeps one copies it.
   */
  flushOutput(send: (packet: Uint8Array, offload: Offload | undefined) => void): void {
    // User calls on a Tcb (send, recv, close …) queue segments the Host has not seen yet.
    this.settle();
    const out = this.out;
    if (out.length === 0) return;
    const offloads = this.outOffload;
    // A fresh queue first: whatever `send` leads to queues behind these packets.
    this.out = [];
    this.outOffload = [];
    for (let i = 0; i < out.length; i++) send(out[i] as Uint8Array, offloads[i]);
    if (this.out.length === 0) this.arenaUsed = 0;
  }

  /** `n` bytes of the arena (not zeroed: the caller writes every one). */
  private arenaBytes(n: number): Uint8Array {
    if (this.arenaUsed + n > this.arena.length) {
      // Packets still queued keep the old arena alive until they are sent.
      this.arena = new Uint8Array(Math.max(ARENA_BYTES, n));
      this.arenaUsed = 0;
    }
    const at = this.arenaUsed;
    this.arenaUsed += n;
    return this.arena.subarray(at, at + n);
  }

  /** True when takeOutput() would return something (without draining). */
  get hasOutput(): boolean {
    return this.out.length > 0;
  }

  private push(packet: Uint8Array, offload: Offload | undefined): void {
    this.out.push(packet);
    this.outOffload.push(offload);
  }

  /**
   * With segmentation offload: gathers the segments of one drain into runs
   * that a super-segment carries exactly — the next segment continues the
   * run's sequence space after a full-sized one, with the same ACK, window,
   * flags and options (the link copies the first header into every
   * segment; PSH and FIN stay on the last, as Linux's tcp_gso_segment
   * does). Anything else ends the run and goes out on its own.
   */
  private emitSegment(dst: Ipv4Addr, seg: TcpSegment): void {
    if (this.run.length > 0 && !this.continuesRun(seg)) this.endRun(dst);
    const len = seg.payload.length;
    if (len === 0 || (seg.flags & (Flag.SYN | Flag.RST | Flag.URG)) !== 0) {
      this.sendTcp(dst, seg);
      return;
    }
    const run = this.run; // endRun started a new one
    run.push(seg);
    this.runBytes += len;
    // A segment shorter than the first, a PSH or a FIN is the last one a run can take.
    if ((seg.flags & (Flag.PSH | Flag.FIN)) !== 0 || len < (run[0] as TcpSegment).payload.length) {
      this.endRun(dst);
    }
  }

  private continuesRun(seg: TcpSegment): boolean {
    const run = this.run;
    const first = run[0] as TcpSegment;
    const last = run[run.length - 1] as TcpSegment;
    const size = first.payload.length;
    const len = seg.payload.length;
    const tail = Flag.PSH | Flag.FIN;
    return (
      len > 0 &&
      len <= size &&
      seg.seq === seqAdd(last.seq, last.payload.length) &&
      (seg.flags & ~tail) === (first.flags & ~tail) &&
      seg.ack === first.ack &&
      seg.window === first.window &&
      seg.urgentPointer === 0 &&
      sameOptions(seg.options, first.options) &&
      IPV4_HEADER_LEN + tcpHeaderLength(first.options) + this.runBytes + len <= this.gsoMax
    );
  }

  /** Sends the gathered run: one segment as it is, several as one super-segment. */
  private endRun(dst: Ipv4Addr): void {
    const run = this.run;
    if (run.length === 0) return;
    this.run = [];
    const bytes = this.runBytes;
    this.runBytes = 0;
    if (run.length === 1) {
      this.sendTcp(dst, run[0] as TcpSegment);
      return;
    }
    const first = run[0] as TcpSegment;
    const last = run[run.length - 1] as TcpSegment;
    const hdr = IPV4_HEADER_LEN + tcpHeaderLength(first.options);
    if (hdr + first.payload.length > this.mtu) {
      this.counters.drop("ip", "out-too-big", run.length);
      return;
    }
    const packet = this.arenaBytes(hdr + bytes);
    let at = hdr;
    for (const seg of run) {
      packet.set(seg.payload, at);
      at += seg.payload.length;
    }
    // The link gives its segments this ID and the ones after it (Linux's inet_gso_segment).
    emitIpv4(
      {
        src: this.addr,
        dst,
        protocol: IpProto.TCP,
        ttl: this.ttl,
        identification: this.ipIds.next(dst, IpProto.TCP, run.length),
        dontFragment: true,
      },
      packet.length - IPV4_HEADER_LEN,
      packet,
      0,
    );
    const tail = Flag.PSH | Flag.FIN;
    emitTcp(
      {
        ...first,
        flags: (first.flags & ~tail) | (last.flags & tail),
        payload: packet.subarray(hdr),
      },
      this.addr,
      dst,
      packet,
      IPV4_HEADER_LEN,
      this.tcpEmit,
    );
    this.push(packet, tcpGso(first.payload.length));
    this.counters.count("tcp", "out", run.length);
    this.counters.count("tcp", "gso-out");
    this.counters.count("ip", "out", run.length);
  }

  private sendTcp(dst: Ipv4Addr, seg: TcpSegment, dontFragment = true): void {
    const len = tcpLength(seg);
    const packet = new Uint8Array(IPV4_HEADER_LEN + len);
    // TCP avoids fragmentation by its MSS; DF lets path MTU discovery work (RFC 1191).
    emitIpv4(
      {
        src: this.addr,
        dst,
        protocol: IpProto.TCP,
        ttl: this.ttl,
        identification: this.ipIds.next(dst, IpProto.TCP),
        dontFragment,
      },
      len,
      packet,
      0,
    );
    emitTcp(seg, this.addr, dst, packet, IPV4_HEADER_LEN, this.tcpEmit);
    this.pushSegment(packet, "ip", this.tcpEmit === undefined ? undefined : CHECKSUM_PARTIAL);
  }

  /** A TCP packet onto the link, unless it passes the MTU (TCP is never fragmented). */
  private pushSegment(packet: Uint8Array, ip: "ip" | "ip6", offload: Offload | undefined): void {
    if (packet.length > this.mtu) {
      this.counters.drop(ip, "out-too-big");
      return;
    }
    this.push(packet, offload);
    this.counters.count("tcp", "out");
    this.counters.count(ip, "out");
  }

  /** A datagram's packets (one, or its fragments) onto the link. */
  private pushPackets(packets: readonly Uint8Array[], ip: "ip" | "ip6"): void {
    if (packets.length > 1) {
      this.counters.count(ip, "fragmented");
      this.counters.count(ip, "fragments-out", packets.length);
    }
    for (const p of packets) this.push(p, undefined);
    this.counters.count(ip, "out", packets.length);
  }

  /** Sends a transport payload, fragmenting it when it exceeds the MTU. */
  private sendIp(dst: Ipv4Addr, protocol: number, payload: Uint8Array): boolean {
    const packets = ipv4Packets(
      {
        src: this.addr,
        dst,
        protocol,
        ttl: this.ttl,
        identification: this.ipIds.next(dst, protocol),
      },
      payload,
      this.mtu,
    );
    if (packets === undefined) {
      this.counters.drop("ip", "out-too-big");
      return false;
    }
    this.pushPackets(packets, "ip");
    return true;
  }

  private sendIcmp(dst: Ipv4Addr, msg: IcmpMessage): void {
    const bytes = new Uint8Array(icmpLength(msg));
    emitIcmp(msg, bytes, 0);
    if (this.sendIp(dst, IpProto.ICMP, bytes)) this.counters.count("icmp", "out");
  }

  /**
   * Destination Unreachable (or Time Exceeded) quoting the offending
   * datagram's IP header and first 8 data bytes (RFC 792, RFC 1122 §3.2.2).
   * Never about an ICMP error, a non-unicast source or a broadcast (RFC 1122
   * §3.2.2).
   */
  private sendIcmpError(
    dg: Datagram,
    code: number,
    now: Instant,
    type: "dest-unreachable" | "time-exceeded" = "dest-unreachable",
  ): void {
    const h = dg.header;
    if (!isUnicastSource(h.src) || h.dst === BROADCAST) return;
    if (h.protocol === IpProto.ICMP) {
      const type = dg.payload[0];
      // Errors about errors would loop; only informational types (echo …) may be answered.
      if (type !== 0 && type !== 8 && type !== 13 && type !== 14 && type !== 15 && type !== 16) {
        return;
      }
    }
    // RFC 1812 §4.3.2.8, RFC 1122 §3.2.2: errors are rate-limited, so a scan
    // of closed ports is not answered at line rate (nor used to flood a victim).
    if (!this.icmpErrorBucket.take(now)) {
      this.counters.count("icmp", "errors-rate-limited");
      return;
    }
    const raw = dg.raw?.subarray(0, h.totalLength);
    const original = raw !== undefined ? icmpErrorQuote(raw) : this.quoteRebuilt(dg);
    this.sendIcmp(h.src, { type, code, original: original.slice() });
    if (type === "time-exceeded") this.counters.count("icmp", "time-exceeded-out");
    else {
      this.counters.count(
        "icmp",
        code === IcmpUnreachable.PORT ? "port-unreachable-out" : "unreachable-out",
      );
    }
  }

  /** A segment to `remote` over its family. */
  private sendSegment(remote: Endpoint, seg: TcpSegment, dontFragment = true): void {
    if (remote.family === 6) this.sendTcp6(remote.addr, seg);
    else this.sendTcp(remote.addr, seg, dontFragment);
  }

  /** Our IPv6 address: a TCB or a reply of family 6 exists only on a host that has one. */
  private source6(): Ipv6Addr {
    if (this.addr6 === undefined) throw new Error("IPv6 output on a host without an IPv6 address");
    return this.addr6;
  }

  /** The fixed header of what we originate: RFC 6437 lets the flow label be 0. */
  private ipv6Repr(dst: Ipv6Addr, nextHeader: number) {
    return { src: this.source6(), dst, nextHeader, hopLimit: this.ttl, flowLabel: 0 };
  }

  private sendTcp6(dst: Ipv6Addr, seg: TcpSegment): void {
    const len = tcpLength(seg);
    const packet = new Uint8Array(IPV6_HEADER_LEN + len);
    // TCP is sized by its MSS (MTU − 60) and never fragmented over IPv6.
    emitIpv6(this.ipv6Repr(dst, NextHeader.TCP), len, packet, 0);
    emitTcp(seg, this.source6(), dst, packet, IPV6_HEADER_LEN);
    this.pushSegment(packet, "ip6", undefined);
  }

  /**
   * An IPv6 packet of `payload` for `dst`, cut into fragments when it passes
   * the path MTU (RFC 8200 §4.5, RFC 8201 §5.2: the link's, or less as a
   * Packet Too Big said) with an Identification per destination (RFC 7739).
   */
  private sendIp6(dst: Ipv6Addr, nextHeader: number, payload: Uint8Array): boolean {
    const packet = new Uint8Array(IPV6_HEADER_LEN + payload.length);
    emitIpv6(this.ipv6Repr(dst, nextHeader), payload.length, packet, 0);
    packet.set(payload, IPV6_HEADER_LEN);
    const mtu =
      this.pathMtus6.size > 0
        ? (this.pathMtus6.lookup(ipv6Key(dst), this.seen)?.mtu ?? this.mtu)
        : this.mtu;
    const id = packet.length > mtu ? this.ipIds.next6(dst) : 0;
    const cut = fragmentIpv6(packet, mtu, id);
    if (!cut.ok) {
      this.counters.drop("ip6", "out-too-big");
      return false;
    }
    this.pushPackets(cut.packets, "ip6");
    return true;
  }

  private sendIcmp6(dst: Ipv6Addr, msg: Icmpv6Message): void {
    const bytes = new Uint8Array(icmpv6Length(msg));
    emitIcmpv6(msg, this.source6(), dst, bytes, 0);
    if (this.sendIp6(dst, NextHeader.ICMPV6, bytes)) this.counters.count("icmp6", "out");
  }

  /**
   * An ICMPv6 error about `invoking` (at least its fixed header), quoting as
   * much of it as fits in 1280 bytes (RFC 4443 §2.4(c)). Never about
   * (§2.4(e)): an ICMPv6 error or a redirect; a packet not to our own
   * address (we join no multicast group, so (e.3)'s exception for some
   * Parameter Problems never arises); a source that names no single node
   * (::, multicast, ::1 — ours is forged). Rate-limited (§2.4(f)) by the
   * token bucket IPv4's errors take from: one budget, as Linux's
   * icmp_global_allow.
   */
  private sendIcmp6Error(invoking: Uint8Array, err: Icmpv6ErrorOut, now: Instant): void {
    const addr6 = this.source6();
    const src = readIpv6Addr(invoking, 8);
    if (!isUnicast6(src) || ipv6Equal(src, addr6)) return;
    if (!ipv6Equal(readIpv6Addr(invoking, 24), addr6)) return;
    if (isAboutIcmpv6Error(invoking)) return;
    if (!this.icmpErrorBucket.take(now)) {
      this.counters.count("icmp6", "errors-rate-limited");
      return;
    }
    const original = icmpv6ErrorQuote(invoking).slice();
    this.sendIcmp6(src, { ...err, original });
    const named =
      err.type === "dest-unreachable" && err.code === Icmpv6Unreachable.PORT
        ? "port-unreachable"
        : err.type;
    this.counters.count("icmp6", `${named}-out`);
  }

  /**
   * The quote of a datagram kept in pieces: a reassembled one (its header
   * as rebuilt, no fragment bits) or a first fragment (MF set), plus 8 bytes.
   */
  private quoteRebuilt(dg: Datagram): Uint8Array {
    const h = dg.header;
    const data = dg.payload.subarray(0, 8);
    const quote = new Uint8Array(h.headerLength + data.length);
    emitIpv4(ipv4ReprOf(h), dg.payload.length, quote, 0);
    quote.set(data, h.headerLength);
    return quote;
  }

  // ───────────────────────────── time ─────────────────────────────

  /** The earliest deadline of any TCB or fragment reassembly, if any. */
  pollAt(): Instant | undefined {
    this.settle(); // deadlines moved by user calls
    const at4 = this.reassembler.pollAt();
    const at6 = this.reassembler6.pollAt();
    const at = at6 !== undefined && (at4 === undefined || at6 < at4) ? at6 : at4;
    const t = this.timers.peek();
    return t !== undefined && (at === undefined || t < at) ? t : at;
  }

  /**
   * Runs every timer due at `now`: TCB timers and fragment expiry. TCBs due
   * together run in the order they were opened (deterministic, whatever
   * their deadlines).
   */
  poll(now: Instant): void {
    if (now > this.seen) this.seen = now;
    this.settle();
    this.eventQueue.hold(); // what the timers raise is delivered once they have all run
    try {
      this.reassembler.expire(now);
      this.reassembler6.expire(now);
      const due = this.timers.popDue(now);
      if (due.length > 1) due.sort((x, y) => this.rank(x) - this.rank(y));
      for (const tcb of due) {
        const t = tcb.pollAt();
        if (t !== undefined && t <= now) tcb.onTimer(now);
        this.afterTcb(tcb);
      }
      this.settle();
    } finally {
      this.eventQueue.release();
    }
    this.settle(); // TCBs the callbacks touched
  }

  // ───────────────────────────── TCP calls ─────────────────────────────

  /** Passive OPEN on `port` (all of our addresses). */
  listen(port: number, backlog: number, opts: ListenOptions = {}): Listener | StackError {
    if (!isValidPort(port) || port === 0 || !Number.isInteger(backlog) || backlog < 0) {
      return "EINVAL";
    }
    if (!this.listenerPorts.free(port, opts.family)) return "EADDRINUSE";
    const settings = { ...this.tcpSettings, ...opts.settings };
    const listener = new Listener(
      { addr: 0, port },
      {
        backlog,
        settings,
        ...(opts.halfOpenLimit !== undefined ? { halfOpenLimit: opts.halfOpenLimit } : {}),
      },
    );
    const local6: Endpoint | undefined =
      this.addr6 !== undefined ? { family: 6, addr: this.addr6, port } : undefined;
    this.listenerPorts.set(port, opts.family, {
      port,
      listener,
      settings,
      local: { addr: this.addr, port },
      local6,
      family: opts.family,
    });
    return listener;
  }

  /**
   * Stops the listener on `port` that takes peers of `family` (every
   * listener on the port when left out); its queued and half-open
   * connections are aborted.
   */
  unlisten(port: number, now: Instant, family?: PeerFamily): void {
    if (family === undefined) {
      for (const f of [4, 6] as const) this.unlisten(port, now, f);
      return;
    }
    const entry = this.listenerPorts.get(port, family);
    if (entry === undefined) return;
    this.listenerPorts.delete(port, entry);
    for (const [tcb, e] of this.halfOpen) if (e === entry) this.halfOpen.delete(tcb);
    this.eventQueue.hold();
    try {
      entry.listener.close(now);
    } finally {
      this.eventQueue.release();
    }
    // close() aborted the queued TCBs: their RSTs go out with the next takeOutput().
  }

  /** Active OPEN to `remote`: a TCB in SYN-SENT with its SYN queued. */
  connect(remote: Endpoint, now: Instant, opts: ConnectOptions = {}): TcbView | StackError {
    if (!isValidPort(remote.port) || remote.port === 0) return "EINVAL";
    let peer: Endpoint;
    if (remote.family === 6) {
      // Without an IPv6 address there is nothing to send from.
      if (this.addr6 === undefined || !isUnicast6(remote.addr)) return "EADDRNOTAVAIL";
      peer = { family: 6, addr: remote.addr, port: remote.port };
    } else {
      const dst = remote.addr >>> 0;
      if (!isUnicastSource(dst)) return "EADDRNOTAVAIL";
      peer = { addr: dst, port: remote.port };
    }
    let port = opts.localPort ?? 0;
    if (!isValidPort(port)) return "EINVAL";
    if (port === 0) {
      const found = this.ephemeral.allocate(
        (p) => !this.listenerPorts.has(p) && !this.tcbs.has(p, peer),
      );
      if (found === undefined) return "EADDRNOTAVAIL";
      port = found;
    } else if (this.tcbs.has(port, peer)) {
      return "EADDRINUSE";
    }
    const local: Endpoint =
      peer.family === 6 ? { family: 6, addr: this.source6(), port } : { addr: this.addr, port };
    this.eventQueue.hold();
    try {
      return this.openActive(local, peer, now, opts);
    } finally {
      this.eventQueue.release();
    }
  }

  private openActive(local: Endpoint, peer: Endpoint, now: Instant, opts: ConnectOptions): TcbView {
    const tcb = openTcb.connect({
      local,
      remote: peer,
      iss: this.isn.next(local, peer, now),
      settings: { ...this.tcpSettings, ...opts.settings },
      now,
      challengeLimiter: this.challengeAcks,
      owner: this.owner,
      eventQueue: this.eventQueue,
      ...(opts.events !== undefined ? { events: opts.events } : {}),
    });
    this.startPathMtu(tcb, now);
    this.add(tcb);
    this.counters.count("tcp", "active-opens");
    this.eventQueue.defer(this.emitAdded, tcb, tcb.state);
    this.afterTcb(tcb);
    return tcb;
  }

  /** The connection table (every TCB not yet CLOSED), for the lab's state table. */
  connections(): TcbView[] {
    return [...this.serial.keys()];
  }

  listeners(): { port: number; listener: Listener }[] {
    return this.listenerPorts.entries().map((e) => ({ port: e.port, listener: e.item.listener }));
  }

  /** The listener on `port` that takes peers of `family` (without one: IPv4's, else IPv6's). */
  listenerOn(port: number, family?: PeerFamily): Listener | undefined {
    if (family !== undefined) return this.listenerPorts.get(port, family)?.listener;
    return (this.listenerPorts.get(port, 4) ?? this.listenerPorts.get(port, 6))?.listener;
  }

  /** Whether any listener or connection uses local TCP port `port`. */
  tcpPortInUse(port: number): boolean {
    return this.listenerPorts.has(port) || this.tcbs.portInUse(port);
  }

  /** Whether a connection (not a listener) uses local TCP port `port`. */
  tcpPortConnected(port: number): boolean {
    return this.tcbs.portInUse(port);
  }

  /** The connection of local port `localPort` with `remote`, if any. */
  connection(localPort: number, remote: Endpoint): TcbView | undefined {
    return this.tcbs.get(localPort, remote);
  }

  /** An unused TCP port from the ephemeral range (for bind(0) before listen). */
  allocateTcpPort(): number | undefined {
    return this.ephemeral.allocate((p) => !this.tcpPortInUse(p));
  }

  // ───────────────────────────── UDP calls ─────────────────────────────

  /**
   * Binds a UDP socket to `port` (0 = ephemeral) for peers of `family`
   * (both when left out), as `listen` does: one socket per port and family.
   */
  udpBind(
    port: number,
    queueBytes = this.udpQueueBytes,
    family?: PeerFamily,
  ): UdpSocket | StackError {
    if (!isValidPort(port)) return "EINVAL";
    if (port === 0) {
      const found = this.ephemeral.allocate((p) => !this.udpPorts.has(p));
      if (found === undefined) return "EADDRINUSE";
      port = found;
    } else if (!this.udpPorts.free(port, family)) {
      return "EADDRINUSE";
    }
    const sock = new UdpSocket(this, port, queueBytes, this.udpQueueDatagrams);
    this.udpPorts.set(port, family, sock);
    return sock;
  }

  udpSend(sock: UdpSocket, dst: Endpoint, data: Uint8Array): number | "EMSGSIZE" | "EINVAL" {
    if (!isValidPort(dst.port) || dst.port === 0) return "EINVAL";
    if (dst.family === 6) return this.udpSend6(sock, dst.addr, dst.port, data);
    // RFC 768: the length field is 16 bits; IPv4 bounds the datagram to 65535 − 20 − 8 bytes of data.
    if (data.length > 0xffff - IPV4_HEADER_LEN - UDP_HEADER_LEN) return "EMSGSIZE";
    const bytes = new Uint8Array(UDP_HEADER_LEN + data.length);
    emitUdp(
      { srcPort: sock.port, dstPort: dst.port, payload: data },
      this.addr,
      dst.addr >>> 0,
      bytes,
      0,
    );
    if (this.sendIp(dst.addr >>> 0, IpProto.UDP, bytes)) this.counters.count("udp", "out");
    return data.length;
  }

  private udpSend6(
    sock: UdpSocket,
    dst: Ipv6Addr,
    port: number,
    data: Uint8Array,
  ): number | "EMSGSIZE" | "EINVAL" {
    if (this.addr6 === undefined) return "EINVAL";
    // RFC 8200 §3: the payload length is 16 bits (no jumbograms, RFC 2675).
    if (data.length > 0xffff - UDP_HEADER_LEN) return "EMSGSIZE";
    const bytes = new Uint8Array(UDP_HEADER_LEN + data.length);
    emitUdp({ srcPort: sock.port, dstPort: port, payload: data }, this.addr6, dst, bytes, 0);
    if (this.sendIp6(dst, NextHeader.UDP, bytes)) this.counters.count("udp", "out");
    return data.length;
  }

  udpUnbind(sock: UdpSocket): void {
    this.udpPorts.delete(sock.port, sock);
  }

  // ───────────────────────────── statistics ─────────────────────────────

  /** `netstat -s`: packet counters and drops by protocol and reason. */
  stats(): CounterSnapshot {
    return this.counters.snapshot();
  }

  /** Fragment reassembly occupancy, for the lab. */
  reassemblyUsage(): { datagrams: number; bytes: number } {
    const [r4, r6] = [this.reassembler, this.reassembler6];
    return { datagrams: r4.datagramsHeld + r6.datagramsHeld, bytes: r4.bytesHeld + r6.bytesHeld };
  }

  /** An ICMP echo request from this host (the lab's `ping`). */
  ping(dst: Ipv4Addr, id: number, seq: number, data: Uint8Array): void {
    this.sendIcmp(dst >>> 0, { type: "echo-request", id: id & 0xffff, seq: seq & 0xffff, data });
    this.counters.count("icmp", "echo-requests-out");
  }

  /** An ICMPv6 echo request from this host (RFC 4443 §4.1); fragmented if it passes the MTU. */
  ping6(dst: Ipv6Addr, id: number, seq: number, data: Uint8Array): void {
    this.sendIcmp6(dst, { type: "echo-request", id: id & 0xffff, seq: seq & 0xffff, data });
    this.counters.count("icmp6", "echo-requests-out");
  }
}

/** Segments a TCP super-segment of `gsoSize`-byte segments stands for (its payload cut that way). */
function gsoSegmentCount(packet: Uint8Array, gsoSize: number): number {
  if (packet.length < 40 || packet[9] !== IpProto.TCP) return 1;
  const ihl = (packet[0]! & 0x0f) * 4;
  const total = Math.min((packet[2]! << 8) | packet[3]!, packet.length);
  const payload = total - ihl - (packet[ihl + 12]! >> 4) * 4;
  return payload > gsoSize ? Math.ceil(payload / gsoSize) : 1;
}

/** Whether two option lists encode to the same bytes (in practice: the same timestamps and SACK blocks). */
function sameOptions(a: readonly TcpOption[], b: readonly TcpOption[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as TcpOption;
    const y = b[i] as TcpOption;
    if (x.kind !== y.kind) return false;
    switch (x.kind) {
      case "timestamps":
        if (y.kind !== "timestamps" || x.tsVal !== y.tsVal || x.tsEcr !== y.tsEcr) return false;
        break;
      case "sack": {
        if (y.kind !== "sack" || x.blocks.length !== y.blocks.length) return false;
        for (let j = 0; j < x.blocks.length; j++) {
          const p = x.blocks[j] as readonly [number, number];
          const q = y.blocks[j] as readonly [number, number];
          if (p[0] !== q[0] || p[1] !== q[1]) return false;
        }
        break;
      }
      case "eol":
      case "nop":
      case "sackPermitted":
        break;
      default:
        // MSS, window scale and unknown kinds appear on SYNs, which never join a run.
        return false;
    }
  }
  return true;
}
