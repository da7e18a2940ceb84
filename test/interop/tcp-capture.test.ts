/**
 * The capture reader and SACK audit the kernel suites rely on (no root
 * needed): a correct exchange passes, and each kind of wrong block is named.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { instant } from "../../src/clock/time.ts";
import { pcapFile } from "../../src/link/pcap.ts";
import { ip } from "../../src/wire/addr.ts";
import { buildTcpPacket, tcpSegment } from "../../src/wire/packet.ts";
import { seqAdd } from "../../src/wire/seq.ts";
import { Flag, type TcpOption } from "../../src/wire/tcp-types.ts";
import { IntervalSet, readTcpCapture, SackAudit, StreamBytes } from "./tcp-capture.ts";

const dir = mkdtempSync(join(tmpdir(), "tcplab-capture-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("IntervalSet", () => {
  test("merges touching and overlapping runs and reports what was already there", () => {
    const s = new IntervalSet();
    expect(s.add(10, 20)).toEqual([]);
    expect(s.add(30, 40)).toEqual([]);
    expect(s.add(20, 30)).toEqual([]); // touches both: one run
    expect(s.ranges).toEqual([[10, 40]]);
    expect(s.add(35, 45)).toEqual([[35, 40]]);
    expect(s.add(0, 5)).toEqual([]);
    expect(s.ranges).toEqual([
      [0, 5],
      [10, 45],
    ]);
    expect(s.covers(10, 45)).toBe(true);
    expect(s.covers(4, 11)).toBe(false);
    expect(s.has(5)).toBe(false);
    expect(s.has(44)).toBe(true);
  });
});

describe("StreamBytes", () => {
  test("a resent copy must carry the bytes of the first", () => {
    const b = new StreamBytes();
    b.add(0, new Uint8Array([1, 2, 3, 4]));
    b.add(2, new Uint8Array([3, 4, 5])); // overlaps 2 bytes, same
    expect([b.resentBytes, b.mismatchedBytes]).toEqual([2, 0]);
    b.add(1, new Uint8Array([2, 9])); // byte 2 differs
    expect([b.resentBytes, b.mismatchedBytes, b.firstMismatch]).toEqual([4, 1, 2]);
    b.add(3_000_000, new Uint8Array([7])); // grows
    expect(b.have.ranges).toEqual([
      [0, 5],
      [3_000_000, 3_000_001],
    ]);
  });
});

describe("SackAudit", () => {
  const base = 0xfffffff0; // offsets wrap through 2^32 without trouble
  const at = (off: number) => seqAdd(base, off);
  const blk = (l: number, r: number) => [at(l), at(r)] as const;

  test("blocks of held, isolated data above the ACK, and a D-SACK of a duplicate, pass", () => {
    const a = new SackAudit(base, { maxBlocks: 3, exact: true });
    a.data(at(0), 100);
    a.data(at(200), 100); // 100..200 lost
    a.sack(1, at(100), [blk(200, 300)]);
    a.data(at(400), 100);
    a.sack(2, at(100), [blk(400, 500), blk(200, 300)]);
    a.data(at(100), 100); // the hole is filled
    a.data(at(0), 100); // a duplicate of old data
    a.sack(3, at(300), [blk(0, 100), blk(400, 500)]);
    expect(a.issues).toEqual([]);
    expect(a.dsackBlocks).toBe(1);
    expect(a.blocks).toBe(5);
  });

  test("a FIN out of order: a block may stop before it or cover it, not go past it", () => {
    const a = new SackAudit(base, { maxBlocks: 3, exact: true });
    a.data(at(0), 100);
    a.data(at(200), 100, true); // 100..200 lost; the FIN is at 300
    a.sack(1, at(100), [blk(200, 300)]);
    a.sack(2, at(100), [blk(200, 301)]);
    a.sack(3, at(100), [blk(200, 302)]);
    expect(a.issues.map((i) => [i.frame, i.kind])).toEqual([[3, "not-held"]]);
    expect(a.seen.ranges).toEqual([
      [0, 100],
      [200, 300],
    ]);
    expect(a.finAt).toBe(300);
  });

  test("a block of data never seen, not isolated, at the ACK, or a false D-SACK is named", () => {
    const a = new SackAudit(base, { maxBlocks: 3, exact: true });
    a.data(at(0), 100);
    a.data(at(200), 100);
    a.data(at(300), 100);
    a.sack(1, at(100), [blk(200, 500)]); // 400..500 never arrived
    a.sack(2, at(100), [blk(200, 300)]); // 300..400 held too: not isolated
    a.sack(3, at(100), [blk(50, 100)]); // below the ACK, never duplicated
    a.sack(4, at(100), [blk(200, 400), blk(100, 150)]); // second block at the ACK
    expect(a.issues.map((i) => [i.frame, i.kind])).toEqual([
      [1, "not-held"],
      [2, "not-isolated"],
      [3, "dsack-not-duplicate"],
      [4, "not-above-ack"],
    ]);
    // Four good blocks where three fit beside timestamps.
    const b = new SackAudit(base, { maxBlocks: 3, exact: true });
    for (const off of [200, 400, 600, 800]) b.data(at(off), 100);
    b.sack(5, at(100), [blk(800, 900), blk(600, 700), blk(400, 500), blk(200, 300)]);
    expect(b.issues.map((i) => [i.frame, i.kind])).toEqual([[5, "too-many-blocks"]]);
  });
});

describe("readTcpCapture", () => {
  test("SYN options of each side, and the SACK blocks of each side audited", () => {
    const path = join(dir, "c.pcap");
    const w = pcapFile(path);
    const A = ip("10.0.0.1");
    const B = ip("10.0.0.2");
    const ts: TcpOption = { kind: "timestamps", tsVal: 1, tsEcr: 0 };
    const synOpts: TcpOption[] = [
      { kind: "mss", value: 1460 },
      { kind: "sackPermitted" },
      ts,
      { kind: "nop" },
      { kind: "wscale", shift: 7 },
    ];
    let t = 0;
    const put = (src: number, dst: number, f: Parameters<typeof tcpSegment>[0]) =>
      w.write(instant(t++), buildTcpPacket(src, dst, tcpSegment(f)));
    const a2b = { srcPort: 4000, dstPort: 80 };
    const b2a = { srcPort: 80, dstPort: 4000 };
    put(A, B, { ...a2b, seq: 1000, flags: Flag.SYN, options: synOpts });
    put(B, A, {
      ...b2a,
      seq: 5000,
      ack: 1001,
      flags: Flag.SYN | Flag.ACK,
      options: [{ kind: "mss", value: 1460 }, { kind: "nop" }, { kind: "wscale", shift: 5 }, ts],
    });
    const data = new Uint8Array(100);
    // B sends 3 segments; the second is missing at A, which SACKs the third — and a wrong block.
    put(B, A, { ...b2a, seq: 5001, ack: 1001, flags: Flag.ACK, payload: data, options: [ts] });
    put(B, A, { ...b2a, seq: 5201, ack: 1001, flags: Flag.ACK, payload: data, options: [ts] });
    put(A, B, {
      ...a2b,
      seq: 1001,
      ack: 5101,
      flags: Flag.ACK,
      options: [ts, { kind: "sack", blocks: [[5201, 5301]] }],
    });
    put(A, B, {
      ...a2b,
      seq: 1001,
      ack: 5101,
      flags: Flag.ACK,
      options: [ts, { kind: "sack", blocks: [[5201, 5401]] }],
    });
    w.close();

    const cap = readTcpCapture(path, A);
    expect(cap.packets).toBe(6);
    expect(cap.unparsed).toEqual({});
    expect(cap.connections).toHaveLength(1);
    const c = cap.connections[0];
    expect(c?.key).toBe("10.0.0.1:4000>10.0.0.2:80");
    expect(c?.sides.client.syn).toMatchObject({ wscale: 7, sackPermitted: true, timestamps: true });
    expect(c?.sides.server.syn).toMatchObject({
      wscale: 5,
      sackPermitted: false,
      timestamps: true,
    });
    expect(c?.sides.client.withTimestamps).toBe(3);
    expect(c?.sides.server.dataSegments).toBe(2);
    expect(c?.sides.server.sent.have.ranges).toEqual([
      [0, 100],
      [200, 300],
    ]);
    const audit = c?.sides.client.audit;
    expect(audit?.sackSegments).toBe(2);
    expect(audit?.issues.map((i) => [i.frame, i.kind, i.block])).toEqual([
      [6, "not-held", [200, 400]],
    ]);
  });
});
