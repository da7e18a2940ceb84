/** RFC 862 Echo over UDP: each datagram is sent back to where it came from. */
import { SocketError } from "../api/errors.ts";
import type { Fd, Sockets } from "../api/sockets.ts";
import { type Service, serviceFamilies } from "./service.ts";

export const UDP_ECHO_PORT = 7;

export function startUdpEcho(sockets: Sockets, port = UDP_ECHO_PORT): Service {
  const fds: Fd[] = [];
  for (const family of serviceFamilies(sockets)) {
    const fd = sockets.socket("udp", family);
    const bound =
      fd instanceof SocketError
        ? fd
        : ((family === "AF_INET6" ? sockets.setsockopt(fd, "IPV6_V6ONLY", true) : undefined) ??
          sockets.bind(fd, port));
    if (bound instanceof SocketError) {
      for (const f of fds) sockets.close(f);
      if (typeof fd === "number") sockets.close(fd);
      throw bound;
    }
    fds.push(fd as Fd);
  }
  let open = true;
  for (const fd of fds) void echo(sockets, fd);
  return {
    name: "udp-echo",
    protocol: "udp",
    port,
    close() {
      if (!open) return;
      open = false;
      for (const fd of fds) sockets.close(fd);
    },
  };
}

/** Sends each datagram on `fd` back to where it came from, until the socket is closed. */
async function echo(sockets: Sockets, fd: Fd): Promise<void> {
  for (;;) {
    const msg = await sockets.recvFrom(fd);
    if (msg instanceof SocketError) return; // EBADF once closed
    sockets.sendTo(fd, msg.data, msg.from.addr, msg.from.port);
  }
}
