// The state-directory lock of the start scripts (scripts/state-lock.mjs), called directly on
// a temporary directory: no server. test/e2e/start.test.ts runs it through `npm start`.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LOCK_FILE, lockStateDir } from "../../scripts/state-lock.mjs";

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function stateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "state-lock-"));
  dirs.push(dir);
  return dir;
}

/** A live process whose command line is (or is not) a start script's. */
async function live(args: string[]): Promise<number> {
  const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)", ...args], {
    stdio: "ignore",
  });
  children.push(child);
  await new Promise((done) => child.once("spawn", done));
  return child.pid as number;
}

describe("lockStateDir", () => {
  it("takes a free directory and writes this process's pid", () => {
    const dir = stateDir();
    expect(lockStateDir(dir)).toBeUndefined();
    expect(readFileSync(join(dir, LOCK_FILE), "utf8").trim()).toBe(String(process.pid));
  });

  it("counts an empty lock file written just now as held (its start is writing its pid)", () => {
    const dir = stateDir();
    writeFileSync(join(dir, LOCK_FILE), "");
    expect(lockStateDir(dir)).toEqual({ heldBy: undefined });
    expect(readFileSync(join(dir, LOCK_FILE), "utf8")).toBe("");
  });

  it("takes an empty lock file that is not fresh", () => {
    const dir = stateDir();
    const file = join(dir, LOCK_FILE);
    writeFileSync(file, "");
    const old = new Date(Date.now() - 60_000);
    utimesSync(file, old, old);
    expect(lockStateDir(dir)).toBeUndefined();
    expect(readFileSync(file, "utf8").trim()).toBe(String(process.pid));
  });

  it("takes a lock naming pid 1", () => {
    const dir = stateDir();
    writeFileSync(join(dir, LOCK_FILE), "1\n");
    expect(lockStateDir(dir)).toBeUndefined();
  });

  it.runIf(process.platform === "linux")(
    "takes a lock whose pid now runs something that is not a start script",
    async () => {
      const dir = stateDir();
      writeFileSync(join(dir, LOCK_FILE), `${await live([])}\n`);
      expect(lockStateDir(dir)).toBeUndefined();
    },
  );

  it("keeps a lock whose pid is a running start script", async () => {
    const dir = stateDir();
    const pid = await live(["examples/quickstart/scripts/start.mjs"]);
    writeFileSync(join(dir, LOCK_FILE), `${pid}\n`);
    expect(lockStateDir(dir)).toEqual({ heldBy: pid });
  });
});

describe("stateDirOf", () => {
  const script = new URL("../../scripts/state-lock.mjs", import.meta.url).href;
  /** Runs stateDirOf("/tmp/app", args) in a child: it may exit. */
  function stateDirIn(args: string[]) {
    return spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import { stateDirOf } from ${JSON.stringify(script)}; console.log(stateDirOf("/tmp/app", ${JSON.stringify(args)}));`,
      ],
      { encoding: "utf8" },
    );
  }

  it("reads --persist-to DIR and --persist-to=DIR, relative to cwd", () => {
    expect(stateDirIn(["--persist-to", "s2"]).stdout.trim()).toBe("/tmp/app/s2");
    expect(stateDirIn(["--persist-to=s3"]).stdout.trim()).toBe("/tmp/app/s3");
    expect(stateDirIn([]).stdout.trim()).toBe("/tmp/app/.wrangler/state");
  });

  for (const args of [["--persist-to"], ["--persist-to="], ["--persist-to", "--port", "8790"]]) {
    it(`refuses ${JSON.stringify(args)}: no directory, exit 2`, () => {
      const run = stateDirIn(args);
      expect(run.status).toBe(2);
      expect(run.stdout).toBe("");
      expect(run.stderr.trim()).toBe(
        "npm start: --persist-to needs a directory, e.g. --persist-to .wrangler/state-2",
      );
    });
  }
});
