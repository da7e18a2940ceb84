/**
 * TUN offloads against the real kernel: a super-segment tcplab writes is
 * cut by the kernel into the segments tcplab's engine recorded, and a
 * super-segment the kernel's TCP hands tcplab is taken whole and
 * acknowledged at its end at once. Needs root (skipped without, unless
 * CI=true).
 *
 * The kernel cuts a super-segment only where it must: routing it to a
 * device without segmentation offload. So the first test routes tcplab's
 * super-segments through the kernel (IP forwarding) to a second tcplab
 * host on a device without offloads, whose parser verifies every checksum.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type LinkEnd, tapLink } from "../../src/link/link.ts";
import { openTun, type TunDevice } from "../../src/link/tun.ts";
import { emitIpv4, IpProto, parseIpv4 } from "../../src/wire/ipv4.ts";
import { type Offload, softwareSegments, tcpGso } from "../../src/wire/offload.ts";
import { emitTcp, parseTcp } from "../../src/wire/tcp.ts";
import { Flag, type TcpSegment } from "../../src/wire/tcp-types.ts";
import {
  cleanupAll,
  freshNetns,
  kernelHost,
  nsBash,
  seededChunks,
  sha256Hex,
  skipKernel,
  tempDir,
  timed,
  waitFor,
  within,
} from "./kernel-helpers.ts";

afterAll(cleanupAll);

interface Seen {
  readonly dir: "in" | "out";
  readonly packet: Uint8Array;
  readonly offload: Offload | undefined;
  /** Which burst of the device it came in (or went out after). */
  readonly batch: number;
}

/** A pass-through link that keeps a copy of every packet, with its offload and burst. */
function recorder(seen: Seen[]): (inner: LinkEnd) => LinkEnd {
  return (inner) => {
    let batch = 0;
    const tap = tapLink(inner, (dir, packet, offload) =>
      seen.push({ dir, packet: packet.slice(), offload, batch }),
    );
    tap.onBatchEnd = (handler) =>
      inner.onBatchEnd?.(() => {
        handler(); // the host answers the burst here
        batch++;
      });
    return tap;
  };
}

/** IPv4 + TCP of a recorded packet, checksums verified unless the link vouched for them. */
function tcpOf(s: Seen) {
  const ipp = parseIpv4(s.packet);
  if (!ipp.ok) throw new Error(`bad IPv4 packet: ${ipp.drop}`);
  const { header, payload } = ipp.value;
  const t = parseTcp(payload, header.src, header.dst, { verifyChecksum: s.offload === undefined });
  if (!t.ok) throw new Error(`bad TCP segment: ${t.drop}`);
  return { ip: header, tcp: t.value };
}

/**
 * A super-segment of `count` full segments from 10.0.0.2:80 to the
 * kernel's port 9 (closed), ACK set: each segment the kernel's TCP takes
 * draws one RST — none if its checksum were wrong.
 */
function strayRun(count: number): Uint8Array {
  const mss = 1000;
  const options: TcpSegment["options"] = [];
  const seg: TcpSegment = {
    srcPort: 80,
    dstPort: 9,
    seq: 1000,
    ack: 5000,
    flags: Flag.ACK,
    window: 1000,
    urgentPointer: 0,
    options,
    payload: new Uint8Array(count * mss).fill(0x61),
  };
  const packet = new Uint8Array(40 + seg.payload.length);
  const src = 0x0a000002;
  const dst = 0x0a000001;
  emitIpv4({ src, dst, protocol: IpProto.TCP, identification: 1 }, packet.length - 20, packet);
  emitTcp(seg, src, dst, packet, 20, { checksum: "partial" });
  return packet;
}

/** RSTs the kernel sends to tcplab through `tun` within a bounded wait. */
async function resetsFor(tun: TunDevice, packet: Uint8Array, expected: number): Promise<number> {
  let resets = 0;
  tun.onReceive((p, offload) => {
    const [seg] = softwareSegments(p, offload);
    const t =
      seg !== undefined && seg[9] === IpProto.TCP
        ? parseTcp(seg.subarray(20), 0x0a000001, 0x0a000002)
        : undefined;
    if (t?.ok && (t.value.flags & Flag.RST) !== 0) resets++;
  });
  tun.send(packet, tcpGso(1000));
  await waitFor(() => resets >= expected, 3000);
  await Bun.sleep(100); // and no more than that
  return resets;
}

describe.skipIf(skipKernel)("TUN offloads with the kernel", () => {
  test("a device without offloads cuts and checksums a super-segment in software; one with them hands it over whole", async () => {
    await timed("offload fallback", async () => {
      const device = { localAddr: "10.0.0.1", peerAddr: "10.0.0.2", name: "tlf" };
      const plain = await openTun({ ...device, netns: await freshNetns() });
      expect(plain.offloads).toBeUndefined();
      expect(plain.offload).toEqual({ requested: false, granted: "none" });
      // Five segments, each checksummed here: five resets.
      expect(await resetsFor(plain, strayRun(5), 5)).toBe(5);
      expect(plain.stats.superOut).toBe(0);
      expect(plain.stats.packetsOut).toBe(5);
      await plain.close();

      const gso = await openTun({ ...device, netns: await freshNetns(), offload: true });
      expect(gso.offloads).toEqual({ checksum: true, gsoMaxBytes: 65535 });
      // The kernel's TCP takes the super-segment as one (as a GRO packet): one reset.
      expect(await resetsFor(gso, strayRun(5), 1)).toBe(1);
      expect(gso.stats.superOut).toBe(1);
      await gso.close();
    });
  });

  test("a super-segment tcplab writes reaches the kernel as the segments tcplab recorded", async () => {
    await timed("super-segments out, cut by the kernel", async () => {
      const ns = await freshNetns();
      expect((await nsBash(ns.name, "sysctl -w net.ipv4.ip_forward=1")).exitCode).toBe(0);
      const sender = await kernelHost({
        netns: ns,
        tunName: "tlo",
        addr: "10.0.1.2",
        peer: "10.0.1.1",
        offload: true,
      });
      const seen: Seen[] = [];
      const receiver = await kernelHost({
        netns: ns,
        tunName: "tlp",
        addr: "10.0.2.2",
        peer: "10.0.2.1",
        offload: false,
        wrapLink: recorder(seen),
      });
      expect(sender.tun.offload.granted).toContain("tso4");
      expect(receiver.tun.offload.granted).toBe("none");
      const n = 4 * 1024 * 1024;
      const chunks = [...seededChunks(n, 41)];
      const hashed = new Promise<string>((resolve, reject) => {
        const server = receiver.net.listen(6000, (conn) => {
          (async () => {
            const h = new Bun.CryptoHasher("sha256");
            for await (const chunk of conn) h.update(chunk);
            await conn.end();
            conn.close();
            server.close();
            return h.digest("hex");
          })().then(resolve, reject);
        });
      });
      const conn = await sender.net.connect("10.0.2.2", 6000);
      for (const c of chunks) await conn.write(c);
      await conn.end();
      expect(await within(hashed, 30_000, "the forwarded transfer")).toBe(sha256Hex(chunks));
      conn.close();

      // tcplab wrote super-segments; the kernel forwarded each as segments.
      expect(sender.tun.stats.superOut).toBeGreaterThan(10);
      const data = seen
        .filter((s) => s.dir === "in")
        .map(tcpOf) // every checksum verified here …
        .filter((x) => x.tcp.payload.length > 0);
      expect(receiver.host.stats().drops).toEqual({}); // … and by the receiving host
      const mss = sender.host.tcpSettings.mss - 12; // timestamps on every segment
      for (const { ip, tcp } of data) {
        expect(tcp.payload.length).toBeLessThanOrEqual(mss);
        expect(ip.totalLength).toBeLessThanOrEqual(1500);
      }
      const full = data.filter((x) => x.tcp.payload.length === mss).length;
      expect(full).toBeGreaterThan(data.length * 0.9);
      // Every byte arrived in some segment. (The receiver shares the sender's
      // thread, so the kernel's queue to it may overflow and drop: what is
      // lost comes again later, retransmitted.)
      const first = data[0]?.tcp.seq ?? 0;
      const ranges = data
        .map((x) => [(x.tcp.seq - first) >>> 0, x.tcp.payload.length] as const)
        .sort((p, q) => p[0] - q[0]);
      let covered = 0;
      for (const [off, len] of ranges) {
        expect(off).toBeLessThanOrEqual(covered); // no hole
        covered = Math.max(covered, off + len);
      }
      expect(covered).toBe(n);
      // Where nothing was lost, segments follow one another as the super-segment held them.
      let inOrder = 0;
      for (let i = 1; i < data.length; i++) {
        const p = data[i - 1]?.tcp;
        const q = data[i]?.tcp;
        if (p && q && q.seq === (p.seq + p.payload.length) >>> 0) inOrder++;
      }
      expect(inOrder).toBeGreaterThan(data.length / 2);
    });
  });

  test("a super-segment from the kernel is taken whole and acknowledged at its end, in its burst", async () => {
    await timed("super-segments in, acknowledged", async () => {
      const seen: Seen[] = [];
      const kh = await kernelHost({ offload: true, wrapLink: recorder(seen) });
      const n = 8 * 1024 * 1024;
      const chunks = [...seededChunks(n, 43)];
      const file = join(tempDir(), "data.bin");
      writeFileSync(file, Buffer.concat(chunks));
      const hashed = new Promise<string>((resolve, reject) => {
        const server = kh.net.listen(6001, (conn) => {
          (async () => {
            const h = new Bun.CryptoHasher("sha256");
            for await (const chunk of conn) h.update(chunk);
            conn.close();
            server.close();
            return h.digest("hex");
          })().then(resolve, reject);
        });
      });
      const nc = await nsBash(kh.netns.name, `nc -N -w 10 10.0.0.2 6001 < ${file}`, 30_000);
      expect(nc.exitCode).toBe(0);
      expect(await within(hashed, 10_000, "the upload")).toBe(sha256Hex(chunks));

      const supers = seen.filter((s) => s.dir === "in" && (s.offload?.gsoSize ?? 0) > 0);
      expect(supers.length).toBeGreaterThan(10);
      expect(kh.tun.stats.superIn).toBe(supers.length);
      const acks = seen
        .filter((s) => s.dir === "out")
        .map((s) => ({ batch: s.batch, tcp: tcpOf(s).tcp }))
        .filter((a) => (a.tcp.flags & Flag.ACK) !== 0);
      for (const s of supers) {
        const { tcp } = tcpOf(s);
        const mss = s.offload?.gsoSize ?? 0;
        expect(tcp.payload.length).toBeGreaterThan(mss); // at least two segments' worth
        const end = (tcp.seq + tcp.payload.length + (tcp.flags & Flag.FIN ? 1 : 0)) >>> 0;
        // RFC 5681 §4.2: two full-sized segments are never left unacknowledged
        // for the delayed-ACK timer: the ACK of its end goes out with its burst.
        expect(acks.some((a) => a.batch === s.batch && a.tcp.ack === end)).toBe(true);
      }
      expect(kh.host.stats().drops).toEqual({});
    });
  });
});
