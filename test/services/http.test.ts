/**
 * The built-in services on the simulated world (no root): HTTP framing
 * (Content-Length, chunked, keep-alive, pipelining, 100-continue, errors),
 * the /bytes stream's definition, echo, discard and chargen.
 */
import { describe, expect, test } from "bun:test";
import type { Connection } from "../../src/api/net.ts";
import { type SimSocketPair, simSocketPair } from "../../src/api/hosts.ts";
import { CHARGEN_LINE, chargenPeriod, startChargen } from "../../src/services/chargen.ts";
import { startDiscard } from "../../src/services/discard.ts";
import { startEcho } from "../../src/services/echo.ts";
import { ms } from "../../src/clock/time.ts";
import { tapLink } from "../../src/link/link.ts";
import { ByteStream, deterministicBytes, startHttp } from "../../src/services/http.ts";
import { IpProto, parseIpv4 } from "../../src/wire/ipv4.ts";
import { parseTcp } from "../../src/wire/tcp.ts";
import { Flag } from "../../src/wire/tcp-types.ts";

const turn = () => new Promise<void>((r) => setImmediate(r));

/** Drives the virtual clock until `p` settles. */
async function settle<T>(world: SimSocketPair, p: Promise<T>): Promise<T> {
  let done = false;
  const watched = p.finally(() => {
    done = true;
  });
  for (let i = 0; i < 1_000_000; i++) {
    await turn();
    if (done) return watched;
    if (!world.clock.runToNextDeadline()) {
      await turn();
      if (done) return watched;
      throw new Error(`idle at ${world.clock.now()} ms with the call still pending`);
    }
  }
  throw new Error("event budget exhausted");
}

const enc = new TextEncoder();
const sha256 = (b: Uint8Array | string) => new Bun.CryptoHasher("sha256").update(b).digest("hex");

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Sends `request` (raw bytes) to b:port, half-closes, and returns everything b sends back. */
async function exchange(port: number, request: (string | Uint8Array)[]): Promise<Uint8Array> {
  const world = simSocketPair();
  startHttp(world.b.net);
  return settle(
    world,
    (async () => {
      const conn = await world.a.net.connect("10.0.0.2", port);
      for (const part of request)
        await conn.write(typeof part === "string" ? enc.encode(part) : part);
      await conn.end();
      return conn.readAll();
    })(),
  );
}

interface Response {
  status: number;
  headers: Map<string, string>;
  body: Uint8Array;
}

/** Splits a byte stream into HTTP responses (bodies by Content-Length; HEAD bodies given as 0). */
function parseResponses(bytes: Uint8Array, headOnly = false): Response[] {
  const out: Response[] = [];
  let at = 0;
  const text = Buffer.from(bytes).toString("latin1");
  while (at < bytes.length) {
    const end = text.indexOf("\r\n\r\n", at);
    if (end < 0)
      throw new Error(`unterminated head at ${at}: ${JSON.stringify(text.slice(at, at + 80))}`);
    const [statusLine, ...lines] = text.slice(at, end).split("\r\n");
    const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(statusLine ?? "")?.[1]);
    const headers = new Map<string, string>();
    for (const l of lines) {
      const c = l.indexOf(":");
      headers.set(l.slice(0, c).toLowerCase(), l.slice(c + 1).trim());
    }
    at = end + 4;
    const len = status === 100 || headOnly ? 0 : Number(headers.get("content-length"));
    out.push({ status, headers, body: bytes.slice(at, at + len) });
    at += len;
  }
  return out;
}

const get = (path: string, extra = "") => `GET ${path} HTTP/1.1\r\nHost: tcplab\r\n${extra}\r\n`;

describe("the /bytes stream", () => {
  test("is xorshift32 from 0x2545f491, little-endian words (known answer)", () => {
    const first = deterministicBytes(16);
    expect(Buffer.from(first.subarray(0, 8)).toString("hex")).toBe("3ab624e1ab749a8b");
    expect(sha256(first)).toBe("d8bf17ea42e4fa67e8471c80a9262139faad2c5eacba771d6a6bd37154aca5c4");
    // An independent reading of the definition, word by word.
    let x = 0x2545f491;
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      words.push(x >>> 0);
    }
    const view = new DataView(first.buffer);
    expect(words).toEqual([0, 1, 2, 3].map((i) => view.getUint32(i * 4, true)));
  });

  test("filled in pieces of any size, it is the same stream", () => {
    const s = new ByteStream();
    const parts = [3, 5, 1, 7, 64, 2, 0, 1000, 1];
    const got = concat(
      parts.map((n) => {
        const b = new Uint8Array(n);
        s.fill(b);
        return b;
      }),
    );
    expect(Buffer.from(got).equals(Buffer.from(deterministicBytes(got.length)))).toBe(true);
  });
});

describe("HTTP service", () => {
  test("GET / names tcplab, with a correct Content-Length", async () => {
    const [r, ...rest] = parseResponses(await exchange(80, [get("/")]));
    expect(rest).toHaveLength(0);
    expect(r?.status).toBe(200);
    expect(r?.headers.get("content-type")).toContain("text/html");
    expect(new TextDecoder().decode(r?.body)).toContain("<h1>tcplab</h1>");
    expect(r?.body.length).toBe(Number(r?.headers.get("content-length")));
  });

  test("GET /bytes/N streams the first N bytes of the stream", async () => {
    const [r] = parseResponses(await exchange(80, [get("/bytes/300001")]));
    expect(r?.status).toBe(200);
    expect(r?.headers.get("content-length")).toBe("300001");
    expect(sha256(r?.body ?? new Uint8Array())).toBe(sha256(deterministicBytes(300001)));
  });

  test("pipelined requests on one connection are answered in order (keep-alive)", async () => {
    const rs = parseResponses(
      await exchange(80, [get("/bytes/5") + get("/nothing") + get("/bytes/0") + get("/")]),
    );
    expect(rs.map((r) => r.status)).toEqual([200, 404, 200, 200]);
    expect(rs[0]?.body).toEqual(deterministicBytes(5));
    expect(rs[2]?.body.length).toBe(0);
    for (const r of rs) expect(r.headers.has("connection")).toBe(false);
  });

  test("HEAD has the headers of GET and no body", async () => {
    const [r, ...rest] = parseResponses(
      await exchange(80, [`HEAD /bytes/1000 HTTP/1.1\r\nHost: x\r\n\r\n`]),
      true,
    );
    expect(rest).toHaveLength(0);
    expect(r?.status).toBe(200);
    expect(r?.headers.get("content-length")).toBe("1000");
  });

  test("POST /sha256 with Content-Length, with none (empty), and chunked with extensions and trailers", async () => {
    const body = deterministicBytes(200_000);
    const rs = parseResponses(
      await exchange(80, [
        `POST /sha256 HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`,
        body,
        "POST /sha256 HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST /sha256 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "5;name=value\r\nhello\r\n",
        "7\r\n, world\r\n",
        "0\r\nX-Trailer: yes\r\n\r\n",
      ]),
    );
    expect(rs.map((r) => r.status)).toEqual([200, 200, 200]);
    const text = rs.map((r) => new TextDecoder().decode(r.body));
    expect(text[0]).toBe(`${sha256(body)}\n`);
    expect(text[1]).toBe(`${sha256("")}\n`);
    expect(text[2]).toBe(`${sha256("hello, world")}\n`);
  });

  test("Expect: 100-continue is answered with 100 before the body is read", async () => {
    const rs = parseResponses(
      await exchange(80, [
        "POST /sha256 HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabc",
      ]),
    );
    expect(rs.map((r) => r.status)).toEqual([100, 200]);
    expect(new TextDecoder().decode(rs[1]?.body)).toBe(`${sha256("abc")}\n`);
  });

  test("405 names the allowed methods; other paths are 404", async () => {
    const rs = parseResponses(
      await exchange(80, [get("/sha256"), "DELETE / HTTP/1.1\r\n\r\n", get("/a/b")]),
    );
    expect(rs.map((r) => r.status)).toEqual([405, 405, 404]);
    expect(rs[0]?.headers.get("allow")).toBe("POST");
    expect(rs[1]?.headers.get("allow")).toBe("GET, HEAD");
  });

  test("malformed requests are 400 and the connection closes (nothing after is answered)", async () => {
    const bad = [
      "NOT A REQUEST\r\n\r\n",
      "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
      "GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
      "POST /sha256 HTTP/1.1\r\nContent-Length: -4\r\n\r\n",
      "POST /sha256 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "GET /bytes/99999999999999 HTTP/1.1\r\n\r\n",
    ];
    for (const request of bad) {
      const rs = parseResponses(await exchange(80, [request, get("/")]));
      expect(rs.map((r) => r.status)).toEqual([400]);
      expect(rs[0]?.headers.get("connection")).toBe("close");
    }
  });

  test("a request head over 16 KiB is refused with 431 and the connection closes", async () => {
    const rs = parseResponses(
      await exchange(80, [`GET / HTTP/1.1\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`, get("/")]),
    );
    expect(rs.map((r) => r.status)).toEqual([431]);
  });

  test("HTTP/1.0 with Connection: Keep-Alive is answered with Connection: keep-alive and stays open (RFC 9112 §9.3)", async () => {
    const request = "GET /bytes/3 HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n";
    const rs = parseResponses(await exchange(80, [request, request]));
    expect(rs.map((r) => r.status)).toEqual([200, 200]);
    for (const r of rs) expect(r.headers.get("connection")).toBe("keep-alive");
  });

  test("a keep-alive response leaves in one write: no wait for the client's delayed ACK", async () => {
    // Two small writes (head, then body) would hold the body behind Nagle
    // until the client's delayed ACK (200 ms here) of the head.
    const world = simSocketPair();
    startHttp(world.b.net);
    const elapsed = await settle(
      world,
      (async () => {
        const conn = await world.a.net.connect("10.0.0.2", 80);
        const times: number[] = [];
        for (let i = 0; i < 3; i++) {
          const start = world.clock.now();
          await conn.write(enc.encode(get("/bytes/100")));
          let got = 0;
          while (got < 100) {
            const chunk = await conn.read();
            if (chunk === null) throw new Error("closed");
            const text = Buffer.from(chunk).toString("latin1");
            const head = text.indexOf("\r\n\r\n");
            got += head >= 0 ? chunk.length - head - 4 : chunk.length;
          }
          times.push(world.clock.now() - start);
        }
        conn.close();
        return times;
      })(),
    );
    for (const t of elapsed) expect(t).toBeLessThan(40);
  });

  test("HTTP/1.0 and Connection: close end the connection after the response", async () => {
    for (const request of ["GET / HTTP/1.0\r\n\r\n", get("/", "Connection: close\r\n")]) {
      const rs = parseResponses(await exchange(80, [request, get("/")]));
      expect(rs.map((r) => r.status)).toEqual([200]);
      expect(rs[0]?.headers.get("connection")).toBe("close");
    }
  });
});

/** A TCP segment as the wire saw it, from b's (the server's) side. */
interface Seen {
  readonly dir: "in" | "out";
  readonly flags: number;
  readonly len: number;
}

/**
 * An HTTP/1.0 client on a: sends `request`, reads to the end, closes as ab
 * does. Returns the response and every segment at b's end of the wire.
 */
async function tapped10(request: string): Promise<{ body: Uint8Array; seen: Seen[] }> {
  const seen: Seen[] = [];
  const world = simSocketPair({
    link: (name, end) =>
      name === "b"
        ? tapLink(end, (dir, p) => {
            const ipp = parseIpv4(p);
            if (!ipp.ok || ipp.value.header.protocol !== IpProto.TCP) return;
            const h = ipp.value.header;
            const t = parseTcp(ipp.value.payload, h.src, h.dst);
            if (t.ok) seen.push({ dir, flags: t.value.flags, len: t.value.payload.length });
          })
        : end,
  });
  startHttp(world.b.net);
  const body = await settle(
    world,
    (async () => {
      const conn = await world.a.net.connect("10.0.0.2", 80);
      await conn.write(enc.encode(request));
      const all = await conn.readAll();
      conn.close();
      return all;
    })(),
  );
  // The client's close and the server's last ACK cross after readAll returns.
  await turn();
  world.clock.advance(ms(1));
  return { body, seen };
}

describe("the FIN of a closing response", () => {
  const flagNames = (s: Seen) =>
    `${s.dir} ${[
      [Flag.SYN, "S"],
      [Flag.FIN, "F"],
      [Flag.RST, "R"],
      [Flag.PSH, "P"],
      [Flag.ACK, "."],
    ]
      .filter(([f]) => (s.flags & (f as number)) !== 0)
      .map(([, n]) => n)
      .join("")} ${s.len}`;

  test("HTTP/1.0 GET /: the response's only segment carries the FIN; 8 segments in all", async () => {
    const { body, seen } = await tapped10("GET / HTTP/1.0\r\n\r\n");
    const [r] = parseResponses(body);
    expect(r?.status).toBe(200);
    const out = seen.filter((s) => s.dir === "out" && s.len > 0);
    expect(out).toHaveLength(1);
    expect((out[0]?.flags ?? 0) & Flag.FIN).toBe(Flag.FIN);
    expect(out[0]?.len).toBe(body.length);
    // SYN, SYN-ACK, ACK; the request; the response with our FIN (it was 9
    // segments with the FIN alone after the response); the client's ACK of
    // the FIN at once (RFC 9293 §3.10.7.4), its own FIN once its application
    // has read the end and closed; our ACK.
    expect(seen.map(flagNames)).toEqual([
      "in S 0",
      "out S. 0",
      "in . 0",
      "in P. 18",
      `out FP. ${body.length}`,
      "in . 0",
      "in F. 0",
      "out . 0",
    ]);
  });

  test("GET /bytes/N with Connection: close: the FIN rides on the last data segment", async () => {
    for (const n of [100, 300_001]) {
      const { body, seen } = await tapped10(
        `GET /bytes/${n} HTTP/1.1\r\nConnection: close\r\n\r\n`,
      );
      const [r] = parseResponses(body);
      expect(sha256(r?.body ?? new Uint8Array())).toBe(sha256(deterministicBytes(n)));
      const out = seen.filter((s) => s.dir === "out" && (s.len > 0 || (s.flags & Flag.FIN) !== 0));
      const fins = out.filter((s) => (s.flags & Flag.FIN) !== 0);
      expect(fins).toHaveLength(1);
      expect(out.at(-1)).toBe(fins[0]);
      expect(fins[0]?.len).toBeGreaterThan(0);
    }
  });
});

describe("echo, discard, chargen", () => {
  async function withService(
    start: (world: SimSocketPair) => void,
    port: number,
    client: (conn: Connection) => Promise<Uint8Array>,
  ): Promise<Uint8Array> {
    const world = simSocketPair();
    start(world);
    return settle(
      world,
      (async () => {
        const conn = await world.a.net.connect("10.0.0.2", port);
        return client(conn);
      })(),
    );
  }

  test("echo returns every byte and closes after the client's FIN", async () => {
    const data = deterministicBytes(100_000);
    const got = await withService(
      (w) => startEcho(w.b.net),
      7,
      async (conn) => {
        const reading = conn.readAll();
        await conn.write(data);
        await conn.end();
        return reading;
      },
    );
    expect(Buffer.from(got).equals(Buffer.from(data))).toBe(true);
  });

  test("discard sends nothing and closes after the client's FIN", async () => {
    const got = await withService(
      (w) => startDiscard(w.b.net),
      9,
      async (conn) => {
        await conn.write(deterministicBytes(50_000));
        await conn.end();
        return conn.readAll();
      },
    );
    expect(got.length).toBe(0);
  });

  test("chargen sends 72-character rotating lines (RFC 864) until the client closes", async () => {
    const period = chargenPeriod();
    expect(period.length).toBe(95 * (CHARGEN_LINE + 2));
    const line = (i: number) => new TextDecoder().decode(period.subarray(i * 74, i * 74 + 74));
    expect(line(0)).toBe(
      " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefg\r\n",
    );
    expect(line(1)).toBe(
      "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefgh\r\n",
    );
    // Line 94 wraps from "~" back to " ".
    expect(line(94).slice(0, 3)).toBe("~ !");
    const want = 3 * period.length + 100;
    const got = await withService(
      (w) => startChargen(w.b.net),
      19,
      async (conn) => {
        const parts: Uint8Array[] = [];
        let n = 0;
        while (n < want) {
          const c = await conn.read();
          if (c === null) break;
          parts.push(c);
          n += c.length;
        }
        await conn.end();
        // After our FIN, chargen stops and closes; what is still in flight is drained.
        for await (const c of conn) parts.push(c);
        return concat(parts);
      },
    );
    expect(got.length).toBeGreaterThanOrEqual(want);
    for (let i = 0; i < got.length; i++) {
      if (got[i] !== period[i % period.length]) throw new Error(`byte ${i} differs`);
    }
  });
});
