import { describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileHistory, historyPath, memoryHistory } from "../../cli/lab/history-file.ts";
import { createHistory } from "../../cli/lab/use-history.ts";

describe("history file", () => {
  test("path: TCPLAB_HISTORY, then XDG_STATE_HOME, then ~/.local/state", () => {
    expect(historyPath({ TCPLAB_HISTORY: "/x/h", XDG_STATE_HOME: "/s", HOME: "/home/u" })).toBe(
      "/x/h",
    );
    expect(historyPath({ TCPLAB_HISTORY: "" })).toBeUndefined();
    expect(historyPath({ XDG_STATE_HOME: "/s", HOME: "/home/u" })).toBe("/s/tcplab/history");
    expect(historyPath({ HOME: "/home/u" })).toBe("/home/u/.local/state/tcplab/history");
  });

  test("kept across runs, bounded", () => {
    const dir = mkdtempSync(join(tmpdir(), "tcplab-hist-"));
    const path = join(dir, "state", "tcplab", "history");
    const first = createHistory(fileHistory(path, 3));
    for (const line of ["a", "b", "c", "d"]) first.add(line);
    expect(readFileSync(path, "utf8")).toBe("b\nc\nd\n");
    const second = createHistory(fileHistory(path, 3));
    expect(second.up("")).toBe("d");
    expect(second.up("")).toBe("c");
  });

  test("an unreadable or unwritable file never throws", () => {
    const dir = mkdtempSync(join(tmpdir(), "tcplab-hist-"));
    const blocker = join(dir, "file");
    writeFileSync(blocker, "not a directory");
    const store = fileHistory(join(blocker, "history"));
    expect(store.load()).toEqual([]);
    expect(() => store.save(["x"])).not.toThrow();
    const ro = join(dir, "ro");
    writeFileSync(ro, "old\n");
    chmodSync(ro, 0o400);
    expect(() => fileHistory(ro).save(["new"])).not.toThrow();
  });

  test("navigation: draft kept, repeats and space-prefixed lines skipped", () => {
    const store = memoryHistory(["one"]);
    const h = createHistory(store);
    h.add("two");
    h.add("two");
    h.add(" secret");
    h.add("   ");
    expect(store.entries).toEqual(["one", "two"]);
    expect(h.up("draft")).toBe("two");
    expect(h.up("two")).toBe("one");
    expect(h.up("one")).toBeUndefined();
    expect(h.down()).toBe("two");
    expect(h.down()).toBe("draft");
    expect(h.down()).toBeUndefined();
  });
});
