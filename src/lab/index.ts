/**
 * The lab engine, as the UI and scripts use it:
 *
 *   const session = createLabSession();              // simulated world, clock paused
 *   const r = await session.execute("b: listen 80"); // → Blocks to render
 *   session.onOutput((blocks) => …);                  // trace lines, host output
 *
 *   const kernel = await createKernelLabSession();    // root: tcplab on a TUN device
 */

export {
  createKernelLabSession,
  createKernelWorld,
  type KernelWorldOptions,
} from "./kernel-world.ts";
export { LabClock, type RealTime } from "./lab-clock.ts";
export {
  type LabFile,
  type LabStep,
  parseLabFile,
  type StepBody,
  stepsFor,
  type WorldStep,
  worldsOf,
} from "./lab-file.ts";
export { formatReport, type LabRunReport, type RunLabOptions, runLab } from "./lab-runner.ts";
export {
  hostSettingsFor,
  type Personality,
  personalities,
  personalityNamed,
} from "../tcp/personality.ts";
export {
  createLabSession,
  DEFAULT_LABS_DIR,
  LabEngine,
  type LabSessionOptions,
} from "./session.ts";
export { createSimWorld, DEFAULT_SIM_DELAY, type SimWorldOptions } from "./sim-world.ts";
export type * from "./view.ts";
export type { LabHost, World, WorldKind } from "./world.ts";
