/**
 * `npm start` itself (examples/quickstart/scripts/start.mjs): the port it serves on, a port
 * that is taken, and a banner that tells the truth about the model the Worker uses; and the
 * chat app's `npm start -w @durable-agents/example-chat-app` (examples/chat-app), which must
 * stop as cleanly.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { delimiter, join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LOCK_FILE } from "../../scripts/state-lock.mjs";
import { freePort } from "../support/wrangler-dev.ts";
import { tempState } from "./e2e-support.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const START = resolve(ROOT, "examples/quickstart/scripts/start.mjs");

interface Started {
  child: ChildProcess;
  output: () => { stdout: string; stderr: string };
  exited: Promise<number | null>;
}

const SECRET = "an-auth-secret-of-at-least-32-characters";
const running: ChildProcess[] = [];
const cleanups: (() => void)[] = [];

afterEach(async () => {
  for (const child of running.splice(0)) await stopGroup(child);
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A fresh state directory, removed when the test ends. */
function ownState(prefix: string): string {
  const state = tempState(prefix);
  cleanups.push(() => rmSync(state, { recursive: true, force: true }));
  return state;
}

/**
 * Runs the start script as `npm start` does (node_modules/.bin on PATH), in its own group,
 * on a state directory of its own unless `args` name one (--persist-to); with `via: "npm"`,
 * through the real `npm start` (npm, its script shell, then the script).
 */
async function start(
  args: string[],
  env: Record<string, string> = {},
  via: "node" | "npm" = "node",
): Promise<Started> {
  const state = args.includes("--persist-to") ? [] : ["--persist-to", ownState("start")];
  const own = [...args, ...state, "--inspector-port", String(await freePort())];
  const child = spawn(
    via === "npm" ? "npm" : process.execPath,
    via === "npm" ? ["start", "--", ...own] : [START, ...own],
    {
      cwd: ROOT,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        PATH: `${resolve(ROOT, "node_modules/.bin")}${delimiter}${process.env.PATH ?? ""}`,
        NO_COLOR: "1",
        ...env,
      },
    },
  );
  running.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
  return { child, output: () => ({ stdout, stderr }), exited };
}

/** Runs `script` with bash in the repository, as a user pastes the banner's lines. */
function shell(script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { DURABLE_AGENTS_TOKEN: _, ...env } = process.env;
  const child = spawn("bash", ["-e", "-c", script], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...env, NO_COLOR: "1" },
  });
  running.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((done) => child.on("exit", (code) => done({ code, stdout, stderr })));
}

/** Waits for the banner, or fails with what the script printed. */
async function banner(started: Started, timeoutMs = 90_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { stdout, stderr } = started.output();
    if (stdout.includes("Inspector:")) return stdout;
    if (started.child.exitCode !== null)
      throw new Error(`npm start exited ${started.child.exitCode}:\n${stdout}\n${stderr}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no banner within ${timeoutMs} ms:\n${JSON.stringify(started.output())}`);
}

/** Stops `child`'s group, also what a failed test left behind once `child` itself exited. */
async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined) return;
  const gone = child.exitCode !== null || child.signalCode !== null;
  const exited = new Promise((done) => child.once("exit", done));
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    return;
  }
  if (gone) return;
  const timer = setTimeout(() => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    } catch {}
  }, 5_000);
  await exited;
  clearTimeout(timer);
}

/** Every process descended from `pid` now (Linux: each /proc/<pid>/stat names its parent). */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited while listed
    }
    // "pid (comm) state ppid ...": comm may hold spaces, so read after its closing paren.
    const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift() as number) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `/proc/<pid>/cmdline`, for a message about a process left behind. */
function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").slice(0, 120);
  } catch {
    return "(gone)";
  }
}

/** The pids of `pids` still running once they stopped, or after 60 s of waiting (then a failure). */
async function leftRunning(pids: readonly number[]): Promise<string[]> {
  for (let i = 0; i < 300 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 200));
  return pids.filter(alive).map((pid) => `${pid} ${commandOf(pid)}`);
}

function listen(port: number): Promise<Server> {
  return new Promise((done, fail) => {
    const server = createServer((socket) => socket.end());
    server.once("error", fail);
    server.listen(port, "127.0.0.1", () => done(server));
  });
}

/** Two consecutive ports on 127.0.0.1, both held until the test ends. */
async function holdTwoPorts(): Promise<[number, number]> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await freePort();
    const first = await listen(port).catch(() => undefined);
    if (first === undefined) continue;
    const second = await listen(port + 1).catch(() => undefined);
    if (second === undefined) {
      first.close();
      continue;
    }
    cleanups.push(
      () => first.close(),
      () => second.close(),
    );
    return [port, port + 1];
  }
  throw new Error("found no two consecutive free ports on 127.0.0.1 in 20 tries");
}

describe("npm start", () => {
  it("--port serves there, and the banner, the readiness check and the CLI hints use that port", async () => {
    const port = await freePort();
    const started = await start(["--port", String(port)]);
    const text = await banner(started);

    expect(text).toContain(`running on http://127.0.0.1:${port}`);
    expect(text).toContain(
      `npx durable-agents chat "What is (2+3)*4?" --url http://127.0.0.1:${port}`,
    );
    expect(text).toContain(
      `npx durable-agents chat --agent assistant-wf "What is 2+3?" --url http://127.0.0.1:${port}`,
    );
    expect(text).toContain("using the embedded scripted model");
    expect(text).toContain("local dev (AUTH_SECRET unset)");
    expect(text).toContain("index: on, in D1 INDEX_DB: GET /sessions, GET /usage");
    const status = await fetch(`http://127.0.0.1:${port}/agents/assistant/start-port/status`);
    expect(status.status).toBe(200);
    // The index routes read the index the banner names (with it off they answer index_off).
    const sessions = await fetch(`http://127.0.0.1:${port}/sessions?limit=1`);
    expect(sessions.status).toBe(200);
  });

  it("with AUTH_SECRET set, the banner's lines mint a token and the CLI chats with it", async () => {
    const port = await freePort();
    const started = await start(["--port", String(port), "--var", `AUTH_SECRET:${SECRET}`]);
    const text = await banner(started);

    expect(text).toContain("signed tokens (AUTH_SECRET is set)");
    expect(text).toContain(`http://127.0.0.1:${port}/#session=demo&token=<token>`);
    // What the banner says: a request without a token is refused.
    const status = await fetch(`http://127.0.0.1:${port}/agents/assistant/demo/status`);
    expect(status.status).toBe(401);
    // ... and its lines, run as printed (the secret filled in), mint a token and chat with it.
    const lines = text.split("\n").map((line) => line.trim());
    const mint = lines.find((line) => line.startsWith("export DURABLE_AGENTS_TOKEN="));
    const chat = `npx durable-agents chat "What is 2+3?" --session demo --url http://127.0.0.1:${port}`;
    expect(mint).toContain("mintSessionToken");
    expect(lines).toContain(chat);
    const script = `${mint?.replace("<secret>", SECRET)}\n${chat}`;
    const ran = await shell(script);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toContain("session: demo\n");
  });

  it("refuses a port that is already taken, before wrangler starts, and suggests a free one", async () => {
    // The taken port and the one after it are both held: the suggestion must skip both.
    const [port, next] = await holdTwoPorts();
    const started = await start([], { PORT: String(port) });

    expect(await started.exited).toBe(1);
    const { stdout, stderr } = started.output();
    expect(stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
    expect(stdout).not.toContain("is running");
    const suggested = Number(/npm start -- --port (\d+)/.exec(stderr)?.[1]);
    expect(suggested, stderr).toBeGreaterThan(0);
    expect([port, next]).not.toContain(suggested);
    // Free when checked: nothing else here took it since, so it binds.
    const proof = await listen(suggested);
    await new Promise((done) => proof.close(done));
  });

  it("refuses a second server on a state directory another one runs on; a stale lock does not block", async () => {
    const state = ownState("start-shared");
    const first = await start(["--port", String(await freePort()), "--persist-to", state]);
    await banner(first);

    // Another port, the same state: both would run the same sessions at once.
    const port = await freePort();
    const second = await start(["--port", String(port), "--persist-to", state]);
    expect(await second.exited).toBe(1);
    const { stdout, stderr } = second.output();
    expect(stderr).toContain(
      `npm start: another server (pid ${first.child.pid}) runs on the state directory ${state}`,
    );
    expect(stderr).toMatch(
      /Stop that one .*, or give this one its own state: npm start -- --port \d+ --persist-to /,
    );
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stdout).not.toContain("is running");
    await expect(fetch(`http://127.0.0.1:${port}/__quickstart`)).rejects.toThrow();

    // Stopped, the first one gives its state back.
    await stopGroup(first.child);
    expect(existsSync(join(state, LOCK_FILE))).toBe(false);

    // A lock left by a start script that was killed (its pid gone) does not block the next.
    const dead = spawnSync(process.execPath, ["-e", ""]).pid;
    writeFileSync(join(state, LOCK_FILE), `${dead}\n`);
    const third = await start(["--port", String(await freePort()), "--persist-to", state]);
    await banner(third);
    expect(readFileSync(join(state, LOCK_FILE), "utf8").trim()).toBe(String(third.child.pid));
  });

  // A signal sent to npm alone (kill <pid>, a supervisor, an IDE's stop button), not to the
  // terminal's process group: npm passes SIGINT and SIGTERM to its script, and dies of
  // SIGHUP or SIGKILL. Nothing `npm start` started may outlive it: wrangler, workerd, esbuild.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP", "SIGKILL"] as const) {
    it(`${signal} to the npm process alone stops every process npm start started`, async () => {
      const started = await start(["--port", String(await freePort())], {}, "npm");
      await banner(started);
      const npm = started.child.pid as number;
      const tree = descendants(npm);
      expect(tree.map(commandOf).join("\n")).toMatch(/workerd/);
      process.kill(npm, signal);
      // npm itself too: it waits for its script, so it is gone only once the script stopped.
      expect(await leftRunning([npm, ...tree])).toEqual([]);
    });
  }

  // SIGKILL to the start script itself (a supervisor or an IDE that kills the pid it started,
  // the OOM killer): it runs no handler, so wrangler and workerd must notice on their own, or
  // they keep the port and the state directory's SQLite, and the next `npm start` is refused.
  it("SIGKILL to the start script alone stops every process it started; the next start on its port and state starts", async () => {
    const state = ownState("start-killed");
    const port = await freePort();
    const first = await start(["--port", String(port), "--persist-to", state]);
    await banner(first);
    const script = first.child.pid as number;
    const tree = descendants(script);
    expect(tree.map(commandOf).join("\n")).toMatch(/workerd/);
    process.kill(script, "SIGKILL");
    expect(await leftRunning([script, ...tree])).toEqual([]);

    // Its lock names a dead pid: taken over; its port is free again.
    const second = await start(["--port", String(port), "--persist-to", state]);
    expect(await banner(second)).toContain(`running on http://127.0.0.1:${port}`);
    expect(readFileSync(join(state, LOCK_FILE), "utf8").trim()).toBe(String(second.child.pid));
  });

  // SIGKILL to the lifeline between the start script and wrangler (scripts/lifeline.mjs): no
  // pipe stops wrangler then, so the start script stops it by the pid the lifeline reported,
  // and exits as a shell reports a death by signal, not 0.
  it("SIGKILL to the lifeline alone stops wrangler and workerd, and the start script exits non-zero", async () => {
    const first = await start(["--port", String(await freePort())]);
    await banner(first);
    const script = first.child.pid as number;
    const tree = descendants(script);
    const lifeline = tree.find((pid) => commandOf(pid).includes("lifeline.mjs"));
    expect(lifeline).toBeDefined();
    const exited = new Promise<number | null>((settle) => first.child.once("exit", settle));
    process.kill(lifeline as number, "SIGKILL");
    expect(await leftRunning([script, ...tree])).toEqual([]);
    expect(await exited).toBe(128 + 9);
  });

  it("the banner names the model the Worker really uses (PORT, and a key passed as a Worker var)", async () => {
    const port = await freePort();
    const started = await start(
      ["--var", "OPENAI_API_KEY:sk-test", "--var", "OPENAI_BASE_URL:http://127.0.0.1:9/v1"],
      { PORT: String(port), OPENAI_API_KEY: "" },
    );
    const text = await banner(started);

    expect(text).toContain(`running on http://127.0.0.1:${port}`);
    expect(text).toContain(
      "using the OpenAI-compatible model gpt-4o-mini at http://127.0.0.1:9/v1 (OPENAI_API_KEY)",
    );
    expect(text).not.toContain("scripted");
  });
});

describe("npm start -w @durable-agents/example-chat-app", () => {
  /** The chat app's start script through the real npm, in its own group, on a free port. */
  async function startChatApp(state = ownState("chat-app-start")): Promise<Started> {
    const args = ["--port", String(await freePort()), "--persist-to", state];
    const child = spawn(
      "npm",
      [
        "start",
        "-w",
        "@durable-agents/example-chat-app",
        "--",
        ...args,
        "--inspector-port",
        String(await freePort()),
      ],
      {
        cwd: ROOT,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, NO_COLOR: "1" },
      },
    );
    running.push(child);
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
    return { child, output: () => ({ stdout, stderr }), exited };
  }

  /** Waits for wrangler's "Ready on", or fails with what the script printed. */
  async function ready(started: Started, timeoutMs = 90_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const { stdout, stderr } = started.output();
      if (`${stdout}${stderr}`.includes("Ready on http://127.0.0.1:")) return `${stdout}${stderr}`;
      if (started.child.exitCode !== null)
        throw new Error(`npm start exited ${started.child.exitCode}:\n${stdout}\n${stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`not ready within ${timeoutMs} ms:\n${JSON.stringify(started.output())}`);
  }

  it("refuses a state directory another live server holds, as the quickstart does", async () => {
    const state = ownState("chat-app-shared");
    // The lock as a running start script leaves it: a live process whose command line is one.
    const holder = spawn(
      process.execPath,
      ["-e", "setInterval(() => {}, 1000)", "scripts/start.mjs"],
      { stdio: "ignore" },
    );
    await new Promise((done) => holder.once("spawn", done));
    const pid = holder.pid as number;
    writeFileSync(join(state, LOCK_FILE), `${pid}\n`);
    const started = await startChatApp(state);
    const exited = await started.exited.finally(() => holder.kill());
    expect(exited).not.toBe(0);
    const { stdout, stderr } = started.output();
    expect(stderr).toContain(
      `npm start: another server (pid ${pid}) runs on the state directory ${state}`,
    );
    expect(stderr).toContain(
      "npm start -w @durable-agents/example-chat-app -- --port 8790 --persist-to .wrangler/state-2",
    );
    expect(`${stdout}${stderr}`).not.toContain("Ready on");
    expect(readFileSync(join(state, LOCK_FILE), "utf8").trim()).toBe(String(pid));
  });

  // As for the quickstart: a signal to npm alone must not leave wrangler, workerd or esbuild
  // running (the script was `vite build && wrangler dev`, whose shell passes nothing on).
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP", "SIGKILL"] as const) {
    it(`${signal} to the npm process alone stops every process it started`, async () => {
      const started = await startChatApp();
      const output = await ready(started);
      // Offline there is no Request.cf to fetch: no warning and stack trace about it.
      expect(output).not.toContain("Request.cf");
      const npm = started.child.pid as number;
      const tree = descendants(npm);
      expect(tree.map(commandOf).join("\n")).toMatch(/workerd/);
      process.kill(npm, signal);
      expect(await leftRunning([npm, ...tree])).toEqual([]);
      // A stop that was asked for is not a failure: npm prints no "npm error" lines for it.
      if (signal === "SIGINT" || signal === "SIGTERM")
        expect(started.output().stderr).not.toContain("npm error");
    });
  }
});
