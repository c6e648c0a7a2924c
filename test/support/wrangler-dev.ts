/**
 * Start `wrangler dev` for a test or bench, wait until it answers, stop it by its process
 * group. Logs are kept so a failure can say what the server printed.
 * @example
 * const dev = await startWranglerDev({ cwd: "test/conformance" });
 * try { await fetch(`${dev.baseUrl}/v1/stream/x`) } finally { await dev.stop() }
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { wranglerSourceEnv } from "../../scripts/source-condition.mjs";

export interface WranglerDevOptions {
  /** Folder with wrangler.jsonc (or pass `config`). */
  readonly cwd: string;
  readonly config?: string;
  readonly port?: number;
  /** Persist state here (`--persist-to`); a crash test restarts on the same folder. */
  readonly persistTo?: string;
  /** Extra vars, passed as `--var NAME:value`. */
  readonly vars?: Record<string, string>;
  readonly env?: Record<string, string>;
  /** How long to wait for the first answer. Default 60 s. */
  readonly readyTimeoutMs?: number;
  /**
   * Bundle once and serve that bundle (`--no-bundle`), so edits to the source tree by other
   * work in the same checkout do not reload the server mid-run. For benches.
   */
  readonly snapshot?: boolean;
  /**
   * Bundle @durable-agents/* from this repo's sources (default true; see
   * scripts/source-condition.mjs). false for a project that installed the packed packages.
   */
  readonly fromSources?: boolean;
}

export interface WranglerDev {
  readonly baseUrl: string;
  readonly pid: number;
  logs(): string;
  /** SIGTERM the process group, SIGKILL after 5 s. */
  stop(): Promise<void>;
  /** SIGKILL the process group at once (crash simulation). */
  kill(): Promise<void>;
}

/** A loopback port nothing listens on: bound, then closed (a server to start, or a connection refused). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export async function startWranglerDev(options: WranglerDevOptions): Promise<WranglerDev> {
  const port = options.port ?? (await freePort());
  const wranglerPackage = createRequire(import.meta.url).resolve("wrangler/package.json");
  const wranglerBin = join(dirname(wranglerPackage), "bin", "wrangler.js");
  const snapshot = options.snapshot === true ? bundleSnapshot(wranglerBin, options) : null;
  const cwd = snapshot?.dir ?? resolve(options.cwd);
  const args = [
    wranglerBin,
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-port",
    String(await freePort()),
  ];
  args.push("--show-interactive-dev-session=false", "--log-level", "warn");
  if (snapshot !== null) args.push("--config", snapshot.config, "--no-bundle");
  else if (options.config !== undefined) args.push("--config", options.config);
  if (options.persistTo !== undefined) args.push("--persist-to", resolve(options.persistTo));
  for (const [name, value] of Object.entries(options.vars ?? {}))
    args.push("--var", `${name}:${value}`);
  const child = spawn(process.execPath, args, {
    cwd,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...wranglerEnv(options), ...options.env },
  });
  let logs = "";
  const keep = (data: Buffer): void => {
    logs = (logs + data.toString()).slice(-64_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const baseUrl = `http://127.0.0.1:${port}`;
  const dev: WranglerDev = {
    baseUrl,
    pid: child.pid ?? 0,
    logs: () => logs,
    stop: () => stopGroup(child, "SIGTERM", 5_000),
    kill: () => stopGroup(child, "SIGKILL", 5_000),
  };
  try {
    await waitUntilReady(baseUrl, child, options.readyTimeoutMs ?? 60_000);
  } catch (error) {
    await dev.kill();
    throw new Error(
      `wrangler dev did not start in ${cwd}: ${(error as Error).message}\n--- wrangler output ---\n${logs}`,
    );
  }
  return dev;
}

/** `wrangler deploy --dry-run` into a temp folder, plus a config that serves that bundle. */
function bundleSnapshot(
  wranglerBin: string,
  options: WranglerDevOptions,
): { dir: string; config: string } {
  const bundle = bundleWorker(options, wranglerBin);
  const config = { ...bundle.config, main: bundle.main, no_bundle: true };
  const snapshotConfig = join(bundle.dir, "wrangler.json");
  writeFileSync(snapshotConfig, JSON.stringify(config, null, 2));
  return { dir: bundle.dir, config: snapshotConfig };
}

export interface WorkerBundle {
  /** A temp folder that holds the bundle; the caller removes it. */
  readonly dir: string;
  /** The bundled entry module (absolute path). */
  readonly main: string;
  /** The parsed wrangler config the bundle was built from. */
  readonly config: Record<string, unknown>;
}

/**
 * Bundle a Worker the way `wrangler deploy` does (`--dry-run --outdir`), with the build
 * conditions `options.fromSources` asks for, and return its entry module and parsed config.
 */
export function bundleWorker(
  options: Pick<WranglerDevOptions, "cwd" | "config" | "fromSources">,
  wranglerBin = join(
    dirname(createRequire(import.meta.url).resolve("wrangler/package.json")),
    "bin",
    "wrangler.js",
  ),
): WorkerBundle {
  const source = resolve(options.cwd);
  const configPath = resolve(source, options.config ?? "wrangler.jsonc");
  const dir = mkdtempSync(join(tmpdir(), "wrangler-snapshot-"));
  const out = join(dir, "bundle");
  const built = spawnSync(
    process.execPath,
    [wranglerBin, "deploy", "--dry-run", "--outdir", out, "--config", configPath],
    {
      cwd: source,
      encoding: "utf8",
      env: wranglerEnv(options),
    },
  );
  if (built.status !== 0)
    throw new Error(`wrangler bundle failed:\n${built.stdout}\n${built.stderr}`);
  const main = readdirSync(out).find((f) => f.endsWith(".js"));
  if (main === undefined) throw new Error(`wrangler bundle wrote no .js file to ${out}`);
  // Full-line comments only: the configs here keep comments on their own lines.
  const text = readFileSync(configPath, "utf8")
    .split("\n")
    .filter((line) => !line.trim().startsWith("//"))
    .join("\n");
  return { dir, main: join(out, main), config: JSON.parse(text) as Record<string, unknown> };
}

/** wrangler's environment: no metrics, and the build conditions `fromSources` asks for. */
function wranglerEnv(options: Pick<WranglerDevOptions, "fromSources">): NodeJS.ProcessEnv {
  const { WRANGLER_BUILD_CONDITIONS: _, ...env } = process.env;
  const conditions = options.fromSources === false ? {} : wranglerSourceEnv;
  return { ...env, ...conditions, WRANGLER_SEND_METRICS: "false", CI: "1" };
}

async function waitUntilReady(
  baseUrl: string,
  child: ChildProcess,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`it exited with code ${child.exitCode}`);
    try {
      await fetch(baseUrl, { signal: AbortSignal.timeout(2_000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`no answer on ${baseUrl} after ${timeoutMs} ms`);
}

function stopGroup(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return Promise.resolve();
  const pid = child.pid;
  return new Promise((done) => {
    const timer = setTimeout(() => {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {}
    }, graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      done();
    });
    try {
      process.kill(-pid, signal);
    } catch {
      clearTimeout(timer);
      done();
    }
  });
}
