import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EPOCH, instant, ms } from "../../src/clock/time.ts";
import { VirtualClock } from "../../src/clock/virtual-clock.ts";
import { faults } from "../../src/link/faults.ts";
import {
  LINKTYPE_RAW,
  PCAP_MAGIC,
  PcapFormatError,
  pcapFile,
  pcapMemory,
  pcapTap,
  readPcap,
} from "../../src/link/pcap.ts";
import { SimWire } from "../../src/link/sim-wire.ts";
import { formatTraceLine, type TraceLine, trace } from "../../src/link/trace.ts";
import { Rng } from "../../src/util/rng.ts";
import { formatPacket } from "../../src/wire/format.ts";
import { A, B, data, isSyn, seqOf, syn } from "./packets.ts";

function wire(delay = ms(10)) {
  const clock = new VirtualClock();
  const w = new SimWire(clock, new Rng(1), { settings: { delay } });
  return { clock, w };
}

describe("trace", () => {
  test("records > for sent and < for received packets with time, bytes and the formatted line", () => {
    const { clock, w } = wire(ms(12.345));
    const lines: TraceLine[] = [];
    const a = trace(w.a, (l) => lines.push(l), clock, "a");
    const got: Uint8Array[] = [];
    a.onReceive((p) => got.push(p));
    w.b.onReceive(() => {});
    const first = syn(1000);
    a.send(first);
    first.fill(0); // the trace keeps its own copy
    w.b.send(data(1, "hi", B, A));
    clock.runUntilIdle();
    expect(got.length).toBe(1); // the tap passes packets through
    expect(lines.map((l) => [l.time, l.dir, l.name])).toEqual([
      [EPOCH, ">", "a"],
      [instant(12.345), "<", "a"],
    ]);
    expect(lines[0]!.packet).toEqual(syn(1000));
    expect(lines[0]!.text).toBe(formatPacket(syn(1000)));
    const { name: _name, ...unnamed } = lines[0]!;
    expect(formatTraceLine(unnamed)).toMatch(
      /^0\.000000 > 10\.0\.0\.1\.43512 > 10\.0\.0\.2\.80: Flags \[S\], seq 1000/,
    );
    expect(formatTraceLine(lines[1]!)).toMatch(
      /^a 0\.012345 < 10\.0\.0\.2\.80 > 10\.0\.0\.1\.43512: /,
    );
  });

  test("a formatter can be injected", () => {
    const { clock, w } = wire();
    const lines: TraceLine[] = [];
    const a = trace(
      w.a,
      (l) => lines.push(l),
      clock,
      undefined,
      (p) => `len=${p.length}`,
    );
    a.send(new Uint8Array(3));
    expect(lines[0]).toMatchObject({ dir: ">", text: "len=3", time: 0 });
    expect(lines[0]!.name).toBeUndefined();
    expect(formatTraceLine(lines[0]!)).toBe("0.000000 > len=3");
  });
});

describe("pcap writer and reader", () => {
  test("writes a classic header: magic, version 2.4, snaplen 65535, LINKTYPE_RAW", () => {
    const { bytes } = pcapMemory();
    const file = bytes();
    expect(file.length).toBe(24);
    const v = new DataView(file.buffer);
    expect(v.getUint32(0, true)).toBe(PCAP_MAGIC);
    expect([v.getUint16(4, true), v.getUint16(6, true)]).toEqual([2, 4]);
    expect(v.getUint32(16, true)).toBe(65535);
    expect(v.getUint32(20, true)).toBe(101);
  });

  test("records round-trip with microsecond timestamps", () => {
    const { writer, bytes } = pcapMemory();
    const p1 = syn(1);
    const p2 = data(2, "abc");
    writer.write(EPOCH, p1);
    writer.write(instant(1234.5678), p2); // 1.234568 s after rounding to µs
    writer.write(instant(3_600_000.999_9), p1); // carries into the next second
    const file = readPcap(bytes());
    expect(file.linktype).toBe(LINKTYPE_RAW);
    expect(file.records.map((r) => r.time)).toEqual([EPOCH, instant(1234.568), instant(3_600_001)]);
    expect(file.records[1]!.packet).toEqual(p2);
    expect(file.records[1]!.originalLength).toBe(p2.length);
    expect(writer.count).toBe(3);
  });

  test("packets beyond the snaplen are cut, keeping their original length", () => {
    const { writer, bytes } = pcapMemory({ snaplen: 40 });
    const big = data(1, "x".repeat(100));
    writer.write(instant(5), big);
    const [rec] = readPcap(bytes()).records;
    expect(rec!.packet).toEqual(big.subarray(0, 40));
    expect(rec!.originalLength).toBe(big.length);
  });

  test("the reader accepts big-endian and nanosecond files and names what is wrong otherwise", () => {
    const be = new Uint8Array(24 + 16 + 2);
    const v = new DataView(be.buffer);
    v.setUint32(0, 0xa1b23c4d); // nanosecond magic, big-endian
    v.setUint16(4, 2);
    v.setUint16(6, 4);
    v.setUint32(16, 65535);
    v.setUint32(20, 101);
    v.setUint32(24, 2); // 2 s
    v.setUint32(28, 500_000_000); // + 0.5 s
    v.setUint32(32, 2);
    v.setUint32(36, 2);
    be.set([0xab, 0xcd], 40);
    expect(readPcap(be)).toEqual({
      linktype: 101,
      snaplen: 65535,
      records: [{ time: instant(2500), packet: new Uint8Array([0xab, 0xcd]), originalLength: 2 }],
    });
    expect(() => readPcap(new Uint8Array(10))).toThrow(PcapFormatError);
    expect(() => readPcap(new Uint8Array(24))).toThrow(/magic/);
    expect(() => readPcap(be.subarray(0, 41))).toThrow(/truncated/);
  });

  test("a file writer produces the same bytes as the memory writer, flushed on close", () => {
    const dir = mkdtempSync(join(tmpdir(), "tcplab-pcap-"));
    try {
      const path = join(dir, "t.pcap");
      const file = pcapFile(path);
      const mem = pcapMemory();
      for (let i = 0; i < 2000; i++) {
        // ~100 KB: more than the 64 KiB buffer, so both paths of the buffer run
        const p = data(i, "y".repeat(i % 20));
        file.write(instant(i * 0.5), p);
        mem.writer.write(instant(i * 0.5), p);
      }
      file.close();
      const onDisk: Uint8Array = Uint8Array.from(readFileSync(path));
      expect(onDisk).toEqual(mem.bytes());
      expect(() => file.write(EPOCH, syn())).toThrow(/closed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("composed taps", () => {
  test("pcapTap(trace(faults(end))) records what the host sent and what reached it", () => {
    const { clock, w } = wire(ms(10));
    const f = faults(w.a, { rng: new Rng(3), clock });
    const lines: TraceLine[] = [];
    const { writer, bytes } = pcapMemory();
    const a = pcapTap(
      trace(f, (l) => lines.push(l), clock),
      writer,
      clock,
    );
    const atA: Uint8Array[] = [];
    const atB: Uint8Array[] = [];
    a.onReceive((p) => atA.push(p));
    w.b.onReceive((p) => atB.push(p));

    f.dropNext(1, "out", isSyn); // the first SYN never reaches the wire
    f.dropNext(1, "in"); // nor does the first packet back
    a.send(syn(100));
    clock.advance(ms(1));
    a.send(syn(100)); // the retransmission gets through
    clock.advance(ms(20));
    w.b.send(data(500, "dropped", B, A));
    w.b.send(data(501, "kept", B, A));
    clock.runUntilIdle();

    expect(atB.map(seqOf)).toEqual([100]);
    expect(atA.map(seqOf)).toEqual([501]);
    // The taps sit outside the faults: they see both SYNs leave, and only the arrival that survived.
    expect(lines.map((l) => [l.time, l.dir, seqOf(l.packet)])).toEqual([
      [0, ">", 100],
      [1, ">", 100],
      [31, "<", 501],
    ]);
    const recs = readPcap(bytes()).records;
    expect(recs.map((r) => [r.time, seqOf(r.packet)])).toEqual([
      [0, 100],
      [1, 100],
      [31, 501],
    ]);
    expect(recs.map((r) => r.packet)).toEqual(lines.map((l) => l.packet));
  });

  test("a tap inside the faults sees only what the faults let through", () => {
    const { clock, w } = wire(ms(10));
    const lines: TraceLine[] = [];
    const f = faults(
      trace(w.a, (l) => lines.push(l), clock),
      { clock },
    );
    f.onReceive(() => {});
    w.b.onReceive(() => {});
    f.dropNext(1, "out");
    f.send(syn(1));
    f.send(syn(2));
    clock.runUntilIdle();
    expect(lines.map((l) => seqOf(l.packet))).toEqual([2]);
  });
});

// Wireshark's reader is the judge of the file format. Under CI it must be present.
const tsharkPath = Bun.which("tshark");
const mustRun = process.env.CI === "true";
const tsharkTest = tsharkPath !== null || mustRun ? test : test.skip;

tsharkTest("tshark reads our pcap file: addresses, ports and timestamps as written", () => {
  if (tsharkPath === null)
    throw new Error("tshark is required under CI=true but was not found on PATH");
  const dir = mkdtempSync(join(tmpdir(), "tcplab-tshark-"));
  try {
    const path = join(dir, "capture.pcap");
    const writer = pcapFile(path);
    const packets: Array<[number, Uint8Array]> = [
      [0, syn(1000)],
      [1.5, data(1, "hello", B, A)],
      [2500.25, data(6, "world")],
    ];
    for (const [t, p] of packets) writer.write(instant(t), p);
    writer.close();
    const run = Bun.spawnSync(
      [
        tsharkPath,
        "-r",
        path,
        "-o",
        "tcp.check_checksum:TRUE",
        "-T",
        "fields",
        "-E",
        "separator=,",
        "-e",
        "ip.src",
        "-e",
        "ip.dst",
        "-e",
        "tcp.srcport",
        "-e",
        "tcp.dstport",
        "-e",
        "frame.time_epoch",
        "-e",
        "tcp.checksum.status",
      ],
      { env: { ...process.env, HOME: dir } },
    );
    const out = run.stdout.toString();
    expect(run.exitCode, run.stderr.toString()).toBe(0);
    const rows = out
      .trim()
      .split("\n")
      .map((line) => line.split(","));
    expect(rows.map((r) => r.slice(0, 4))).toEqual([
      ["10.0.0.1", "10.0.0.2", "43512", "80"],
      ["10.0.0.2", "10.0.0.1", "80", "43512"],
      ["10.0.0.1", "10.0.0.2", "43512", "80"],
    ]);
    expect(rows.map((r) => Number(r[4]))).toEqual([0, 0.0015, 2.50025]);
    expect(rows.map((r) => r[5])).toEqual(["1", "1", "1"]); // 1 = checksum good: bytes intact
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
