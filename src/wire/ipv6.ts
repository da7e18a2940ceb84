/**
 * IPv6 header and extension-header chain codec (RFC 8200 §3, §4), for a
 * host: we forward nothing, implement no routing type and no option beyond
 * padding, and say exactly why a packet is dropped — with, where RFC 8200
 * asks for one, what an ICMPv6 Parameter Problem about it would carry.
 */
import { be16, be32, put16, put32 } from "./bytes.ts";
import { type Ipv6Addr, isIpv6Multicast, readIpv6Addr, writeIpv6Addr } from "./ipv6-addr.ts";
import type { DropReason, Parsed } from "./result.ts";

/** Next Header values (IANA "Assigned Internet Protocol Numbers"). */
export const NextHeader = {
  HOP_BY_HOP: 0,
  TCP: 6,
  UDP: 17,
  ROUTING: 43,
  FRAGMENT: 44,
  ESP: 50,
  AH: 51,
  ICMPV6: 58,
  NO_NEXT_HEADER: 59,
  DESTINATION: 60,
} as const;

export const IPV6_HEADER_LEN = 40;
export const FRAGMENT_HEADER_LEN = 8;
/** RFC 8200 §5: every link carries at least 1280 bytes. */
export const IPV6_MIN_MTU = 1280;
export const IPV6_DEFAULT_HOP_LIMIT = 64;
export const IPV6_MAX_PAYLOAD_LEN = 0xffff;

/**
 * How many extension headers we walk before giving up. RFC 8200 §4.1 asks
 * a receiver to take any number in any order, but a sender uses each at
 * most once (Destination Options twice): six in all. Past this bound the
 * packet is a flood, not a datagram.
 */
export const MAX_EXTENSION_HEADERS = 16;
/** Non-padding options per Hop-by-Hop or Destination Options header (RFC 8504 §5.3; Linux's default). */
export const MAX_OPTIONS_PER_HEADER = 8;
/** Padding is for alignment, at most 8 bytes, so a run of more than 7 is not padding (RFC 8504 §5.3, RFC 4942 §2.1.9.5). */
export const MAX_PADDING_RUN = 7;

const OPT_PAD1 = 0;
const OPT_PADN = 1;

/** ICMPv6 Parameter Problem codes (RFC 4443 §3.4; code 3 from RFC 7112 §5). */
export const ParamProblemCode = {
  ERRONEOUS_FIELD: 0,
  UNRECOGNIZED_NEXT_HEADER: 1,
  UNRECOGNIZED_OPTION: 2,
  INCOMPLETE_CHAIN: 3,
} as const;

/** What an ICMPv6 Parameter Problem about a dropped packet carries. */
export interface ParamProblem {
  readonly code: number;
  /** Offset in the invoking packet of the byte at fault (RFC 4443 §3.4). */
  readonly pointer: number;
  /**
   * RFC 4443 §2.4(e.3): sent even when the packet went to a multicast
   * address — only for an unrecognised option whose type starts with
   * bits 10 (RFC 8200 §4.2).
   */
  readonly evenIfMulticast: boolean;
}

export interface Ipv6Header {
  readonly trafficClass: number;
  readonly flowLabel: number;
  /** Bytes after the fixed header, extension headers included. */
  readonly payloadLength: number;
  readonly nextHeader: number;
  readonly hopLimit: number;
  readonly src: Ipv6Addr;
  readonly dst: Ipv6Addr;
}

/** A Hop-by-Hop or Destination option other than padding. */
export interface Ipv6Option {
  readonly type: number;
  readonly data: Uint8Array;
}

export interface Ipv6Fragment {
  /** The first header of the fragmentable part. */
  readonly nextHeader: number;
  /** In bytes (the field counts 8-byte units). */
  readonly offset: number;
  readonly more: boolean;
  readonly identification: number;
}

export type Ipv6Extension =
  | {
      readonly kind: "hop-by-hop" | "destination";
      /** Offset of the header in the packet, and its length in bytes. */
      readonly at: number;
      readonly length: number;
      /** The options we skipped (their type starts with bits 00); padding left out. */
      readonly options: readonly Ipv6Option[];
    }
  | {
      readonly kind: "routing";
      readonly at: number;
      readonly length: number;
      readonly routingType: number;
      readonly segmentsLeft: number;
    }
  | { readonly kind: "fragment"; readonly at: number; readonly length: 8 };

export interface Ipv6FragmentInfo extends Ipv6Fragment {
  /** Offset of the Fragment header. */
  readonly at: number;
  /** Offset of the Next Header field that names the Fragment header. */
  readonly namedAt: number;
  /** RFC 6946: offset 0 and no more fragments — a whole packet, processed on its own. */
  readonly atomic: boolean;
}

export interface Ipv6Packet {
  readonly header: Ipv6Header;
  /** The extension headers walked, in order (one shared empty list when none). */
  readonly extensions: readonly Ipv6Extension[];
  /**
   * The Next Header value the walk ended on: the upper-layer protocol; in a
   * fragment (not atomic), the first header of the fragmentable part.
   */
  readonly protocol: number;
  /** Offset of the byte holding `protocol`: the pointer of a code 1 Parameter Problem (RFC 8200 §4). */
  readonly protocolAt: number;
  /** Offset of what `protocol` names (the upper-layer header, or the fragment's data). */
  readonly payloadOffset: number;
  /** Bytes [payloadOffset, 40 + payload length): link padding past it is ignored. */
  readonly payload: Uint8Array;
  /** The Fragment header, if the packet had one (atomic ones included). */
  readonly fragment?: Ipv6FragmentInfo;
}

/** A parse result; a drop that RFC 8200 answers with a Parameter Problem says what it carries. */
export type Ipv6Parsed =
  | { readonly ok: true; readonly value: Ipv6Packet }
  | {
      readonly ok: false;
      readonly drop: DropReason;
      readonly detail?: string;
      readonly paramProblem?: ParamProblem;
    };

export type Ipv6Drop = Extract<Ipv6Parsed, { readonly ok: false }>;

export interface Ipv6ParseOptions {
  /** Default MAX_EXTENSION_HEADERS. */
  readonly maxExtensionHeaders?: number;
}

const NO_EXTENSIONS: readonly Ipv6Extension[] = [];
const NO_OPTIONS: readonly Ipv6Option[] = [];

function fail(
  drop: DropReason,
  detail: string,
  paramProblem?: Omit<ParamProblem, "evenIfMulticast"> & { evenIfMulticast?: boolean },
): Ipv6Drop {
  if (paramProblem === undefined) return { ok: false, drop, detail };
  return {
    ok: false,
    drop,
    detail,
    paramProblem: { evenIfMulticast: false, ...paramProblem },
  };
}

function readHeader(bytes: Uint8Array): Ipv6Header {
  const w0 = be32(bytes, 0);
  return {
    trafficClass: (w0 >>> 20) & 0xff,
    flowLabel: w0 & 0xfffff,
    payloadLength: be16(bytes, 4),
    nextHeader: bytes[6]!,
    hopLimit: bytes[7]!,
    src: readIpv6Addr(bytes, 8),
    dst: readIpv6Addr(bytes, 24),
  };
}

/** Version and size of the fixed header; undefined when both are right. */
function badFixedHeader(bytes: Uint8Array): Ipv6Drop | undefined {
  if (bytes.length < 1) return fail("truncated", "empty packet");
  const version = bytes[0]! >> 4;
  if (version !== 6) return fail("bad-version", `version ${version}`);
  if (bytes.length < IPV6_HEADER_LEN) {
    return fail("truncated", `${bytes.length} bytes, header needs ${IPV6_HEADER_LEN}`);
  }
  return undefined;
}

function readFragment(bytes: Uint8Array, at: number, namedAt: number): Ipv6FragmentInfo {
  // RFC 8200 §4.5: 13 bits of offset in 8-byte units, 2 reserved bits, M.
  const field = be16(bytes, at + 2);
  const offset = field & 0xfff8;
  const more = (field & 1) !== 0;
  return {
    nextHeader: bytes[at]!,
    offset,
    more,
    identification: be32(bytes, at + 4),
    at,
    namedAt,
    atomic: offset === 0 && !more,
  };
}

/**
 * The options of a Hop-by-Hop or Destination Options header at `at`, of
 * `length` bytes (RFC 8200 §4.2). We recognise only Pad1 and PadN; any
 * other option is acted on by the two high-order bits of its type.
 */
function walkOptions(
  bytes: Uint8Array,
  at: number,
  length: number,
  dst: Ipv6Addr,
): readonly Ipv6Option[] | Ipv6Drop {
  const end = at + length;
  let options: Ipv6Option[] | undefined;
  let padRun = 0;
  let count = 0;
  let i = at + 2;
  while (i < end) {
    const type = bytes[i]!;
    if (type === OPT_PAD1) {
      if (++padRun > MAX_PADDING_RUN) {
        return fail("bad-ipv6-option", `more than ${MAX_PADDING_RUN} bytes of padding in a row`);
      }
      i++;
      continue;
    }
    if (i + 2 > end) return fail("bad-ipv6-option", `option ${type} has no length byte`);
    const optLen = 2 + bytes[i + 1]!;
    if (i + optLen > end) {
      return fail("bad-ipv6-option", `option ${type} length ${optLen - 2} runs past its header`);
    }
    if (type === OPT_PADN) {
      padRun += optLen;
      if (padRun > MAX_PADDING_RUN) {
        return fail("bad-ipv6-option", `more than ${MAX_PADDING_RUN} bytes of padding in a row`);
      }
      // RFC 4942 §2.1.9.5: PadN's data is zeros; anything else is a covert channel.
      for (let j = i + 2; j < i + optLen; j++) {
        if (bytes[j] !== 0) return fail("bad-ipv6-option", "PadN carries non-zero bytes");
      }
      i += optLen;
      continue;
    }
    padRun = 0;
    if (++count > MAX_OPTIONS_PER_HEADER) {
      return fail("bad-ipv6-option", `more than ${MAX_OPTIONS_PER_HEADER} options in one header`);
    }
    // RFC 8200 §4.2: 00 skip; 01 discard; 10 discard and report; 11 discard
    // and report unless the destination is multicast.
    const action = type >> 6;
    const what = `unrecognized option type 0x${type.toString(16).padStart(2, "0")}`;
    if (action === 1) return fail("unrecognized-option", what);
    if (action === 2) {
      return fail("unrecognized-option", what, {
        code: ParamProblemCode.UNRECOGNIZED_OPTION,
        pointer: i,
        evenIfMulticast: true,
      });
    }
    if (action === 3) {
      return isIpv6Multicast(dst)
        ? fail("unrecognized-option", `${what}, to a multicast address`)
        : fail("unrecognized-option", what, {
            code: ParamProblemCode.UNRECOGNIZED_OPTION,
            pointer: i,
          });
    }
    options ??= [];
    options.push({ type, data: bytes.subarray(i + 2, i + optLen) });
    i += optLen;
  }
  return options ?? NO_OPTIONS;
}

/**
 * Parses an IPv6 packet and walks its extension headers (RFC 8200 §4) to
 * the upper-layer header, or to the Fragment header of a fragment. Never
 * throws. Headers we do not walk — AH, ESP, No Next Header, anything
 * unknown — end the walk as the "protocol": the stack decides whether it
 * is supported (if not: Parameter Problem code 1 at `protocolAt`).
 *
 * Checked on the way, each a named drop:
 * - a payload length past the bytes ("truncated"), or 0 under a
 *   Hop-by-Hop header — a jumbogram, RFC 2675, which we do not take;
 * - a header that runs past the payload ("bad-extension-header");
 * - Hop-by-Hop anywhere but first (§4.1; Parameter Problem code 1);
 * - more than MAX_EXTENSION_HEADERS headers;
 * - options (§4.2) that cannot be followed, padding past 7 bytes, non-zero
 *   PadN, more than MAX_OPTIONS_PER_HEADER options ("bad-ipv6-option",
 *   silently, as RFC 8504 §5.3 allows); an option we do not know whose type
 *   says discard ("unrecognized-option", reported per its two high bits);
 * - a routing header with segments left (§4.4: every type is unknown to
 *   us, RFC 5095 for type 0; Parameter Problem code 0 at the type);
 * - a fragment (§4.5) that is not the last and not a multiple of 8 bytes
 *   (code 0 at the payload length), or that would end past 65535 bytes
 *   (code 0 at the fragment offset); a first fragment without the whole
 *   header chain (RFC 7112 §5; code 3, pointer 0).
 */
export function parseIpv6(bytes: Uint8Array, opts?: Ipv6ParseOptions): Ipv6Parsed {
  const bad = badFixedHeader(bytes);
  if (bad !== undefined) return bad;
  const payloadLength = be16(bytes, 4);
  const end = IPV6_HEADER_LEN + payloadLength;
  if (end > bytes.length) {
    return fail("truncated", `payload length ${payloadLength} > ${bytes.length - 40} bytes`);
  }
  if (payloadLength === 0 && bytes[6] === NextHeader.HOP_BY_HOP) {
    return fail("bad-payload-length", "payload length 0: a jumbogram (RFC 2675), not supported");
  }
  const header = readHeader(bytes);
  const max = opts?.maxExtensionHeaders ?? MAX_EXTENSION_HEADERS;
  let extensions: Ipv6Extension[] | undefined;
  let fragment: Ipv6FragmentInfo | undefined;
  let nh = header.nextHeader;
  let nhAt = 6;
  let at = IPV6_HEADER_LEN;
  const done = (): Ipv6Parsed => ({
    ok: true,
    value: {
      header,
      extensions: extensions ?? NO_EXTENSIONS,
      protocol: nh,
      protocolAt: nhAt,
      payloadOffset: at,
      payload: bytes.subarray(at, end),
      ...(fragment !== undefined ? { fragment } : {}),
    },
  });
  for (;;) {
    if (
      nh !== NextHeader.HOP_BY_HOP &&
      nh !== NextHeader.DESTINATION &&
      nh !== NextHeader.ROUTING &&
      nh !== NextHeader.FRAGMENT
    ) {
      return done();
    }
    if (nh === NextHeader.HOP_BY_HOP && at !== IPV6_HEADER_LEN) {
      return fail("hop-by-hop-not-first", `hop-by-hop header at offset ${at}`, {
        code: ParamProblemCode.UNRECOGNIZED_NEXT_HEADER,
        pointer: nhAt,
      });
    }
    if ((extensions?.length ?? 0) >= max) {
      return fail("too-many-extension-headers", `more than ${max} extension headers`);
    }
    if (at + 2 > end) {
      return fail("bad-extension-header", `header ${nh} at ${at} runs past the payload`);
    }
    const length = nh === NextHeader.FRAGMENT ? FRAGMENT_HEADER_LEN : (bytes[at + 1]! + 1) * 8;
    if (at + length > end) {
      return fail("bad-extension-header", `header ${nh} at ${at} runs past the payload`);
    }
    extensions ??= [];
    if (nh === NextHeader.HOP_BY_HOP || nh === NextHeader.DESTINATION) {
      const options = walkOptions(bytes, at, length, header.dst);
      if ("ok" in options) return options;
      const kind = nh === NextHeader.HOP_BY_HOP ? "hop-by-hop" : "destination";
      extensions.push({ kind, at, length, options });
    } else if (nh === NextHeader.ROUTING) {
      const routingType = bytes[at + 2]!;
      const segmentsLeft = bytes[at + 3]!;
      if (segmentsLeft !== 0) {
        return fail(
          "unrecognized-routing-type",
          `routing type ${routingType} with ${segmentsLeft} segments left`,
          { code: ParamProblemCode.ERRONEOUS_FIELD, pointer: at + 2 },
        );
      }
      extensions.push({ kind: "routing", at, length, routingType, segmentsLeft });
    } else {
      extensions.push({ kind: "fragment", at, length: FRAGMENT_HEADER_LEN });
      fragment = readFragment(bytes, at, nhAt);
      if (!fragment.atomic) {
        nhAt = at;
        nh = fragment.nextHeader;
        at += length;
        return checkFragment(fragment, bytes.subarray(at, end)) ?? done();
      }
      // RFC 6946 §4: an atomic fragment is a whole packet; walk on.
    }
    nhAt = at;
    nh = bytes[at]!;
    at += length;
  }
}

/**
 * The least of an upper-layer header a first fragment must hold (RFC 7112
 * §5 asks for the whole header chain; these sizes are Linux's): TCP's fixed
 * header, UDP's, ICMPv6's type, code, checksum and first word.
 */
function upperHeaderMin(protocol: number): number {
  switch (protocol) {
    case NextHeader.TCP:
      return 20;
    case NextHeader.UDP:
    case NextHeader.ICMPV6:
      return 8;
    default:
      return 0;
  }
}

/**
 * Whether `data`, the fragmentable part a first fragment carries (starting
 * with Next Header `nh`), holds the whole header chain through the
 * upper-layer header (RFC 7112 §5, RFC 8200 §4.5).
 */
export function holdsHeaderChain(data: Uint8Array, nh: number): boolean {
  const chain = findUpperLayer(data, nh, 0);
  return (
    chain !== undefined &&
    chain.fragmentOffset === undefined &&
    chain.at + upperHeaderMin(chain.protocol) <= data.length
  );
}

/** RFC 8200 §4.5's checks on one fragment, and RFC 7112's on a first one. */
function checkFragment(f: Ipv6FragmentInfo, data: Uint8Array): Ipv6Drop | undefined {
  const dataLength = data.length;
  if (f.offset === 0 && !holdsHeaderChain(data, f.nextHeader)) {
    return fail("fragment-incomplete-chain", "first fragment without the whole header chain", {
      code: ParamProblemCode.INCOMPLETE_CHAIN,
      pointer: 0,
    });
  }
  if (f.more && dataLength % 8 !== 0) {
    return fail(
      "fragment-bad",
      `${dataLength} bytes before the last fragment, not a multiple of 8`,
      {
        code: ParamProblemCode.ERRONEOUS_FIELD,
        pointer: 4,
      },
    );
  }
  // The reassembled payload: the unfragmentable part after the fixed header, then the data.
  const reassembled = f.at - IPV6_HEADER_LEN + f.offset + dataLength;
  if (reassembled > IPV6_MAX_PAYLOAD_LEN) {
    return fail("fragment-bad", `fragment ends at ${reassembled}, past 65535`, {
      code: ParamProblemCode.ERRONEOUS_FIELD,
      pointer: f.at + 2,
    });
  }
  return undefined;
}

/** True for a piece of a larger packet (a Fragment header that is not atomic). */
export function isIpv6Fragment(p: Pick<Ipv6Packet, "fragment">): boolean {
  return p.fragment !== undefined && !p.fragment.atomic;
}

/**
 * Where an extension header at `at` ends, for the headers that can be
 * stepped over by their length alone; undefined for anything else (an
 * upper-layer header, ESP, No Next Header). AH counts 4-byte units
 * (RFC 4302 §2.2), the others 8-byte units after the first 8.
 */
function stepOver(nh: number, bytes: Uint8Array, at: number): number | undefined {
  switch (nh) {
    case NextHeader.HOP_BY_HOP:
    case NextHeader.ROUTING:
    case NextHeader.DESTINATION:
      return at + 2 <= bytes.length ? at + (bytes[at + 1]! + 1) * 8 : undefined;
    case NextHeader.FRAGMENT:
      return at + FRAGMENT_HEADER_LEN;
    case NextHeader.AH:
      return at + 2 <= bytes.length ? at + (bytes[at + 1]! + 2) * 4 : undefined;
    default:
      return undefined;
  }
}

/** Where a header chain ends: the upper-layer protocol and its offset. */
export interface ChainEnd {
  readonly protocol: number;
  readonly at: number;
  /** Set when the walk met a Fragment header with a non-zero offset: no upper-layer header follows. */
  readonly fragmentOffset?: number;
}

/**
 * Follows a header chain by lengths alone, without acting on options:
 * from Next Header `nh` at bytes[at] to the first header that is not an
 * extension header. Undefined when a header does not fit in `bytes` or the
 * walk passes `maxHeaders`. For quoted packets and first fragments.
 */
export function findUpperLayer(
  bytes: Uint8Array,
  nh: number,
  at: number,
  maxHeaders = MAX_EXTENSION_HEADERS,
): ChainEnd | undefined {
  for (let n = 0; ; n++) {
    if (at > bytes.length) return undefined;
    const next = stepOver(nh, bytes, at);
    if (next === undefined) return { protocol: nh, at };
    if (n >= maxHeaders || next > bytes.length) return undefined;
    if (nh === NextHeader.FRAGMENT) {
      const offset = be16(bytes, at + 2) & 0xfff8;
      if (offset !== 0) return { protocol: bytes[at]!, at: next, fragmentOffset: offset };
    }
    nh = bytes[at]!;
    at = next;
  }
}

/** The header an ICMPv6 error quotes, and where its transport header starts. */
export interface Ipv6Quote {
  readonly header: Ipv6Header;
  readonly protocol: number;
  /** Whatever of the upper-layer header (and data) the quote holds. */
  readonly transport: Uint8Array;
  /** Set when the quoted packet was a fragment other than the first. */
  readonly fragmentOffset?: number;
}

/**
 * Reads the invoking packet an ICMPv6 error quotes (RFC 4443 §2.4(c)):
 * usually cut short, so the payload length only bounds what we read; the
 * extension headers are stepped over by length to find the transport
 * header (for the ports).
 */
export function parseIpv6Quote(bytes: Uint8Array): Parsed<Ipv6Quote> {
  const bad = badFixedHeader(bytes);
  if (bad !== undefined) return bad;
  const header = readHeader(bytes);
  const quoted = bytes.subarray(0, Math.min(bytes.length, IPV6_HEADER_LEN + header.payloadLength));
  const chain = findUpperLayer(quoted, header.nextHeader, IPV6_HEADER_LEN);
  if (chain === undefined) return fail("truncated", "quoted header chain");
  return {
    ok: true,
    value: {
      header,
      protocol: chain.protocol,
      transport: quoted.subarray(chain.at),
      ...(chain.fragmentOffset !== undefined ? { fragmentOffset: chain.fragmentOffset } : {}),
    },
  };
}

// ---------------------------------------------------------------- emitting

export type Ipv6ExtensionRepr =
  | {
      readonly kind: "hop-by-hop" | "destination";
      /** Written in order, then padded to a multiple of 8 bytes. Type 0 (Pad1) is one byte. */
      readonly options: readonly Ipv6Option[];
    }
  | {
      readonly kind: "routing";
      readonly routingType: number;
      readonly segmentsLeft: number;
      /** The type-specific data after the first 4 bytes; 4 + its length is a multiple of 8. Default 4 zero bytes. */
      readonly data?: Uint8Array;
    }
  | ({ readonly kind: "fragment" } & Omit<Ipv6Fragment, "nextHeader">);

export interface Ipv6Repr {
  readonly src: Ipv6Addr;
  readonly dst: Ipv6Addr;
  /** The upper-layer protocol: the Next Header of the last header written. */
  readonly nextHeader: number;
  /** Default 64. */
  readonly hopLimit?: number;
  readonly trafficClass?: number;
  readonly flowLabel?: number;
  /** Extension headers between the fixed header and the payload, in order. */
  readonly extensions?: readonly Ipv6ExtensionRepr[];
}

function optionsLength(options: readonly Ipv6Option[]): number {
  let n = 2;
  for (const o of options) n += o.type === OPT_PAD1 ? 1 : 2 + o.data.length;
  return (n + 7) & ~7;
}

function extensionLength(e: Ipv6ExtensionRepr): number {
  switch (e.kind) {
    case "hop-by-hop":
    case "destination":
      return optionsLength(e.options);
    case "routing":
      return 4 + (e.data?.length ?? 4);
    case "fragment":
      return FRAGMENT_HEADER_LEN;
  }
}

const CODE_OF_KIND: Readonly<Record<Ipv6ExtensionRepr["kind"], number>> = {
  "hop-by-hop": NextHeader.HOP_BY_HOP,
  destination: NextHeader.DESTINATION,
  routing: NextHeader.ROUTING,
  fragment: NextHeader.FRAGMENT,
};

/** The bytes emitIpv6 writes before the payload: 40 plus the extension headers. */
export function ipv6HeaderLength(repr: Pick<Ipv6Repr, "extensions">): number {
  let n = IPV6_HEADER_LEN;
  for (const e of repr.extensions ?? []) n += extensionLength(e);
  return n;
}

/** Writes one extension header at b[at] whose Next Header is `nh`; returns its length. */
function writeExtension(e: Ipv6ExtensionRepr, nh: number, b: Uint8Array, at: number): number {
  const length = extensionLength(e);
  b[at] = nh;
  switch (e.kind) {
    case "hop-by-hop":
    case "destination": {
      b[at + 1] = length / 8 - 1;
      let i = at + 2;
      for (const o of e.options) {
        b[i] = o.type & 0xff;
        if (o.type === OPT_PAD1) {
          i++;
          continue;
        }
        if (o.data.length > 255) throw new RangeError(`option data of ${o.data.length} bytes`);
        b[i + 1] = o.data.length;
        b.set(o.data, i + 2);
        i += 2 + o.data.length;
      }
      // Pad to the header's end: Pad1 for one byte, else PadN (RFC 8200 §4.2).
      const pad = at + length - i;
      if (pad === 1) b[i] = OPT_PAD1;
      else if (pad > 1) {
        b[i] = OPT_PADN;
        b[i + 1] = pad - 2;
        b.fill(0, i + 2, at + length);
      }
      return length;
    }
    case "routing": {
      if (length % 8 !== 0 || length / 8 - 1 > 255) {
        throw new RangeError(`routing header of ${length} bytes is not a multiple of 8`);
      }
      b[at + 1] = length / 8 - 1;
      b[at + 2] = e.routingType & 0xff;
      b[at + 3] = e.segmentsLeft & 0xff;
      if (e.data === undefined) b.fill(0, at + 4, at + 8);
      else b.set(e.data, at + 4);
      return length;
    }
    case "fragment":
      emitFragmentHeader({ ...e, nextHeader: nh }, b, at);
      return length;
  }
}

/** Writes a Fragment header (RFC 8200 §4.5) at buf[at]; returns its length, 8. */
export function emitFragmentHeader(f: Ipv6Fragment, buf: Uint8Array, at: number): number {
  if (f.offset % 8 !== 0 || f.offset < 0 || f.offset > 0xfff8) {
    throw new RangeError(`fragment offset ${f.offset} is not a multiple of 8 in range`);
  }
  if (at + FRAGMENT_HEADER_LEN > buf.length) throw new RangeError("buffer too small");
  const field = f.offset | (f.more ? 1 : 0);
  buf[at] = f.nextHeader & 0xff;
  buf[at + 1] = 0;
  put16(buf, at + 2, field);
  put32(buf, at + 4, f.identification);
  return FRAGMENT_HEADER_LEN;
}

/**
 * Writes the fixed header and the extension headers at buf[offset] for a
 * payload of `payloadLength` bytes that the caller places right after
 * them; each Next Header names the header after it, the last one
 * `repr.nextHeader`. Returns the bytes written (ipv6HeaderLength). Throws
 * RangeError on a repr that cannot be encoded: a programming error, not
 * bad input from the wire.
 */
export function emitIpv6(
  repr: Ipv6Repr,
  payloadLength: number,
  buf: Uint8Array,
  offset = 0,
): number {
  const headerLength = ipv6HeaderLength(repr);
  const plen = headerLength - IPV6_HEADER_LEN + payloadLength;
  if (plen > IPV6_MAX_PAYLOAD_LEN) throw new RangeError(`ipv6 payload length ${plen}`);
  if (offset + headerLength > buf.length) throw new RangeError("buffer too small for ipv6 header");
  const exts = repr.extensions ?? [];
  const tc = (repr.trafficClass ?? 0) & 0xff;
  const flow = (repr.flowLabel ?? 0) & 0xfffff;
  const b = buf;
  const o = offset;
  b[o] = 0x60 | (tc >>> 4);
  b[o + 1] = ((tc & 0x0f) << 4) | (flow >>> 16);
  b[o + 2] = (flow >>> 8) & 0xff;
  b[o + 3] = flow & 0xff;
  b[o + 4] = plen >>> 8;
  b[o + 5] = plen & 0xff;
  b[o + 6] = exts.length > 0 ? CODE_OF_KIND[exts[0]!.kind] : repr.nextHeader & 0xff;
  b[o + 7] = (repr.hopLimit ?? IPV6_DEFAULT_HOP_LIMIT) & 0xff;
  writeIpv6Addr(repr.src, b, o + 8);
  writeIpv6Addr(repr.dst, b, o + 24);
  let at = o + IPV6_HEADER_LEN;
  for (let k = 0; k < exts.length; k++) {
    const next = k + 1 < exts.length ? CODE_OF_KIND[exts[k + 1]!.kind] : repr.nextHeader & 0xff;
    at += writeExtension(exts[k]!, next, b, at);
  }
  return headerLength;
}
