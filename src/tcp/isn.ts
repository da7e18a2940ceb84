import type { Instant } from "../clock/time.ts";
import { type SipKey, sipHash, sipKey } from "../util/siphash.ts";
import type { Endpoint } from "../wire/addr.ts";
import { ipv4MappedIpv6 } from "../wire/ipv6-addr.ts";

/**
 * RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
 * where M is a timer ticking every 4 µs and F a keyed PRF: SipHash-2-4 of
 * the 4-tuple under the secret, its low 32 bits (as Linux's
 * `secure_tcp_seq`). Different 4-tuples get unrelated sequence spaces; one
 * 4-tuple's ISNs still grow with time, so an old incarnation's segments fall
 * behind a new one's.
 *
 * The secret comes from the edge (RFC 6528 §3: "secretkey ... a random
 * number"): this module draws no entropy of its own.
 */
export class IsnGenerator {
  private readonly key: SipKey;
  private readonly fixed: number | undefined;
  private readonly tuple = new Uint8Array(12);
  private readonly tupleView = new DataView(this.tuple.buffer);
  /** An IPv6 4-tuple: 16 bytes per address (RFC 6528 §3 hashes the addresses whole). */
  private readonly tuple6 = new Uint8Array(36);
  private readonly tuple6View = new DataView(this.tuple6.buffer);

  /** `secret`: 16 bytes. `fixed`: every ISN is this number instead (labs and tests). */
  constructor(opts: { readonly secret: Uint8Array; readonly fixed?: number | undefined }) {
    this.fixed = opts.fixed === undefined ? undefined : opts.fixed >>> 0;
    this.key = sipKey(opts.secret);
  }

  /** 16 bytes derived from this generator's secret for another use, named by `label` (SYN cookies). */
  derive(label: string): Uint8Array {
    const name = new TextEncoder().encode(label);
    const input = new Uint8Array(name.length + 1);
    input.set(name);
    const out = new Uint8Array(16);
    const view = new DataView(out.buffer);
    // Two PRF outputs, the label followed by a counter byte: 128 bits no other label shares.
    for (let i = 0; i < 2; i++) {
      input[name.length] = i;
      const { hi, lo } = sipHash(this.key, input);
      view.setUint32(i * 8, lo, true);
      view.setUint32(i * 8 + 4, hi, true);
    }
    return out;
  }

  next(local: Endpoint, remote: Endpoint, now: Instant): number {
    if (this.fixed !== undefined) return this.fixed;
    const f = sipHash(this.key, this.tupleBytes(local, remote)).lo;
    // M: one tick per 4 µs, i.e. 250 ticks per millisecond, modulo 2^32.
    const m = Math.floor(now * 250) % 0x1_0000_0000;
    return (f + m) >>> 0;
  }

  /** The 4-tuple's bytes: 12 for IPv4, 36 for IPv6 (lengths differ, so the families never share an input). */
  private tupleBytes(local: Endpoint, remote: Endpoint): Uint8Array {
    if (local.family !== 6 && remote.family !== 6) {
      const view = this.tupleView;
      view.setUint32(0, local.addr >>> 0);
      view.setUint16(4, local.port);
      view.setUint32(6, remote.addr >>> 0);
      view.setUint16(10, remote.port);
      return this.tuple;
    }
    const view = this.tuple6View;
    putAddr16(view, 0, local);
    view.setUint16(16, local.port);
    putAddr16(view, 18, remote);
    view.setUint16(34, remote.port);
    return this.tuple6;
  }
}

/** An address as 16 bytes at `at`: IPv6 as it is, IPv4 mapped (::ffff:a.b.c.d, RFC 4291 §2.5.5.2). */
function putAddr16(view: DataView, at: number, ep: Endpoint): void {
  const words = ep.family === 6 ? ep.addr : ipv4MappedIpv6(ep.addr);
  for (let i = 0; i < 4; i++) view.setUint32(at + 4 * i, words[i] as number);
}
