/**
 * Parsing never throws on bad bytes: it returns a record or a named drop
 * reason, which the stack counts (like `netstat -s`).
 */
export type DropReason =
  | "truncated"
  | "bad-version"
  | "bad-header-length"
  | "bad-total-length"
  | "bad-checksum"
  | "bad-data-offset"
  | "bad-option-length"
  | "bad-ip-option"
  | "bad-length"
  | "unsupported-protocol"
  | "unsupported-icmp"
  | "fragment-bad"
  | "fragment-overlap"
  | "fragment-timeout"
  | "fragment-memory"
  | "not-for-us"
  | "no-socket"
  | "bad-port"
  | "bad-flags"
  | "ttl-expired"
  // IPv6 (RFC 8200, RFC 4443, RFC 7112)
  | "bad-payload-length"
  | "bad-extension-header"
  | "hop-by-hop-not-first"
  | "too-many-extension-headers"
  | "bad-ipv6-option"
  | "unrecognized-option"
  | "unrecognized-routing-type"
  | "fragment-incomplete-chain"
  | "udp-zero-checksum"
  | "neighbor-discovery";

export type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly drop: DropReason; readonly detail?: string };

export function ok<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

export function drop<T>(reason: DropReason, detail?: string): Parsed<T> {
  return detail === undefined ? { ok: false, drop: reason } : { ok: false, drop: reason, detail };
}
