/**
 * The lab engine, as the UI and scripts use it:
 *
 *   const session = createLabSession();              // simulated world, clock paused
 *   const r = await session.execute("b: listen 80"); // → Blocks to render
 *   session.onOutput((blocks) => …);                  // trace lines, host output
 *
 *   const kernel = await createKernelLabSession();    // root: tcplab on a TUN device
 */
export type * from "./view.ts";
export {
  createLabSession,
  LabEngine,
  type LabSessionOptions,
  DEFAULT_LABS_DIR,
} from "./session.ts";
export {
  createKernelLabSession,
  createKernelWorld,
  type KernelWorldOptions,
} from "./kernel-world.ts";
export { createSimWorld, type SimWorldOptions, DEFAULT_SIM_DELAY } from "./sim-world.ts";
export type { World, LabHost, WorldKind } from "./world.ts";
export { LabClock, type RealTime } from "./lab-clock.ts";
export { parseLabFile, type LabFile, type LabStep } from "./lab-file.ts";
export { runLab, formatReport, type LabRunReport } from "./lab-runner.ts";
