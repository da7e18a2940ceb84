/**
 * The labs on offer: the repository's labs/ and any folders of a teacher's
 * own (`--labs DIR`, `TCPLAB_LABS=DIR[:DIR…]`). A lab in a later folder
 * replaces one of the same name in an earlier one. A malformed file is
 * reported with its file and line; the others still load.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type LabFile, parseLabFile } from "./lab-file.ts";

export const DEFAULT_LABS_DIR = fileURLToPath(new URL("../../labs/", import.meta.url));

/** The folders `TCPLAB_LABS` names (colon-separated), if any. */
export function labDirsFromEnv(env: Record<string, string | undefined> = process.env): string[] {
  return (env.TCPLAB_LABS ?? "").split(":").filter((d) => d !== "");
}

export type CatalogEntry =
  | { readonly name: string; readonly path: string; readonly lab: LabFile }
  | { readonly name: string; readonly path: string; readonly error: string };

export class LabCatalog {
  constructor(readonly dirs: readonly string[]) {}

  /** Every lab file by name (later folders win), sorted by name. */
  private files(): Map<string, string> {
    const out = new Map<string, string>();
    for (const dir of this.dirs) {
      if (!existsSync(dir)) continue;
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const f of names.sort()) if (f.endsWith(".md")) out.set(f.slice(0, -3), join(dir, f));
    }
    return out;
  }

  names(): string[] {
    return [...this.files().keys()].sort();
  }

  load(name: string): LabFile | { error: string } {
    const path = this.files().get(name);
    if (path === undefined) {
      const known = this.names();
      return {
        error: `no lab "${name}"${known.length > 0 ? ` (labs: ${known.join(", ")})` : ` in ${this.dirs.join(", ")}`}`,
      };
    }
    return readLab(path, name);
  }

  /** Every lab, loaded or with its error, in curriculum order (order, then name). */
  entries(): CatalogEntry[] {
    const out: CatalogEntry[] = [];
    for (const [name, path] of this.files()) {
      const lab = readLab(path, name);
      out.push("error" in lab ? { name, path, error: lab.error } : { name, path, lab });
    }
    const order = (e: CatalogEntry) => ("lab" in e ? e.lab.meta.order : Number.POSITIVE_INFINITY);
    return out.sort((x, y) => order(x) - order(y) || x.name.localeCompare(y.name));
  }
}

function readLab(path: string, name: string): LabFile | { error: string } {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    return { error: `cannot read ${path}: ${err instanceof Error ? err.message : String(err)}` };
  }
  const parsed = parseLabFile(text, name);
  if (!parsed.ok) return { error: parsed.error.replace(`${name}.md:`, `${path}:`) };
  return { ...parsed.lab, path };
}
