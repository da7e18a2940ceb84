/**
 * The kernel world: tcplab host `lab` at 10.0.0.2 and fd00::2 on a TUN
 * device inside a network namespace of its own; the Linux kernel at
 * 10.0.0.1 and fd00::1 is the peer (`host ping -6 fd00::2` works; a TUN
 * device is layer 3, so no neighbour discovery is needed).
 * Needs root. tcplab's timers still live on the lab clock, which runs along
 * real time from the start and can be paused and stepped like the simulated
 * one (the kernel's own timers keep real time regardless).
 */

import { type Duration, ZERO } from "../clock/time.ts";
import { createNetns, DEFAULT_NETNS } from "../link/netns.ts";
import { openTun } from "../link/tun.ts";
import { cryptoSecret } from "../runtime/entropy.ts";
import type { Personality } from "../tcp/personality.ts";
import type { TcpSettings } from "../tcp/settings.ts";
import { Rng } from "../util/rng.ts";
import { ip } from "../wire/addr.ts";
import { IPV6_MIN_MTU } from "../wire/ipv6.ts";
import { ip6 } from "../wire/ipv6-addr.ts";
import { EventLog } from "./event-log.ts";
import { LabClock, type RealTime } from "./lab-clock.ts";
import { isnSecret, makeLabHost } from "./lab-host.ts";
import { LabEngine, type LabSessionOptions } from "./session.ts";
import type { HostCommandIo, World } from "./world.ts";

export interface KernelWorldOptions {
  /** Namespace name (default "tcplab"). */
  readonly netns?: string;
  readonly tunName?: string;
  readonly mtu?: number;
  readonly seed?: number;
  /** tcplab's personality (default tcplab). */
  readonly personality?: Personality;
  /** Settings fixed over the personality. */
  readonly tcp?: Partial<TcpSettings>;
  readonly realTime?: RealTime;
  /** Events the lab log keeps (default DEFAULT_LOG_LIMIT); older ones are let go and counted. */
  readonly logLimit?: number;
}

export const KERNEL_ADDR = "10.0.0.1";
export const LAB_ADDR = "10.0.0.2";
export const KERNEL_ADDR6 = "fd00::1";
export const LAB_ADDR6 = "fd00::2";

/** How long an interrupted host command may take to end before it is killed. */
const KILL_GRACE_MS = 2000;
/** How long output is still read after a host command's shell has exited. */
const DRAIN_GRACE_MS = 250;

/** What pump needs of a stream reader. */
export interface ChunkReader {
  read(): Promise<{ done: boolean; value?: Uint8Array | undefined }>;
  cancel(): Promise<void>;
}

/**
 * Streams one output of a host command to the session until it ends or is
 * cancelled, a line at a time: a program that writes one line in several
 * pieces (`nc: ` … `: Connection refused`) is shown as that one line. What
 * is left without a line end is passed on when the output ends.
 */
export async function pump(
  reader: ChunkReader,
  kind: "stdout" | "stderr",
  io: Pick<HostCommandIo, "output">,
): Promise<void> {
  const decoder = new TextDecoder();
  let pending = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || value === undefined) break;
      pending += decoder.decode(value, { stream: true });
      const end = pending.lastIndexOf("\n") + 1;
      if (end === 0) continue;
      io.output(pending.slice(0, end), kind);
      pending = pending.slice(end);
    }
  } catch {
    // Cancelled by an interrupt: the command's output simply ends here.
  }
  if (pending !== "") io.output(pending, kind);
}

export async function createKernelWorld(opts: KernelWorldOptions = {}): Promise<World> {
  const ns = await createNetns(opts.netns ?? DEFAULT_NETNS);
  const mtu = opts.mtu ?? 1500;
  // RFC 8200 §5: IPv6 needs a 1280-byte link; below that the world speaks IPv4 only.
  const v6 = mtu >= IPV6_MIN_MTU;
  let tun: Awaited<ReturnType<typeof openTun>>;
  try {
    tun = await openTun({
      netns: ns,
      localAddr: KERNEL_ADDR,
      peerAddr: LAB_ADDR,
      ...(v6 ? { localAddr6: KERNEL_ADDR6, peerAddr6: LAB_ADDR6 } : {}),
      mtu,
      ...(opts.tunName !== undefined ? { name: opts.tunName } : {}),
    });
  } catch (e) {
    await ns.remove();
    throw e;
  }
  const rng = new Rng(opts.seed ?? Date.now());
  const clock = new LabClock(opts.realTime);
  const log = new EventLog(opts.logLimit);
  const lab = makeLabHost(
    {
      name: "lab",
      addr: ip(LAB_ADDR),
      ...(v6 ? { addr6: ip6(LAB_ADDR6) } : {}),
      mtu,
      // A seeded session replays its ISNs; otherwise the key is the platform's (RFC 6528 §3).
      isn: { secret: opts.seed !== undefined ? isnSecret(rng.fork("isn")) : cryptoSecret() },
      ...(opts.tcp !== undefined ? { tcp: opts.tcp } : {}),
      ...(opts.personality !== undefined ? { personality: opts.personality } : {}),
    },
    tun,
    clock,
    log,
    rng.fork("lab"),
  );
  // The kernel keeps real time: so does tcplab's clock, until `pause`.
  void clock.run();
  const live = new Set<Bun.Subprocess>();
  const delayRule = () => lab.link.faults.rules().find((r) => r.spec.label === "delay");
  return {
    kind: "kernel",
    hosts: [lab],
    peer: { name: "kernel", addr: ip(KERNEL_ADDR) },
    clock,
    log,
    delay(): Duration {
      const r = delayRule();
      return r !== undefined && r.spec.action.kind === "delay" ? r.spec.action.by : ZERO;
    },
    setDelay(ms) {
      const r = delayRule();
      if (r !== undefined) lab.link.faults.removeRule(r);
      // tcplab holds back what it sends and what it receives by `ms`: one-way delay each way.
      if (ms > 0)
        lab.link.faults.addRule({ action: { kind: "delay", by: ms }, dir: "both", label: "delay" });
    },
    async runHostCommand(command, io) {
      // Its own session (setsid), so an interrupt reaches the whole pipeline, not just the shell.
      // $TCPLAB_TUN names the kernel's interface to tcplab, so a lab can write
      // `ip link set dev $TCPLAB_TUN mtu 576` whatever the device is called.
      const shell = ["env", `TCPLAB_TUN=${tun.name}`, "sh", "-c", command];
      const argv = Bun.which("setsid") !== null ? ["setsid", ...shell] : shell;
      const proc = ns.spawn(argv, { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
      live.add(proc);
      io.started?.(proc.pid);
      const readers: ChunkReader[] = [];
      const signal = (sig: NodeJS.Signals) => {
        try {
          process.kill(-proc.pid, sig);
        } catch {
          proc.kill(sig);
        }
      };
      let lingering: ReturnType<typeof setTimeout> | undefined;
      const kill = () => {
        signal("SIGINT");
        for (const r of readers) void r.cancel();
        // A command that ignores SIGINT is not left behind in the namespace.
        lingering = setTimeout(() => signal("SIGKILL"), KILL_GRACE_MS);
      };
      io.signal.addEventListener("abort", kill, { once: true });
      const pumps: Promise<void>[] = [];
      for (const [stream, kind] of [
        [proc.stdout, "stdout"],
        [proc.stderr, "stderr"],
      ] as const) {
        if (!(stream instanceof ReadableStream)) continue;
        const reader = stream.getReader();
        readers.push(reader);
        pumps.push(pump(reader, kind, io));
      }
      const code = await proc.exited;
      live.delete(proc);
      if (lingering !== undefined) clearTimeout(lingering);
      // Interrupted: what the command left in its session goes too — a child it put in the
      // background ignores SIGINT, a forking server's children may outlive it.
      if (io.signal.aborted) {
        try {
          process.kill(-proc.pid, "SIGKILL");
        } catch {
          // the session has ended already
        }
      }
      // What the command wrote before it ended is read to the end; a child it left in the
      // background (`… &` inside it) would keep the pipes open, so reading stops shortly after.
      const drained = Promise.all(pumps);
      let grace: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        drained,
        new Promise<void>((resolve) => {
          grace = setTimeout(resolve, DRAIN_GRACE_MS);
        }),
      ]);
      clearTimeout(grace);
      for (const r of readers) void r.cancel();
      await drained;
      io.signal.removeEventListener("abort", kill);
      return proc.signalCode !== null ? null : code;
    },
    async close() {
      clock.close();
      for (const p of live) {
        try {
          process.kill(-p.pid, "SIGKILL");
        } catch {
          p.kill("SIGKILL");
        }
      }
      await Promise.all([...live].map((p) => p.exited));
      lab.attachment.detach();
      await tun.close();
      await ns.remove();
    },
  };
}

/** A lab session in the kernel world (root only). `lab start` builds a fresh kernel world. */
export async function createKernelLabSession(
  opts: KernelWorldOptions & Omit<LabSessionOptions, "world" | "worldInstance"> = {},
): Promise<LabEngine> {
  const world = await createKernelWorld(opts);
  return new LabEngine(world, {
    worldFactory: () => createKernelWorld(opts),
    ...opts,
  });
}
