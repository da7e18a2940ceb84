#!/usr/bin/env bun
/**
 * The load client: runs inside a network namespace the load script made
 * (`ip netns exec NS bun scripts/load/client.ts MODE …`), against tcplab
 * serve or a kernel server, with the kernel's own sockets. Every mode is
 * bounded in count and time and prints one JSON line per result.
 *
 *   idle HOST PORT N [CONCURRENCY]
 *       opens N connections and holds them; prints {"opened":N,…} when all
 *       are open, then reads commands on stdin, one per line:
 *         count   → {"open":K}   (connections not yet closed by the server)
 *         close   → ends every connection at once (FIN), {"closed":K}
 *       and exits when stdin closes.
 *   echo HOST PORT COUNT [SIZE]
 *       one connection, COUNT round trips of SIZE bytes (default 64);
 *       {"p50":ms,"p90":ms,"max":ms,"count":COUNT}.
 *   rr HOST PORT SECONDS [SIZE]
 *       one connection, round trips of SIZE bytes (default 64) back to back
 *       for SECONDS, like netperf's TCP_RR; {"count":…,"perSecond":…,"p50":ms,…}.
 *   probe HOST PORT SECONDS INTERVAL_MS
 *       one connection, a 16-byte echo every INTERVAL_MS for SECONDS (each
 *       waits at most 5 s); {"count":…,"failed":…,"max":ms,"p99":ms,"p50":ms}.
 *   connect HOST PORT TIMEOUT_MS
 *       one connection attempt: {"ok":true,"ms":…} or {"ok":false,"error":…}.
 *   churn HOST PORT N CONCURRENCY TIMEOUT_MS
 *       N HTTP/1.1 requests for "/", each on a new connection that the
 *       client closes first after reading the whole response;
 *       {"done":…,"failed":…,"seconds":…,"perSecond":…}.
 */
import { connect, type Socket } from "node:net";

function out(v: unknown): void {
  process.stdout.write(`${JSON.stringify(v)}\n`);
}

function die(message: string): never {
  process.stderr.write(`load client: ${message}\n`);
  process.exit(2);
}

function num(s: string | undefined, what: string): number {
  const n = Number(s);
  if (!Number.isFinite(n) || n < 0) die(`${what} must be a number, got ${s}`);
  return n;
}

function open(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error("connect timeout"));
    }, timeoutMs);
    s.once("connect", () => {
      clearTimeout(timer);
      resolve(s);
    });
    s.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

async function idle(host: string, port: number, n: number, concurrency: number): Promise<void> {
  const sockets: Socket[] = [];
  let closedByPeer = 0;
  let failed = 0;
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      try {
        const s = await open(host, port, 10_000);
        s.on("error", () => {});
        s.on("close", () => closedByPeer++);
        s.on("data", () => {});
        sockets.push(s);
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  out({ opened: sockets.length, failed, seconds: (performance.now() - t0) / 1000 });
  const lines = console as unknown as AsyncIterable<string>;
  for await (const line of lines) {
    const cmd = line.trim();
    if (cmd === "count") out({ open: sockets.length - closedByPeer });
    else if (cmd === "close") {
      for (const s of sockets) s.end();
      out({ closed: sockets.length });
    }
  }
  for (const s of sockets) s.destroy();
}

/** Round trips of `size` bytes on an echo connection: each resolves with its time in ms, or undefined after `timeoutMs`. */
function roundTripper(s: Socket, size: number): (timeoutMs: number) => Promise<number | undefined> {
  const payload = new Uint8Array(size).fill(0x61);
  let got = 0;
  let waiting: (() => void) | undefined;
  s.on("data", (d: Buffer) => {
    got += d.length;
    if (got >= size && waiting !== undefined) {
      got -= size;
      const w = waiting;
      waiting = undefined;
      w();
    }
  });
  return (timeoutMs) =>
    new Promise((resolve) => {
      const t0 = performance.now();
      const timer = setTimeout(() => {
        waiting = undefined;
        resolve(undefined);
      }, timeoutMs);
      waiting = () => {
        clearTimeout(timer);
        resolve(performance.now() - t0);
      };
      s.write(payload);
    });
}

function quantiles(times: number[]): { p50: number; p90: number; p99: number; max: number } {
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: times.at(-1) ?? 0 };
}

async function echo(host: string, port: number, count: number, size: number): Promise<void> {
  const s = await open(host, port, 5000);
  s.setNoDelay(true);
  const trip = roundTripper(s, size);
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const ms = await trip(5000);
    if (ms === undefined) die("echo timeout");
    times.push(ms);
  }
  s.end();
  out({ count, ...quantiles(times) });
}

async function rr(host: string, port: number, seconds: number, size: number): Promise<void> {
  const s = await open(host, port, 5000);
  s.setNoDelay(true);
  const trip = roundTripper(s, size);
  const times: number[] = [];
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  while (performance.now() < end) {
    const ms = await trip(5000);
    if (ms === undefined) die("echo timeout");
    times.push(ms);
  }
  const took = (performance.now() - t0) / 1000;
  s.end();
  out({ count: times.length, seconds: took, perSecond: times.length / took, ...quantiles(times) });
}

async function probe(
  host: string,
  port: number,
  seconds: number,
  intervalMs: number,
): Promise<void> {
  const s = await open(host, port, 5000);
  s.setNoDelay(true);
  s.on("error", () => {});
  const trip = roundTripper(s, 16);
  const times: number[] = [];
  let failed = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const ms = await trip(5000);
    if (ms === undefined) failed++;
    else times.push(ms);
    await Bun.sleep(Math.max(0, intervalMs - (ms ?? 5000)));
  }
  s.destroy();
  out({ count: times.length, failed, ...quantiles(times) });
}

async function oneConnect(host: string, port: number, timeoutMs: number): Promise<void> {
  const t0 = performance.now();
  try {
    const s = await open(host, port, timeoutMs);
    out({ ok: true, ms: performance.now() - t0 });
    s.destroy();
  } catch (e) {
    out({ ok: false, ms: performance.now() - t0, error: (e as Error).message });
  }
}

/** One request on a new connection; the client closes first once the whole body is in. */
function request(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port });
    let buf = Buffer.alloc(0);
    let want = -1;
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error("request timeout"));
    }, timeoutMs);
    const fail = (e: Error) => {
      clearTimeout(timer);
      s.destroy();
      reject(e);
    };
    s.once("error", fail);
    s.once("connect", () => s.write(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`));
    s.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (want < 0) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const m = /content-length:\s*(\d+)/i.exec(buf.subarray(0, end).toString("latin1"));
        if (m === null || !buf.subarray(0, 12).toString().startsWith("HTTP/1.1 200")) {
          fail(new Error("bad response"));
          return;
        }
        want = end + 4 + Number(m[1]);
      }
      if (buf.length >= want) {
        clearTimeout(timer);
        s.end(); // our FIN first: the server is the one that answers it
        s.once("close", () => resolve());
      }
    });
  });
}

async function churn(
  host: string,
  port: number,
  n: number,
  concurrency: number,
  timeoutMs: number,
): Promise<void> {
  let next = 0;
  let done = 0;
  let failed = 0;
  const errors = new Map<string, number>();
  const t0 = performance.now();
  const worker = async () => {
    while (next < n) {
      next++;
      try {
        await request(host, port, timeoutMs);
        done++;
      } catch (e) {
        failed++;
        const m = (e as Error).message;
        errors.set(m, (errors.get(m) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  const seconds = (performance.now() - t0) / 1000;
  out({ done, failed, seconds, perSecond: done / seconds, errors: Object.fromEntries(errors) });
}

const [mode, host = "", portText, ...rest] = process.argv.slice(2);
const port = num(portText, "PORT");
switch (mode) {
  case "idle":
    await idle(host, port, num(rest[0], "N"), num(rest[1] ?? "200", "CONCURRENCY"));
    break;
  case "echo":
    await echo(host, port, num(rest[0], "COUNT"), num(rest[1] ?? "64", "SIZE"));
    break;
  case "rr":
    await rr(host, port, num(rest[0], "SECONDS"), num(rest[1] ?? "64", "SIZE"));
    break;
  case "probe":
    await probe(host, port, num(rest[0], "SECONDS"), num(rest[1], "INTERVAL_MS"));
    break;
  case "connect":
    await oneConnect(host, port, num(rest[0], "TIMEOUT_MS"));
    break;
  case "churn":
    await churn(host, port, num(rest[0], "N"), num(rest[1], "C"), num(rest[2], "TIMEOUT_MS"));
    break;
  default:
    die("mode must be idle, echo, rr, probe, connect or churn");
}
process.exit(0);
