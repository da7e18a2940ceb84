/**
 * The IP, ICMP and UDP labs, taken as a learner takes them, mistakes
 * included: at a step, the usual mistake (the wrong host, the wrong port or
 * size, a command left out) is refused by `next` with a hint that says what
 * went wrong; the step done right is then accepted.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseLabFile } from "../../src/lab/lab-file.ts";
import { startLab } from "../../src/lab/lab-runner.ts";
import { DEFAULT_LABS_DIR, type LabEngine } from "../../src/lab/session.ts";
import { run, runAll, session } from "./helpers.ts";

/** Each step of a lab done right (its prediction first), in the simulated world. */
const RIGHT: Readonly<Record<string, readonly (readonly string[])[]>> = {
  "icmp-udp": [
    ["ping b", "step", "step"],
    ["udp bind 5000", "b: udp bind 9"],
    ["answer 2", "udp sendto #3 b 9 hello", "udp sendto #3 b 9 world", "step"],
    ["b: udp recv #3", "b: udp recv #3"],
    ["b: listen 80", "connect b 80", "step", "step", "step", "b: accept"],
    ["answer 10", "sockopt #4 nodelay on", "send #4 hello", "send #4 world", "step"],
    ["b: recv #5"],
    ["answer 1", "udp sendto #3 b 7 hello", "step", "step"],
  ],
  fragments: [
    ["answer 3", "ping b 4000"],
    ["answer 3", "step"],
    ["step"],
    ["answer 0", "reorder next 1 out frag", "ping b 4000", "step"],
    ["step", "step", "step"],
    ["drop next 1 out frag", "ping b 4000", "step"],
    ["answer 2", "step"],
  ],
};

/** Starts the lab and does its first `done` steps right, each followed by `next`. */
async function at(name: string, done: number): Promise<LabEngine> {
  const parsed = parseLabFile(readFileSync(join(DEFAULT_LABS_DIR, `${name}.md`), "utf8"), name);
  if (!parsed.ok) throw new Error(parsed.error);
  const { s } = session({ seed: 1 });
  await startLab(s, parsed.lab);
  for (const step of RIGHT[name]?.slice(0, done) ?? []) await runAll(s, [...step, "next"]);
  expect(s.status().lab?.step).toBe(done + 1);
  return s;
}

interface Mistake {
  readonly lab: string;
  /** The step (1-based) where it is made. */
  readonly step: number;
  readonly what: string;
  readonly wrong: readonly string[];
  /** Checks and hints `next` shows when it refuses. */
  readonly refused: readonly string[];
  /** What makes the step right after the mistake. */
  readonly mend: readonly string[];
  /** What `next` shows once it accepts. */
  readonly accepted: readonly string[];
}

const WRONG_HOST = 'was a command typed on the wrong host (the "HOST:" prefix)?';

const MISTAKES: readonly Mistake[] = [
  {
    lab: "icmp-udp",
    step: 1,
    what: "ping typed on b: the echo request came from the wrong host",
    wrong: ["b: ping a", "step", "step"],
    refused: ["✗ a sent ICMP echo request", `hint: b sent it, not a: ${WRONG_HOST}`],
    mend: ["ping b", "step", "step"],
    accepted: ["Step 2/9: Two UDP sockets"],
  },
  {
    lab: "icmp-udp",
    step: 2,
    what: 'the "b:" prefix left out: the socket is bound on a',
    wrong: ["udp bind 5000", "udp bind 9"],
    refused: [
      "✗ b:#3 is BOUND on port 9 (it is CLOSED)",
      `hint: a's socket #3 is BOUND: the step wants it on b — prefix the command with "b:"`,
    ],
    // a's extra socket is #4: a's #3 on port 5000 is what the next steps send from.
    mend: ["b: udp bind 9"],
    accepted: ["Step 3/9: Two datagrams"],
  },
  {
    lab: "icmp-udp",
    step: 3,
    what: "datagrams to the wrong port are shown where they went",
    wrong: ["answer 2", "udp sendto #3 b 90 hello", "udp sendto #3 b 90 world", "step"],
    refused: [
      "✗ b received 10.0.0.1.5000 > 10.0.0.2.9: UDP, length 5",
      "hint: seen instead: 10.0.0.1.5000 > 10.0.0.2.90: UDP, length 5",
      "✗ b counted udp.delivered = 2 (it is 0)",
    ],
    mend: ["udp sendto #3 b 9 hello", "udp sendto #3 b 9 world", "step"],
    accepted: ["✓ you predicted 2: right", "Step 4/9: One datagram per read"],
  },
  {
    lab: "icmp-udp",
    step: 4,
    what: "one read instead of two: the second datagram is still queued",
    wrong: ["b: udp recv #3"],
    refused: [
      '✗ the output shows "world"',
      "hint: type the step's commands; the last one's output is what is read",
    ],
    mend: ["b: udp recv #3"],
    accepted: ["Step 5/9: A TCP connection beside them"],
  },
  {
    lab: "icmp-udp",
    step: 8,
    what: "a datagram to a closed port, with the steps left out: nothing has come back yet",
    wrong: ["answer 1", "udp sendto #3 b 7 hello"],
    refused: [
      "✗ b sent udp port 7 unreachable",
      "hint: b sent nothing in this step",
      "✗ a received udp port 7 unreachable",
      "hint: nothing reached a in this step (on a paused clock, `step` delivers what is on the wire)",
    ],
    mend: ["step", "step"],
    accepted: ["✓ you predicted 1: right", "Step 9/9: A SYN to a closed port"],
  },
  {
    lab: "fragments",
    step: 1,
    what: "a ping that fits the MTU leaves whole: no fragments to see",
    wrong: ["answer 3", "ping b 400"],
    refused: [
      "✗ a sent :1480@0+)",
      "hint: seen instead: 10.0.0.1 > 10.0.0.2: ICMP echo request, id 31771, seq 1, length 408",
    ],
    mend: ["ping b 4000"],
    accepted: ["Step 2/9: Reassembly, and a reply in fragments"],
  },
  {
    lab: "fragments",
    step: 6,
    what: "the drop rule typed on b: b's reply loses a fragment, not a's request",
    wrong: ["b: drop next 1 out frag", "ping b 4000", "step"],
    refused: ["✗ a sent :1480@0+) (dropped)", `hint: b sent it, not a: ${WRONG_HOST}`],
    // b answered this ping and a holds part of the reply: the step is taken again in a
    // fresh world, the steps before it replayed.
    mend: ["lab start fragments resume", "drop next 1 out frag", "ping b 4000", "step"],
    accepted: ["Step 7/9: The reassembly timer runs out"],
  },
  {
    lab: "fragments",
    step: 7,
    what: "the reassembly timeout checked before the clock moved: nothing discarded yet",
    wrong: ["answer 2"],
    refused: ["✗ b counted ip.fragment-timeout = 2 (it is 0)"],
    mend: ["step"],
    accepted: ["✓ you predicted 2: right", "Step 8/9: b sends Time Exceeded"],
  },
];

for (const lab of ["icmp-udp", "fragments"]) {
  describe(`${lab}: a mistake is refused with a hint, the step done right accepted`, () => {
    for (const m of MISTAKES.filter((x) => x.lab === lab)) {
      test(`step ${m.step}: ${m.what}`, async () => {
        const s = await at(lab, m.step - 1);
        await runAll(s, m.wrong);
        const no = (await run(s, "next")).text;
        expect(no).toContain("not yet: do what the step says, then next again");
        for (const w of m.refused) expect(no).toContain(w);
        expect(s.status().lab?.step).toBe(m.step);
        await runAll(s, m.mend);
        const yes = (await run(s, "next")).text;
        expect(yes).not.toContain("not yet");
        for (const w of m.accepted) expect(yes).toContain(w);
      });
    }
  });
}
