import { seqAdd, seqDiff, seqLe, seqLt } from "../wire/seq.ts";
import type { SentSegment } from "./send-buffer.ts";

/** RFC 6675 §2 DupThresh: duplicate ACKs (or SACKed segments above a hole) that mean loss. */
export const DUP_THRESH = 3;

/** One pass over the retransmission queue: RFC 6675 SetPipe() and NextSeg() candidates. */
export interface ScoreboardScan {
  /** RFC 6675 SetPipe(): bytes believed to be in the network. */
  readonly pipe: number;
  /** NextSeg() rule 1: the lowest segment that is lost, not SACKed and not yet retransmitted. */
  readonly lost: SentSegment | undefined;
  /** NextSeg() rule 3: the lowest segment below the highest SACKed one that is not SACKed, lost or retransmitted. */
  readonly unsacked: SentSegment | undefined;
  /** IsLost(SND.UNA) as a congestion signal (a record only too big for the path does not count). */
  readonly firstLost: boolean;
}

/**
 * The sender's SACK scoreboard (RFC 6675 §3–4). Marks live on the segment
 * records of the retransmission queue (`SentSegment.sacked`, `markedLost`,
 * `retransmitted`), so SND.UNA advancing forgets them with the records.
 * A segment counts as SACKed when a block covers all of it; a block that
 * covers only part of one (the peer or a middlebox cut our segments
 * differently) is kept as the record's `sackedPart`, whose bytes count in
 * pipe and in IsLost's byte rule — RFC 6675 counts octets, not segments.
 */
export class Scoreboard {
  /** Some record carries a mark: without any, pipe is simply SND.NXT − SND.UNA. */
  marked = false;

  /**
   * RFC 6675 Update(): marks the records the SACK blocks cover. Blocks are
   * [left, right) sequence ranges; parts below SND.UNA (a D-SACK, RFC 2883)
   * or beyond SND.NXT (bogus) are ignored. Returns the bytes newly SACKed.
   */
  update(
    records: readonly SentSegment[],
    sndUna: number,
    sndNxt: number,
    blocks: ReadonlyArray<readonly [number, number]>,
  ): number {
    let newly = 0;
    for (const [left, right] of blocks) {
      if (!seqLt(left, right) || !seqLt(sndUna, right) || seqLt(sndNxt, right)) continue;
      for (let i = firstEndingAfter(records, sndUna, left); i < records.length; i++) {
        const rec = records[i]!;
        if (!seqLt(rec.seq, right)) break;
        if (rec.sacked) continue;
        const end = seqAdd(rec.seq, rec.len);
        if (seqLe(left, rec.seq) && seqLe(end, right)) {
          newly += rec.len - partBytes(rec);
          rec.sacked = true;
          rec.sackedPart = undefined;
        } else {
          newly += this.coverPart(
            rec,
            seqLt(left, rec.seq) ? rec.seq : left,
            seqLt(right, end) ? right : end,
          );
        }
        this.marked = true;
      }
    }
    return newly;
  }

  /** Adds [from, to) inside `rec` to its SACKed part; returns the bytes newly covered. */
  private coverPart(rec: SentSegment, from: number, to: number): number {
    const before = partBytes(rec);
    const part = rec.sackedPart;
    if (part === undefined || seqLt(part[1], from) || seqLt(to, part[0])) {
      // Disjoint from what we knew: keep the larger of the two ranges.
      if (part === undefined || seqDiff(to, from) > seqDiff(part[1], part[0]))
        rec.sackedPart = [from, to];
    } else {
      rec.sackedPart = [seqLt(part[0], from) ? part[0] : from, seqLt(to, part[1]) ? part[1] : to];
    }
    const after = partBytes(rec);
    if (after >= rec.len) {
      rec.sacked = true;
      rec.sackedPart = undefined;
    }
    return Math.max(0, after - before);
  }

  /**
   * SetPipe() and NextSeg()'s candidates in one pass from the top. IsLost(S)
   * (RFC 6675 §4): DupThresh SACKed segments above S, or more than
   * (DupThresh − 1)·SMSS SACKed bytes above it — or a timeout / NewReno said so.
   */
  scan(records: readonly SentSegment[], smss: number, sack: boolean): ScoreboardScan {
    let pipe = 0;
    let lost: SentSegment | undefined;
    let unsacked: SentSegment | undefined;
    let sackedAbove = 0;
    let sackedBytesAbove = 0;
    let firstLost = false;
    let any = false;
    for (let i = records.length - 1; i >= 0; i--) {
      const rec = records[i]!;
      if (rec.sacked) {
        any = true;
        sackedAbove++;
        sackedBytesAbove += rec.len;
        continue;
      }
      if (rec.markedLost || rec.retransmitted || rec.tooBig) any = true;
      const part = partBytes(rec);
      const congestionLost =
        rec.markedLost === true ||
        (sack && (sackedAbove >= DUP_THRESH || sackedBytesAbove > (DUP_THRESH - 1) * smss));
      // Too big for the path: not in the network, resent first — but no congestion signal.
      const isLost = congestionLost || rec.tooBig === true;
      if (part > 0) {
        any = true;
        sackedBytesAbove += part; // these octets arrived: they count for the records below
      }
      if (!isLost) pipe += rec.len - part;
      if (rec.retransmitted) pipe += rec.len;
      if (i === 0) firstLost = congestionLost;
      if (rec.retransmitted || rec.probe || rec.syn) continue;
      if (isLost) lost = rec;
      else if (sackedAbove > 0) unsacked = rec;
    }
    if (!any) this.marked = false;
    return { pipe, lost, unsacked, firstLost };
  }

  /** RFC 6675 §5.1 / RFC 2018 §8: after a timeout every outstanding segment is presumed lost and SACK marks are dropped. */
  timeout(records: readonly SentSegment[]): void {
    for (const rec of records) {
      rec.sacked = false;
      rec.sackedPart = undefined;
      rec.retransmitted = false;
      rec.tooBig = false;
      rec.markedLost = !rec.probe && !rec.syn;
    }
    this.marked = records.length > 0;
  }

  /** A new recovery episode: earlier retransmissions no longer count as HighRxt. */
  newEpisode(records: readonly SentSegment[]): void {
    // A piece resent for the path MTU stays resent: only a timeout sends it again.
    for (const rec of records) if (!rec.tooBig) rec.retransmitted = false;
  }

  /** Sent larger than the path allows (path-mtu.ts): resend before new data, no recovery. */
  markTooBig(rec: SentSegment): void {
    rec.tooBig = true;
    rec.retransmitted = false;
    this.marked = true;
  }

  markLost(rec: SentSegment): void {
    rec.markedLost = true;
    this.marked = true;
  }

  markRetransmitted(rec: SentSegment): void {
    rec.retransmitted = true;
    this.marked = true;
  }

  /** The SACKed sequence ranges [start, end), merged, for display. */
  sackedRanges(records: readonly SentSegment[]): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    if (!this.marked) return out;
    for (const rec of records) {
      if (!rec.sacked) continue;
      const end = seqAdd(rec.seq, rec.len);
      const last = out.at(-1);
      if (last !== undefined && last[1] === rec.seq) last[1] = end;
      else out.push([rec.seq, end]);
    }
    return out;
  }
}

/** Index of the first record ending after `seq` (records are in sequence order from SND.UNA). */
function firstEndingAfter(records: readonly SentSegment[], sndUna: number, seq: number): number {
  const target = seqDiff(seq, sndUna);
  let lo = 0;
  let hi = records.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const rec = records[mid]!;
    if (seqDiff(seqAdd(rec.seq, rec.len), sndUna) <= target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Bytes of `rec` inside its SACKed part (the record may have been trimmed since). */
function partBytes(rec: SentSegment): number {
  const part = rec.sackedPart;
  if (part === undefined) return 0;
  const end = seqAdd(rec.seq, rec.len);
  const from = seqLt(part[0], rec.seq) ? rec.seq : part[0];
  const to = seqLt(end, part[1]) ? end : part[1];
  return Math.max(0, seqDiff(to, from));
}
