/**
 * The baseline: two kernels joined by a veth pair, each in a namespace the
 * bench creates and removes (client 10.9.0.1, server 10.9.0.2; nothing in
 * the machine's own namespace). The server namespace runs socat as
 *   :80  an HTTP/1.1 responder for GET /bytes/N (N zero bytes, from
 *        head -c N /dev/zero, the same URL tcplab serve answers)
 *   :9   a discard sink (RFC 863) that closes after the client's FIN
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNetns, type Netns } from "../../src/link/netns.ts";
import { nsExec, waitListening } from "./ns-exec.ts";

export const KERNEL_CLIENT_ADDR = "10.9.0.1";
export const KERNEL_SERVER_ADDR = "10.9.0.2";
const CLIENT_IF = "bench-a";
const SERVER_IF = "bench-b";
/** socat's copy buffer (default 8 KiB would make socat, not TCP, the limit). */
const SOCAT_BUF = "262144";

// The request line names N; headers are read up to the blank line so the
// socket holds no unread bytes at close (that would turn FIN into RST).
const HTTP_SH = `CR=$(printf '\\r')
read -r method path version
while read -r line; do
  case "$line" in ""|"$CR") break ;; esac
done
n=\${path#/bytes/}
case "$n" in
  ''|*[!0-9]*) printf 'HTTP/1.1 404 Not Found\\r\\nContent-Length: 0\\r\\nConnection: close\\r\\n\\r\\n'; exit 0 ;;
esac
printf 'HTTP/1.1 200 OK\\r\\nContent-Type: application/octet-stream\\r\\nContent-Length: %s\\r\\nConnection: close\\r\\n\\r\\n' "$n"
exec head -c "$n" /dev/zero
`;

export interface KernelPair {
  readonly client: Netns;
  readonly server: Netns;
  /** The commands the server namespace runs, for the report. */
  readonly serverCommands: readonly string[];
  setMtu(mtu: number): Promise<void>;
  remove(): Promise<void>;
}

async function must(netns: string, argv: readonly string[]): Promise<void> {
  const r = await nsExec(netns, argv, 10_000);
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} in ${netns} failed: ${r.stderr.trim()}`);
}

/** `servers` false: the pair alone, for a caller that runs its own servers in `server`. */
export async function createKernelPair(tag: string, servers = true): Promise<KernelPair> {
  const dir = mkdtempSync(join(tmpdir(), "tcplab-bench-"));
  const httpScript = join(dir, "http.sh");
  writeFileSync(httpScript, HTTP_SH);
  const client = await createNetns(`tcplab-bench-a${tag}`);
  let server: Netns | undefined;
  const remove = async () => {
    await server?.remove();
    await client.remove();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    server = await createNetns(`tcplab-bench-b${tag}`);
    // Created from inside the client namespace, the pair never exists in the
    // machine's own namespace.
    await must(client.name, [
      "ip",
      "link",
      "add",
      CLIENT_IF,
      "type",
      "veth",
      "peer",
      "name",
      SERVER_IF,
      "netns",
      server.name,
    ]);
    await must(client.name, ["ip", "addr", "add", `${KERNEL_CLIENT_ADDR}/24`, "dev", CLIENT_IF]);
    await must(server.name, ["ip", "addr", "add", `${KERNEL_SERVER_ADDR}/24`, "dev", SERVER_IF]);
    await must(client.name, ["ip", "link", "set", CLIENT_IF, "up"]);
    await must(server.name, ["ip", "link", "set", SERVER_IF, "up"]);
    const http = [
      "socat",
      "-b",
      SOCAT_BUF,
      "TCP-LISTEN:80,reuseaddr,fork",
      `EXEC:sh ${httpScript}`,
    ];
    const discard = [
      "socat",
      "-b",
      SOCAT_BUF,
      "-u",
      "TCP-LISTEN:9,reuseaddr,fork",
      "OPEN:/dev/null,wronly",
    ];
    if (servers) {
      server.spawn(http, { stderr: "inherit" });
      server.spawn(discard, { stderr: "inherit" });
      if (!(await waitListening(server.name, 80)) || !(await waitListening(server.name, 9))) {
        throw new Error("the kernel baseline's socat servers did not start listening");
      }
    }
    const srv = server;
    return {
      client,
      server: srv,
      serverCommands: !servers
        ? []
        : [
            `${http.join(" ")}   # ${httpScript}: read the request line, answer N zero bytes with head -c N /dev/zero`,
            discard.join(" "),
          ],
      async setMtu(mtu: number) {
        await must(client.name, ["ip", "link", "set", CLIENT_IF, "mtu", String(mtu)]);
        await must(srv.name, ["ip", "link", "set", SERVER_IF, "mtu", String(mtu)]);
      },
      remove,
    };
  } catch (err) {
    await remove();
    throw err;
  }
}
