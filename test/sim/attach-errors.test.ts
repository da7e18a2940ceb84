/**
 * runtime/attach contains a throw from the host: it is reported (for the lab
 * to show), and the host keeps running — its output is flushed and its
 * timer re-armed, so its connections' timers still fire.
 */
import { describe, expect, test } from "bun:test";
import { ms } from "../../src/clock/time.ts";
import { VirtualClock } from "../../src/clock/virtual-clock.ts";
import type { LinkEnd, PacketHandler } from "../../src/link/link.ts";
import { attach, ERROR_RETRY_MS, type HostErrorSource } from "../../src/runtime/attach.ts";
import { Host } from "../../src/stack/host.ts";
import { ip } from "../../src/wire/addr.ts";
import { buildUdpPacket } from "../../src/wire/packet.ts";
import { isSyn } from "../link/packets.ts";

/** A link that only records what is sent; arrivals are delivered by hand. */
class RecordingLink implements LinkEnd {
  readonly mtu = 1500;
  readonly sent: Uint8Array[] = [];
  receiver: PacketHandler | undefined;
  send(packet: Uint8Array): void {
    this.sent.push(packet);
  }
  onReceive(handler: PacketHandler): void {
    this.receiver = handler;
  }
}

function setup() {
  const clock = new VirtualClock();
  const link = new RecordingLink();
  const host = new Host({ name: "b", addr: ip("10.0.0.2"), isn: { fixed: 5000 } });
  const errors: HostErrorSource[] = [];
  const att = attach(host, link, clock, { onError: (_e, source) => errors.push(source) });
  return { clock, link, host, errors, att };
}

describe("attach contains a throw from the host", () => {
  test("a throw from poll is reported, and the host's timers fire again afterwards", () => {
    const { clock, link, host, errors, att } = setup();
    const poll = host.poll.bind(host);
    let calls = 0;
    host.poll = (now) => {
      if (calls++ === 0) throw new Error("a bug in a timer");
      poll(now);
    };
    host.connect({ addr: ip("10.0.0.1"), port: 80 }, clock.now()); // nobody answers
    att.flush();
    expect(link.sent.filter(isSyn)).toHaveLength(1);
    clock.advance(ms(1000)); // the SYN's retransmission timer: poll throws
    expect(errors).toEqual(["poll"]);
    expect(att.errors).toBe(1);
    // Re-armed, no sooner than ERROR_RETRY_MS later: the SYN goes again.
    clock.advance(ERROR_RETRY_MS);
    expect(link.sent.filter(isSyn)).toHaveLength(2);
    clock.advance(ms(10_000));
    expect(link.sent.filter(isSyn).length).toBeGreaterThan(2);
  });

  test("a timer that throws every time is retried at ERROR_RETRY_MS, not in a busy loop", () => {
    const { clock, host, errors, att } = setup();
    host.poll = () => {
      throw new Error("always");
    };
    host.connect({ addr: ip("10.0.0.1"), port: 80 }, clock.now());
    att.flush();
    clock.advance(ms(1000 + 10 * ERROR_RETRY_MS));
    expect(errors.length).toBe(11);
  });

  test("a throw while a packet is processed is reported and the output still flushed", () => {
    const { link, host, errors } = setup();
    const receive = host.receive.bind(host);
    host.receive = (packet, now) => {
      receive(packet, now);
      throw new Error("a bug after queueing output");
    };
    // A datagram to a closed port: the ICMP error is queued, then the throw.
    const udp = buildUdpPacket(ip("10.0.0.1"), ip("10.0.0.2"), {
      srcPort: 40000,
      dstPort: 9,
      payload: new Uint8Array(0),
    });
    link.receiver?.(udp);
    expect(errors).toEqual(["receive"]);
    expect(link.sent).toHaveLength(1);
  });
});
