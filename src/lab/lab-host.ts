/** Builds a LabHost: a Host on a HostLink, its Sockets, samples and state-change logging. */
import { Sockets } from "../api/sockets.ts";
import type { Clock } from "../clock/clock.ts";
import type { LinkEnd } from "../link/link.ts";
import { type Attachment, attach } from "../runtime/attach.ts";
import { Host, type HostOptions } from "../stack/host.ts";
import { defaultTcpSettings, mssForMtu, type TcpSettings } from "../tcp/settings.ts";
import type { Rng } from "../util/rng.ts";
import type { EventLog } from "./event-log.ts";
import { type HostLink, hostLink } from "./host-link.ts";
import {
  DEFAULT_PERSONALITY,
  hostSettingsFor,
  type Personality,
  personalityNamed,
} from "../tcp/personality.ts";
import { HostSamples } from "./samples.ts";
import type { LabHost } from "./world.ts";

export interface LabHostOptions extends Omit<HostOptions, "tcp"> {
  /** Default: tcplab (small TSvals, shift 0 for 64 KiB: easy to read). */
  readonly personality?: Personality;
  /** Settings fixed over the personality. */
  readonly tcp?: Partial<TcpSettings>;
}

/** The host-wide TcpSettings of a lab host: defaults, then the personality, then the world's overrides. */
export function labHostSettings(
  mtu: number,
  p: Personality,
  overrides: Partial<TcpSettings>,
): TcpSettings {
  // RFC 9293 §3.7.1: the MSS follows the MTU, as Host derives it.
  return { ...defaultTcpSettings, mss: mssForMtu(mtu), ...hostSettingsFor(p), ...overrides };
}

/** The personality a lab host follows unless told otherwise. */
export const orDefaultPersonality = (p: Personality | undefined): Personality =>
  p ?? (personalityNamed(DEFAULT_PERSONALITY) as Personality);

/** A LabHost on a wire of its own (the kernel world's TUN device). */
export function makeLabHost(
  opts: LabHostOptions,
  wire: LinkEnd,
  clock: Clock,
  log: EventLog,
  rng: Rng,
): LabHost {
  const { personality, tcp, ...rest } = opts;
  const p = orDefaultPersonality(personality);
  const overrides = tcp ?? {};
  const host = new Host({ ...rest, tcp: labHostSettings(opts.mtu ?? 1500, p, overrides) });
  const link = hostLink(opts.name, wire, clock, log, rng.fork(`faults-${opts.name}`));
  const attachment = attach(host, link.end, clock);
  return labHostOver({ host, attachment, link }, p, overrides, clock, log);
}

/**
 * The lab's layers over a host attached to `link`: its Sockets, the samples
 * `plot` draws, and its connections' state changes in the log.
 */
export function labHostOver(
  node: { readonly host: Host; readonly attachment: Attachment; readonly link: HostLink },
  personality: Personality,
  tcpOverrides: Partial<TcpSettings>,
  clock: Clock,
  log: EventLog,
): LabHost {
  const { host, attachment, link } = node;
  const sockets = new Sockets(host, attachment);
  const samples = new HostSamples((port, remote) => host.connection(port, remote));
  link.delivered = (packet) => samples.delivered(packet, clock.now());
  log.onEvent((ev) => {
    if (ev.kind === "packet" && ev.host === host.name && ev.dir === ">" && !ev.injected)
      samples.sent(ev);
  });
  log.onDropped((ev) => {
    if (ev.host === host.name && ev.dir === ">") samples.dropped(ev);
  });
  const prev = host.events.connectionAdded;
  host.events.connectionAdded = (tcb, state) => {
    prev?.(tcb, state);
    samples.added(tcb, clock.now());
    log.state(clock.now(), host.name, tcb, undefined, state);
    tcb.observe({
      stateChanged: (t, from, to) => {
        log.state(clock.now(), host.name, t, from, to);
      },
    });
  };
  return {
    name: host.name,
    addr: host.addr,
    addr6: host.addr6,
    host,
    sockets,
    attachment,
    link,
    personality,
    tcpOverrides,
    samples,
  };
}

/**
 * Switches a host's personality. Host copies its settings into every
 * listener and connection when it opens them (Host.listen, Host.connect),
 * so rewriting the host-wide record here changes what later opens get and
 * leaves running listeners and connections as they are.
 */
export function setPersonality(h: LabHost, p: Personality): void {
  const next = labHostSettings(h.host.mtu, p, h.tcpOverrides);
  // Host declares tcpSettings readonly for its callers; the lab owns this host and changes
  // the record in place (keys absent from `next` cannot exist: it is built from the full defaults).
  Object.assign(h.host.tcpSettings as { -readonly [K in keyof TcpSettings]: TcpSettings[K] }, next);
  // The challenge-ACK limit is the host's own (RFC 5961 §7), not copied into connections.
  h.host.challengeAcks.limitPerSecond = next.challengeAckLimit;
  h.personality = p;
}

/** A 16-byte ISN secret drawn from the world's seed, so a seeded session replays exactly. */
export function isnSecret(rng: Rng): Uint8Array {
  return rng.bytes(16);
}
