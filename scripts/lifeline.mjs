// `node scripts/lifeline.mjs <command> [args...]`: runs the command (a start script's
// `wrangler dev`) and stops it once the start script that spawned this is gone, even if that
// died of SIGKILL, which runs no handler (a supervisor or an IDE killing the pid it started,
// the OOM killer). Without it wrangler and workerd outlive their start script, holding its port
// and its state directory's SQLite. Wrangler is a third-party binary, so the watch is this
// small process between them. Spawn it with spawnSupervised (scripts/supervise.mjs).
//
// Fd 3 is a socket pair with the start script, which never writes to it: the kernel closes the
// start script's end when it exits, however it exits, and the read here then ends. This end
// writes the command's pid once, so that the start script can stop the command if this
// process is killed (SIGKILL here runs no handler either). Signals to this
// process (the start script passing one on, Ctrl-C in the terminal) go on to the command,
// SIGHUP as SIGTERM (as superviseChild does: wrangler's launcher dies of a SIGHUP, leaving
// wrangler itself running).
import { spawn } from "node:child_process";
import { Socket } from "node:net";
import { constants } from "node:os";

const [command, ...args] = process.argv.slice(2);
if (command === undefined) {
  console.error("usage: node scripts/lifeline.mjs <command> [args...] (with a pipe on fd 3)");
  process.exit(2);
}

const child = spawn(command, args, { stdio: "inherit" });
const stop = (signal) => {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
};
child.on("error", (error) => {
  console.error(`could not run ${command}: ${error.message}`);
  process.exit(1);
});
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"])
  process.on(signal, () => stop(signal === "SIGHUP" ? "SIGTERM" : signal));

const lifeline = new Socket({ fd: 3, readable: true, writable: true });
lifeline.on("close", () => stop("SIGTERM"));
lifeline.on("error", () => stop("SIGTERM"));
lifeline.resume();
// The command's pid, for the start script: if this process dies of SIGKILL, the command is
// re-parented and keeps running, and the start script stops it by that pid (spawnSupervised).
if (child.pid !== undefined) lifeline.write(`${child.pid}\n`);

// The command's exit status as a shell gives it: its code, or 128 + the signal that ended it.
child.on("exit", (code, signal) =>
  process.exit(code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1)),
);
