/**
 * Serve a Worker on bare `workerd` (the binary wrangler depends on), with no wrangler process
 * and no dev proxy in front: the bundle `wrangler deploy --dry-run` builds, a workerd config
 * generated from the same wrangler.jsonc (its Durable Object classes with SQLite storage on
 * disk, its `vars` as text bindings), one HTTP socket on 127.0.0.1. This is the closest this
 * machine gets to the runtime that serves a deployed Worker, so the benches use it for fair
 * figures. Bindings other than Durable Objects and vars are refused with a clear error.
 * The config lives beside the bundle (capnp `embed` takes paths relative to it). Config format: workerd's `workerd.capnp` (https://github.com/cloudflare/workerd, samples/).
 * @example
 * const server = await startBareWorkerd({ cwd: "test/conformance" });
 * try { await fetch(`${server.baseUrl}/v1/stream/x`) } finally { server.stop() }
 */
import { spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, relative } from "node:path";
import { bundleWorker, freePort } from "../test/support/wrangler-dev.ts";

export interface BareWorkerd {
  readonly baseUrl: string;
  /** workerd's process id, for CPU figures (worker-socket.ts `cpuMs`). */
  readonly pid: number;
  /** SIGTERM workerd and remove its folder (bundle and SQLite files). */
  stop(): void;
}

export interface BareWorkerdOptions {
  /** Folder with wrangler.jsonc. */
  readonly cwd: string;
  /** Vars that override the config's `vars`. */
  readonly vars?: Record<string, string>;
  /** V8 flags for the isolate, e.g. `["--perf-basic-prof"]` so `perf` names JS frames. */
  readonly v8Flags?: readonly string[];
  /** Serve the V8 inspector (CDP) on this 127.0.0.1 port (`--inspector-addr`), for CPU profiles. */
  readonly inspectorPort?: number;
}

/** The workerd binary that wrangler runs. */
export function workerdBinary(): string {
  const require = createRequire(createRequire(import.meta.url).resolve("wrangler/package.json"));
  return join(dirname(require.resolve("workerd/package.json")), "bin", "workerd");
}

export async function startBareWorkerd(options: BareWorkerdOptions): Promise<BareWorkerd> {
  const bundle = bundleWorker({ cwd: options.cwd });
  const storage = join(bundle.dir, "do-storage");
  mkdirSync(storage);
  const port = await freePort();
  writeFileSync(join(bundle.dir, "config.capnp"), capnpConfig(bundle, storage, port, options));
  const child = spawn(
    workerdBinary(),
    [
      "serve",
      join(bundle.dir, "config.capnp"),
      "--experimental",
      ...(options.inspectorPort ? [`--inspector-addr=127.0.0.1:${options.inspectorPort}`] : []),
    ],
    {
      cwd: bundle.dir,
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let logs = "";
  child.stderr?.on("data", (data: Buffer) => {
    logs = (logs + data.toString()).slice(-16_000);
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = (): void => {
    child.kill("SIGTERM");
    // workerd waits for open responses on SIGTERM: a bench's never-ending SSE responses (the
    // fan-out floor's) kept it, and the bench holding its handle, alive for hours. Then KILL.
    const kill = setTimeout(() => child.kill("SIGKILL"), 2_000);
    kill.unref();
    child.once("exit", () => clearTimeout(kill));
    rmSync(bundle.dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 150; i++) {
    if (child.exitCode !== null) break;
    try {
      await fetch(baseUrl);
      return { baseUrl, pid: child.pid ?? 0, stop };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  stop();
  throw new Error(`bare workerd did not answer on ${baseUrl}:\n${logs}`);
}

interface WranglerShape {
  compatibility_date?: string;
  compatibility_flags?: string[];
  durable_objects?: { bindings?: { name: string; class_name: string; script_name?: string }[] };
  migrations?: { new_sqlite_classes?: string[]; new_classes?: string[] }[];
  vars?: Record<string, unknown>;
  [key: string]: unknown;
}

const SUPPORTED = new Set([
  "name",
  "main",
  "compatibility_date",
  "compatibility_flags",
  "durable_objects",
  "migrations",
  "vars",
  "$schema",
  "observability",
]);

function capnpConfig(
  bundle: { main: string; config: Record<string, unknown> },
  storage: string,
  port: number,
  options: BareWorkerdOptions,
): string {
  const config = bundle.config as WranglerShape;
  const unsupported = Object.keys(config).filter((key) => !SUPPORTED.has(key));
  if (unsupported.length > 0)
    throw new Error(
      `bare workerd serves Durable Objects and vars only; this config also has ${unsupported.join(", ")}: use startWranglerDev for it`,
    );
  const sqlite = new Set(config.migrations?.flatMap((m) => m.new_sqlite_classes ?? []));
  const objects = config.durable_objects?.bindings ?? [];
  const classes = [...new Set(objects.map((b) => b.class_name))];
  const text = (s: string): string => JSON.stringify(s);
  const vars = { ...config.vars, ...options.vars };
  const bindings = [
    ...objects.map(
      (b) => `(name = ${text(b.name)}, durableObjectNamespace = ${text(b.class_name)})`,
    ),
    ...Object.entries(vars).map(([name, value]) =>
      typeof value === "string"
        ? `(name = ${text(name)}, text = ${text(value)})`
        : `(name = ${text(name)}, json = ${text(JSON.stringify(value))})`,
    ),
  ];
  const flags = (config.compatibility_flags ?? []).map(text).join(", ");
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  v8Flags = [${(options.v8Flags ?? []).map(text).join(", ")}],
  services = [
    (name = "main", worker = .worker),
    (name = "storage", disk = (path = ${text(storage)}, writable = true)),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [ (name = ${text(basename(bundle.main))}, esModule = embed ${text(relative(dirname(storage), bundle.main))}) ],
  compatibilityDate = ${text(config.compatibility_date ?? "2025-09-01")},
  compatibilityFlags = [${flags}],
  durableObjectNamespaces = [
    ${classes.map((c) => `(className = ${text(c)}, uniqueKey = ${text(`bench-${c}`)}${sqlite.has(c) ? ", enableSql = true" : ""})`).join(",\n    ")}
  ],
  durableObjectStorage = (localDisk = "storage"),
  bindings = [
    ${bindings.join(",\n    ")}
  ],
);
`;
}
