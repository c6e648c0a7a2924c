// Nothing a start script started outlives it (`npm start`, and the chat app's
// `npm start -w @durable-agents/example-chat-app`).
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { fileURLToPath } from "node:url";

const LIFELINE = fileURLToPath(new URL("./lifeline.mjs", import.meta.url));

/**
 * Spawns `command` (`wrangler dev`) as `spawn` would, but through scripts/lifeline.mjs, which
 * stops it when this process is gone even if it died of SIGKILL, and supervises it
 * (superviseChild). `options.stdio` covers fds 0-2 (default "inherit"); fd 3 is the lifeline.
 *
 * @param {string} command
 * @param {readonly string[]} args
 * @param {import("node:child_process").SpawnOptions} options
 * @returns {import("node:child_process").ChildProcess} the lifeline process; its stdio are
 *   the command's, its exit code the command's
 */
export function spawnSupervised(command, args, options = {}) {
  const stdio = typeof options.stdio === "string" ? [options.stdio] : (options.stdio ?? []);
  const [stdin = "inherit", stdout = "inherit", stderr = "inherit"] =
    stdio.length === 1 ? [stdio[0], stdio[0], stdio[0]] : stdio;
  const child = spawn(process.execPath, [LIFELINE, command, ...args], {
    ...options,
    stdio: [stdin, stdout, stderr, "pipe"],
  });
  // The lifeline writes the command's pid on fd 3. If the lifeline itself dies of a signal
  // nobody here asked for (SIGKILL, the OOM killer), the command is an orphan that no pipe
  // will stop: stop it by that pid.
  let commandPid;
  child.stdio[3]?.on("data", (chunk) => {
    commandPid ??= Number.parseInt(String(chunk), 10) || undefined;
  });
  // Before superviseChild's own exit handler, which ends this process.
  child.on("exit", (_code, signal) => {
    if (signal === null || commandPid === undefined) return;
    try {
      process.kill(commandPid, "SIGTERM");
    } catch {}
  });
  superviseChild(child);
  return child;
}

/**
 * Ties `child` (a spawned `wrangler dev`) to this process. A signal to this process alone
 * (not to the terminal's process group: `kill <pid>`, npm passing on the SIGINT or SIGTERM it
 * got, a closed terminal's SIGHUP) is passed to the child, which stops workerd and esbuild;
 * SIGHUP as SIGTERM. If the parent dies without a word (npm killed, or dead of SIGHUP), this
 * process is re-parented, and it stops the child the same way. If this process dies of SIGKILL
 * it can do nothing: spawnSupervised's lifeline stops the child then. When the child exits, this
 * process exits with its code (or `process.exitCode`, if set), but with 0 when a signal asked
 * for the stop: wrangler exits 130 or 143 then, and npm would print a stop asked for (Ctrl-C,
 * `kill <pid>`) as `npm error Lifecycle script \`start\` failed`. The package.json scripts run
 * their start script with `exec`, so that npm's signals reach it and not the script shell
 * between them, which waits for its child and passes nothing on (dash, /bin/sh on Debian and
 * Ubuntu).
 *
 * @param {import("node:child_process").ChildProcess} child
 * @returns {(signal: NodeJS.Signals) => void} stops the child with `signal` if it still runs
 */
export function superviseChild(child) {
  const stop = (signal) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  let asked = false;
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"])
    process.on(signal, () => {
      asked = true;
      stop(signal === "SIGHUP" ? "SIGTERM" : signal);
    });
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) stop("SIGTERM");
  }, 500).unref();
  process.on("exit", () => stop("SIGTERM"));
  // Ended by a signal nobody here asked for: exit as a shell reports it (128 + the signal).
  child.on("exit", (code, signal) =>
    process.exit(
      process.exitCode || (asked ? 0 : (code ?? 128 + (constants.signals[signal] ?? 0))),
    ),
  );
  return stop;
}
