/**
 * The teaching engine: checks that name what a step asks (and hint at the
 * usual mistake), predictions judged against the stack, the score, progress
 * across runs, teachers' lab folders, and headless checking.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runLabCheck } from "../../cli/lab-check.ts";
import { ms } from "../../src/clock/time.ts";
import { checkExpect } from "../../src/lab/lab-checks.ts";
import { parseLabFile } from "../../src/lab/lab-file.ts";
import { formatReport, runLab, startLab } from "../../src/lab/lab-runner.ts";
import { fileProgress } from "../../src/lab/progress.ts";
import { established, run, runAll, session } from "./helpers.ts";

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "tcplab-teaching-"));
  dirs.push(d);
  return d;
}

function lab(text: string, name = "t") {
  const parsed = parseLabFile(text, name);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.lab;
}

describe("segment checks name what the step asks", () => {
  test("ports, flags, relative sequence and acknowledgment numbers, options", async () => {
    const { s } = session();
    await runAll(s, ["b: listen 80", "connect b 80", "step"]);
    const ctx = s.checkContext();
    const ok = (e: string) => checkExpect(ctx, e, 0);
    expect(ok("segment a:#3 > b:80 S 0:0(0) <mss 1460,sackOK,TS val 1 ecr 0,wscale 0>").ok).toBe(
      true,
    );
    expect(ok("segment a > b:80 S 0:0(0) <mss 1460,...>").ok).toBe(true);
    expect(ok("segment b:80 > a S. 0:0(0) ack 1 win 65535").ok).toBe(true);
    expect(ok("segment b:80 < a S times 1").ok).toBe(true);
    expect(ok("segment b < :80 S").hint).toContain(
      "it came from port 49152, the step asks for port 80",
    );
    // Each field is looked at: a wrong one fails and says what it was.
    const wrongAck = ok("segment b:80 > a S. 0:0(0) ack 2");
    expect(wrongAck.ok).toBe(false);
    expect(wrongAck.hint).toBe("it acknowledges 1, not 2");
    const wrongOpts = ok("segment a > S <mss 536>");
    expect(wrongOpts.hint).toContain("its options are <mss 1460,wscale 0,sackOK,TS val 1 ecr 0>");
    expect(ok("segment a > S times 2").message).toContain("(seen 1 time)");
    expect(ok("segment a > S dropped").hint).toContain("it was not dropped");
  });

  test("a segment to the wrong port is refused with the port it went to", async () => {
    const { s } = session();
    await runAll(s, ["b: listen 80", "connect b 81"]);
    const r = checkExpect(s.checkContext(), "segment a > b:80 S", 0);
    expect(r.ok).toBe(false);
    expect(r.message).toContain("closest: a:49152 > b:81 S 0:0(0)");
    expect(r.hint).toBe("it went to port 81, the step asks for port 80");
  });

  test("a command typed on the wrong host: the hint names the prefix", async () => {
    const { s } = session();
    await runAll(s, ["connect b 80"]);
    const r = checkExpect(s.checkContext(), "segment b > S", 0);
    expect(r.hint).toContain('it was sent by a, not b — run it on b: prefix the command with "b:"');
    const st = checkExpect(s.checkContext(), "state b:#3 SYN-SENT", 0);
    expect(st.hint).toContain("a's socket #3 is SYN-SENT: the step wants it on b");
  });

  test("state with port and peer; field, error, stat, packet and timer none", async () => {
    const { s } = session();
    await established(s);
    const ctx = s.checkContext();
    const c = (e: string) => checkExpect(ctx, e, 0);
    expect(c("state a:#3 ESTABLISHED peer b:80").ok).toBe(true);
    expect(c("state a:#3 ESTABLISHED peer b:81").hint).toBe(
      "check the port in the command you typed",
    );
    expect(c("state b:#3 LISTEN port 80").ok).toBe(true);
    expect(c("field a:#3 RCV.NXT = 1").ok).toBe(true);
    expect(c("field a:#3 SRTT >= 20").ok).toBe(true);
    expect(c("field a:#3 SND.NXT = 2").message).toContain("(it is 1)");
    expect(c("stat b tcp.passive-opens = 1").ok).toBe(true);
    expect(c("timer a:#3 none").ok).toBe(true);
    expect(c("connections a 1").ok).toBe(true);
    await runAll(s, ["b: abort #4", "step"]);
    const after = s.checkContext();
    expect(checkExpect(after, "error a:#3 ECONNRESET", 0).ok).toBe(true);
    // The reset ended the connection, but a still holds socket #3: its id is not free.
    expect(checkExpect(after, "state a:#3 ESTABLISHED", 0).hint).toBe(
      'the connection of a:#3 is over, but the socket is still open: "a: close #3" frees the id for the next connection',
    );
    await runAll(s, ["udp bind 5000", "udp sendto #4 b 9 hi", "step"]);
    expect(checkExpect(s.checkContext(), "packet b > udp port 9 unreachable", 0).ok).toBe(true);
    expect(checkExpect(s.checkContext(), "frobnicate", 0).message).toContain(
      'unknown check "frobnicate"',
    );
  });

  test("packet checks: the wrong host, other packets, nothing delivered yet", async () => {
    const { s } = session();
    await runAll(s, ["b: ping a"]);
    const c = (e: string) => checkExpect(s.checkContext(), e, 0);
    expect(c("packet a > ICMP echo request").hint).toBe(
      'b sent it, not a: was a command typed on the wrong host (the "HOST:" prefix)?',
    );
    expect(c("packet b > udp").hint).toBe(
      "seen instead: 10.0.0.2 > 10.0.0.1: ICMP echo request, id 31771, seq 1, length 64",
    );
    expect(c("packet a < ICMP echo request").hint).toBe(
      "nothing reached a in this step (on a paused clock, `step` delivers what is on the wire)",
    );
    await run(s, "step");
    expect(c("packet b < ICMP echo request").hint).toBe(
      'a received it, not b: was a command typed on the wrong host (the "HOST:" prefix)?',
    );
    expect(c("packet b > ICMP echo request").ok).toBe(true);
    // times N: exactly N such packets in the step; times 0, none.
    expect(c("packet b > ICMP echo request times 1").message).toBe(
      "b sent ICMP echo request 1 time",
    );
    expect(c("packet a > UDP times 0")).toEqual({ ok: true, message: "a sent UDP 0 times" });
    const some = c("packet b > ICMP times 0");
    expect(some.message).toBe("b sent ICMP 0 times (seen 1 time)");
    expect(some.hint).toBe(
      "seen: 10.0.0.2 > 10.0.0.1: ICMP echo request, id 31771, seq 1, length 64",
    );
    expect(c("packet b > ICMP times many").message).toContain(
      "expected packet HOST >|< TEXT [dropped] [times N]",
    );
  });

  test("a check before anything happened says to type the step's commands", async () => {
    const { s } = session();
    const r = checkExpect(s.checkContext(), "segment a > S", 0);
    expect(r.hint).toBe("nothing has happened in this step yet: type its commands first");
  });
});

const QUIZ = `---
topic: Testing
order: 1
---
# Quiz

## SYN
\`\`\`lab
ask: Which segment will b send when the SYN arrives?
answer: segment b:80 > a
explain: A listener answers with SYN,ACK (§3.10.7.2).
b: listen 80
connect b 80
step
expect: segment b:80 > a S. 0:0(0) ack 1
\`\`\`

## RCV.NXT
\`\`\`lab
ask: What will a's RCV.NXT be?
answer: number RCV.NXT a:#3
explain: IRS plus one (§3.10.7.3).
step
expect: state a:#3 ESTABLISHED
\`\`\`

## State
\`\`\`lab
ask: Which state is b's new connection in after the ACK?
answer: state b:#4
step
b: accept
expect: state b:#4 ESTABLISHED
\`\`\`
`;

describe("predictions", () => {
  test("asked before the commands; judged after; a wrong one gets the explanation; the score", async () => {
    const { s } = session();
    await startLab(s, lab(QUIZ, "quiz"));
    // The question comes first, with how to answer.
    const shown = await run(s, "back");
    expect(shown.text).toContain("Predict: Which segment will b send when the SYN arrives?");
    expect(shown.text).toContain("answer FLAGS [SEQ:END(LEN)] [ack N] [win N]");
    // next without an answer: refused, with the way to answer.
    await runAll(s, ["b: listen 80", "connect b 80", "step"]);
    const refused = await run(s, "next");
    expect(refused.text).toContain("✗ this step asks for a prediction first");
    // Answering after the step ran is noted, not scored.
    const late = await run(s, "answer S.");
    expect(late.text).toContain("counts as an observation, not a prediction");
    const n1 = await run(s, "next");
    expect(n1.text).toContain(
      "✓ you predicted S.: right (answered after the step ran: not scored)",
    );
    // Step 2: a wrong prediction, before the commands.
    expect((await run(s, "answer 0")).text).toContain("noted: you predict 0");
    await run(s, "step");
    const n2 = await run(s, "next");
    expect(n2.text).toContain("✗ you predicted 0; the stack shows 1");
    expect(n2.text).toContain("IRS plus one (§3.10.7.3).");
    // Step 3: a right one, in another spelling of the state.
    expect((await run(s, "answer established")).errors).toEqual([]);
    await runAll(s, ["step", "b: accept"]);
    const n3 = await run(s, "next");
    expect(n3.text).toContain("✓ you predicted established: right");
    expect(n3.text).toContain("lab quiz complete");
    expect(n3.text).toContain(
      "Predictions: 1 of 3 right (1 answered after the step had run: not counted).",
    );
  });

  test("bad answers: no lab, no open question, the wrong kind, after judgement", async () => {
    const { s } = session();
    expect((await run(s, "answer 1")).errors[0]?.message).toContain("no lab is running");
    await startLab(s, lab(QUIZ, "quiz"));
    const wrongKind = await run(s, "answer ESTABLISHED");
    expect(wrongKind.errors[0]?.message).toBe(
      'answer: "ESTABLISHED" is not a segment: "ESTABLISHED" is not a set of flags (S, S., ., P., F., R, R.)',
    );
    expect(wrongKind.errors[0]?.usage).toContain("answer FLAGS");
    await runAll(s, ["answer S.", "b: listen 80", "connect b 80", "step", "next"]);
    const num = await run(s, "answer soon");
    expect(num.errors[0]?.message).toBe('answer: "soon" is not a number');
    const noQ = lab("# T\n## s\n```lab\nb: listen 80\nexpect: state b:#3 LISTEN\n```\n");
    await startLab(s, noQ);
    expect((await run(s, "answer 3")).errors[0]?.message).toContain("no question is open");
    // The shell lives on.
    expect((await run(s, "b: listen 80")).errors).toEqual([]);
  });

  test("with a prediction open, check and next show no check (they would give the answer away)", async () => {
    const { s } = session();
    await startLab(s, lab(QUIZ, "quiz"));
    await runAll(s, ["b: listen 80", "connect b 80", "step"]);
    for (const cmd of ["check", "next"]) {
      const r = await run(s, cmd);
      expect(r.text).toContain("✗ this step asks for a prediction first");
      expect(r.text).not.toContain("S. 0:0(0) ack 1");
    }
  });

  test("a segment question may require fields: an answer without them is refused, not judged", async () => {
    const { s } = session();
    const l = lab(
      "# T\n## s\n```lab\nask: Which segment answers the SYN?\nanswer: segment b:80 > a needs seq ack\nb: listen 80\nconnect b 80\nstep\nexpect: segment b > S.\n```\n",
    );
    await startLab(s, l);
    const partial = await run(s, "answer S.");
    expect(partial.errors[0]?.message).toBe(
      "answer: the question asks for its sequence numbers (SEQ:END(LEN)) and its acknowledgment number (ack N) too",
    );
    expect((await run(s, "answer S. 0:0(0) ack 1")).errors).toEqual([]);
    await runAll(s, ["b: listen 80", "connect b 80", "step"]);
    expect((await run(s, "next")).text).toContain("✓ you predicted S. 0:0(0) ack 1: right");
    expect(
      parseLabFile("# T\n## s\n```lab\nask: ?\nanswer: segment b > needs colour\n```\n", "x"),
    ).toMatchObject({
      ok: false,
      error: "x.md:5: answer: needs takes seq, ack, win, options, not colour",
    });
  });

  test("a running clock alone does not make an answer late (the kernel world's runs between commands)", async () => {
    const { s } = session();
    await startLab(s, lab(QUIZ, "quiz"));
    s.clock.advance(ms(5000)); // time passes, nothing happens
    expect((await run(s, "answer S.")).text).toContain("noted: you predict S.");
  });

  test("a number answer within the stated tolerance is right", async () => {
    const { s } = session();
    const l = lab(
      "# T\n## s\n```lab\nask: RTO?\nanswer: number SRTT a:#3 ±10%\nb: listen 80\nconnect b 80\nstep\nstep\nexpect: state a:#3 ESTABLISHED\n```\n",
    );
    await startLab(s, l);
    await run(s, "answer 21ms");
    await runAll(s, ["b: listen 80", "connect b 80", "step", "step"]);
    expect((await run(s, "next")).text).toContain("✓ you predicted 21ms: right");
  });

  test("number packets counts this step's packets whose trace line holds the text", async () => {
    const { s } = session();
    const l = lab(
      [
        "# T",
        "## ping",
        "```lab",
        "ask: How many fragments will a send?",
        "answer: number packets a > frag",
        "explain: 1480 bytes a fragment (RFC 791 §2.3).",
        "ping b 4000",
        "expect: packet a > frag",
        "```",
        "## lost",
        "```lab",
        "ask: How many fragments will the rule drop?",
        "answer: number packets a > frag dropped",
        "drop next 1 out frag",
        "ping b 4000",
        "expect: packet a > frag dropped",
        "```",
      ].join("\n"),
    );
    await startLab(s, l);
    await run(s, "answer 2");
    await run(s, "ping b 4000");
    const wrong = await run(s, "next");
    expect(wrong.text).toContain("✗ you predicted 2; the stack shows 3");
    expect(wrong.text).toContain("1480 bytes a fragment (RFC 791 §2.3).");
    // Only this step's packets count, and `dropped` counts only what a rule dropped.
    await run(s, "answer 1");
    await runAll(s, ["drop next 1 out frag", "ping b 4000"]);
    const n2 = (await run(s, "next")).text;
    expect(n2).toContain("✓ a sent frag (dropped)");
    expect(n2).toContain("✓ you predicted 1: right");
    const bad = lab(
      "# T\n## s\n```lab\nask: ?\nanswer: number packets a frag\nping b\nexpect: packet a > ICMP\n```\n",
    );
    const r = await runLab(s, bad);
    expect(formatReport(r)).toContain(
      '"number packets a frag" is not number packets HOST >|< TEXT',
    );
  });

  test("headless runs answer with what the stack shows, and fail on a truth it cannot show", async () => {
    const { s } = session();
    expect((await runLab(s, lab(QUIZ, "quiz"))).ok).toBe(true);
    const broken = lab(
      "# T\n## s\n```lab\nask: ?\nanswer: number RCV.NXT a:#9\nb: listen 80\nexpect: state b:#3 LISTEN\n```\n",
    );
    const r = await runLab(s, broken);
    expect(r.ok).toBe(false);
    expect(formatReport(r)).toContain("the question's answer: RCV.NXT of a:#9 is not known yet");
  });

  test("malformed questions are refused with file and line", () => {
    const bad = (body: string) => parseLabFile(`# T\n## s\n\`\`\`lab\n${body}\n\`\`\`\n`, "x");
    expect(bad("ask: why?")).toEqual({
      ok: false,
      error: "x.md:4: an ask: without an answer: line saying where the stack shows the answer",
    });
    expect(bad("answer: state a:#3")).toEqual({
      ok: false,
      error: "x.md:4: an answer: needs an ask: before it",
    });
    expect(bad("ask: ?\nanswer: colour a:#3")).toMatchObject({ ok: false });
    expect(bad("explain: because")).toMatchObject({
      ok: false,
      error: "x.md:5: an explain: without an ask:",
    });
  });
});

describe("progress, the curriculum and teachers' labs", () => {
  test("progress is kept in a file: lab list shows it after a restart; resume replays the steps done", async () => {
    const dir = tempDir();
    const labs = join(dir, "labs");
    mkdirSync(labs);
    writeFileSync(join(labs, "quiz.md"), QUIZ);
    const file = join(dir, "progress.json");
    const first = session({ labsDir: labs, progress: fileProgress(file) }).s;
    await run(first, "lab start quiz");
    await runAll(first, ["answer S.", "b: listen 80", "connect b 80", "step", "next"]);
    expect(JSON.parse(readFileSync(file, "utf8")).quiz).toMatchObject({
      status: "started",
      step: 2,
      steps: 3,
      right: 1,
      asked: 1,
    });
    // A new session, as after restarting the shell.
    const again = session({ labsDir: labs, progress: fileProgress(file) }).s;
    const list = await run(again, "lab list");
    expect(list.text).toMatch(/Testing\n.*\n1 +quiz +Quiz +3 +started: step 2\/3, 1\/1 predicted/);
    const offer = await run(again, "lab start quiz");
    expect(offer.text).toContain("You stopped lab quiz at step 2 of 3. lab start quiz resume");
    expect(again.lab).toBeUndefined();
    const resumed = await run(again, "lab start quiz resume");
    expect(resumed.text).toContain("Resumed: steps 1–1 were replayed in a fresh world.");
    expect(resumed.text).toContain("Step 2/3: RCV.NXT");
    // The replayed world is where the learner left it: a SYN-ACK on its way to a.
    await runAll(again, ["answer 1", "step", "next", "answer ESTABLISHED", "step", "b: accept"]);
    const done = await run(again, "next");
    expect(done.text).toContain("Predictions: 3 of 3 right.");
    expect((await run(again, "lab list")).text).toMatch(/quiz .*✓ done, 3\/3 predicted/);
    expect((await run(again, "lab start quiz restart")).text).toContain("Step 1/3: SYN");
  });

  test("a finished lab started again stays done; a revisited step is not counted twice", async () => {
    const dir = tempDir();
    const labs = join(dir, "labs");
    mkdirSync(labs);
    writeFileSync(join(labs, "quiz.md"), QUIZ);
    const file = join(dir, "progress.json");
    const { s } = session({ labsDir: labs, progress: fileProgress(file) });
    await run(s, "lab start quiz");
    await runAll(s, ["answer S.", "b: listen 80", "connect b 80", "step", "next"]);
    await runAll(s, ["answer 1", "step", "next", "back", "lab quit"]);
    // Quit on step 2 after going back: only step 1 is before it.
    expect(JSON.parse(readFileSync(file, "utf8")).quiz).toMatchObject({
      step: 2,
      asked: 1,
      right: 1,
    });
    await runAll(s, [
      "lab start quiz resume",
      "answer 1",
      "step",
      "next",
      "answer ESTABLISHED",
      "step",
      "b: accept",
    ]);
    expect((await run(s, "next")).text).toContain("Predictions: 3 of 3 right.");
    await run(s, "lab start quiz restart");
    const list = await run(s, "lab list");
    expect(list.text).toContain("✓ done; again at step 1/3");
  });

  test("a teacher's folder adds labs; a malformed one is reported with file and line, the others load", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "mine.md"), QUIZ.replace("# Quiz", "# My own quiz"));
    writeFileSync(
      join(dir, "broken.md"),
      "# Broken\n## s\n```lab\nb: listen 80\n\nexpect: state b:#3 LISTEN\n\n",
    );
    const { s } = session({ extraLabDirs: [dir] });
    const list = await run(s, "lab list");
    expect(list.text).toMatch(/mine +My own quiz +3/);
    expect(list.text).toContain("handshake");
    expect(list.text).toContain(
      `broken: ${join(dir, "broken.md")}:3: a lab block is not closed with \`\`\``,
    );
    const start = await run(s, "lab start broken");
    expect(start.errors[0]?.message).toContain("broken.md:3: a lab block is not closed");
    expect((await run(s, "lab start nosuch")).errors[0]?.message).toContain('no lab "nosuch"');
    expect((await run(s, "lab start mine")).text).toContain("My own quiz");
  });

  test("a lab written only from docs/writing-labs.md loads and passes", async () => {
    const fixture = join(import.meta.dir, "fixtures", "teacher");
    const { s } = session({ extraLabDirs: [fixture] });
    const loaded = s.loadLab("teacher-syn-retry");
    if ("error" in loaded) throw new Error(loaded.error);
    for (const seed of [1, 42, 0xdead]) {
      const r = await runLab(session({ seed, extraLabDirs: [fixture] }).s, loaded);
      if (!r.ok) throw new Error(`seed ${seed}\n${formatReport(r)}`);
    }
    expect(
      loaded.steps.filter((st) => Object.values(st.bodies).some((b) => b?.question)).length,
    ).toBeGreaterThanOrEqual(2);
  });
});

describe("tcplab lab check", () => {
  function io() {
    const out: string[] = [];
    const err: string[] = [];
    return {
      out,
      err,
      io: {
        stdout: { write: (t: string) => out.push(t) },
        stderr: { write: (t: string) => err.push(t) },
        env: {},
        uid: 1000,
      },
    };
  }

  test("one line per lab and a JSON summary; exit 0 when all pass", async () => {
    const t = io();
    const code = await runLabCheck(["handshake", "close", "--json", "--seed", "42"], t.io);
    expect(code).toBe(0);
    const text = t.out.join("");
    expect(text).toContain("PASS handshake (sim, seed 42): 7 steps");
    const last = text.trim().split("\n").at(-1) as string;
    expect(JSON.parse(last)).toEqual({
      passed: 2,
      failed: 0,
      labs: [
        { name: "handshake", world: "sim", ok: true, steps: 7, failedStep: null },
        { name: "close", world: "sim", ok: true, steps: 8, failedStep: null },
      ],
    });
  });

  test("a failing lab: exit 1 and the step", async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, "fails.md"),
      "# F\n## one\n```lab\nb: listen 80\nexpect: state b:#3 LISTEN\n```\n## two\n```lab\nexpect: state b:#3 CLOSED\n```\n",
    );
    const t = io();
    const code = await runLabCheck(["fails", "--labs", dir, "--json"], t.io);
    expect(code).toBe(1);
    const text = t.out.join("");
    expect(text).toContain("FAIL fails (sim, seed 1) at step 2");
    expect(text).toContain("✗ b:#3 is CLOSED (it is LISTEN)");
    expect(JSON.parse(text.trim().split("\n").at(-1) as string)).toMatchObject({
      passed: 0,
      failed: 1,
      labs: [{ name: "fails", failedStep: 2, ok: false }],
    });
  });

  test("bad arguments exit 2 with the usage", async () => {
    for (const args of [
      [],
      ["nosuch"],
      ["--all", "handshake"],
      ["--world", "mars", "--all"],
      ["--seed", "x", "--all"],
      ["--frob"],
      ["--all", "--world", "kernel"],
    ]) {
      const t = io();
      expect(await runLabCheck(args, t.io)).toBe(2);
      expect(t.err.join("")).toContain("usage: tcplab lab check NAME… | --all");
    }
  });
});
