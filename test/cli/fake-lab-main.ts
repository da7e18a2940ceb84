/**
 * `tcplab lab` with the fake session instead of the engine: lets the terminal
 * tests check the UI's own behaviour (keys, restore on exit) in a real pty.
 */
import { runLab } from "../../cli/lab.ts";
import { FakeSession } from "./fake-session.ts";

runLab(process.argv.slice(2), { createSession: () => new FakeSession() }).then((code) =>
  process.exit(code),
);
