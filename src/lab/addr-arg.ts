/**
 * The lab's address arguments: a host name (`b`), a dotted quad
 * (`10.0.0.2`), an IPv6 address (`fd00::2`) or, where a command takes an
 * endpoint, either written with its port (`10.0.0.2:80`, `[fd00::2]:80`,
 * RFC 5952 §6). A malformed one is answered with what is wrong in it.
 */
import { parseIpv4Addr } from "../wire/addr.ts";
import { type IpAddr, parseIpAddr, parseIpEndpoint } from "../wire/ip-addr.ts";

/** An address as a command argument: the host it named, if it was a name, and a port if written. */
export interface AddrValue {
  readonly ip: IpAddr;
  readonly port?: number;
  /** The host name the argument was (`b`), so `-6` can pick that host's IPv6 address. */
  readonly host?: string;
}

/** How the forms are written, for error messages. */
const ADDR_FORMS = "an IPv4 address (10.0.0.2), an IPv6 address (fd00::2) or a host name";

/**
 * Reads `text` as an address (or an endpoint when `withPort`); `named`
 * resolves host names first. An error says what was wrong and how to write it.
 */
export function readAddrArg(
  text: string,
  withPort: boolean,
  named: (name: string) => IpAddr | undefined,
): AddrValue | { error: string } {
  const host = named(text);
  if (host !== undefined) return { ip: host, host: text };
  const ip = parseIpAddr(text);
  if (ip !== undefined) return { ip };
  if (withPort) {
    const ep = parseIpEndpoint(text);
    // An IpEndpoint is an IpAddr with a port.
    if (ep !== undefined) return { ip: ep, port: ep.port };
  }
  return { error: addrProblem(text, withPort) };
}

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** What is wrong with an address that did not parse, in one sentence. */
function addrProblem(text: string, withPort: boolean): string {
  const forms = withPort ? `${ADDR_FORMS}, with or without :PORT` : ADDR_FORMS;
  const bracketed = /^\[(.*)\](?::(.*))?$/.exec(text);
  if (bracketed !== null) {
    const inner = bracketed[1] as string;
    if (!withPort)
      return `brackets go around an IPv6 address only before a port ([fd00::2]:80): write ${inner}`;
    if (
      bracketed[2] === undefined ||
      !/^\d{1,5}$/.test(bracketed[2]) ||
      Number(bracketed[2]) > 65535
    )
      return `after [${inner}] comes :PORT, a port number 1–65535 ([fd00::2]:80)`;
    const why = ipv6Problem(inner);
    return why !== undefined
      ? `"${inner}" is not an IPv6 address: ${why}`
      : `"${text}" is not ${forms}`;
  }
  if (text.includes(":") && !/^\d+(\.\d+){3}:/.test(text)) {
    const why = ipv6Problem(text);
    if (why !== undefined) return `"${text}" is not an IPv6 address: ${why}`;
  }
  const v4 = /^([^:]*):(.*)$/.exec(text);
  if (v4 !== null && parseIpv4Addr(v4[1] as string) !== undefined) {
    return withPort
      ? `after ${v4[1]} comes :PORT, a port number 1–65535 (10.0.0.2:80)`
      : `the address goes without a port here: write ${v4[1]}`;
  }
  return `should be ${forms}, got "${text}"`;
}

/**
 * What to write for an IPv6 address given without its port: `fd00::2:80`
 * is one address (its last group 0x80), so if its head is an address too,
 * the port was likely meant (RFC 5952 §6: brackets, then the port).
 */
export function portHint(addr: string): string {
  const colon = addr.lastIndexOf(":");
  const head = addr.slice(0, colon);
  const tail = addr.slice(colon + 1);
  if (/^\d{1,5}$/.test(tail) && parseIpAddr(head)?.family === 6)
    return `; ${addr} is one IPv6 address: for port ${tail} write [${head}]:${tail}`;
  return `; an IPv6 address with its port is written [${addr}]:PORT`;
}

/**
 * Why text with colons is not RFC 4291 §2.2 text, or undefined if no
 * reason is found (then the caller's general message stands).
 */
function ipv6Problem(text: string): string | undefined {
  if (text.split("::").length > 2)
    return '"::" may appear only once (it stands for one run of zero groups)';
  if (text.includes(":::")) return 'three colons in a row: write "::" for zero groups';
  const dotted = text.includes(".") ? text.slice(text.lastIndexOf(":") + 1) : undefined;
  if (dotted !== undefined && parseIpv4Addr(dotted) === undefined)
    return `"${dotted}" is not a dotted IPv4 address in the last 32 bits (::ffff:10.0.0.2)`;
  const groups = (dotted === undefined ? text : text.slice(0, text.lastIndexOf(":")))
    .split(/::|:/)
    .filter((g) => g !== "");
  const bad = groups.find((g) => !HEX_GROUP.test(g));
  if (bad !== undefined) return `"${bad}" is not a group of one to four hex digits`;
  const count = groups.length + (dotted !== undefined ? 2 : 0);
  if (!text.includes("::") && count !== 8)
    return `${count} groups where eight are needed (or "::" for a run of zeros, as in fd00::2)`;
  if (text.includes("::") && count > 7)
    return `${count} groups and "::": at most seven beside "::"`;
  if (/^:[^:]|[^:]:$/.test(text)) return 'a single ":" at an end: write "::" there, or drop it';
  return undefined;
}
