// One server per local state directory (`npm start`, and the chat app's
// `npm start -w @durable-agents/example-chat-app`).
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join, resolve } from "node:path";

/** The lock file a start script keeps in the state directory while it runs: its pid. */
export const LOCK_FILE = "npm-start.pid";

/**
 * The state directory `wrangler dev` uses when started in `cwd` with `args`: the value of
 * `--persist-to DIR` (or `--persist-to=DIR`), relative to `cwd`, else `cwd`/.wrangler/state.
 *
 * @param {string} cwd
 * @param {readonly string[]} args
 */
export function stateDirOf(cwd, args) {
  const at = args.findIndex((a) => a === "--persist-to" || a.startsWith("--persist-to="));
  if (at < 0) return resolve(cwd, ".wrangler/state");
  const dir = args[at].includes("=") ? args[at].slice(args[at].indexOf("=") + 1) : args[at + 1];
  return resolve(cwd, dir || ".wrangler/state");
}

/**
 * Takes the state directory of the `wrangler dev` a start script is about to run (in `cwd`,
 * with `args`), or says on stderr, in one line, which process holds it and what to do, and
 * exits 1. `name` is the command the user ran (`npm start`); `elsewhere`, that command with
 * the arguments that give it a state directory of its own.
 *
 * @param {{ cwd: string, args: readonly string[], name: string, elsewhere: string }} options
 * @returns {string} the state directory, now held until this process exits
 */
export function claimStateDir({ cwd, args, name, elsewhere }) {
  const dir = stateDirOf(cwd, args);
  const held = lockStateDir(dir);
  if (held === undefined) return dir;
  console.error(
    `${name}: another server (pid ${held.heldBy}) runs on the state directory ${dir}, and two would run the same sessions twice. ` +
      `Stop that one (Ctrl-C in its terminal, or kill ${held.heldBy}), or give this one its own state: ${elsewhere}`,
  );
  process.exit(1);
}

/**
 * Takes the state directory `dir` for this process, or returns why not. Two `wrangler dev`
 * on one state directory share its Durable Objects' storage, each running the same session
 * as if it were the only one. The lock is a file in `dir` holding this process's pid, made
 * with O_EXCL and removed when this process exits; one whose pid no longer runs (a start
 * script killed with SIGKILL) is stale and taken over.
 *
 * @param {string} dir
 * @returns {{ heldBy: number } | undefined} the pid of the live process that holds it, if any
 */
export function lockStateDir(dir) {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, "wx");
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      process.on("exit", () => {
        if (holder(file) === process.pid) rmSync(file, { force: true });
      });
      return undefined;
    } catch (error) {
      if (error?.code !== "EEXIST") throw error;
    }
    const pid = holder(file);
    if (pid !== undefined && pid !== process.pid && alive(pid)) return { heldBy: pid };
    rmSync(file, { force: true }); // stale: its process is gone
  }
  throw new Error(`could not take the lock ${file}; remove it if no server uses ${dir}`);
}

/** @param {string} file */
function holder(file) {
  try {
    const pid = Number.parseInt(readFileSync(file, "utf8"), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** @param {number} pid */
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error?.code === "EPERM"; // it runs, as another user
  }
}
