import { describe, expect, test } from "bun:test";
import { ip } from "../../src/wire/addr.ts";
import { formatIcmp, formatPacket, formatTcp, formatUdp } from "../../src/wire/format.ts";
import { icmpErrorQuote } from "../../src/wire/icmp.ts";
import { emitIpv4, IpProto } from "../../src/wire/ipv4.ts";
import { formatFlags, parseFlags } from "../../src/wire/notation.ts";
import {
  buildIcmpPacket,
  buildTcpPacket,
  buildUdpPacket,
  tcpSegment,
} from "../../src/wire/packet.ts";
import { Flag, type TcpSegment } from "../../src/wire/tcp-types.ts";
import { hexBytes } from "./prop.ts";

const A = ip("10.0.0.1");
const B = ip("10.0.0.2");

function seg(fields: Partial<TcpSegment>): TcpSegment {
  return tcpSegment({ srcPort: 43512, dstPort: 80, ...fields });
}

describe("formatFlags (tcpdump letters and order)", () => {
  test("common combinations", () => {
    expect(formatFlags(Flag.SYN)).toBe("S");
    expect(formatFlags(Flag.SYN | Flag.ACK)).toBe("S.");
    expect(formatFlags(Flag.ACK)).toBe(".");
    expect(formatFlags(Flag.PSH | Flag.ACK)).toBe("P.");
    expect(formatFlags(Flag.FIN | Flag.ACK)).toBe("F.");
    expect(formatFlags(Flag.RST)).toBe("R");
    expect(formatFlags(Flag.RST | Flag.ACK)).toBe("R.");
  });

  test("tcpdump's order puts FIN first; every bit has a letter; nothing is 'none'", () => {
    expect(formatFlags(Flag.SYN | Flag.FIN)).toBe("FS");
    expect(formatFlags(0xff)).toBe("FSRP.UEW");
    expect(formatFlags(0)).toBe("none");
  });

  test("parseFlags inverts formatFlags", () => {
    for (let f = 0; f < 256; f++) expect(parseFlags(formatFlags(f))).toBe(f);
    expect(parseFlags("SX")).toBeUndefined();
  });
});

describe("formatTcp", () => {
  test("S with mss", () => {
    const s = seg({ flags: Flag.SYN, window: 65535, options: [{ kind: "mss", value: 1460 }] });
    expect(formatTcp(A, B, s)).toBe(
      "10.0.0.1.43512 > 10.0.0.2.80: Flags [S], seq 0, win 65535, options [mss 1460], length 0",
    );
  });

  test("S. with the usual Linux option set", () => {
    const s = tcpSegment({
      srcPort: 80,
      dstPort: 43512,
      flags: Flag.SYN | Flag.ACK,
      seq: 100,
      ack: 1,
      window: 65535,
      options: [
        { kind: "mss", value: 1460 },
        { kind: "sackPermitted" },
        { kind: "timestamps", tsVal: 1, tsEcr: 0 },
        { kind: "nop" },
        { kind: "wscale", shift: 7 },
      ],
    });
    expect(formatTcp(B, A, s)).toBe(
      "10.0.0.2.80 > 10.0.0.1.43512: Flags [S.], seq 100, ack 1, win 65535, options [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0",
    );
  });

  test(". (a pure ACK shows no seq, like tcpdump)", () => {
    expect(formatTcp(A, B, seg({ flags: Flag.ACK, seq: 1, ack: 101, window: 502 }))).toBe(
      "10.0.0.1.43512 > 10.0.0.2.80: Flags [.], ack 101, win 502, length 0",
    );
  });

  test("P. with data shows seq A:B", () => {
    const s = seg({
      flags: Flag.PSH | Flag.ACK,
      seq: 1,
      ack: 1,
      window: 502,
      payload: new Uint8Array(100),
    });
    expect(formatTcp(A, B, s)).toBe(
      "10.0.0.1.43512 > 10.0.0.2.80: Flags [P.], seq 1:101, ack 1, win 502, length 100",
    );
  });

  test("F. shows seq with no data", () => {
    expect(
      formatTcp(A, B, seg({ flags: Flag.FIN | Flag.ACK, seq: 101, ack: 1, window: 502 })),
    ).toBe("10.0.0.1.43512 > 10.0.0.2.80: Flags [F.], seq 101, ack 1, win 502, length 0");
  });

  test("R and R.", () => {
    expect(formatTcp(A, B, seg({ flags: Flag.RST, seq: 7 }))).toBe(
      "10.0.0.1.43512 > 10.0.0.2.80: Flags [R], seq 7, win 0, length 0",
    );
    expect(
      formatTcp(
        B,
        A,
        tcpSegment({ srcPort: 80, dstPort: 43512, flags: Flag.RST | Flag.ACK, ack: 1 }),
      ),
    ).toBe("10.0.0.2.80 > 10.0.0.1.43512: Flags [R.], seq 0, ack 1, win 0, length 0");
  });

  test("data wrapping past 2^32 and relative numbering", () => {
    const s = seg({
      flags: Flag.PSH | Flag.ACK,
      seq: 0xfffffff0,
      ack: 5001,
      window: 502,
      payload: new Uint8Array(32),
    });
    expect(formatTcp(A, B, s)).toBe(
      "10.0.0.1.43512 > 10.0.0.2.80: Flags [P.], seq 4294967280:16, ack 5001, win 502, length 32",
    );
    expect(formatTcp(A, B, s, { relative: { seqBase: 0xffffffef, ackBase: 5000 } })).toBe(
      "10.0.0.1.43512 > 10.0.0.2.80: Flags [P.], seq 1:33, ack 1, win 502, length 32",
    );
  });

  test("urgent pointer, SACK blocks (relative to the ack base), unknown options", () => {
    const s = seg({
      flags: Flag.ACK | Flag.URG,
      ack: 1000,
      urgentPointer: 3,
      options: [
        { kind: "nop" },
        { kind: "nop" },
        {
          kind: "sack",
          blocks: [
            [2000, 3000],
            [4000, 5000],
          ],
        },
        { kind: "unknown", type: 253, data: Uint8Array.of(0xde, 0xad) },
      ],
    });
    expect(formatTcp(A, B, s)).toBe(
      "10.0.0.1.43512 > 10.0.0.2.80: Flags [.U], ack 1000, win 0, urg 3, options [nop,nop,sack 2 {2000:3000}{4000:5000},unknown-253 0xdead], length 0",
    );
    expect(formatTcp(A, B, s, { relative: { seqBase: 0, ackBase: 999 } })).toContain(
      "ack 1, win 0, urg 3, options [nop,nop,sack 2 {1001:2001}{3001:4001},",
    );
  });
});

describe("formatPacket", () => {
  test("a captured Linux SYN", () => {
    const pkt = hexBytes(`
      45 00 00 3c 1c 46 40 00 40 06 0a 74 0a 00 00 01 0a 00 00 02
      a9 f8 00 50 1e 5a 3c 4d 00 00 00 00 a0 02 fa f0 5d 83 00 00
      02 04 05 b4 04 02 08 0a 00 12 d6 87 00 00 00 00 01 03 03 07`);
    expect(formatPacket(pkt)).toBe(
      "IP 10.0.0.1.43512 > 10.0.0.2.80: Flags [S], seq 509230157, win 64240, options [mss 1460,sackOK,TS val 1234567 ecr 0,nop,wscale 7], length 0",
    );
  });

  test("TCP with a bad checksum is shown and flagged", () => {
    const pkt = buildTcpPacket(A, B, seg({ flags: Flag.ACK, ack: 1, window: 502 }), {
      checksum: "bad",
    });
    expect(formatPacket(pkt)).toBe(
      "IP 10.0.0.1.43512 > 10.0.0.2.80: Flags [.], ack 1, win 502, length 0 [bad tcp cksum]",
    );
  });

  test("a bad IP header checksum is flagged", () => {
    const pkt = buildTcpPacket(A, B, seg({ flags: Flag.RST }));
    pkt[10] = pkt[10]! ^ 0xff;
    expect(formatPacket(pkt)).toBe(
      "IP 10.0.0.1.43512 > 10.0.0.2.80: Flags [R], seq 0, win 0, length 0 [bad ip cksum]",
    );
  });

  test("UDP", () => {
    const pkt = buildUdpPacket(A, B, {
      srcPort: 5000,
      dstPort: 7,
      payload: new TextEncoder().encode("hello"),
    });
    expect(formatPacket(pkt)).toBe("IP 10.0.0.1.5000 > 10.0.0.2.7: UDP, length 5");
    expect(formatUdp(A, B, { srcPort: 5000, dstPort: 7, payload: new Uint8Array(5) })).toBe(
      "10.0.0.1.5000 > 10.0.0.2.7: UDP, length 5",
    );
  });

  test("ICMP echo request and reply", () => {
    const req = buildIcmpPacket(A, B, {
      type: "echo-request",
      id: 7,
      seq: 1,
      data: new Uint8Array(56),
    });
    expect(formatPacket(req)).toBe(
      "IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 7, seq 1, length 64",
    );
    expect(formatIcmp(B, A, { type: "echo-reply", id: 7, seq: 1, data: new Uint8Array(56) })).toBe(
      "10.0.0.2 > 10.0.0.1: ICMP echo reply, id 7, seq 1, length 64",
    );
  });

  test("ICMP port unreachable for UDP and TCP", () => {
    const udp = buildUdpPacket(A, B, { srcPort: 5000, dstPort: 9999, payload: new Uint8Array(10) });
    const icmp = buildIcmpPacket(B, A, {
      type: "dest-unreachable",
      code: 3,
      original: icmpErrorQuote(udp),
    });
    expect(formatPacket(icmp)).toBe(
      "IP 10.0.0.2 > 10.0.0.1: ICMP 10.0.0.2 udp port 9999 unreachable, length 36",
    );
    const tcp = buildTcpPacket(A, B, seg({ flags: Flag.SYN }));
    expect(
      formatIcmp(B, A, { type: "dest-unreachable", code: 3, original: icmpErrorQuote(tcp) }),
    ).toBe("10.0.0.2 > 10.0.0.1: ICMP 10.0.0.2 tcp port 80 unreachable, length 36");
  });

  test("other unreachable codes and time exceeded", () => {
    const original = icmpErrorQuote(buildTcpPacket(A, ip("10.9.9.9"), seg({ flags: Flag.SYN })));
    const line = (code: number, nextHopMtu?: number) =>
      formatIcmp(B, A, {
        type: "dest-unreachable",
        code,
        original,
        ...(nextHopMtu === undefined ? {} : { nextHopMtu }),
      });
    expect(line(0)).toBe("10.0.0.2 > 10.0.0.1: ICMP net 10.9.9.9 unreachable, length 36");
    expect(line(1)).toBe("10.0.0.2 > 10.0.0.1: ICMP host 10.9.9.9 unreachable, length 36");
    expect(line(2)).toBe("10.0.0.2 > 10.0.0.1: ICMP 10.9.9.9 protocol 6 unreachable, length 36");
    expect(line(4, 1400)).toBe(
      "10.0.0.2 > 10.0.0.1: ICMP 10.9.9.9 unreachable - need to frag (mtu 1400), length 36",
    );
    expect(line(13)).toBe("10.0.0.2 > 10.0.0.1: ICMP 10.9.9.9 unreachable - #13, length 36");
    expect(formatIcmp(B, A, { type: "time-exceeded", code: 0, original })).toBe(
      "10.0.0.2 > 10.0.0.1: ICMP time exceeded in-transit, length 36",
    );
    expect(
      formatIcmp(B, A, { type: "other", icmpType: 42, code: 0, body: new Uint8Array(4) }),
    ).toBe("10.0.0.2 > 10.0.0.1: ICMP type-#42, length 8");
  });

  test("fragments: first shows the transport and (frag id:size@offset+), later ones only the protocol", () => {
    const first = buildUdpPacket(
      A,
      B,
      { srcPort: 5000, dstPort: 7, payload: new Uint8Array(16) },
      {
        identification: 4660,
        moreFragments: true,
      },
    );
    // Pretend the datagram is 3000 bytes long: the UDP length field says so.
    first[24] = 3008 >> 8;
    first[25] = 3008 & 0xff;
    expect(formatPacket(first)).toBe(
      "IP 10.0.0.1.5000 > 10.0.0.2.7: UDP, length 3000 (frag 4660:24@0+)",
    );

    const later = new Uint8Array(20 + 1480);
    emitIpv4(
      {
        src: A,
        dst: B,
        protocol: IpProto.UDP,
        identification: 4660,
        fragmentOffset: 1480,
        moreFragments: true,
      },
      1480,
      later,
    );
    expect(formatPacket(later)).toBe("IP 10.0.0.1 > 10.0.0.2: udp (frag 4660:1480@1480+)");

    const last = new Uint8Array(20 + 40);
    emitIpv4(
      { src: A, dst: B, protocol: IpProto.UDP, identification: 4660, fragmentOffset: 2960 },
      40,
      last,
    );
    expect(formatPacket(last)).toBe("IP 10.0.0.1 > 10.0.0.2: udp (frag 4660:40@2960)");
  });

  describe("malformed packets", () => {
    test("IP layer", () => {
      expect(formatPacket(new Uint8Array(0))).toBe("IP truncated-ip (drop: truncated)");
      const syn = buildTcpPacket(A, B, seg({ flags: Flag.SYN }));
      expect(formatPacket(syn.subarray(0, 30))).toBe("IP truncated-ip (drop: truncated)");
      const v6 = syn.slice();
      v6[0] = 0x60;
      expect(formatPacket(v6)).toBe("IP bad-ip (drop: bad-version)");
      const ihl = syn.slice();
      ihl[0] = 0x43;
      expect(formatPacket(ihl)).toBe("IP bad-ip (drop: bad-header-length)");
    });

    test("transport layer keeps addresses and ports when it can", () => {
      const pkt = buildTcpPacket(
        A,
        B,
        seg({ flags: Flag.SYN, options: [{ kind: "mss", value: 1460 }] }),
      );
      pkt[20 + 21] = 3; // mss length 3
      expect(formatPacket(pkt)).toBe(
        "IP 10.0.0.1.43512 > 10.0.0.2.80: tcp (drop: bad-option-length)",
      );
      const short = new Uint8Array(22);
      emitIpv4({ src: A, dst: B, protocol: IpProto.TCP }, 2, short);
      expect(formatPacket(short)).toBe("IP 10.0.0.1 > 10.0.0.2: tcp (drop: truncated)");
      const udp = buildUdpPacket(A, B, { srcPort: 1, dstPort: 2, payload: new Uint8Array(4) });
      udp[25] = 50;
      expect(formatPacket(udp)).toBe("IP 10.0.0.1.1 > 10.0.0.2.2: udp (drop: bad-length)");
      const icmp = new Uint8Array(24);
      emitIpv4({ src: A, dst: B, protocol: IpProto.ICMP }, 4, icmp);
      expect(formatPacket(icmp)).toBe("IP 10.0.0.1 > 10.0.0.2: icmp (drop: truncated)");
    });

    test("an unknown protocol shows its number and length", () => {
      const pkt = new Uint8Array(20 + 12);
      emitIpv4({ src: A, dst: B, protocol: 132 }, 12, pkt);
      expect(formatPacket(pkt)).toBe("IP 10.0.0.1 > 10.0.0.2: ip-proto-132 12");
    });
  });
});
