import { expect, test } from "bun:test";
import { LOAD_BEGIN, LOAD_END, loadSectionOf, mergeIntoLatest } from "../../scripts/load/report.ts";

test("the load section goes into latest.md once, replaced by the next run, the rest kept", () => {
  const section = (x: string) => `${LOAD_BEGIN}\n${x}\n${LOAD_END}\n`;
  const once = mergeIntoLatest("# bench\n\ntable\n", section("first"));
  expect(once).toBe(`# bench\n\ntable\n\n${section("first")}`);
  const twice = mergeIntoLatest(`${once}\nafter\n`, section("second"));
  expect(twice).toContain("second");
  expect(twice).not.toContain("first");
  expect(twice.startsWith("# bench")).toBe(true);
  expect(twice.endsWith("after\n")).toBe(true);
  expect(loadSectionOf(twice)).toBe(`${LOAD_BEGIN}\nsecond\n${LOAD_END}`);
  expect(loadSectionOf("# bench only")).toBeUndefined();
});
