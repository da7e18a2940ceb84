/**
 * A small HTTP/1.1 server (RFC 9112) for exercising tcplab with curl:
 *
 *   GET  /          a short HTML page naming tcplab
 *   GET  /bytes/N   N bytes of the deterministic stream below (0 ≤ N ≤ 2^40)
 *   POST /sha256    the lowercase hex SHA-256 of the request body and "\n"
 *                   (body by Content-Length, chunked, or none = empty)
 *
 * HEAD works where GET does. Other paths are 404, other methods on a known
 * path 405 (with Allow), malformed requests 400 and the connection closes.
 * Persistent connections follow RFC 9112 §9.3 (HTTP/1.1 keeps the connection
 * unless "Connection: close"; HTTP/1.0 closes unless "keep-alive").
 *
 * Everything streams: a response body is written 64 KiB at a time and each
 * write waits for send-buffer space, and request bodies are hashed as they
 * arrive, so memory stays small whatever N or the body size is.
 */
import type { Connection, Net } from "../api/net.ts";
import { type Service, type ServiceOptions, tcpService } from "./service.ts";

export const HTTP_PORT = 80;

/** Bound of /bytes/N (1 TiB): larger counts are a 400. */
export const MAX_BYTES_COUNT = 2 ** 40;
const MAX_HEAD = 16 * 1024;
const CHUNK = 64 * 1024;

// ───────────────────────────── the byte stream ─────────────────────────────

/** Seed of the /bytes stream. */
export const BYTES_SEED = 0x2545f491;

/**
 * Length of the /bytes stream's period: the largest prime below 2^20, so
 * data misplaced by a power-of-two distance (a chunk, a window) still
 * shows in a checksum, as it would not with a period of exactly 1 MiB.
 */
export const BYTES_PERIOD = 1_048_573;

let periodBlock: Uint8Array | undefined;

/**
 * One period of the /bytes stream, made once: Marsaglia's xorshift32
 * (x ^= x << 13; x ^= x >>> 17; x ^= x << 5, 32-bit) started at BYTES_SEED,
 * each new state emitted as 4 bytes, little-endian, cut at BYTES_PERIOD
 * bytes. The first state emitted is the one after the seed (0xe124b63a),
 * so the stream starts 3a b6 24 e1 ab 74 9a 8b; the SHA-256 of /bytes/16
 * is d8bf17ea…54aca5c4 (pinned in test/services/http.test.ts).
 *
 * /bytes/N is the first N bytes of this block repeated: byte i is
 * block[i mod BYTES_PERIOD]. The server sends views of the block (never
 * written after it is made), so the payload costs nothing per byte — as
 * the kernel baseline's /dev/zero does not — and stays checkable.
 */
export function bytesBlock(): Uint8Array {
  if (periodBlock !== undefined) return periodBlock;
  const words = Math.ceil(BYTES_PERIOD / 4);
  const block = new Uint8Array(words * 4);
  const view = new DataView(block.buffer);
  let x = BYTES_SEED;
  for (let i = 0; i < words; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    view.setUint32(i * 4, x >>> 0, true);
  }
  periodBlock = block.subarray(0, BYTES_PERIOD);
  return periodBlock;
}

/** The /bytes stream read in pieces: each fill() continues where the last ended. */
export class ByteStream {
  private at = 0;

  /** Fills `out` with the next out.length bytes of the stream. */
  fill(out: Uint8Array): void {
    const block = bytesBlock();
    for (let done = 0; done < out.length; ) {
      const n = Math.min(out.length - done, BYTES_PERIOD - this.at);
      out.set(block.subarray(this.at, this.at + n), done);
      done += n;
      this.at = (this.at + n) % BYTES_PERIOD;
    }
  }
}

/** The first `n` bytes of the /bytes stream, in one array (for tests; the server streams). */
export function deterministicBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  new ByteStream().fill(out);
  return out;
}

/** SHA-256 (hex) of /bytes/N's body, computed without a server (for tests and tools). */
export function bytesStreamSha256(n: number): string {
  const h = new Bun.CryptoHasher("sha256");
  const block = bytesBlock();
  for (let left = n; left > 0; left -= BYTES_PERIOD) {
    h.update(left >= BYTES_PERIOD ? block : block.subarray(0, left));
  }
  return h.digest("hex");
}

// ───────────────────────────── reading requests ─────────────────────────────

const CRLF_CRLF = [13, 10, 13, 10];

/** Buffered reads from a connection: the head up to CRLF CRLF, lines, then raw body bytes. */
class RequestReader {
  private pending: Uint8Array = new Uint8Array(0);

  constructor(private readonly conn: Connection) {}

  /** Appends the next chunk from the connection; false at end of stream. */
  private async more(): Promise<boolean> {
    const chunk = await this.conn.read();
    if (chunk === null) return false;
    if (this.pending.length === 0) {
      this.pending = chunk;
    } else {
      const joined = new Uint8Array(this.pending.length + chunk.length);
      joined.set(this.pending);
      joined.set(chunk, this.pending.length);
      this.pending = joined;
    }
    return true;
  }

  /** First index ≥ `from` where `pattern` starts and ends before `end`, or -1. */
  private indexOf(pattern: readonly number[], from: number, end: number): number {
    const p = this.pending;
    const stop = Math.min(end, p.length);
    outer: for (let i = from; i + pattern.length <= stop; i++) {
      for (let j = 0; j < pattern.length; j++) if (p[i + j] !== pattern[j]) continue outer;
      return i;
    }
    return -1;
  }

  private take(n: number): Uint8Array {
    const out = this.pending.subarray(0, n);
    this.pending = this.pending.subarray(n);
    return out;
  }

  /**
   * Bytes up to and including `terminator`, decoded as Latin-1 (RFC 9112
   * §2.2: octets); null at a clean end of stream before anything arrived;
   * "too-long" when `limit` bytes came without the terminator (only that
   * much is ever searched, however much body data is buffered behind it);
   * "truncated" when the stream ends mid-way.
   */
  async until(
    terminator: readonly number[],
    limit: number,
  ): Promise<string | null | "too-long" | "truncated"> {
    const end = limit + terminator.length;
    let searched = 0;
    for (;;) {
      const at = this.indexOf(terminator, Math.max(0, searched - terminator.length + 1), end);
      if (at >= 0) return latin1(this.take(at + terminator.length));
      searched = Math.min(this.pending.length, end);
      if (searched >= end) return "too-long";
      if (!(await this.more())) return this.pending.length === 0 ? null : "truncated";
    }
  }

  /** Up to `max` body bytes: what is buffered, else the next chunk; null at end of stream. */
  async body(max: number): Promise<Uint8Array | null> {
    if (this.pending.length === 0 && !(await this.more())) return null;
    return this.take(Math.min(max, this.pending.length));
  }
}

function latin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return s;
}

interface Request {
  readonly method: string;
  readonly target: string;
  readonly version: "1.0" | "1.1";
  /** Lowercased names; repeated fields joined with ", " (RFC 9110 §5.3). */
  readonly headers: ReadonlyMap<string, string>;
}

class BadRequest extends Error {}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** RFC 9112 §3 and §5: request line and header fields. */
function parseHead(head: string): Request {
  const lines = head.slice(0, -4).split("\r\n");
  // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request line.
  while (lines.length > 1 && lines[0] === "") lines.shift();
  const m = /^([^ ]+) ([^ ]+) HTTP\/1\.([01])$/.exec(lines[0] ?? "");
  if (m === null || !TOKEN.test(m[1] as string)) throw new BadRequest("bad request line");
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    // RFC 9112 §5.1: no whitespace between the field name and the colon; no obs-fold.
    if (colon <= 0) throw new BadRequest("bad header field");
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) throw new BadRequest("bad header field name");
    const key = name.toLowerCase();
    const value = line.slice(colon + 1).trim();
    const prev = headers.get(key);
    headers.set(key, prev === undefined ? value : `${prev}, ${value}`);
  }
  return {
    method: m[1] as string,
    target: m[2] as string,
    version: m[3] === "1" ? "1.1" : "1.0",
    headers,
  };
}

function listHas(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  return value
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .includes(token);
}

type BodyFraming = { kind: "none" } | { kind: "length"; length: number } | { kind: "chunked" };

/** RFC 9112 §6.3: how long the request body is. */
function framing(req: Request): BodyFraming {
  const te = req.headers.get("transfer-encoding");
  const cl = req.headers.get("content-length");
  if (te !== undefined) {
    // §6.3 item 3/4: with both, Transfer-Encoding wins — but a sender doing that is suspect: refuse.
    if (cl !== undefined) throw new BadRequest("both Content-Length and Transfer-Encoding");
    const codings = te.split(",").map((s) => s.trim().toLowerCase());
    if (codings.length !== 1 || codings[0] !== "chunked") {
      throw new BadRequest("unsupported transfer coding");
    }
    return { kind: "chunked" };
  }
  if (cl !== undefined) {
    // Repeated identical values were joined with ", ": §6.3 item 5 allows them.
    const values = new Set(cl.split(",").map((s) => s.trim()));
    const [only] = [...values];
    if (values.size !== 1 || only === undefined || !/^[0-9]{1,15}$/.test(only)) {
      throw new BadRequest("bad Content-Length");
    }
    return { kind: "length", length: Number(only) };
  }
  return { kind: "none" };
}

/** The body's bytes, handed to `sink` as they arrive. */
async function readBody(
  reader: RequestReader,
  body: BodyFraming,
  sink: (bytes: Uint8Array) => void,
): Promise<void> {
  if (body.kind === "none") return;
  if (body.kind === "length") {
    let left = body.length;
    while (left > 0) {
      const chunk = await reader.body(Math.min(left, CHUNK));
      if (chunk === null) throw new BadRequest("body truncated");
      sink(chunk);
      left -= chunk.length;
    }
    return;
  }
  // RFC 9112 §7.1: chunk-size [ext] CRLF data CRLF … last-chunk trailer CRLF.
  for (;;) {
    const line = await reader.until([13, 10], 1024);
    if (typeof line !== "string" || line === "truncated") throw new BadRequest("bad chunk size");
    const m = /^([0-9A-Fa-f]{1,12})[ \t]*(;.*)?\r\n$/.exec(line);
    if (m === null) throw new BadRequest("bad chunk size");
    let left = Number.parseInt(m[1] as string, 16);
    if (left === 0) break;
    while (left > 0) {
      const chunk = await reader.body(Math.min(left, CHUNK));
      if (chunk === null) throw new BadRequest("chunk truncated");
      sink(chunk);
      left -= chunk.length;
    }
    if ((await reader.until([13, 10], 2)) !== "\r\n") throw new BadRequest("chunk not ended");
  }
  // Trailer fields (ignored) up to the empty line.
  for (let i = 0; i < 100; i++) {
    const line = await reader.until([13, 10], MAX_HEAD);
    if (typeof line !== "string" || line === "truncated") throw new BadRequest("bad trailer");
    if (line === "\r\n") return;
  }
  throw new BadRequest("too many trailer fields");
}

// ───────────────────────────── responses ─────────────────────────────

const REASONS: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  431: "Request Header Fields Too Large",
};

const encoder = new TextEncoder();

/**
 * What the response says about the connection (RFC 9112 §9.3, §9.6):
 * "close" sends Connection: close; "keep-alive" answers an HTTP/1.0 client
 * that asked to keep it (a 1.0 client assumes close unless told, and waits
 * for the end of the connection — `ab -k` hangs); "persist" is HTTP/1.1's
 * default, which needs no header.
 */
type Persistence = "close" | "keep-alive" | "persist";

function headBytes(
  status: number,
  headers: Record<string, string | number>,
  persistence: Persistence,
): Uint8Array {
  let text = `HTTP/1.1 ${status} ${REASONS[status] ?? "Unknown"}\r\nServer: tcplab\r\n`;
  for (const [k, v] of Object.entries(headers)) text += `${k}: ${v}\r\n`;
  if (persistence === "close") text += "Connection: close\r\n";
  else if (persistence === "keep-alive") text += "Connection: keep-alive\r\n";
  return encoder.encode(`${text}\r\n`);
}

/** Writes of views into the /bytes block: never written again, so queued without a copy. */
const IMMUTABLE = { immutable: true } as const;

/**
 * A response's last bytes. When the connection closes after it, the FIN
 * goes in the same call (MSG_EOF), so it leaves in the last data segment
 * (RFC 9293 §3.10.4: CLOSE after SEND; a FIN may accompany data) instead
 * of in a segment of its own once the close comes round: for a small
 * HTTP/1.0 response, one segment less each way.
 */
function finish(
  conn: Connection,
  bytes: Uint8Array,
  persistence: Persistence,
  opts?: typeof IMMUTABLE,
): Promise<void> {
  return persistence === "close" ? conn.end(bytes, opts) : conn.write(bytes, opts);
}

async function respond(
  conn: Connection,
  status: number,
  contentType: string,
  body: string,
  persistence: Persistence,
  extra: Record<string, string> = {},
  headOnly = false,
): Promise<void> {
  const bytes = encoder.encode(body);
  const head = headBytes(
    status,
    { "Content-Type": contentType, "Content-Length": bytes.length, ...extra },
    persistence,
  );
  if (headOnly) {
    await finish(conn, head, persistence);
    return;
  }
  const all = new Uint8Array(head.length + bytes.length);
  all.set(head);
  all.set(bytes, head.length);
  await finish(conn, all, persistence);
}

const INDEX_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>tcplab</title></head>
<body><h1>tcplab</h1>
<p>This page came over tcplab, a user-space TCP/IP stack in TypeScript.</p>
<ul>
<li><code>GET /bytes/N</code> — N deterministic bytes (a repeated block of a xorshift32 stream)</li>
<li><code>POST /sha256</code> — the SHA-256 of the request body</li>
</ul></body></html>
`;

/**
 * Streams /bytes/N as views of the stream's block, 64 KiB at a time, each
 * write waiting for send-buffer space. The head goes in the same write as
 * the first part of the body (a copy of under 64 KiB): two small writes
 * would leave the second behind Nagle (RFC 9293 §3.7.4) until the client's
 * delayed ACK of the first — about 40 ms per request on Linux.
 */
async function sendBytes(conn: Connection, n: number, persistence: Persistence): Promise<void> {
  const head = headBytes(
    200,
    { "Content-Type": "application/octet-stream", "Content-Length": n },
    persistence,
  );
  const block = bytesBlock();
  const first = Math.min(n, CHUNK - head.length);
  const opening = new Uint8Array(head.length + first);
  opening.set(head);
  opening.set(block.subarray(0, first), head.length);
  if (first === n) {
    await finish(conn, opening, persistence);
    return;
  }
  await conn.write(opening);
  for (let at = first; at < n; ) {
    const from = at % BYTES_PERIOD;
    const len = Math.min(n - at, CHUNK, BYTES_PERIOD - from);
    const part = block.subarray(from, from + len);
    at += len;
    if (at === n) await finish(conn, part, persistence, IMMUTABLE);
    else await conn.write(part, IMMUTABLE);
  }
}

type Outcome = "keep-alive" | "close";

async function handle(conn: Connection, reader: RequestReader, req: Request): Promise<Outcome> {
  const connHeader = req.headers.get("connection");
  // RFC 9112 §9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 only with "keep-alive".
  let keepAlive =
    req.version === "1.1" ? !listHas(connHeader, "close") : listHas(connHeader, "keep-alive");
  const body = framing(req);
  const path = req.target.split("?")[0] ?? "";
  const isGet = req.method === "GET" || req.method === "HEAD";
  const headOnly = req.method === "HEAD";
  // A body we will not read leaves the stream unframed for the next request: close after.
  if (body.kind !== "none" && !(req.method === "POST" && path === "/sha256")) keepAlive = false;
  const outcome: Outcome = keepAlive ? "keep-alive" : "close";
  const persistence: Persistence = !keepAlive
    ? "close"
    : req.version === "1.0"
      ? "keep-alive"
      : "persist";

  if (path === "/") {
    if (!isGet) {
      await respond(conn, 405, "text/plain", "method not allowed\n", persistence, {
        Allow: "GET, HEAD",
      });
      return outcome;
    }
    await respond(conn, 200, "text/html; charset=utf-8", INDEX_HTML, persistence, {}, headOnly);
    return outcome;
  }
  const bytes = /^\/bytes\/([0-9]{1,13})$/.exec(path);
  if (bytes !== null || path.startsWith("/bytes/")) {
    if (!isGet) {
      await respond(conn, 405, "text/plain", "method not allowed\n", persistence, {
        Allow: "GET, HEAD",
      });
      return outcome;
    }
    const n = bytes === null ? Number.NaN : Number(bytes[1]);
    if (!Number.isSafeInteger(n) || n > MAX_BYTES_COUNT) {
      await respond(conn, 400, "text/plain", `N must be 0..${MAX_BYTES_COUNT}\n`, "close");
      return "close";
    }
    if (headOnly) {
      await finish(
        conn,
        headBytes(
          200,
          { "Content-Type": "application/octet-stream", "Content-Length": n },
          persistence,
        ),
        persistence,
      );
    } else {
      await sendBytes(conn, n, persistence);
    }
    return outcome;
  }
  if (path === "/sha256") {
    if (req.method !== "POST") {
      await respond(conn, 405, "text/plain", "method not allowed\n", persistence, {
        Allow: "POST",
      });
      return outcome;
    }
    // RFC 9110 §10.1.1: answer 100 (Continue) so the client sends the body without waiting.
    if (listHas(req.headers.get("expect"), "100-continue") && req.version === "1.1") {
      await conn.write(encoder.encode("HTTP/1.1 100 Continue\r\n\r\n"));
    }
    const hasher = new Bun.CryptoHasher("sha256");
    await readBody(reader, body, (chunk) => hasher.update(chunk));
    await respond(conn, 200, "text/plain", `${hasher.digest("hex")}\n`, persistence);
    return outcome;
  }
  await respond(conn, 404, "text/plain", "not found\n", persistence);
  return outcome;
}

/** Serves requests on one connection until either side closes it. */
export async function httpConnection(conn: Connection): Promise<void> {
  const reader = new RequestReader(conn);
  for (;;) {
    const head = await reader.until(CRLF_CRLF, MAX_HEAD);
    if (head === null) break; // the client closed between requests
    if (head === "truncated") break;
    if (head === "too-long") {
      await respond(conn, 431, "text/plain", "request head too large\n", "close");
      break;
    }
    let outcome: Outcome;
    try {
      outcome = await handle(conn, reader, parseHead(head));
    } catch (e) {
      if (!(e instanceof BadRequest)) throw e;
      await respond(conn, 400, "text/plain", `bad request: ${e.message}\n`, "close");
      break;
    }
    if (outcome === "close") break;
  }
  await conn.end();
}

export function startHttp(net: Net, port = HTTP_PORT, opts: ServiceOptions = {}): Service {
  return tcpService(net, "http", port, httpConnection, opts);
}
