import { createHash } from "node:crypto";
import type { Millis } from "../clock/clock.ts";
import type { Endpoint } from "../wire/addr.ts";

/**
 * RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
 * where M is a timer ticking every 4 µs and F a keyed hash (here SHA-256 over
 * the secret and the 4-tuple, first 32 bits). Different 4-tuples get
 * unrelated sequence spaces; one 4-tuple's ISNs still grow with time, so an
 * old incarnation's segments fall behind a new one's.
 */
export class IsnGenerator {
  private readonly secret: Uint8Array;
  private readonly fixed: number | undefined;

  constructor(opts: { secret?: Uint8Array; fixed?: number } = {}) {
    this.fixed = opts.fixed === undefined ? undefined : opts.fixed >>> 0;
    // A random key per generator (RFC 6528 §3: "secretkey ... a random number").
    this.secret = opts.secret ?? crypto.getRandomValues(new Uint8Array(16));
  }

  /** 16 bytes derived from this generator's secret for another use, named by `label` (SYN cookies). */
  derive(label: string): Uint8Array {
    const digest = createHash("sha256").update(this.secret).update(label).digest();
    return new Uint8Array(digest.subarray(0, 16));
  }

  next(local: Endpoint, remote: Endpoint, now: Millis): number {
    if (this.fixed !== undefined) return this.fixed;
    const tuple = new Uint8Array(12);
    const view = new DataView(tuple.buffer);
    view.setUint32(0, local.addr >>> 0);
    view.setUint16(4, local.port);
    view.setUint32(6, remote.addr >>> 0);
    view.setUint16(10, remote.port);
    const digest = createHash("sha256").update(this.secret).update(tuple).digest();
    const f = digest.readUInt32BE(0);
    // M: one tick per 4 µs, i.e. 250 ticks per millisecond, modulo 2^32.
    const m = Math.floor(now * 250) % 0x1_0000_0000;
    return (f + m) >>> 0;
  }
}
