import { describe, expect, test } from "bun:test";

async function cli(...args: string[]) {
  const proc = Bun.spawn(["bun", "cli/tcplab.ts", ...args], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { stdout, stderr, exitCode };
}

describe("tcplab sim", () => {
  test("--json prints one object with equal hashes and clean final states; exit 0", async () => {
    const r = await cli(
      "sim",
      "--bytes",
      "100000",
      "--loss",
      "0.1",
      "--reorder",
      "0.05",
      "--duplicate",
      "0.02",
      "--corrupt",
      "0.01",
      "--delay",
      "10",
      "--seed",
      "7",
      "--json",
    );
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.ok).toBe(true);
    expect(out.bytes).toBe(100000);
    expect(out.receivedSha256).toBe(out.sentSha256);
    expect(out.sentSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(typeof out.simulatedMs).toBe("number");
    expect(typeof out.wallMs).toBe("number");
    expect(out.retransmissions).toBeGreaterThan(0);
    expect(out.states.a.final).toBe("CLOSED");
    expect(out.states.a.path).toContain("TIME-WAIT");
    expect(out.states.b.final).toBe("CLOSED");
  });

  test("the same seed gives the same run", async () => {
    const args = [
      "sim",
      "--bytes",
      "50000",
      "--loss",
      "0.1",
      "--delay",
      "5",
      "--seed",
      "11",
      "--json",
    ];
    const [x, y] = await Promise.all([cli(...args), cli(...args)]);
    const strip = (s: string) => {
      const o = JSON.parse(s);
      delete o.wallMs;
      return o;
    };
    expect(strip(x.stdout)).toEqual(strip(y.stdout));
  });

  for (const [args, name] of [
    [["--bytes", "ten"], "--bytes"],
    [["--bytes", "100", "--loss", "1.5"], "--loss"],
    [["--bytes", "100", "--delay", "-1"], "--delay"],
    [["--bytes", "100", "--wobble", "3"], "--wobble"],
    [["--loss", "0.1"], "--bytes"],
  ] as const) {
    test(`bad argument ${args.join(" ")} → one line naming ${name}, the usage line, exit 2`, async () => {
      const r = await cli("sim", ...args);
      expect(r.exitCode).toBe(2);
      const lines = r.stderr.trim().split("\n");
      expect(lines.length).toBe(2);
      expect(lines[0]).toContain(name);
      expect(lines[1]).toStartWith("usage: tcplab sim");
      expect(r.stdout).toBe("");
    });
  }

  test("a value starting with '-' after a space: says how to write it; with '=' it is range-checked", async () => {
    const spaced = await cli("sim", "--bytes", "100", "--delay", "-1");
    expect(spaced.stderr.split("\n")[0]).toBe(
      'tcplab: --delay needs a value; write one that starts with "-" as --delay=VALUE',
    );
    const joined = await cli("sim", "--bytes", "100", "--delay=-1");
    expect(joined.exitCode).toBe(2);
    expect(joined.stderr.split("\n")[0]).toBe('tcplab: --delay must be a delay ≥ 0 ms, got "-1"');
  });

  test("--help and unknown commands", async () => {
    const help = await cli("--help");
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain("sim");
    const simHelp = await cli("sim", "--help");
    expect(simHelp.exitCode).toBe(0);
    expect(simHelp.stdout).toContain("--bytes N");
    const bad = await cli("frobnicate");
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("unknown command");
  });
});
