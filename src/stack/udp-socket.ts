import type { Endpoint } from "../wire/addr.ts";

export interface UdpMessage {
  readonly from: Endpoint;
  readonly data: Uint8Array;
}

/** Datagrams a socket's queue holds at most, whatever their size. */
export const DEFAULT_UDP_DATAGRAMS = 256;

/** What a host does for a UDP socket: send and forget it. */
export interface UdpSender {
  udpSend(sock: UdpSocket, dst: Endpoint, data: Uint8Array): number | "EMSGSIZE" | "EINVAL";
  udpUnbind(sock: UdpSocket): void;
}

/**
 * A bound UDP port with a bounded receive queue (like SO_RCVBUF: datagrams
 * that would push the queued bytes past `queueLimit`, or the count past
 * `datagramLimit`, are dropped and counted as "udp.queue-full" by the
 * host). The count bound stands in for Linux's truesize accounting: a flood
 * of tiny datagrams costs far more than its bytes.
 */
export class UdpSocket {
  readonly port: number;
  queueLimit: number;
  datagramLimit: number;
  /** Called when a datagram was queued, once the host has processed its packet (the api layer wakes readers). */
  onReadable: ((sock: UdpSocket) => void) | undefined;
  /** Bounded by queueLimit bytes, so shift() stays cheap. */
  private readonly queue: UdpMessage[] = [];
  private bytes = 0;
  private closed = false;

  constructor(
    private readonly host: UdpSender,
    port: number,
    queueLimit: number,
    datagramLimit = DEFAULT_UDP_DATAGRAMS,
  ) {
    this.port = port;
    this.queueLimit = queueLimit;
    this.datagramLimit = datagramLimit;
  }

  /** Bytes waiting to be read. */
  get queuedBytes(): number {
    return this.bytes;
  }

  /** Datagrams waiting to be read. */
  get queued(): number {
    return this.queue.length;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Called by the host, which tells onReadable after the packet; false when the queue is full (the datagram is dropped). */
  deliver(msg: UdpMessage): boolean {
    if (this.closed) return false;
    // An empty queue always takes one datagram, so a limit below one datagram still passes traffic.
    if (this.queued > 0 && this.bytes + msg.data.length > this.queueLimit) return false;
    if (this.queued >= this.datagramLimit) return false;
    this.queue.push(msg);
    this.bytes += msg.data.length;
    return true;
  }

  /** The next datagram, or undefined when none is queued. */
  recvFrom(): UdpMessage | undefined {
    const msg = this.queue.shift();
    if (msg === undefined) return undefined;
    this.bytes -= msg.data.length;
    return msg;
  }

  sendTo(dst: Endpoint, data: Uint8Array): number | "EMSGSIZE" | "EINVAL" {
    if (this.closed) return "EINVAL";
    return this.host.udpSend(this, dst, data);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.bytes = 0;
    this.host.udpUnbind(this);
  }
}
