/**
 * tcpdump-style one-line summaries of IPv6 packets (the shapes of tcpdump's
 * print-ip6.c, print-frag6.c and print-icmp6.c in non-verbose, numeric
 * mode), and `formatIpPacket` for a trace that carries both families.
 * These never throw: anything unreadable is shown with its drop reason.
 */
import { be16 } from "./bytes.ts";
import { checksumAccumulate, checksumFinish, pseudoHeaderSum6 } from "./checksum.ts";
import { formatPacket, formatTcp, type RelativeSeq } from "./format.ts";
import {
  type Icmpv6Message,
  Icmpv6ParamProblem,
  Icmpv6TimeExceeded,
  Icmpv6Type,
  Icmpv6Unreachable,
  parseIcmpv6,
} from "./icmpv6.ts";
import {
  findUpperLayer,
  type Ipv6Extension,
  type Ipv6Packet,
  NextHeader,
  parseIpv6,
  parseIpv6Quote,
} from "./ipv6.ts";
import { formatIpv6Addr, type Ipv6Addr, readIpv6Addr } from "./ipv6-addr.ts";
import { parseTcp } from "./tcp.ts";
import type { TcpSegment } from "./tcp-types.ts";
import { parseUdp } from "./udp.ts";

const UNREACHABLE_NAMES: Readonly<Record<number, string>> = {
  [Icmpv6Unreachable.NO_ROUTE]: "unreachable route",
  [Icmpv6Unreachable.ADMIN_PROHIBITED]: "unreachable prohibited",
  [Icmpv6Unreachable.BEYOND_SCOPE]: "beyond scope",
  [Icmpv6Unreachable.ADDRESS]: "unreachable address",
  [Icmpv6Unreachable.PORT]: "unreachable port",
  [Icmpv6Unreachable.SOURCE_POLICY]: "failed source policy",
  [Icmpv6Unreachable.REJECT_ROUTE]: "reject route",
};

const PARAM_PROBLEM_NAMES: Readonly<Record<number, string>> = {
  [Icmpv6ParamProblem.ERRONEOUS_FIELD]: "erroneous",
  [Icmpv6ParamProblem.UNRECOGNIZED_NEXT_HEADER]: "next header",
  [Icmpv6ParamProblem.UNRECOGNIZED_OPTION]: "option",
  [Icmpv6ParamProblem.INCOMPLETE_CHAIN]: "incomplete header chain",
};

const OTHER_NAMES: Readonly<Record<number, string>> = {
  130: "multicast listener query",
  131: "multicast listener report",
  132: "multicast listener done",
  [Icmpv6Type.ROUTER_SOLICITATION]: "router solicitation",
  [Icmpv6Type.ROUTER_ADVERTISEMENT]: "router advertisement",
  [Icmpv6Type.NEIGHBOR_SOLICITATION]: "neighbor solicitation",
  [Icmpv6Type.NEIGHBOR_ADVERTISEMENT]: "neighbor advertisement",
  [Icmpv6Type.REDIRECT]: "redirect",
  143: "multicast listener report v2",
};

function protoWord(protocol: number): string {
  if (protocol === NextHeader.TCP) return "tcp";
  if (protocol === NextHeader.UDP) return "udp";
  return `protocol ${protocol}`;
}

function describeUnreachable(code: number, original: Uint8Array): string {
  const name = UNREACHABLE_NAMES[code] ?? `unknown unreach code (${code})`;
  const quote = parseIpv6Quote(original);
  if (!quote.ok) return `destination unreachable, ${name} (bad quote)`;
  const { header, protocol, transport } = quote.value;
  const dst = formatIpv6Addr(header.dst);
  if (code !== Icmpv6Unreachable.PORT) return `destination unreachable, ${name} ${dst}`;
  if (transport.length < 4) return `destination unreachable, ${name} ${dst} (bad quote)`;
  const port = be16(transport, 2);
  return `destination unreachable, ${name}, ${dst} ${protoWord(protocol)} port ${port}`;
}

function describeTimeExceeded(code: number, original: Uint8Array): string {
  if (code === Icmpv6TimeExceeded.REASSEMBLY) return "time exceeded in-transit (reassembly)";
  if (code !== Icmpv6TimeExceeded.HOP_LIMIT)
    return `time exceeded in-transit, unknown code (${code})`;
  const quote = parseIpv6Quote(original);
  return quote.ok
    ? `time exceeded in-transit for ${formatIpv6Addr(quote.value.header.dst)}`
    : "time exceeded in-transit";
}

/** Neighbour discovery's target address (RFC 4861 §4.3, §4.4), after 4 reserved bytes. */
function target(body: Uint8Array): string | undefined {
  return body.length >= 20 ? formatIpv6Addr(readIpv6Addr(body, 4)) : undefined;
}

function describeIcmpv6(msg: Icmpv6Message): string {
  switch (msg.type) {
    case "echo-request":
    case "echo-reply":
      return `echo ${msg.type === "echo-request" ? "request" : "reply"}, id ${msg.id}, seq ${msg.seq}`;
    case "dest-unreachable":
      return describeUnreachable(msg.code, msg.original);
    case "packet-too-big":
      return `packet too big, mtu ${msg.mtu}`;
    case "time-exceeded":
      return describeTimeExceeded(msg.code, msg.original);
    case "parameter-problem": {
      const name = PARAM_PROBLEM_NAMES[msg.code] ?? `code-#${msg.code}`;
      return `parameter problem, ${name} - octet ${msg.pointer}`;
    }
    case "other": {
      const name = OTHER_NAMES[msg.icmpType] ?? `unknown icmp6 type (${msg.icmpType})`;
      const t = target(msg.body);
      if (msg.icmpType === Icmpv6Type.NEIGHBOR_SOLICITATION && t) return `${name}, who has ${t}`;
      if (msg.icmpType === Icmpv6Type.NEIGHBOR_ADVERTISEMENT && t) return `${name}, tgt is ${t}`;
      return name;
    }
  }
}

/** The part of a message after the addresses: `ICMP6, echo request, id 1, seq 1, length 64`. */
function icmpv6Text(msg: Icmpv6Message, length: number): string {
  return `ICMP6, ${describeIcmpv6(msg)}, length ${length}`;
}

/** `fd00::1 > fd00::2: ICMP6, echo request, id 1, seq 1, length 64` (the length is the message's). */
export function formatIcmpv6(
  src: Ipv6Addr,
  dst: Ipv6Addr,
  msg: Icmpv6Message,
  length: number,
): string {
  return `${formatIpv6Addr(src)} > ${formatIpv6Addr(dst)}: ${icmpv6Text(msg, length)}`;
}

/**
 * `fd00::1.80 > fd00::2.5000: Flags [S.], …`: formatTcp's text after its
 * IPv4 addresses, behind IPv6 ones, so the TCP part has one author.
 */
export function formatTcp6(
  src: Ipv6Addr,
  dst: Ipv6Addr,
  seg: TcpSegment,
  opts?: { readonly relative?: RelativeSeq },
): string {
  const v4 = formatTcp(0, 0, seg, opts);
  const body = v4.slice(v4.indexOf(": ") + 2);
  return `${formatIpv6Addr(src)}.${seg.srcPort} > ${formatIpv6Addr(dst)}.${seg.dstPort}: ${body}`;
}

/** `fd00::1.5000 > fd00::2.7: UDP, length 5`. */
export function formatUdp6(
  src: Ipv6Addr,
  dst: Ipv6Addr,
  d: { readonly srcPort: number; readonly dstPort: number; readonly payload: Uint8Array },
): string {
  return `${formatIpv6Addr(src)}.${d.srcPort} > ${formatIpv6Addr(dst)}.${d.dstPort}: UDP, length ${d.payload.length}`;
}

function upperChecksumOk(p: Ipv6Packet, protocol: number, bytes: Uint8Array): boolean {
  const { src, dst } = p.header;
  const sum = checksumAccumulate(bytes, pseudoHeaderSum6(src, dst, protocol, bytes.length));
  return checksumFinish(sum) === 0;
}

/** tcpdump's word for each extension header, as print-ip6.c walks them. */
function extensionText(e: Ipv6Extension, packet: Uint8Array, packetEnd: number): string {
  switch (e.kind) {
    case "hop-by-hop":
      return "HBH ";
    case "destination":
      return "DSTOPT ";
    case "routing":
      return `srcrt (len=${e.length / 8 - 1}, type=${e.routingType}, segleft=${e.segmentsLeft}) `;
    case "fragment": {
      // print-frag6.c: the offset and the bytes after the Fragment header.
      const offset = be16(packet, e.at + 2) & 0xfff8;
      return `frag (${offset}|${packetEnd - e.at - 8}) `;
    }
  }
}

function addrs(p: Ipv6Packet): string {
  return `${formatIpv6Addr(p.header.src)} > ${formatIpv6Addr(p.header.dst)}`;
}

function badUpper(p: Ipv6Packet, bytes: Uint8Array, what: string, reason: string): string {
  if (bytes.length < 4) return `${addrs(p)}: ${what} (drop: ${reason})`;
  const sp = be16(bytes, 0);
  const dp = be16(bytes, 2);
  const { src, dst } = p.header;
  return `${formatIpv6Addr(src)}.${sp} > ${formatIpv6Addr(dst)}.${dp}: ${what} (drop: ${reason})`;
}

/**
 * The upper layer's text, `bytes` being its header and data (in a first
 * fragment, only part of it). Only TCP and UDP name the addresses (with
 * their ports); for the rest the line's prefix has named them.
 */
function upperText(
  p: Ipv6Packet,
  protocol: number,
  bytes: Uint8Array,
  fragmented: boolean,
  relative: RelativeSeq | undefined,
): string {
  const { src, dst } = p.header;
  const noVerify = { verifyChecksum: false } as const;
  const flag = (line: string, what: string) =>
    !fragmented && !upperChecksumOk(p, protocol, bytes) ? `${line} [bad ${what} cksum]` : line;
  switch (protocol) {
    case NextHeader.TCP: {
      const r = parseTcp(bytes, src, dst, noVerify);
      if (!r.ok) return badUpper(p, bytes, "tcp", r.drop);
      return flag(formatTcp6(src, dst, r.value, relative ? { relative } : undefined), "tcp");
    }
    case NextHeader.UDP: {
      if (fragmented) {
        // A first fragment holds the header but not the whole datagram: trust the length field.
        if (bytes.length < 8) return badUpper(p, bytes, "udp", "truncated");
        const len = Math.max(0, be16(bytes, 4) - 8);
        const ports = {
          srcPort: be16(bytes, 0),
          dstPort: be16(bytes, 2),
        };
        return formatUdp6(src, dst, { ...ports, payload: new Uint8Array(len) });
      }
      const r = parseUdp(bytes, src, dst, noVerify);
      if (!r.ok) return badUpper(p, bytes, "udp", r.drop);
      // Over IPv6 a zero checksum is no exception: it fails like any wrong one (RFC 8200 §8.1).
      const line = formatUdp6(src, dst, r.value);
      const udpBytes = bytes.subarray(0, 8 + r.value.payload.length);
      return upperChecksumOk(p, protocol, udpBytes) ? line : `${line} [bad udp cksum]`;
    }
    case NextHeader.ICMPV6: {
      const r = parseIcmpv6(bytes, src, dst, noVerify);
      if (!r.ok && r.drop !== "neighbor-discovery") return `ICMP6 (drop: ${r.drop})`;
      // The parser drops neighbour discovery; a trace still names it.
      const msg: Icmpv6Message = r.ok
        ? r.value
        : { type: "other", icmpType: bytes[0]!, code: bytes[1]!, body: bytes.subarray(4) };
      return flag(icmpv6Text(msg, bytes.length), "icmp6");
    }
    case NextHeader.NO_NEXT_HEADER:
      return "no next header";
    default:
      return `ip-proto-${protocol} ${bytes.length}`;
  }
}

function formatIpv6Unsafe(packet: Uint8Array, relative: RelativeSeq | undefined): string {
  const parsed = parseIpv6(packet);
  if (!parsed.ok) {
    if (packet.length < 40 || packet[0]! >> 4 !== 6) {
      const what = parsed.drop === "truncated" ? "truncated-ip6" : "bad-ip6";
      return `IP6 ${what} (drop: ${parsed.drop})`;
    }
    const src = formatIpv6Addr(readIpv6Addr(packet, 8));
    const dst = formatIpv6Addr(readIpv6Addr(packet, 24));
    return `IP6 ${src} > ${dst}: (drop: ${parsed.drop})`;
  }
  const p = parsed.value;
  const end = p.payloadOffset + p.payload.length;
  let exts = "";
  for (const e of p.extensions) exts += extensionText(e, packet, end);
  // print-ip6.c names the addresses up front unless TCP or UDP comes first (they print them with ports).
  const first = p.header.nextHeader;
  const prefix =
    first === NextHeader.TCP || first === NextHeader.UDP ? exts : `${addrs(p)}: ${exts}`;
  const frag = p.fragment;
  if (frag === undefined || frag.atomic) {
    return `IP6 ${prefix}${upperText(p, p.protocol, p.payload, false, relative)}`;
  }
  // print-frag6.c: nothing past the Fragment header of a later fragment can be read.
  if (frag.offset !== 0) return `IP6 ${prefix.trimEnd()}`;
  const chain = findUpperLayer(p.payload, p.protocol, 0);
  if (chain === undefined) return `IP6 ${prefix}(drop: truncated)`;
  return `IP6 ${prefix}${upperText(p, chain.protocol, p.payload.subarray(chain.at), true, relative)}`;
}

/**
 * One line for a whole IPv6 packet, tcpdump style, starting with "IP6 ".
 * Checksums are checked and a bad one flagged at the end of the line,
 * except in fragments, which cannot be checked alone.
 */
export function formatIpv6Packet(
  packet: Uint8Array,
  opts?: { readonly relative?: RelativeSeq },
): string {
  try {
    return formatIpv6Unsafe(packet, opts?.relative);
  } catch (err) {
    // Backstop only: the parsers are bounds-checked, so this is a bug report, not a path.
    return `IP6 unformattable (${err instanceof Error ? err.message : String(err)})`;
  }
}

/** A packet of either family, by its version field: "IP6 …" or formatPacket's "IP …". */
export function formatIpPacket(
  packet: Uint8Array,
  opts?: { readonly relative?: RelativeSeq },
): string {
  return packet.length > 0 && packet[0]! >> 4 === 6
    ? formatIpv6Packet(packet, opts)
    : formatPacket(packet, opts);
}
