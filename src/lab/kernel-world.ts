/**
 * The kernel world: tcplab host `lab` at 10.0.0.2 on a TUN device inside a
 * network namespace of its own; the Linux kernel at 10.0.0.1 is the peer.
 * Needs root. tcplab's timers still live on the lab clock, which runs along
 * real time from the start and can be paused and stepped like the simulated
 * one (the kernel's own timers keep real time regardless).
 */
import type { Millis } from "../clock/clock.ts";
import { createNetns, DEFAULT_NETNS } from "../link/netns.ts";
import { openTun } from "../link/tun.ts";
import type { TcpSettings } from "../tcp/settings.ts";
import { Rng } from "../util/rng.ts";
import { ip } from "../wire/addr.ts";
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
  readonly tcp?: Partial<TcpSettings>;
  readonly realTime?: RealTime;
}

export const KERNEL_ADDR = "10.0.0.1";
export const LAB_ADDR = "10.0.0.2";

async function pump(
  stream: ReadableStream<Uint8Array>,
  kind: "stdout" | "stderr",
  io: HostCommandIo,
): Promise<void> {
  const decoder = new TextDecoder();
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const text = decoder.decode(value, { stream: true });
    if (text !== "") io.output(text, kind);
  }
}

export async function createKernelWorld(opts: KernelWorldOptions = {}): Promise<World> {
  const ns = await createNetns(opts.netns ?? DEFAULT_NETNS);
  const mtu = opts.mtu ?? 1500;
  let tun: Awaited<ReturnType<typeof openTun>>;
  try {
    tun = await openTun({
      netns: ns,
      localAddr: KERNEL_ADDR,
      peerAddr: LAB_ADDR,
      mtu,
      ...(opts.tunName !== undefined ? { name: opts.tunName } : {}),
    });
  } catch (e) {
    await ns.remove();
    throw e;
  }
  const rng = new Rng(opts.seed ?? Date.now());
  const clock = new LabClock(opts.realTime);
  const log = new EventLog();
  const lab = makeLabHost(
    {
      name: "lab",
      addr: ip(LAB_ADDR),
      mtu,
      isn: { secret: isnSecret(rng.fork("isn")) },
      ...(opts.tcp !== undefined ? { tcp: opts.tcp } : {}),
    },
    tun,
    clock,
    log,
    rng.fork("lab"),
  );
  // The kernel keeps real time: so does tcplab's clock, until `pause`.
  void clock.run();
  const delayRule = () => lab.link.faults.rules().find((r) => r.spec.label === "delay");
  return {
    kind: "kernel",
    hosts: [lab],
    peer: { name: "kernel", addr: ip(KERNEL_ADDR) },
    clock,
    log,
    delay(): Millis {
      const r = delayRule();
      return r !== undefined && r.spec.action.kind === "delay" ? r.spec.action.by : 0;
    },
    setDelay(ms) {
      const r = delayRule();
      if (r !== undefined) lab.link.faults.removeRule(r);
      // tcplab holds back what it sends and what it receives by `ms`: one-way delay each way.
      if (ms > 0) lab.link.faults.addRule({ action: { kind: "delay", by: ms }, dir: "both", label: "delay" });
    },
    async runHostCommand(command, io) {
      const proc = ns.spawn(["sh", "-c", command], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
      const kill = () => proc.kill("SIGINT");
      io.signal.addEventListener("abort", kill, { once: true });
      const pumps: Promise<void>[] = [];
      if (proc.stdout instanceof ReadableStream) pumps.push(pump(proc.stdout, "stdout", io));
      if (proc.stderr instanceof ReadableStream) pumps.push(pump(proc.stderr, "stderr", io));
      const code = await proc.exited;
      await Promise.all(pumps);
      io.signal.removeEventListener("abort", kill);
      return proc.signalCode !== null ? null : code;
    },
    async close() {
      clock.close();
      lab.attachment.detach();
      await tun.close();
      await ns.remove();
    },
  };
}

/** A lab session in the kernel world (root only). `lab start` switches to a fresh simulated world. */
export async function createKernelLabSession(
  opts: KernelWorldOptions & Omit<LabSessionOptions, "world" | "worldInstance"> = {},
): Promise<LabEngine> {
  const world = await createKernelWorld(opts);
  return new LabEngine(world, opts);
}
