import { expect, test } from "bun:test";
import { EPOCH, instant } from "../../src/clock/time.ts";
import { HostSamples } from "../../src/lab/samples.ts";
import type { Tcb } from "../../src/tcp/tcb.ts";
import { ip } from "../../src/wire/addr.ts";
import { buildTcpPacket, tcpSegment } from "../../src/wire/packet.ts";
import { Flag } from "../../src/wire/tcp-types.ts";
import { connected } from "../stack/util.ts";

test("the lab's per-packet samples find their connection by lookup, not by walking every connection", () => {
  const { a, clients } = connected(300);
  const lookups: [number, number, number][] = [];
  const samples = new HostSamples((port, remote) => {
    lookups.push([port, remote.addr as number, remote.port]);
    return a.connection(port, remote);
  });
  const tcb = clients[123] as Tcb;
  const remote = tcb.remote;
  if (remote.family === 6) throw new Error("an IPv4 connection expected");
  samples.added(tcb, EPOCH);
  const seg = tcpSegment({
    srcPort: tcb.local.port,
    dstPort: tcb.remote.port,
    seq: tcb.sndNxt,
    ack: tcb.rcvNxt,
    flags: Flag.ACK,
    payload: new Uint8Array(10),
  });
  samples.sent({
    kind: "packet",
    index: 0,
    time: instant(5),
    host: "a",
    dir: ">",
    bytes: buildTcpPacket(ip("10.0.0.1"), remote.addr, seg),
    injected: false,
  });
  expect(lookups).toEqual([[tcb.local.port, remote.addr, remote.port]]);
  expect(samples.series(tcb)?.sent.length).toBe(1);
});
