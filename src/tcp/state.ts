import type { IcmpErrno } from "../wire/icmp-errors.ts";

/** The eleven connection states of RFC 9293 §3.3.2, displayed with their RFC names. */
export enum State {
  Closed = 0,
  Listen = 1,
  SynSent = 2,
  SynReceived = 3,
  Established = 4,
  FinWait1 = 5,
  FinWait2 = 6,
  CloseWait = 7,
  Closing = 8,
  LastAck = 9,
  TimeWait = 10,
}

const NAMES: Record<State, string> = {
  [State.Closed]: "CLOSED",
  [State.Listen]: "LISTEN",
  [State.SynSent]: "SYN-SENT",
  [State.SynReceived]: "SYN-RECEIVED",
  [State.Established]: "ESTABLISHED",
  [State.FinWait1]: "FIN-WAIT-1",
  [State.FinWait2]: "FIN-WAIT-2",
  [State.CloseWait]: "CLOSE-WAIT",
  [State.Closing]: "CLOSING",
  [State.LastAck]: "LAST-ACK",
  [State.TimeWait]: "TIME-WAIT",
};

export function stateName(state: State): string {
  return NAMES[state];
}

/**
 * Errors a connection can end with, named as the BSD socket errors users
 * know; an ICMP error's (icmp-error.ts) when it aborts a handshake or was
 * the last word before a timeout.
 */
export type TcpError =
  | "ECONNREFUSED"
  | "ECONNRESET"
  | "ETIMEDOUT"
  | "EPIPE"
  | "ECONNABORTED"
  | IcmpErrno;
