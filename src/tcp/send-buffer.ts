import type { Instant } from "../clock/time.ts";
import { seqAdd, seqDiff, seqLe } from "../wire/seq.ts";
import { ByteQueue } from "./byte-queue.ts";

/**
 * One segment as we sent it: the unit of retransmission and, later, of the
 * SACK scoreboard (which will add a `sacked` mark) and of RACK-style loss
 * detection (which uses `lastSentAt`).
 */
export interface SentSegment {
  /** First sequence number (the SYN's, if `syn`). */
  seq: number;
  /** Sequence space covered: data bytes + SYN + FIN. */
  len: number;
  syn: boolean;
  fin: boolean;
  /** A zero-window probe (RFC 9293 §3.8.6.1): retransmitted by the persist timer, not the RTO. */
  probe: boolean;
  firstSentAt: Instant;
  lastSentAt: Instant;
  /** 1 when sent once; more means retransmitted (Karn's rule). */
  transmissions: number;
  /** Loss-recovery marks (scoreboard.ts): covered by a SACK block (RFC 6675 §2). */
  sacked?: boolean;
  /**
   * Covered in part by SACK blocks: the one sequence range [start, end)
   * inside this record known to have arrived (the largest, if blocks left
   * several). Bounded per record, so a peer's odd blocks cannot grow a list.
   */
  sackedPart?: readonly [number, number];
  /** Deemed lost by a timeout or NewReno, whatever SACK says (scoreboard.ts). */
  markedLost?: boolean;
  /** Retransmitted in the current recovery or after the last timeout (RFC 6675 HighRxt). */
  retransmitted?: boolean;
  /**
   * Sent larger than the path MTU now known to allow (path-mtu.ts): dropped
   * on the way, to be resent in smaller pieces (RFC 1191 §6.5). Lost, but
   * not a sign of congestion: it never starts a recovery.
   */
  tooBig?: boolean;
}

/**
 * The send side's bytes and records: data from SND.UNA up to what the
 * application wrote (`bytes`, whose first byte has sequence number `headSeq`)
 * and the segments in flight between SND.UNA and SND.NXT (`inFlight`).
 */
export class SendBuffer {
  readonly bytes: ByteQueue;
  /** Sequence number of bytes.peek(0) — the first data byte not yet acknowledged. */
  headSeq: number;
  readonly inFlight: SentSegment[] = [];

  constructor(capacity: number, firstDataSeq: number) {
    // Nothing the send buffer hands out outlives the bytes (Tcb.drainOutput): its chunks recycle.
    this.bytes = new ByteQueue(capacity, true);
    this.headSeq = firstDataSeq;
  }

  /** Data bytes at and after `seq` (a sequence number within the buffered data). */
  slice(seq: number, len: number): Uint8Array {
    return this.bytes.peek(seqDiff(seq, this.headSeq), len);
  }

  /** As slice(), but a view into the buffer where possible: valid until the next acknowledge(). */
  view(seq: number, len: number): Uint8Array {
    return this.bytes.view(seqDiff(seq, this.headSeq), len);
  }

  /** Sequence number one past the last byte written by the application. */
  get endSeq(): number {
    return seqAdd(this.headSeq, this.bytes.length);
  }

  /**
   * Forgets everything before `ack` (the new SND.UNA): the acknowledged data
   * bytes, and fully acknowledged records; a partly acknowledged record is trimmed.
   */
  acknowledge(ack: number): SentSegment[] {
    const done: SentSegment[] = [];
    while (this.inFlight.length > 0) {
      const rec = this.inFlight[0]!;
      const end = seqAdd(rec.seq, rec.len);
      if (seqLe(end, ack)) {
        done.push(this.inFlight.shift()!);
        continue;
      }
      const cut = seqDiff(ack, rec.seq);
      if (cut > 0) {
        // Partly acknowledged: the SYN (first) is gone if cut ≥ 1.
        if (rec.syn) rec.syn = false;
        rec.seq = ack;
        rec.len -= cut;
      }
      break;
    }
    const dataAcked = seqDiff(ack, this.headSeq);
    if (dataAcked > 0) {
      const n = Math.min(dataAcked, this.bytes.length);
      this.bytes.consume(n);
      this.headSeq = seqAdd(this.headSeq, n);
    }
    return done;
  }

  /** The record starting at `seq`, if any. */
  recordAt(seq: number): SentSegment | undefined {
    return this.inFlight.find((r) => r.seq === seq);
  }
}
