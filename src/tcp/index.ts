/** The TCP engine's public surface (sans-IO, RFC 9293). */
export { ChallengeAckLimiter } from "./challenge.ts";
export {
  type CongestionController,
  type CongestionControlName,
  type CongestionPhase,
  Cubic,
  HyStartPlusPlus,
  Reno,
} from "./congestion/index.ts";
export { IsnGenerator } from "./isn.ts";
export { Listener, type ListenerDropReason, type ListenerVerdict } from "./listener.ts";
export { DEFAULT_PEER_MSS, type Negotiated, negotiate, synOptions } from "./options.ts";
export { type CongestionStats, LossRecovery } from "./recovery.ts";
export { resetFor, segLen } from "./reset.ts";
export { RttEstimator } from "./rtt.ts";
export { defaultTcpSettings, type TcpSettings } from "./settings.ts";
export { State, stateName, type TcpError } from "./state.ts";
export { openTcb, type TcbOptions, type TcbOwner } from "./tcb.ts";
export type { TimerName } from "./timers.ts";
export type {
  CongestionView,
  DrivenTcb,
  KeepAliveView,
  ReassemblyView,
  TcbEvents,
  TcbView,
} from "./view.ts";
