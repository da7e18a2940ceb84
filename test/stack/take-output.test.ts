import { expect, test } from "bun:test";
import { EPOCH } from "../../src/clock/time.ts";
import { Listener } from "../../src/tcp/listener.ts";
import { B, host } from "./util.ts";

test("takeOutput() never hands out its live queue: an empty result stays empty", () => {
  const a = host("a");
  const b = host("b");
  expect(b.listen(80, 1)).toBeInstanceOf(Listener);
  const empty = b.takeOutput();
  expect(empty).toEqual([]);
  a.connect({ addr: B, port: 80 }, EPOCH);
  for (const p of a.takeOutput()) b.receive(p, EPOCH); // b queues its SYN-ACK
  expect(empty).toEqual([]); // the array handed out earlier did not grow
  const synAck = b.takeOutput();
  expect(synAck.length).toBe(1);
  expect(b.takeOutput()).toEqual([]);
});
