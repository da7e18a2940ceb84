import { describe, expect, test } from "bun:test";
import { BlocksView } from "../../cli/lab/Blocks.tsx";
import { blocksToPlainLines, candidateLines, tableLines } from "../../cli/lab/format.ts";
import { LivePane, statusHeading } from "../../cli/lab/LivePane.tsx";
import { colorEnabled, spanStyle, stateStyle } from "../../cli/lab/theme.ts";
import type { Block, StatusView } from "../../src/lab/view.ts";
import { BLOCKS, FakeSession } from "./fake-session.ts";
import { renderPlain } from "./helpers.tsx";

const ESC = "\x1b";

function rendered(blocks: Block[]): string {
  const r = renderPlain(<BlocksView blocks={blocks} />);
  const out = r.lastFrame() ?? "";
  r.unmount();
  return out;
}

describe("each Block kind, colour off", () => {
  test("text: spans joined, an empty line kept", () => {
    expect(rendered([BLOCKS.text])).toBe("commands: listen connect\n");
  });

  test("table: title, header and rows in aligned columns, no trailing blanks", () => {
    expect(rendered([BLOCKS.table])).toBe(
      [
        "host a",
        "ID  LOCAL           REMOTE       STATE",
        "#3  10.0.0.1:49152  10.0.0.2:80  ESTABLISHED",
        "#4  10.0.0.1:80     *            LISTEN",
      ].join("\n"),
    );
  });

  test("table: wide characters count as two cells, short rows get empty cells", () => {
    const lines = tableLines({
      kind: "table",
      columns: ["A", "B"],
      rows: [[{ text: "日本" }, { text: "x" }], [{ text: "z" }]],
    }).map((l) => l.map((s) => s.text).join(""));
    expect(lines).toEqual(["A     B", "日本  x", "z"]);
  });

  test("error: the word error, then the usage line", () => {
    expect(rendered([BLOCKS.error])).toBe("error: unknown host c\nusage: connect ADDR PORT");
    expect(blocksToPlainLines([{ kind: "error", message: "bad", usage: "usage: x Y" }])).toEqual([
      "error: bad",
      "usage: x Y",
    ]);
  });

  test("packets: direction marks and the drop word are in the text", () => {
    expect(rendered([BLOCKS.packets])).toBe(
      "> S 0:0(0) win 65535\n< S. 0:0(0) ack 1 win 65535\nx DROP bad checksum",
    );
  });

  test("ladder: fixed-width lines kept as they are", () => {
    expect(rendered([BLOCKS.ladder])).toBe(
      "   a                 b\n   |----- SYN ----->|\n   |<-- SYN,ACK ----|",
    );
  });

  test("no escape codes with colour off", () => {
    const out = rendered([BLOCKS.text, BLOCKS.table, BLOCKS.error, BLOCKS.packets, BLOCKS.ladder]);
    expect(out).not.toContain(ESC);
  });

  test("the plain (pipe) text matches the rendered text", () => {
    for (const block of [BLOCKS.table, BLOCKS.error, BLOCKS.packets, BLOCKS.ladder]) {
      expect(blocksToPlainLines([block]).join("\n")).toBe(rendered([block]));
    }
  });

  test("completion candidates in columns that fit the width", () => {
    expect(candidateLines(["ladder", "listen", "l"], 80)).toEqual(["ladder  listen  l"]);
    expect(candidateLines(["ladder", "listen", "l"], 16)).toEqual(["ladder  listen", "l"]);
  });
});

describe("colours carry meaning", () => {
  test("state names", () => {
    expect(stateStyle("ESTABLISHED").color).toBe("green");
    expect(stateStyle("TIME-WAIT").color).toBe("yellow");
    expect(stateStyle("CLOSE-WAIT").color).toBe("yellow");
    expect(stateStyle("CLOSED").dimColor).toBe(true);
    expect(stateStyle("SYN-SENT").color).toBe("cyan");
    expect(stateStyle("SYN-RECEIVED").color).toBe("cyan");
  });

  test("direction in and out differ; drops are red", () => {
    const inbound = spanStyle({ text: "<", tone: "in" }).color;
    const outbound = spanStyle({ text: ">", tone: "out" }).color;
    expect(inbound).toBeDefined();
    expect(outbound).toBeDefined();
    expect(inbound).not.toBe(outbound);
    expect(spanStyle({ text: "drop", tone: "bad" }).color).toBe("red");
  });

  test("NO_COLOR, no terminal and TERM=dumb turn colour off; FORCE_COLOR on", () => {
    expect(colorEnabled({}, true)).toBe(true);
    expect(colorEnabled({ NO_COLOR: "1" }, true)).toBe(false);
    expect(colorEnabled({ NO_COLOR: "1", FORCE_COLOR: "1" }, true)).toBe(false);
    expect(colorEnabled({}, false)).toBe(false);
    expect(colorEnabled({ TERM: "dumb" }, true)).toBe(false);
    expect(colorEnabled({ FORCE_COLOR: "1" }, false)).toBe(true);
    expect(colorEnabled({ NO_COLOR: "" }, true)).toBe(true);
  });
});

describe("live pane", () => {
  const status = (over: Partial<StatusView> = {}): StatusView => ({
    ...new FakeSession().status(),
    ...over,
  });

  test("heading with host, world and clock, then the connections", () => {
    const r = renderPlain(<LivePane status={status()} columns={72} />);
    expect(r.lastFrame()).toBe(
      [
        `── host a · simulated · clock 1.250 s · paused · speed 1x ${"─".repeat(14)}`,
        "host a",
        "ID  LOCAL           REMOTE       STATE",
        "#3  10.0.0.1:49152  10.0.0.2:80  ESTABLISHED",
        "#4  10.0.0.1:80     *            LISTEN",
      ].join("\n"),
    );
    r.unmount();
  });

  test("running clock, no connections, and the guided-lab step", () => {
    const s = status({
      clock: { now: "3.000 s", mode: "running", speed: 10 },
      connections: { kind: "table", columns: ["ID", "STATE"], rows: [] },
      lab: { name: "handshake", step: 2, steps: 5, title: "Open a connection" },
    });
    const r = renderPlain(<LivePane status={s} columns={60} />);
    expect(r.lastFrame()).toBe(
      [
        // Too narrow to fill: the heading still ends in a rule.
        "── host a · simulated · clock 3.000 s · running · speed 10x ──",
        "no connections",
        "lab handshake · step 2/5 · Open a connection",
      ].join("\n"),
    );
    r.unmount();
  });

  test("the heading fills the width it is given", () => {
    expect(Bun.stringWidth(statusHeading(status(), 100))).toBe(100);
    expect(Bun.stringWidth(statusHeading(status(), 80))).toBe(80);
  });

  test("a status that cannot be read is shown, not thrown", () => {
    const r = renderPlain(<LivePane status={new Error("engine busy")} columns={80} />);
    expect(r.lastFrame()).toBe("status unavailable: engine busy");
    r.unmount();
  });
});
