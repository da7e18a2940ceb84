import { describe, expect, test } from "bun:test";
import * as ed from "../../cli/lab/line-editor.ts";

const at = (text: string, cursor: number): ed.EditorState => ({ text, cursor });

describe("line editor", () => {
  test("insert and backspace at the cursor", () => {
    expect(ed.insert(at("cnnect", 1), "o")).toEqual(at("connect", 2));
    expect(ed.backspace(at("connect", 2))).toEqual(at("cnnect", 1));
    expect(ed.backspace(at("x", 0))).toEqual(at("x", 0));
  });

  test("delete forward, and nothing at the end", () => {
    expect(ed.deleteForward(at("abc", 1))).toEqual(at("ac", 1));
    expect(ed.deleteForward(at("abc", 3))).toEqual(at("abc", 3));
  });

  test("cursor moves stop at the ends and keep surrogate pairs whole", () => {
    expect(ed.left(at("ab", 0)).cursor).toBe(0);
    expect(ed.right(at("ab", 2)).cursor).toBe(2);
    const s = at("a😀b", 1);
    expect(ed.right(s).cursor).toBe(3);
    expect(ed.left(at("a😀b", 3)).cursor).toBe(1);
    expect(ed.backspace(at("a😀b", 3))).toEqual(at("ab", 1));
    expect(ed.home(at("abc", 2)).cursor).toBe(0);
    expect(ed.end(at("abc", 0)).cursor).toBe(3);
  });

  test("kills", () => {
    expect(ed.killToStart(at("listen 80", 7))).toEqual(at("80", 0));
    expect(ed.killToEnd(at("listen 80", 6))).toEqual(at("listen", 6));
    expect(ed.deleteWordBack(at("connect 10.0.0.2  ", 18))).toEqual(at("connect ", 8));
    expect(ed.deleteWordBack(at("connect 10.0.0.2 80", 16))).toEqual(at("connect  80", 8));
  });

  test("completion: one candidate, several, none", () => {
    expect(ed.applyCompletion(at("con", 3), { candidates: ["connect"], start: 0 })).toEqual({
      state: at("connect ", 8),
      listing: [],
    });
    // In the middle of the line no space is added.
    expect(
      ed.applyCompletion(at("con 80", 3), { candidates: ["connect"], start: 0 }).state,
    ).toEqual(at("connect 80", 7));
    expect(
      ed.applyCompletion(at("b: st", 5), { candidates: ["state", "stats"], start: 3 }),
    ).toEqual({
      state: at("b: stat", 7),
      listing: ["state", "stats"],
    });
    expect(ed.applyCompletion(at("x", 1), { candidates: [], start: 0 })).toEqual({
      state: at("x", 1),
      listing: [],
    });
  });

  test("common prefix", () => {
    expect(ed.commonPrefix(["listen", "ladder"])).toBe("l");
    expect(ed.commonPrefix([])).toBe("");
  });

  test("printable drops control characters, tabs become blanks", () => {
    expect(ed.printable("a\tb\x07c\x1b")).toBe("a bc");
    expect(ed.splitLines("a\r\nb\nc\rd")).toEqual(["a", "b", "c", "d"]);
  });
});
