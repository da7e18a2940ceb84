/**
 * One timed bulk transfer, run with the same kernel-side tools whether the
 * far end is tcplab or another kernel:
 *   download  curl fetches http://HOST/bytes/N into /dev/null; curl's own
 *             time_total is the duration (connect to last byte).
 *   upload    `head -c N /dev/zero | socat -b 262144 -t T - TCP:HOST:PORT`,
 *             timed inside the namespace with date(1) around it. At the end
 *             of its input socat half-closes (FIN) and waits for the far
 *             end to close, so every byte has been accepted by then. (socat
 *             with a 256 KiB buffer, not nc: nc's 16 KiB writes held the
 *             kernel baseline to half its speed at MTU 1500.)
 */
import { nsExec } from "./ns-exec.ts";

export interface Sample {
  readonly bytes: number;
  readonly seconds: number;
}

export type Direction = "download" | "upload";

export function downloadArgv(host: string, bytes: number, maxSeconds: number): string[] {
  return [
    "curl",
    "-sS",
    "-o",
    "/dev/null",
    "--max-time",
    String(maxSeconds),
    "-w",
    "%{http_code} %{size_download} %{time_total}",
    `http://${host}/bytes/${bytes}`,
  ];
}

/** The shell line of one upload; `limit` seconds bound socat (timeout(1) exits 124 then). */
export function uploadScript(
  host: string,
  port: number,
  bytes: number | "N",
  limit: number,
): string {
  const client = `timeout ${limit} socat -b 262144 -t ${limit} - TCP:${host}:${port}`;
  return `s=$(date +%s%N); head -c ${bytes} /dev/zero | ${client}; rc=$?; e=$(date +%s%N); echo "$rc $s $e"`;
}

export async function download(
  netns: string,
  host: string,
  bytes: number,
  timeoutMs: number,
): Promise<Sample> {
  const maxSeconds = Math.max(1, Math.floor(timeoutMs / 1000) - 1);
  const r = await nsExec(netns, downloadArgv(host, bytes, maxSeconds), timeoutMs);
  const [code, size, time] = r.stdout.trim().split(" ");
  if (r.timedOut || r.exitCode !== 0 || code !== "200" || Number(size) !== bytes) {
    throw new Error(
      `download of ${bytes} B from ${host} failed: exit ${r.exitCode}${r.timedOut ? " (timed out)" : ""}, http ${code ?? "-"}, got ${size ?? "?"} B ${r.stderr.trim()}`.trim(),
    );
  }
  return { bytes, seconds: Number(time) };
}

export async function upload(
  netns: string,
  host: string,
  port: number,
  bytes: number,
  timeoutMs: number,
): Promise<Sample> {
  // The script's own limit ends socat first, so a stall reports through
  // its exit code rather than a killed shell.
  const limit = Math.max(1, Math.floor(timeoutMs / 1000) - 1);
  const script = uploadScript(host, port, bytes, limit);
  const r = await nsExec(netns, ["sh", "-c", script], timeoutMs);
  const [rc, start, end] = r.stdout.trim().split(" ");
  if (r.timedOut || r.exitCode !== 0 || rc !== "0" || start === undefined || end === undefined) {
    throw new Error(
      `upload of ${bytes} B to ${host}:${port} failed: socat exit ${rc ?? "?"}${rc === "124" ? " (timed out)" : ""}${r.timedOut ? " (killed)" : ""} ${r.stderr.trim()}`.trim(),
    );
  }
  return { bytes, seconds: Number(BigInt(end) - BigInt(start)) / 1e9 };
}
