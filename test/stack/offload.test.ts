/**
 * A Host on a link with offloads (HostOptions.offload, Host.receive's
 * Offload): super-segments out, cut by the link into exactly the segments
 * the stack would have sent without them; super-segments in, taken whole
 * and acknowledged at once; checksums the link vouches for not verified.
 */
import { describe, expect, test } from "bun:test";
import { instant } from "../../src/clock/time.ts";
import type { Host } from "../../src/stack/host.ts";
import type { Listener } from "../../src/tcp/listener.ts";
import { BULK_BUFFERS, type TcpSettings } from "../../src/tcp/settings.ts";
import type { TcbView } from "../../src/tcp/view.ts";
import { parseIpv4 } from "../../src/wire/ipv4.ts";
import { type Offload, softwareSegments } from "../../src/wire/offload.ts";
import { parseTcp } from "../../src/wire/tcp.ts";
import { Flag } from "../../src/wire/tcp-types.ts";
import { A, B, bytes, host } from "./util.ts";

const OFFLOAD = { checksum: true, gsoMaxBytes: 65535 } as const;
const TCP = { ...BULK_BUFFERS, initialWindow: 100 };

interface Sent {
  readonly packet: Uint8Array;
  readonly offload: Offload | undefined;
}

/** Everything `h` has queued, as the link takes it. */
function drain(h: Host): Sent[] {
  const out: Sent[] = [];
  h.flushOutput((packet, offload) => out.push({ packet: packet.slice(), offload }));
  return out;
}

/** a connects to b:80; b (with or without offloads) accepts. */
function pair(
  offload: boolean,
  tcp: Partial<TcpSettings> = TCP,
): { a: Host; b: Host; server: TcbView; client: TcbView } {
  const a = host("a", { tcp });
  const b = host("b", { tcp, ...(offload ? { offload: OFFLOAD } : {}) });
  const listener = b.listen(80, 1) as Listener;
  const client = a.connect({ addr: B, port: 80 }, instant(0)) as TcbView;
  for (let i = 0; i < 4; i++) {
    for (const p of a.takeOutput()) b.receive(p, instant(0));
    for (const p of b.takeOutput()) a.receive(p, instant(0));
  }
  const server = listener.accept() as TcbView;
  expect(server).toBeDefined();
  return { a, b, server, client };
}

/**
 * b sends `data` to a; every packet b hands its link is cut in software
 * (what the kernel does with a super-segment) and given to a, whose ACKs
 * go back whole. Returns the segments as a received them and how many
 * super-segments b wrote.
 */
function transfer(offload: boolean, data: Uint8Array) {
  const { a, b, server, client } = pair(offload);
  server.send(data, instant(1));
  const received: Uint8Array[] = [];
  let supers = 0;
  for (let round = 0; round < 200; round++) {
    const out = drain(b);
    const acks = a.takeOutput();
    if (out.length === 0 && acks.length === 0) break;
    for (const { packet, offload: o } of out) {
      if (o !== undefined && o.gsoSize > 0) supers++;
      for (const seg of softwareSegments(packet, o)) {
        received.push(seg);
        a.receive(seg, instant(1));
      }
    }
    for (const p of acks) b.receive(p, instant(1));
  }
  return { received, supers, got: client.recv(data.length, instant(1)) };
}

describe("host with offloads: output", () => {
  test("super-segments cut by the link are byte for byte the segments sent without offloads", () => {
    const data = bytes(600_000, 3);
    const plain = transfer(false, data);
    const gso = transfer(true, data);
    expect(plain.supers).toBe(0);
    expect(gso.supers).toBeGreaterThan(5);
    expect(gso.received.length).toBe(plain.received.length);
    for (let i = 0; i < plain.received.length; i++) {
      expect(gso.received[i]).toEqual(plain.received[i] as Uint8Array);
    }
    expect(gso.got.length).toBe(data.length);
    expect(Buffer.from(gso.got).equals(Buffer.from(data))).toBe(true);
  });

  test("a run ends at 64 KiB and takes a short last segment; each segment is in exactly one packet", () => {
    const { b, server } = pair(true, { ...TCP, nagle: false }); // the short one goes at once
    server.send(bytes(50 * 1448 + 10, 5), instant(1)); // 50 full segments and a short one
    const out = drain(b);
    const shapes = out.map(({ packet, offload }) => ({
      bytes: packet.length,
      segments: softwareSegments(packet, offload).length,
    }));
    // 45 × 1448 + 52 header bytes = 65212 ≤ 65535 < 46 × 1448 + 52.
    expect(shapes).toEqual([
      { bytes: 52 + 45 * 1448, segments: 45 },
      { bytes: 52 + 5 * 1448 + 10, segments: 6 },
    ]);
    expect(out.map((o) => o.offload?.gsoSize)).toEqual([1448, 1448]);
    const seqs = out.flatMap(({ packet, offload }) =>
      softwareSegments(packet, offload).map((p) => {
        const t = parseTcp(p.subarray(20), B, A);
        if (!t.ok) throw new Error(t.drop);
        return [t.value.seq, t.value.payload.length] as const;
      }),
    );
    for (let i = 1; i < seqs.length; i++) {
      const [s0, l0] = seqs[i - 1] as readonly [number, number];
      expect((seqs[i] as readonly [number, number])[0]).toBe((s0 + l0) >>> 0);
    }
    // Counted as segments, as the peer sees them.
    expect(seqs.length).toBe(51);
    const p = b.stats().packets;
    expect(p["tcp.gso-out"]).toBe(2);
    expect(p["tcp.out"]).toBe(1 + 51); // the SYN-ACK and the segments
  });

  test("a pure ACK and a SYN go out alone, with a partial checksum", () => {
    const a = host("a");
    const b = host("b", { offload: OFFLOAD });
    b.listen(80, 1);
    a.connect({ addr: B, port: 80 }, instant(0));
    for (const p of a.takeOutput()) b.receive(p, instant(0));
    const [synAck, ...rest] = drain(b);
    expect(rest).toEqual([]);
    expect(synAck?.offload).toEqual({ checksum: "partial", gsoSize: 0 });
    const ipp = parseIpv4(synAck?.packet as Uint8Array);
    if (!ipp.ok) throw new Error(ipp.drop);
    expect(parseTcp(ipp.value.payload, B, A).ok).toBe(false); // the link completes it
    const [done] = softwareSegments(synAck?.packet as Uint8Array, synAck?.offload);
    const t = parseTcp((done as Uint8Array).subarray(20), B, A);
    expect(t.ok && t.value.flags).toBe(Flag.SYN | Flag.ACK);
  });
});

describe("host with offloads: input", () => {
  /** b's data to a as super-segments, not cut: what the kernel hands tcplab. */
  function superSegments(n: number): { a: Host; client: TcbView; supers: Sent[]; end: number } {
    const { a, b, server, client } = pair(true);
    server.send(bytes(n, 9), instant(1));
    const supers = drain(b);
    const last = supers[supers.length - 1] as Sent;
    const segs = softwareSegments(last.packet, last.offload);
    const t = parseTcp((segs[segs.length - 1] as Uint8Array).subarray(20), B, A);
    if (!t.ok) throw new Error(t.drop);
    return { a, client, supers, end: (t.value.seq + t.value.payload.length) >>> 0 };
  }

  test("a super-segment is taken whole and acknowledged at once (RFC 5681 §4.2: ≥ 2 full segments)", () => {
    const { a, client, supers, end } = superSegments(40 * 1448);
    expect(supers.length).toBe(1);
    const { packet, offload } = supers[0] as Sent;
    a.receive(packet, instant(2), offload);
    const acks = a.takeOutput();
    expect(acks.length).toBe(1); // one ACK for the arrival, not one per 2 segments
    const t = parseTcp((acks[0] as Uint8Array).subarray(20), A, B);
    if (!t.ok) throw new Error(t.drop);
    expect(t.value.flags & Flag.ACK).toBe(Flag.ACK);
    expect(t.value.ack).toBe(end);
    expect(t.value.payload.length).toBe(0);
    expect(client.recv(1 << 20, instant(2)).length).toBe(40 * 1448);
    // Counted as the segments it stands for, plus one super-segment.
    const p = a.stats().packets;
    expect(p["tcp.gso-in"]).toBe(1);
    expect(p["tcp.in"]).toBe(1 + 40); // the SYN-ACK and the 40 the super-segment holds
  });

  test("two full segments' worth in one super-segment are acknowledged at once too", () => {
    const { a, supers, end } = superSegments(2 * 1448);
    const { packet, offload } = supers[0] as Sent;
    expect(offload?.gsoSize).toBe(1448);
    a.receive(packet, instant(2), offload);
    const acks = a.takeOutput();
    expect(acks.length).toBe(1);
    const t = parseTcp((acks[0] as Uint8Array).subarray(20), A, B);
    expect(t.ok && t.value.ack).toBe(end);
    // And a second one, after it: still at once (the first did not make 1448 look small).
    const { a: a2, supers: s2 } = superSegments(4 * 1448);
    expect(s2.length).toBe(1);
    a2.receive((s2[0] as Sent).packet, instant(2), (s2[0] as Sent).offload);
    expect(a2.takeOutput().length).toBe(1);
  });

  test("without the link's word, a partial checksum is a bad checksum", () => {
    const { a, supers } = superSegments(3 * 1448);
    const { packet } = supers[0] as Sent;
    a.receive(packet, instant(2)); // no Offload: verified, and the pseudo-header sum alone fails
    expect(a.stats().drops["tcp.bad-checksum"]).toBe(1);
    expect(a.takeOutput()).toEqual([]);
  });
});
