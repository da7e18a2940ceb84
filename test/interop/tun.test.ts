/**
 * The TUN driver and the lab namespace against the real Linux kernel. Needs
 * root (and iproute2, iputils-ping: `bun scripts/setup.ts`). Under CI=true
 * they always run; elsewhere without root they are skipped with a reason.
 *
 * Every namespace is unique to this run (tcplab-t<pid>-<n>) and removed at
 * the end; all traffic stays inside it. Waits are bounded polls, never sleeps.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { createNetns, type Netns, netnsExists } from "../../src/link/netns.ts";
import { openTun, TunError } from "../../src/link/tun.ts";
import { buildEchoReply, parseEchoRequest } from "./echo-helper.ts";
import { AS_NOBODY } from "./kernel-helpers.ts";

const isRoot = process.getuid?.() === 0;
const inCi = process.env.CI === "true";
const skip = !isRoot && !inCi;
if (skip) {
  console.warn(
    "test/interop skipped: needs root for TUN devices and namespaces (sudo bun test test/interop)",
  );
}

let serial = 0;
const uniqueName = () => `tcplab-t${process.pid}-${++serial}`;
const created: Netns[] = [];

async function freshNetns(): Promise<Netns> {
  const ns = await createNetns(uniqueName());
  created.push(ns);
  return ns;
}

afterAll(async () => {
  for (const ns of created) await ns.remove();
});

/** Poll `cond` until it holds or `ms` pass; returns whether it held. */
async function waitFor(cond: () => boolean, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

/** `promise`'s value, or `fallback` if it takes longer than `ms` (the timer never outlives it). */
async function within<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The TunError `fn` fails with (the test fails if it does not fail that way). */
async function tunErrorOf(fn: () => Promise<unknown>): Promise<TunError> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TunError);
    return err as TunError;
  }
  throw new Error("expected a TunError, but the call succeeded");
}

function expectOneLine(err: TunError): void {
  expect(err.message).not.toContain("\n");
  expect(err.message.length).toBeGreaterThan(20);
}

/** What is left on a stream `startChild` has already read from (bounded by the process's exit). */
async function readRest(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader();
  const dec = new TextDecoder();
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text;
    text += dec.decode(value, { stream: true });
  }
}

const CHILD = new URL("./fixtures/netns-child.ts", import.meta.url).pathname;

/** Start the fixture tcplab process and wait (bounded) for it to say "ready". */
async function startChild(
  name: string,
  mode: "exit" | "wait" | "handler",
): Promise<Bun.Subprocess<"ignore", "pipe", "pipe">> {
  const child = Bun.spawn([process.execPath, CHILD, name, mode], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const reader = child.stdout.getReader();
  const first = await within(
    reader.read().then((r) => new TextDecoder().decode(r.value ?? new Uint8Array())),
    15_000,
    "timeout",
  );
  reader.releaseLock();
  if (!first.startsWith("ready")) {
    child.kill("SIGKILL");
    throw new Error(`fixture did not start: ${first} ${await new Response(child.stderr).text()}`);
  }
  return child;
}

describe.skipIf(skip)("TUN device in a tcplab namespace", () => {
  test("kernel pings 10.0.0.2: the driver reads 3 echo requests, its replies reach ping", async () => {
    const ns = await freshNetns();
    const tun = await openTun({
      netns: ns,
      name: "tl0",
      localAddr: "10.0.0.1",
      peerAddr: "10.0.0.2",
    });
    const requests: { src: string; dst: string; seq: number }[] = [];
    tun.onReceive((packet) => {
      const req = parseEchoRequest(packet);
      if (req === undefined) return;
      requests.push(req);
      tun.send(buildEchoReply(packet));
    });
    const ping = await ns.exec(["ping", "-n", "-c", "3", "-i", "0.2", "-W", "2", "10.0.0.2"], {
      timeoutMs: 15_000,
    });
    expect(ping.timedOut).toBe(false);
    expect(ping.stdout).toContain("3 packets transmitted, 3 received");
    expect(ping.exitCode).toBe(0);
    expect(requests.map((r) => r.seq)).toEqual([1, 2, 3]);
    for (const r of requests) {
      expect(r.src).toBe("10.0.0.1");
      expect(r.dst).toBe("10.0.0.2");
    }
    expect(tun.stats.packetsIn).toBe(3);
    expect(tun.stats.packetsOut).toBe(3);
    expect(tun.stats.bytesOut).toBe(3 * 84);
    await tun.close();
  });

  test("a stack that falls behind: the hand-off stays at its ring, the kernel's queue drops the excess, both counted", async () => {
    const ns = await freshNetns();
    const device = { netns: ns, name: "tl0", localAddr: "10.0.0.1", peerAddr: "10.0.0.2" };
    const tun = await openTun({ ...device, queueBytes: 512 * 1024 }); // two slots
    let handled = 0;
    tun.onReceive((packet) => {
      if (packet[9] !== 17) return; // UDP only
      handled++;
      Bun.sleepSync(1); // a stack far slower than the kernel
    });
    const sent = 4000;
    const flood = await ns.exec(
      ["hping3", "--udp", "-p", "9999", "-d", "1000", "-c", String(sent), "-i", "u50", "10.0.0.2"],
      { timeoutMs: 30_000 },
    );
    expect(flood.stdout + flood.stderr).toContain(`${sent} packets transmitted`);
    // Bounded: everything sent was either handled or dropped by the kernel's queue.
    let dropped = 0;
    expect(
      await waitFor(() => {
        dropped = tun.kernelDropped() ?? 0;
        return handled + dropped >= sent;
      }, 20_000),
    ).toBe(true);
    expect(dropped).toBeGreaterThan(0);
    expect(handled).toBeLessThan(sent);
    expect(tun.stats.readerStalls).toBeGreaterThan(0);
    await tun.close();
  });

  test("the device is configured: MTU, point-to-point addresses, up, and only in the namespace", async () => {
    const ns = await freshNetns();
    const tun = await openTun({
      netns: ns,
      name: "tl0",
      mtu: 1280,
      localAddr: "10.0.0.1",
      peerAddr: "10.0.0.2",
    });
    expect(tun.mtu).toBe(1280);
    const link = await ns.exec(["ip", "-o", "link", "show", "dev", "tl0"]);
    expect(link.stdout).toContain("mtu 1280");
    expect(link.stdout).toMatch(/<[^>]*\bUP\b[^>]*>/);
    const addr = await ns.exec(["ip", "-o", "-4", "addr", "show", "dev", "tl0"]);
    expect(addr.stdout).toContain("inet 10.0.0.1 peer 10.0.0.2/32");
    const route = await ns.exec(["ip", "route", "get", "10.0.0.2"]);
    expect(route.stdout).toContain("dev tl0");
    // The machine's own namespace never sees it.
    expect(existsSync("/sys/class/net/tl0")).toBe(false);
    await tun.close();
  });

  test("a packet longer than the MTU is counted and not written", async () => {
    const ns = await freshNetns();
    const tun = await openTun({
      netns: ns,
      name: "tl0",
      mtu: 576,
      localAddr: "10.0.0.1",
      peerAddr: "10.0.0.2",
    });
    tun.send(new Uint8Array(577));
    tun.send(new Uint8Array(0));
    expect(tun.stats.droppedOut).toBe(2);
    expect(tun.stats.packetsOut).toBe(0);
    await tun.close();
  });

  test("close removes the device; remove() removes the namespace and its marker", async () => {
    const ns = await createNetns(uniqueName());
    const tun = await openTun({
      netns: ns,
      name: "tl0",
      localAddr: "10.0.0.1",
      peerAddr: "10.0.0.2",
    });
    expect((await ns.exec(["ip", "-o", "link"])).stdout).toContain("tl0");
    await tun.close();
    expect(tun.closed).toBe(true);
    const gone = await ns.exec(["ip", "-o", "link", "show", "dev", "tl0"]);
    expect(gone.exitCode).not.toBe(0);
    tun.send(new Uint8Array(40)); // after close: counted, never a write to a stale fd
    expect(tun.stats.droppedOut).toBe(1);
    await ns.remove();
    expect(netnsExists(ns.name)).toBe(false);
    expect(existsSync(`/run/tcplab/${ns.name}.pid`)).toBe(false);
    await ns.remove(); // idempotent
  });

  test("remove() ends the peers spawned in the namespace", async () => {
    const ns = await createNetns(uniqueName());
    const peer = ns.spawn(["sleep", "30"]);
    await ns.remove();
    const ended = await within(
      peer.exited.then(() => true),
      5000,
      false,
    );
    expect(ended).toBe(true);
    expect(netnsExists(ns.name)).toBe(false);
  });

  test("the namespace is removed when tcplab exits normally", async () => {
    const name = uniqueName();
    const child = await startChild(name, "exit");
    expect(await child.exited).toBe(0);
    expect(netnsExists(name)).toBe(false);
    expect(existsSync(`/run/tcplab/${name}.pid`)).toBe(false);
  });

  test("the namespace is removed on SIGTERM and SIGINT", async () => {
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      const name = uniqueName();
      const child = await startChild(name, "wait");
      expect(netnsExists(name)).toBe(true);
      child.kill(signal);
      expect(await child.exited).toBe(signal === "SIGTERM" ? 143 : 130);
      expect(netnsExists(name)).toBe(false);
    }
  });

  test("an application's own SIGTERM/SIGINT handler still runs, after the namespace is removed", async () => {
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      const name = uniqueName();
      const child = await startChild(name, "handler");
      expect(netnsExists(name)).toBe(true);
      child.kill(signal);
      // Not 143/130: tcplab's hook must not exit before the application's handler runs.
      expect(await within(child.exited, 10_000, -1)).toBe(0);
      const out = await readRest(child.stdout);
      expect(out).toContain(`app handler ran ${signal} netns removed`);
      expect(netnsExists(name)).toBe(false);
      expect(existsSync(`/run/tcplab/${name}.pid`)).toBe(false);
    }
  });

  test("a crashed run's namespace is removed on the next start", async () => {
    const name = uniqueName();
    const child = await startChild(name, "wait");
    child.kill("SIGKILL"); // no exit hook runs: the namespace and marker stay behind
    await child.exited;
    expect(netnsExists(name)).toBe(true);
    expect(existsSync(`/run/tcplab/${name}.pid`)).toBe(true);

    const ns = await createNetns(name);
    created.push(ns);
    expect(ns.start.removedStale).toBe(true);
    // The fresh namespace works: a device can be made in it under the old name.
    const tun = await openTun({
      netns: ns,
      name: "tl0",
      localAddr: "10.0.0.1",
      peerAddr: "10.0.0.2",
    });
    await tun.close();
    await ns.remove();
    expect(netnsExists(name)).toBe(false);
  });

  test("a namespace tcplab did not create is never touched", async () => {
    const name = uniqueName();
    const add = Bun.spawnSync(["ip", "netns", "add", name]);
    expect(add.exitCode).toBe(0);
    try {
      const err = await tunErrorOf(() => createNetns(name));
      expect(err.reason).toBe("netns-not-ours");
      expect(err.message).toContain(`ip netns del ${name}`);
      expectOneLine(err);
      expect(netnsExists(name)).toBe(true);
    } finally {
      Bun.spawnSync(["ip", "netns", "del", name]);
    }
  });

  test("a namespace still in use by a live tcplab is refused", async () => {
    const ns = await freshNetns();
    const err = await tunErrorOf(() => createNetns(ns.name));
    expect(err.reason).toBe("netns-in-use");
    expect(err.message).toContain(String(process.pid));
    expectOneLine(err);
    expect(netnsExists(ns.name)).toBe(true);
  });

  test("a taken interface name is a one-line error", async () => {
    const ns = await freshNetns();
    const tun = await openTun({
      netns: ns,
      name: "tl0",
      localAddr: "10.0.0.1",
      peerAddr: "10.0.0.2",
    });
    const busy = await tunErrorOf(() =>
      openTun({ netns: ns, name: "tl0", localAddr: "10.0.0.1", peerAddr: "10.0.0.2" }),
    );
    expect(busy.reason).toBe("name-taken");
    expect(busy.message).toContain('"tl0"');
    expectOneLine(busy);
    // A name held by a device of another kind.
    const lo = await tunErrorOf(() =>
      openTun({ netns: ns, name: "lo", localAddr: "10.0.0.1", peerAddr: "10.0.0.2" }),
    );
    expect(lo.reason).toBe("name-taken");
    await tun.close();
  });

  test("a missing namespace is a one-line error", async () => {
    const name = `tcplab-missing-${process.pid}`;
    const err = await tunErrorOf(() =>
      openTun({ netns: name, localAddr: "10.0.0.1", peerAddr: "10.0.0.2" }),
    );
    expect(err.reason).toBe("netns-missing");
    expect(err.message).toContain(name);
    expectOneLine(err);

    const ns = await createNetns(uniqueName());
    await ns.remove();
    const removed = await tunErrorOf(() =>
      openTun({ netns: ns, localAddr: "10.0.0.1", peerAddr: "10.0.0.2" }),
    );
    expect(removed.reason).toBe("netns-missing");
  });

  test("bad options are one-line errors before anything is created", async () => {
    const bad = await tunErrorOf(() => openTun({ localAddr: "10.0.0.300", peerAddr: "10.0.0.2" }));
    expect(bad.reason).toBe("bad-address");
    const long = await tunErrorOf(() =>
      openTun({ name: "a-name-far-too-long", localAddr: "10.0.0.1", peerAddr: "10.0.0.2" }),
    );
    expect(long.reason).toBe("bad-name");
  });

  test("without root: one line saying what to do", async () => {
    // Run a tcplab process as nobody (setpriv is util-linux, always on Debian).
    const proc = Bun.spawnSync([
      ...AS_NOBODY,
      process.execPath,
      "-e",
      `import { openTun } from ${JSON.stringify(new URL("../../src/link/tun.ts", import.meta.url).pathname)};
       try { await openTun({ localAddr: "10.0.0.1", peerAddr: "10.0.0.2" }); console.log("opened"); }
       catch (e) { console.log(JSON.stringify({ reason: e.reason, message: e.message })); }`,
    ]);
    const out = proc.stdout.toString().trim();
    const res = JSON.parse(out) as { reason: string; message: string };
    expect(res.reason).toBe("not-root");
    expect(res.message).toBe(
      "tcplab needs root to create a TUN device: run with sudo, or use `bun run lab` without root for the simulated world",
    );
  });

  test("an idle device wakes nobody: no reads while the kernel is quiet", async () => {
    const ns = await freshNetns();
    const tun = await openTun({
      netns: ns,
      name: "tl0",
      localAddr: "10.0.0.1",
      peerAddr: "10.0.0.2",
    });
    let received = 0;
    tun.onReceive(() => received++);
    // One ping proves the reader is live; then nothing else may arrive.
    const ping = await ns.exec(["ping", "-n", "-c", "1", "-W", "1", "10.0.0.2"], {
      timeoutMs: 10_000,
    });
    expect(ping.stdout).toContain("1 packets transmitted");
    expect(await waitFor(() => received === 1)).toBe(true);
    const wakeups = tun.stats.readWakeups;
    expect(await waitFor(() => tun.stats.readWakeups !== wakeups, 500)).toBe(false);
    await tun.close();
  });
});
