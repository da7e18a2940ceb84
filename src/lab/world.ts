/**
 * A world is where the lab's hosts live: the simulated one (tcplab hosts `a`
 * and `b` on a simulated wire) or the kernel one (tcplab host `lab` on a TUN
 * device, the Linux kernel as its peer). Commands only see this interface,
 * so both worlds accept the same commands.
 */

import type { Sockets } from "../api/sockets.ts";
import type { Duration } from "../clock/time.ts";
import type { Attachment } from "../runtime/attach.ts";
import type { Host } from "../stack/host.ts";
import type { Personality } from "../tcp/personality.ts";
import type { TcpSettings } from "../tcp/settings.ts";
import type { Ipv4Addr } from "../wire/addr.ts";
import type { Ipv6Addr } from "../wire/ipv6-addr.ts";
import type { EventLog } from "./event-log.ts";
import type { HostLink } from "./host-link.ts";
import type { LabClock } from "./lab-clock.ts";
import type { HostSamples } from "./samples.ts";

export type WorldKind = "simulated" | "kernel";

/** A tcplab host of the world, with everything the commands need. */
export interface LabHost {
  readonly name: string;
  readonly addr: Ipv4Addr;
  /** Its IPv6 address, if it has one (the simulated world's hosts: fd00::1, fd00::2). */
  readonly addr6: Ipv6Addr | undefined;
  readonly host: Host;
  readonly sockets: Sockets;
  readonly attachment: Attachment;
  readonly link: HostLink;
  /** Whose choices new connections and listeners follow (`personality` switches it). */
  personality: Personality;
  /** Settings the world fixes over any personality (tests, `SimWorldOptions.tcp`). */
  readonly tcpOverrides: Partial<TcpSettings>;
  /** cwnd, ssthresh and sent segments over time, per connection (`plot`). */
  readonly samples: HostSamples;
}

/** The far end that is not a tcplab host (the kernel), drawn on the ladder's right. */
export interface PeerInfo {
  readonly name: string;
  readonly addr: Ipv4Addr;
}

export interface HostCommandIo {
  readonly output: (text: string, stream: "stdout" | "stderr") => void;
  /** Ends the command (SIGINT to its process group; SIGKILL if it lingers). */
  readonly signal: AbortSignal;
  /** Told the process id once the command has started. */
  readonly started?: (pid: number) => void;
}

/** A bandwidth limit on the path, with the queue packets wait in for it. */
export interface Bottleneck {
  /** Bits per second. */
  readonly rate: number;
  /** Packets that may wait; more are dropped (drop-tail). Undefined: no limit. */
  readonly queue: number | undefined;
}

export interface World {
  readonly kind: WorldKind;
  /** tcplab hosts; the first is the default host and the ladder's left side. */
  readonly hosts: readonly LabHost[];
  /** The non-tcplab peer, if any (kernel world). */
  readonly peer: PeerInfo | undefined;
  readonly clock: LabClock;
  readonly log: EventLog;
  /** One-way delay of the path (ms). */
  delay(): Duration;
  setDelay(ms: Duration): void;
  /** The path's bottleneck, if the world has one to set (the simulated world). */
  bottleneck?(): Bottleneck | undefined;
  setBottleneck?(b: Bottleneck | undefined): void;
  /**
   * The largest packet the path carries (the simulated world): a larger one
   * with DF is dropped and its sender told by ICMP, one without is fragmented.
   */
  pathMtu?(): number;
  setPathMtu?(bytes: number): void;
  /** Runs a shell command where the peer lives (kernel world only). Resolves with its exit code. */
  runHostCommand?(command: string, io: HostCommandIo): Promise<number | null>;
  close(): Promise<void>;
}
