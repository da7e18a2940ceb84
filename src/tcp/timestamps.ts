import { type Duration, type Instant, ms } from "../clock/time.ts";
import { seqGe, seqLe, seqLt } from "../wire/seq.ts";
import { Flag, type TcpOption, type TcpSegment } from "../wire/tcp-types.ts";
import type { TcpSettings } from "./settings.ts";

/**
 * RFC 7323 §3–§5: the Timestamps option on one connection — our TSval
 * clock, TS.Recent and Last.ACK.sent, RTTM samples and the PAWS test.
 *
 * Timestamp values live on a 32-bit circle like sequence numbers, so they
 * are compared with the modular helpers of src/wire/seq.ts.
 */

/** RFC 7323 §5.5: TS.Recent older than this is invalid (2^31 ms of a 1 ms clock ≈ 24.8 days; the RFC says 24 days). */
export const PAWS_IDLE_LIMIT: Duration = ms(24 * 24 * 60 * 60 * 1000);

/** Bytes of <nop,nop,TS> on a segment other than a SYN. */
export const TS_OPTION_SPACE = 12;

/** A per-connection offset from the ISS when no fixed TSval start is set: no uptime leaks (RFC 7323 §7.1). */
function offsetFromIss(iss: number): number {
  let x = (iss ^ 0x9e3779b9) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** The TSval a connection with ISS `iss` starts with (settings.tsValStart, else an offset from the ISS). */
export function initialTsVal(settings: TcpSettings, iss: number): number {
  return (settings.tsValStart ?? offsetFromIss(iss)) >>> 0;
}

export class Timestamps {
  /** Both SYNs carried the option (RFC 7323 §3.2). */
  enabled = false;
  /** TS.Recent: the TSval to echo (§4.3). */
  tsRecent = 0;
  /** When TS.Recent was last set; undefined while it has never been set. */
  tsRecentAt: Instant | undefined;
  /** Last.ACK.sent: the ACK field of the last segment we sent with ACK on. */
  lastAckSent = 0;
  /** TSecr of the segment being processed, if it carries one and the ACK bit (for RTTM). */
  segEcr: number | undefined;
  /** Statistics: segments dropped by PAWS, and for lacking the option. */
  pawsDrops = 0;
  missingDrops = 0;

  private readonly start: number;
  private readonly openedAt: Instant;

  /** `start`: the first TSval, when it is not the settings' (a SYN cookie's connection continues its SYN-ACK's clock). */
  constructor(settings: TcpSettings, iss: number, now: Instant, start?: number) {
    this.start = start === undefined ? initialTsVal(settings, iss) : start >>> 0;
    this.openedAt = now;
  }

  /** Our TSval at `now`: a 1 ms clock (RFC 7323 §5.4 allows 1 ms to 1 s per tick). */
  tsVal(now: Instant): number {
    return (this.start + Math.floor(now - this.openedAt)) >>> 0;
  }

  /**
   * The option for an outgoing segment. TSecr is TS.Recent when the ACK bit
   * is on; without it §3.2 says TSecr SHOULD be zero.
   */
  option(now: Instant, withAck: boolean): TcpOption {
    return { kind: "timestamps", tsVal: this.tsVal(now), tsEcr: withAck ? this.tsRecent : 0 };
  }

  /**
   * TS.Recent taken from the peer's SYN or SYN-ACK (§4.3: the first TSval
   * seen); a SYN-ACK's TSecr is the handshake's RTTM sample.
   */
  fromSyn(seg: TcpSegment, now: Instant): void {
    const ts = timestampOf(seg);
    this.segEcr = undefined;
    if (ts === undefined) return;
    this.tsRecent = ts.tsVal;
    this.tsRecentAt = now;
    if (seg.flags & Flag.ACK) this.segEcr = ts.tsEcr;
  }

  /** TS.Recent is valid: set, and not older than 24 days (§5.5). */
  recentValid(now: Instant): boolean {
    return this.tsRecentAt !== undefined && now - this.tsRecentAt <= PAWS_IDLE_LIMIT;
  }

  /**
   * Before the sequence-number check of a synchronized connection. Returns
   * "ok", "missing" (§3.2: a non-RST segment without TSopt is silently
   * dropped), or "paws" (§5.3 R1: SEG.TSval < TS.Recent with TS.Recent
   * valid, not a RST — the caller sends an ACK and drops the segment).
   */
  check(seg: TcpSegment, now: Instant): "ok" | "missing" | "paws" {
    this.segEcr = undefined;
    if (!this.enabled) return "ok";
    const rst = (seg.flags & Flag.RST) !== 0;
    const ts = timestampOf(seg);
    if (ts === undefined) {
      if (rst) return "ok"; // §3.2: a RST is processed without further validation
      this.missingDrops++;
      return "missing";
    }
    if (!rst && this.recentValid(now) && seqLt(ts.tsVal, this.tsRecent)) {
      this.pawsDrops++;
      return "paws";
    }
    // §3.2: TSecr is meaningful only with the ACK bit on.
    if (seg.flags & Flag.ACK) this.segEcr = ts.tsEcr;
    return "ok";
  }

  /**
   * §4.3 (2) and §5.3 R3, once the segment passed the sequence check:
   * SEG.TSval ≥ TS.Recent and SEG.SEQ ≤ Last.ACK.sent → TS.Recent = SEG.TSval.
   * So a delayed ACK echoes the earliest unacknowledged segment, and
   * out-of-order segments do not move TS.Recent. An invalid (24-day old)
   * TS.Recent is replaced by any in-sequence TSval (§5.5).
   */
  update(seg: TcpSegment, now: Instant): void {
    if (!this.enabled) return;
    const ts = timestampOf(seg);
    if (ts === undefined) return;
    const newer = !this.recentValid(now) || seqGe(ts.tsVal, this.tsRecent);
    if (newer && seqLe(seg.seq, this.lastAckSent)) {
      this.tsRecent = ts.tsVal;
      this.tsRecentAt = now;
    }
  }

  /**
   * RTTM (§4.1): a sample from the TSecr of an ACK that advanced SND.UNA.
   * TSecr 0 is treated as "no echo" (as Linux does); a value from the future
   * or further back than 2^31 ticks is ignored.
   */
  rttSample(now: Instant): Duration | undefined {
    if (!this.enabled || this.segEcr === undefined || this.segEcr === 0) return undefined;
    // An echo from before this clock started is not one of ours to time (a SYN cookie's SYN-ACK).
    if (seqLt(this.segEcr, this.start)) return undefined;
    const rtt = (this.tsVal(now) - this.segEcr) >>> 0;
    return rtt < 0x8000_0000 ? ms(rtt) : undefined;
  }
}

export function timestampOf(seg: TcpSegment): { tsVal: number; tsEcr: number } | undefined {
  for (const o of seg.options) if (o.kind === "timestamps") return o;
  return undefined;
}
