// One server per local state directory (`npm start`, and the chat app's
// `npm start -w @durable-agents/example-chat-app`).
import { linkSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

/** The lock file a start script keeps in the state directory while it runs: its pid. */
export const LOCK_FILE = "npm-start.pid";

/**
 * The value of `--persist-to DIR` (or `--persist-to=DIR`) in `args`, or undefined without one.
 * A `--persist-to` with no directory after it is refused: one line on stderr (as `name`), exit 2.
 *
 * @param {readonly string[]} args
 * @param {string} [name] the command the user ran
 * @returns {string | undefined}
 */
export function persistToOf(args, name = "npm start") {
  const at = args.findIndex((a) => a === "--persist-to" || a.startsWith("--persist-to="));
  if (at < 0) return undefined;
  const dir = args[at] === "--persist-to" ? args[at + 1] : args[at].slice("--persist-to=".length);
  if (!dir || dir.startsWith("-")) {
    console.error(`${name}: --persist-to needs a directory, e.g. --persist-to .wrangler/state-2`);
    process.exit(2);
  }
  return dir;
}

/**
 * The state directory `wrangler dev` uses when started in `cwd` with `args`: the value of
 * `--persist-to` (persistToOf), relative to `cwd`, else `cwd`/.wrangler/state.
 *
 * @param {string} cwd
 * @param {readonly string[]} args
 * @param {string} [name] the command the user ran
 */
export function stateDirOf(cwd, args, name) {
  return resolve(cwd, persistToOf(args, name) ?? ".wrangler/state");
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
  const dir = stateDirOf(cwd, args, name);
  const held = lockStateDir(dir);
  if (held === undefined) return dir;
  const who =
    held.heldBy === undefined
      ? "another server (starting now)"
      : `another server (pid ${held.heldBy})`;
  const stop =
    held.heldBy === undefined
      ? "Ctrl-C in its terminal"
      : `Ctrl-C in its terminal, or kill ${held.heldBy}`;
  console.error(
    `${name}: ${who} runs on the state directory ${dir}, and two would run the same sessions twice. ` +
      `Stop that one (${stop}), or give this one its own state: ${elsewhere}`,
  );
  process.exit(1);
}

/**
 * Takes the state directory `dir` for this process, or returns why not. Two `wrangler dev`
 * on one state directory share its Durable Objects' storage, each running the same session
 * as if it were the only one. The lock is a file in `dir` holding this process's pid, removed
 * when this process exits. It appears with its pid in it: the pid is written to a temporary
 * file in `dir` first, then linked to the lock's name (which fails if the lock exists).
 *
 * A lock is held while its pid runs a start script (its command line names `start.mjs`,
 * checked where /proc/<pid>/cmdline is readable; elsewhere, while the pid runs at all). A
 * lock naming pid 1, our parent or ourselves, or a pid gone or running something else, is
 * stale and taken over (a start script killed with SIGKILL). A lock file with no pid in it
 * (left by an older script) is held while fresh (changed less than FRESH_MS ago), else stale.
 *
 * @param {string} dir
 * @returns {{ heldBy: number | undefined } | undefined} who holds it (its pid, if the file
 *   names one), if anyone
 */
export function lockStateDir(dir) {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, LOCK_FILE);
  const temp = join(dir, `${LOCK_FILE}.${process.pid}.tmp`);
  writeFileSync(temp, `${process.pid}\n`);
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(temp, file);
        process.on("exit", () => {
          if (holder(file) === process.pid) rmSync(file, { force: true });
        });
        return undefined;
      } catch (error) {
        if (error?.code !== "EEXIST") throw error;
      }
      const pid = holder(file);
      if (pid === undefined ? fresh(file) : isStartScript(pid)) return { heldBy: pid };
      rmSync(file, { force: true }); // stale
    }
  } finally {
    rmSync(temp, { force: true });
  }
  throw new Error(`could not take the lock ${file}; remove it if no server uses ${dir}`);
}

/** How long a lock file with no pid in it counts as held. */
const FRESH_MS = 5_000;

/** @param {string} file */
function fresh(file) {
  try {
    return Date.now() - statSync(file).mtimeMs < FRESH_MS;
  } catch {
    return false; // gone: take it
  }
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

/** Whether `pid` is another start script that runs now. @param {number} pid */
function isStartScript(pid) {
  if (pid === 1 || pid === process.pid || pid === process.ppid) return false;
  let cmdline;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return alive(pid); // gone, no /proc here, or not readable: liveness only
  }
  return cmdline.split("\0").some((arg) => arg.endsWith("start.mjs"));
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
