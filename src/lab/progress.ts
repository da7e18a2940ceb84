/**
 * How far a learner got in each lab, kept across runs beside the input
 * history: $XDG_STATE_HOME/tcplab/progress.json (or
 * ~/.local/state/tcplab/progress.json; TCPLAB_PROGRESS names another file,
 * "" keeps it in memory only). Never fatal: an unreadable or unwritable file
 * only means progress is not remembered.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { statePath } from "./state-path.ts";

export interface LabProgressRecord {
  readonly status: "started" | "done";
  /** The step reached (1-based) and how many there are. */
  readonly step: number;
  readonly steps: number;
  readonly world: string;
  /** Predictions right on the first try, before the step ran, out of those asked. */
  readonly right: number;
  readonly asked: number;
  /** Finished at least once (a lab done and started again stays done). */
  readonly finished?: boolean;
}

/** Whether the learner has finished the lab (now or on an earlier run). */
export function isDone(r: LabProgressRecord | undefined): boolean {
  return r !== undefined && (r.status === "done" || r.finished === true);
}

export interface ProgressStore {
  get(lab: string): LabProgressRecord | undefined;
  set(lab: string, record: LabProgressRecord): void;
}

export function memoryProgress(): ProgressStore {
  const m = new Map<string, LabProgressRecord>();
  return { get: (lab) => m.get(lab), set: (lab, r) => void m.set(lab, r) };
}

export function progressPath(
  env: Record<string, string | undefined> = process.env,
): string | undefined {
  return statePath("progress.json", "TCPLAB_PROGRESS", env);
}

function isRecord(v: unknown): v is LabProgressRecord {
  if (typeof v !== "object" || v === null) return false;
  const r = v as Record<string, unknown>;
  return (
    (r.status === "started" || r.status === "done") &&
    typeof r.step === "number" &&
    typeof r.steps === "number" &&
    typeof r.world === "string" &&
    typeof r.right === "number" &&
    typeof r.asked === "number"
  );
}

/** A store in a JSON file (memory only when `path` is undefined). */
export function fileProgress(path: string | undefined): ProgressStore {
  if (path === undefined) return memoryProgress();
  const all = new Map<string, LabProgressRecord>();
  try {
    const data = JSON.parse(readFileSync(path, "utf8")) as unknown;
    if (typeof data === "object" && data !== null) {
      for (const [k, v] of Object.entries(data)) if (isRecord(v)) all.set(k, v);
    }
  } catch {
    // No file yet, or not ours to read: start empty.
  }
  return {
    get: (lab) => all.get(lab),
    set(lab, record) {
      all.set(lab, record);
      try {
        mkdirSync(dirname(path), { recursive: true });
        const tmp = `${path}.${process.pid}.tmp`;
        writeFileSync(tmp, `${JSON.stringify(Object.fromEntries(all), null, 2)}\n`);
        renameSync(tmp, path);
      } catch {
        // Progress is a convenience: a read-only home must not break the lab.
      }
    },
  };
}
