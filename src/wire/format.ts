/**
 * tcpdump-style one-line summaries (the shapes of tcpdump's print-tcp.c,
 * print-udp.c and print-icmp.c in non-verbose, numeric mode). These never
 * throw: anything unreadable is shown with its drop reason.
 */
import { formatIpv4Addr, type Ipv4Addr } from "./addr.ts";
import { be16 } from "./bytes.ts";
import { checksumAccumulate, checksumFinish, pseudoHeaderSum } from "./checksum.ts";
import { type IcmpMessage, IcmpUnreachable, icmpLength, parseIcmp } from "./icmp.ts";
import { IpProto, type Ipv4Header, isFragment, parseIpv4, parseIpv4Quote } from "./ipv4.ts";
import { formatFlags, formatOptions } from "./notation.ts";
import { seqAdd } from "./seq.ts";
import { parseTcp } from "./tcp.ts";
import { Flag, type TcpSegment } from "./tcp-types.ts";
import { parseUdp, type UdpDatagram } from "./udp.ts";

export interface RelativeSeq {
  /** Subtracted from this segment's seq (usually its sender's ISN). */
  readonly seqBase: number;
  /** Subtracted from ack and SACK blocks (the receiver's ISN). */
  readonly ackBase: number;
}

function endpoint(addr: Ipv4Addr, port: number): string {
  return `${formatIpv4Addr(addr)}.${port}`;
}

/**
 * `10.0.0.1.43512 > 10.0.0.2.80: Flags [S.], seq 100, ack 1, win 65535,
 * options [mss 1460], length 0`. Like tcpdump, seq is shown only when the
 * segment carries data or SYN/FIN/RST, as `seq A:B` when it carries data.
 */
export function formatTcp(
  src: Ipv4Addr,
  dst: Ipv4Addr,
  seg: TcpSegment,
  opts?: { readonly relative?: RelativeSeq },
): string {
  const seqBase = opts?.relative?.seqBase ?? 0;
  const ackBase = opts?.relative?.ackBase ?? 0;
  const len = seg.payload.length;
  let s = `${endpoint(src, seg.srcPort)} > ${endpoint(dst, seg.dstPort)}: Flags [${formatFlags(seg.flags)}]`;
  if (len > 0 || seg.flags & (Flag.SYN | Flag.FIN | Flag.RST)) {
    const seq = seqAdd(seg.seq, -seqBase);
    s += `, seq ${seq}`;
    if (len > 0) s += `:${seqAdd(seq, len)}`;
  }
  if (seg.flags & Flag.ACK) s += `, ack ${seqAdd(seg.ack, -ackBase)}`;
  s += `, win ${seg.window}`;
  if (seg.flags & Flag.URG) s += `, urg ${seg.urgentPointer}`;
  if (seg.options.length > 0) s += `, options ${formatOptions(seg.options, "tcpdump", ackBase)}`;
  return `${s}, length ${len}`;
}

/** `10.0.0.1.5000 > 10.0.0.2.7: UDP, length 5`. */
export function formatUdp(
  src: Ipv4Addr,
  dst: Ipv4Addr,
  d: Pick<UdpDatagram, "srcPort" | "dstPort" | "payload">,
): string {
  return `${endpoint(src, d.srcPort)} > ${endpoint(dst, d.dstPort)}: UDP, length ${d.payload.length}`;
}

function protoName(protocol: number): string {
  switch (protocol) {
    case IpProto.TCP:
      return "tcp";
    case IpProto.UDP:
      return "udp";
    case IpProto.ICMP:
      return "icmp";
    default:
      return `ip-proto-${protocol}`;
  }
}

function describeUnreachable(
  code: number,
  nextHopMtu: number | undefined,
  original: Uint8Array,
): string {
  const quote = parseIpv4Quote(original);
  if (!quote.ok) return `unreachable - #${code} (bad quote)`;
  const { header, transport } = quote.value;
  const dst = formatIpv4Addr(header.dst);
  switch (code) {
    case IcmpUnreachable.NET:
      return `net ${dst} unreachable`;
    case IcmpUnreachable.HOST:
      return `host ${dst} unreachable`;
    case IcmpUnreachable.PROTOCOL:
      return `${dst} protocol ${header.protocol} unreachable`;
    case IcmpUnreachable.PORT: {
      if (transport.length < 4) return `${dst} port unreachable (bad quote)`;
      const port = be16(transport, 2);
      if (header.protocol === IpProto.TCP || header.protocol === IpProto.UDP) {
        return `${dst} ${protoName(header.protocol)} port ${port} unreachable`;
      }
      return `${dst} protocol ${header.protocol} port ${port} unreachable`;
    }
    case IcmpUnreachable.FRAG_NEEDED:
      return nextHopMtu
        ? `${dst} unreachable - need to frag (mtu ${nextHopMtu})`
        : `${dst} unreachable - need to frag`;
    default:
      return `${dst} unreachable - #${code}`;
  }
}

const OTHER_ICMP_NAMES: Readonly<Record<number, string>> = {
  4: "source quench",
  5: "redirect",
  9: "router advertisement",
  10: "router solicitation",
  12: "parameter problem",
  13: "time stamp request",
  14: "time stamp reply",
  15: "information request",
  16: "information reply",
  17: "address mask request",
  18: "address mask reply",
};

function describeIcmp(msg: IcmpMessage): string {
  switch (msg.type) {
    case "echo-request":
    case "echo-reply":
      return `echo ${msg.type === "echo-request" ? "request" : "reply"}, id ${msg.id}, seq ${msg.seq}`;
    case "dest-unreachable":
      return describeUnreachable(msg.code, msg.nextHopMtu, msg.original);
    case "time-exceeded":
      if (msg.code === 0) return "time exceeded in-transit";
      if (msg.code === 1) return "ip reassembly time exceeded";
      return `time exceeded-#${msg.code}`;
    case "other":
      return OTHER_ICMP_NAMES[msg.icmpType] ?? `type-#${msg.icmpType}`;
  }
}

/** `10.0.0.1 > 10.0.0.2: ICMP echo request, id 7, seq 1, length 64`. */
export function formatIcmp(src: Ipv4Addr, dst: Ipv4Addr, msg: IcmpMessage): string {
  return `${formatIpv4Addr(src)} > ${formatIpv4Addr(dst)}: ICMP ${describeIcmp(msg)}, length ${icmpLength(msg)}`;
}

/** tcpdump's old fragment note: `(frag id:size@offset+)`, size being this fragment's data. */
function fragNote(h: Ipv4Header, payloadLength: number): string {
  return ` (frag ${h.identification}:${payloadLength}@${h.fragmentOffset}${h.moreFragments ? "+" : ""})`;
}

function transportChecksumOk(h: Ipv4Header, payload: Uint8Array): boolean {
  const sum = checksumAccumulate(
    payload,
    pseudoHeaderSum(h.src, h.dst, h.protocol, payload.length),
  );
  return checksumFinish(sum) === 0;
}

function ports(payload: Uint8Array): [number, number] | undefined {
  if (payload.length < 4) return undefined;
  return [be16(payload, 0), be16(payload, 2)];
}

/** `a.p > b.q: tcp (drop: reason)`, with ports when the bytes hold them. */
function formatBadTransport(h: Ipv4Header, payload: Uint8Array, reason: string): string {
  const p = ports(payload);
  const addrs = p
    ? `${endpoint(h.src, p[0])} > ${endpoint(h.dst, p[1])}`
    : `${formatIpv4Addr(h.src)} > ${formatIpv4Addr(h.dst)}`;
  return `${addrs}: ${protoName(h.protocol)} (drop: ${reason})`;
}

function formatTransport(
  h: Ipv4Header,
  payload: Uint8Array,
  fragmented: boolean,
  relative: RelativeSeq | undefined,
): string {
  const noVerify = { verifyChecksum: false } as const;
  switch (h.protocol) {
    case IpProto.TCP: {
      const r = parseTcp(payload, h.src, h.dst, noVerify);
      if (!r.ok) return formatBadTransport(h, payload, r.drop);
      const line = formatTcp(h.src, h.dst, r.value, relative ? { relative } : undefined);
      return !fragmented && !transportChecksumOk(h, payload) ? `${line} [bad tcp cksum]` : line;
    }
    case IpProto.UDP: {
      if (fragmented) {
        // A first fragment holds the header but not the whole datagram: trust the length field.
        const p = ports(payload);
        if (!p || payload.length < 8) return formatBadTransport(h, payload, "truncated");
        const udpLen = be16(payload, 4);
        return `${endpoint(h.src, p[0])} > ${endpoint(h.dst, p[1])}: UDP, length ${Math.max(0, udpLen - 8)}`;
      }
      const r = parseUdp(payload, h.src, h.dst, noVerify);
      if (!r.ok) return formatBadTransport(h, payload, r.drop);
      const line = formatUdp(h.src, h.dst, r.value);
      const udpBytes = payload.subarray(0, 8 + r.value.payload.length);
      return r.value.checksum !== 0 && !transportChecksumOk(h, udpBytes)
        ? `${line} [bad udp cksum]`
        : line;
    }
    case IpProto.ICMP: {
      const r = parseIcmp(payload, noVerify);
      if (!r.ok)
        return `${formatIpv4Addr(h.src)} > ${formatIpv4Addr(h.dst)}: icmp (drop: ${r.drop})`;
      const line = formatIcmp(h.src, h.dst, r.value);
      return !fragmented && checksumFinish(checksumAccumulate(payload)) !== 0
        ? `${line} [bad icmp cksum]`
        : line;
    }
    default:
      return `${formatIpv4Addr(h.src)} > ${formatIpv4Addr(h.dst)}: ${protoName(h.protocol)} ${payload.length}`;
  }
}

function formatPacketUnsafe(packet: Uint8Array, relative: RelativeSeq | undefined): string {
  const parsed = parseIpv4(packet, { verifyChecksum: false });
  if (!parsed.ok) {
    const what = parsed.drop === "truncated" ? "truncated-ip" : "bad-ip";
    return `IP ${what} (drop: ${parsed.drop})`;
  }
  const { header: h, payload } = parsed.value;
  const ipBad = checksumFinish(checksumAccumulate(packet.subarray(0, h.headerLength))) !== 0;
  const suffix = ipBad ? " [bad ip cksum]" : "";
  if (!isFragment(h)) return `IP ${formatTransport(h, payload, false, relative)}${suffix}`;
  const note = fragNote(h, payload.length);
  if (h.fragmentOffset !== 0) {
    // Not the first fragment: no transport header to read.
    const addrs = `${formatIpv4Addr(h.src)} > ${formatIpv4Addr(h.dst)}`;
    return `IP ${addrs}: ${protoName(h.protocol)}${note}${suffix}`;
  }
  return `IP ${formatTransport(h, payload, true, relative)}${note}${suffix}`;
}

/**
 * One line for a whole IPv4 packet, tcpdump style, starting with "IP ".
 * Checksums are checked and a bad one is flagged at the end of the line
 * (`[bad tcp cksum]`), except on fragments, which cannot be checked alone.
 */
export function formatPacket(
  packet: Uint8Array,
  opts?: { readonly relative?: RelativeSeq },
): string {
  try {
    return formatPacketUnsafe(packet, opts?.relative);
  } catch (err) {
    // Backstop only: the parsers are bounds-checked, so this is a bug report, not a path.
    return `IP unformattable (${err instanceof Error ? err.message : String(err)})`;
  }
}
