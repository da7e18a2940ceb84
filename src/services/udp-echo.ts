/** RFC 862 Echo over UDP: each datagram is sent back to where it came from. */
import { SocketError } from "../api/errors.ts";
import type { Sockets } from "../api/sockets.ts";
import type { Service } from "./service.ts";

export const UDP_ECHO_PORT = 7;

export function startUdpEcho(sockets: Sockets, port = UDP_ECHO_PORT): Service {
  const fd = sockets.socket("udp");
  if (fd instanceof SocketError) throw fd;
  const bound = sockets.bind(fd, port);
  if (bound instanceof SocketError) {
    sockets.close(fd);
    throw bound;
  }
  let open = true;
  void (async () => {
    while (open) {
      const msg = await sockets.recvFrom(fd);
      if (msg instanceof SocketError) return; // EBADF once closed
      sockets.sendTo(fd, msg.data, msg.from.addr, msg.from.port);
    }
  })();
  return {
    name: "udp-echo",
    protocol: "udp",
    port,
    close() {
      if (!open) return;
      open = false;
      sockets.close(fd);
    },
  };
}
