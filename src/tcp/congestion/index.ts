import type { CongestionController, CongestionControlName } from "./controller.ts";
import { Cubic } from "./cubic.ts";
import { Reno } from "./reno.ts";

export {
  type CongestionController,
  type CongestionControlName,
  type CongestionPhase,
  initialWindow,
  WindowController,
} from "./controller.ts";
export { Cubic } from "./cubic.ts";
export { HyStartPlusPlus } from "./hystart.ts";
export { Reno } from "./reno.ts";

/** The controller `settings.congestionControl` names, with cwnd = `iw` bytes of `smss`-byte segments. */
export function createController(
  name: CongestionControlName,
  smss: number,
  iw: number,
): CongestionController {
  return name === "cubic" ? new Cubic(smss, iw) : new Reno(smss, iw);
}
