/**
 * The published packages, judged where they are installed: `npm pack` the three packages,
 * install the tarballs into a scratch project laid out like create-cloudflare's TypeScript
 * "hello world" Worker (its package.json scripts, tsconfig.json compiler options, a
 * worker-configuration.d.ts from `wrangler types`), put the README's agent there, and:
 * `tsc --noEmit` passes, `wrangler deploy --dry-run` bundles it (and a minimal agent Worker
 * carries zod/mini, no classic zod and no zod locale but English, and none of the optional
 * parts: D1 index, run tracer, croner), `wrangler dev` serves it, and the installed
 * `durable-agents` bin, under the machine's Node (20 here), completes a chat against it.
 *
 * The scratch project installs only what the README's "use it in your own Worker" path
 * installs (the packages, zod, @ai-sdk/openai), from the npm cache the repo's own install
 * filled. TypeScript and wrangler are the repo's (same versions the template would get),
 * run with the scratch project as their working directory and program.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWranglerDev, type WranglerDev } from "../support/wrangler-dev.ts";
import { type FakeOpenAi, startFakeOpenAi } from "./fake-openai.ts";

const root = resolve(import.meta.dirname, "../..");
const require = createRequire(import.meta.url);
const tsc = require.resolve("typescript/bin/tsc");
const wrangler = join(dirname(require.resolve("wrangler/package.json")), "bin", "wrangler.js");
const attw = join(
  dirname(require.resolve("@arethetypeswrong/cli/package.json")),
  "dist",
  "index.js",
);
const PACKAGES = ["@durable-agents/core", "@durable-agents/cloudflare", "@durable-agents/client"];

/**
 * create-cloudflare's hello-world TypeScript template, compiler options as of
 * cloudflare/workers-sdk f8308360 (packages/create-cloudflare/templates/hello-world/ts/
 * tsconfig.json). It has no exactOptionalPropertyTypes; a second pass adds it.
 */
const TEMPLATE_TSCONFIG = {
  compilerOptions: {
    target: "es2024",
    lib: ["es2024"],
    jsx: "react-jsx",
    module: "es2022",
    moduleResolution: "Bundler",
    resolveJsonModule: true,
    allowJs: true,
    checkJs: false,
    noEmit: true,
    isolatedModules: true,
    allowSyntheticDefaultImports: true,
    forceConsistentCasingInFileNames: true,
    strict: true,
    skipLibCheck: true,
  },
  exclude: ["test"],
  include: ["worker-configuration.d.ts", "src/**/*.ts"],
};

let work: string;
let project: string;
let tarballs: string;
let fake: FakeOpenAi | undefined;
let dev: WranglerDev | undefined;

/** The version the repo's own install has of a package (so the npm cache holds it). */
function version(name: string): string {
  return (
    JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")) as {
      version: string;
    }
  ).version;
}

/** The `file:` specifier of a package's packed tarball. */
function tarball(name: string): string {
  const packed = readdirSync(tarballs);
  const file = packed.find((f) => f.startsWith(`${name.replace("@", "").replace("/", "-")}-`));
  if (file === undefined) throw new Error(`no tarball for ${name} in ${packed.join(", ")}`);
  return `file:${join(tarballs, file)}`;
}

/**
 * Every package installed in a project, each name once: what is on disk under its
 * node_modules, nested ones included (`npm ls --all` also lists optional peers it did not
 * install, marked missing).
 */
function installedPackages(cwd: string): string[] {
  const names = new Set<string>();
  const walk = (nodeModules: string) => {
    if (!existsSync(nodeModules)) return;
    for (const entry of readdirSync(nodeModules)) {
      if (entry.startsWith(".")) continue;
      const dirs = entry.startsWith("@")
        ? readdirSync(join(nodeModules, entry)).map((n) => join(entry, n))
        : [entry];
      for (const dir of dirs) {
        if (!existsSync(join(nodeModules, dir, "package.json"))) continue;
        names.add(dir);
        walk(join(nodeModules, dir, "node_modules"));
      }
    }
  };
  walk(join(cwd, "node_modules"));
  return [...names].sort();
}

/** What only an optional entry point needs (its optional peers) and what they bring along. */
const OPTIONAL_ONLY = /^(@modelcontextprotocol\/sdk|express|@opentelemetry\/.*)$/;

/** Runs a command in the scratch project; a failure shows its output. */
function run(command: string, args: string[], cwd = project): string {
  const result = spawnSync(command, args, {
    cwd,
    encoding: "utf8",
    env: consumerEnv(),
    timeout: 180_000,
  });
  if (result.status !== 0)
    throw new Error(
      `${command} ${args.join(" ")} exited ${result.status ?? result.signal}\n${result.stdout}\n${result.stderr}`,
    );
  return `${result.stdout}${result.stderr}`;
}

/** A child process in the scratch project, without blocking this process's event loop. */
function spawnAsync(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd: project, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("error", fail);
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

/** What a user's shell has: no build conditions of ours, no metrics. */
function consumerEnv(): NodeJS.ProcessEnv {
  const { WRANGLER_BUILD_CONDITIONS: _, ...env } = process.env;
  return { ...env, WRANGLER_SEND_METRICS: "false", CI: "1", NO_COLOR: "1" };
}

/** The machine's own Node (not node_modules/.bin's Node 22): the first `node` on PATH outside node_modules. */
function systemNode(): string {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir === "" || dir.includes("node_modules")) continue;
    const candidate = join(dir, "node");
    if (existsSync(candidate)) return candidate;
  }
  throw new Error("no node on PATH outside node_modules");
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "durable-agents-consumer-"));
  project = join(work, "my-agent");
  tarballs = join(work, "tarballs");
  mkdirSync(tarballs);
  mkdirSync(join(project, "src"), { recursive: true });
  // prepack builds each package (core first: cloudflare compiles against core's dist/).
  run("npm", ["pack", "--pack-destination", tarballs, ...PACKAGES.flatMap((p) => ["-w", p])], root);
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify(
      {
        name: "my-agent",
        version: "0.0.0",
        private: true,
        scripts: {
          deploy: "wrangler deploy",
          dev: "wrangler dev",
          start: "wrangler dev",
          "cf-typegen": "wrangler types",
        },
        dependencies: {
          ...Object.fromEntries(PACKAGES.map((p) => [p, tarball(p)])),
          "@ai-sdk/openai": version("@ai-sdk/openai"),
          zod: version("zod"),
        },
      },
      null,
      2,
    ),
  );
  writeFileSync(join(project, "tsconfig.json"), JSON.stringify(TEMPLATE_TSCONFIG, null, 2));
  copyFileSync(join(root, "examples/readme/wrangler.jsonc"), join(project, "wrangler.jsonc"));
  for (const file of ["agent.ts", "worker.ts"])
    copyFileSync(join(root, "examples/readme/src", file), join(project, "src", file));
  copyFileSync(join(root, "bench/bundle/minimal-worker.ts"), join(project, "src", "minimal.ts"));
  run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund"]);
  run(process.execPath, [wrangler, "types"]);
});

afterAll(async () => {
  await dev?.stop();
  await fake?.close();
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe("the packed packages in a create-cloudflare Worker project", () => {
  it("ship built JavaScript, declarations, README and LICENSE, and no sources or tests (only the D1 migration SQL)", () => {
    for (const name of PACKAGES) {
      const dir = join(project, "node_modules", name);
      const files = execFileSync("find", [".", "-type", "f"], { cwd: dir, encoding: "utf8" }).split(
        "\n",
      );
      expect(files).toContain("./README.md");
      expect(files).toContain("./LICENSE");
      expect(files.filter((f) => f.endsWith(".d.ts")).length).toBeGreaterThan(0);
      expect(
        files.filter(
          (f) =>
            /\.test\.|^\.\/src\/|\.ts$/.test(f) &&
            !f.endsWith(".d.ts") &&
            !/^\.\/src\/d1\/migrations\/\d{4}_\w+\.sql$/.test(f),
        ),
      ).toEqual([]);
      if (name === "@durable-agents/cloudflare")
        expect(files).toContain("./src/d1/migrations/0001_sessions.sql");
    }
  });

  it("resolve to declarations and JavaScript under node16 and bundlers (attw, ESM only)", () => {
    for (const tarball of readdirSync(tarballs))
      run(process.execPath, [
        attw,
        "--profile",
        "esm-only",
        "--format",
        "ascii",
        join(tarballs, tarball),
      ]);
  });

  it("type-checks under the template's tsconfig (tsc --noEmit), and with stricter options", () => {
    run(process.execPath, [tsc, "--noEmit", "-p", "tsconfig.json"]);
    // Options the template leaves off and strict projects (this one included) turn on.
    const stricter = ["--exactOptionalPropertyTypes", "--noUncheckedIndexedAccess"];
    run(process.execPath, [tsc, "--noEmit", "-p", "tsconfig.json", ...stricter]);
  });

  it("bundles (wrangler deploy --dry-run); a minimal agent carries zod/mini's checks, not classic zod or its locales", () => {
    const out = run(process.execPath, [
      wrangler,
      "deploy",
      "--dry-run",
      "--outdir",
      join(work, "bundle"),
    ]);
    expect(out).toMatch(/Total Upload: [\d.]+ KiB/);
    const minimal = join(work, "bundle-minimal");
    // Unminified (the README's wrangler.jsonc minifies): esbuild's module comments name what is in.
    run(process.execPath, [
      wrangler,
      "deploy",
      "--dry-run",
      "--minify=false",
      "--outdir",
      minimal,
      "src/minimal.ts",
    ]);
    const code = readFileSync(join(minimal, "minimal.js"), "utf8");
    const locales = new Set(code.match(/zod\/v4\/locales\/(?!index)[A-Za-z-]+\.js/g));
    expect([...locales]).toEqual(["zod/v4/locales/en.js"]);
    // esbuild marks each bundled module with a `// node_modules/<path>` comment.
    const modules = new Set(code.match(/(?<=^\/\/ )\S*node_modules\/\S+(?=$)/gm));
    const carried = (prefix: string) => [...modules].filter((m) => m.includes(prefix));
    expect(carried("zod/v4/mini/schemas.js")).toHaveLength(1);
    // Classic zod's schemas carry every method of every schema: the runtime never imports them.
    expect(carried("zod/v4/classic/schemas.js")).toEqual([]);
    expect(carried("@opentelemetry/")).toEqual([]);
    expect(carried("@modelcontextprotocol/sdk/")).toEqual([]);
    // Optional parts behind their own entry points: of the D1 index only its port (the 404
    // and the warning), no run tracer, no cron parser.
    expect(carried("@durable-agents/cloudflare/dist/d1/")).toEqual([
      "node_modules/@durable-agents/cloudflare/dist/d1/index-port.js",
    ]);
    expect(carried("@durable-agents/core/dist/tracing/run-tracer.js")).toEqual([]);
    expect(carried("croner/")).toEqual([]);
    // No tool, no tool-schema path: the AI SDK's asSchema and zod's JSON Schema generator come
    // with defineTool or withJsonSchema only (agent/schema-convert).
    expect(carried("@ai-sdk/provider-utils/")).toEqual([]);
    expect(carried("zod/v4/core/to-json-schema.js")).toEqual([]);
    expect(carried("@durable-agents/core/dist/agent/schema-convert.js")).toEqual([]);
    // No createAgentWorkflow or createToolWorkflow, no Workflow executors: their hosts,
    // instance rules, checks and ports come with those exports only (workflow-sides).
    expect(carried("@durable-agents/core/dist/agent/workflow-run/host.js")).toEqual([]);
    expect(carried("@durable-agents/core/dist/agent/workflow-run/instances.js")).toEqual([]);
    expect(carried("@durable-agents/core/dist/agent/workflow-check.js")).toEqual([]);
    expect(carried("@durable-agents/cloudflare/dist/workflows/agent-workflow-port.js")).toEqual([]);
    expect(carried("@durable-agents/cloudflare/dist/workflows/workflow-port.js")).toEqual([]);
  });

  it("serves it (wrangler dev) and the installed bin completes a chat on the machine's Node", async () => {
    fake = await startFakeOpenAi();
    // The README: the key (and the base URL) in .dev.vars.
    writeFileSync(
      join(project, ".dev.vars"),
      `OPENAI_API_KEY=sk-test\nOPENAI_BASE_URL=${fake.baseUrl}\n`,
    );
    dev = await startWranglerDev({
      cwd: project,
      fromSources: false,
      env: { CLOUDFLARE_CF_FETCH_ENABLED: "false" },
    });
    const node = systemNode();
    const version = execFileSync(node, ["--version"], { encoding: "utf8" }).trim();
    // The README's command. npx finds the installed bin (--offline: never a registry package
    // named durable-agents); its `#!/usr/bin/env node` gets the machine's Node. Async: the
    // fake model answers from this process.
    const chat = await spawnAsync(
      "npx",
      [
        "--no",
        "--offline",
        "durable-agents",
        "chat",
        "100 °C in Fahrenheit?",
        "--url",
        dev.baseUrl,
      ],
      { ...consumerEnv(), PATH: `${dirname(node)}${delimiter}${process.env.PATH ?? ""}` },
    );
    const output = `${chat.stdout}\n${chat.stderr}`;
    expect(chat.code, `${version}: ${output}\n--- wrangler ---\n${dev.logs()}`).toBe(0);
    expect(output).toContain('→ to_fahrenheit({"celsius":100})');
    expect(output).toContain("100 °C is 212 °F.");
    expect(fake.requests).toHaveLength(2);
    // One rule at every door (routeRequest's `server`): on 127.0.0.1 the Worker's own index
    // route lets in what the sessions do; it passes the door and says the index is off.
    const sessions = await fetch(`${dev.baseUrl}/sessions`);
    expect(sessions.status).toBe(404);
    expect(await sessions.json()).toMatchObject({ error: { code: "index_off" } });
    // Where it is not installed the docs say `npx @durable-agents/client`: the same bin.
    const scoped = await spawnAsync("npx", ["--offline", "@durable-agents/client", "--help"], {
      ...consumerEnv(),
      PATH: `${dirname(node)}${delimiter}${process.env.PATH ?? ""}`,
    });
    expect(scoped.code, scoped.stderr).toBe(0);
    expect(scoped.stdout).toContain("Usage: durable-agents <command>");
  });
});

describe("the optional entry points' dependencies are optional peers", () => {
  it("a Worker install without MCP or OpenTelemetry (the README's) has neither, nor express", () => {
    const names = installedPackages(project);
    expect(names).toContain("@durable-agents/cloudflare");
    expect(names.filter((n) => OPTIONAL_ONLY.test(n))).toEqual([]);
  });

  it("the client alone installs no MCP SDK, express or OpenTelemetry", () => {
    const clientOnly = join(work, "client-only");
    mkdirSync(clientOnly);
    // Core is listed only because it is not on a registry here: from npm it comes in as the
    // client's dependency, and the tree is the same.
    writeFileSync(
      join(clientOnly, "package.json"),
      JSON.stringify({
        name: "client-only",
        version: "0.0.0",
        private: true,
        dependencies: {
          "@durable-agents/client": tarball("@durable-agents/client"),
          "@durable-agents/core": tarball("@durable-agents/core"),
        },
      }),
    );
    run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund"], clientOnly);
    const names = installedPackages(clientOnly);
    expect(names).toContain("@durable-agents/client");
    expect(names.filter((n) => OPTIONAL_ONLY.test(n))).toEqual([]);
    // The CLI runs without them.
    expect(
      run(process.execPath, ["node_modules/.bin/durable-agents", "--help"], clientOnly),
    ).toContain("Usage: durable-agents <command>");
  });

  const OPTIONAL_WORKER = `import { serveAgentMcp } from "@durable-agents/cloudflare/mcp";
import { otelTracing } from "@durable-agents/cloudflare/otel";
import { mcpServer } from "@durable-agents/core/mcp";
export { AgentSession } from "./minimal";
export default {
  fetch: () => new Response([serveAgentMcp, otelTracing, mcpServer].map((f) => typeof f).join(" ")),
};
`;
  const bundleOptional = (outdir: string) =>
    spawnSync(
      process.execPath,
      [wrangler, "deploy", "--dry-run", "--minify=false", "--outdir", outdir, "src/optional.ts"],
      { cwd: project, encoding: "utf8", env: consumerEnv(), timeout: 180_000 },
    );
  const importCoreMcp = () =>
    spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        'const m = await import("@durable-agents/core/mcp"); console.log(typeof m.mcpServer);',
      ],
      { cwd: project, encoding: "utf8", env: consumerEnv() },
    );

  it("without their peers, the optional entry points fail to bundle or load, naming the package", async () => {
    // wrangler dev (the previous test) is done with the project.
    await dev?.stop();
    dev = undefined;
    writeFileSync(join(project, "src", "optional.ts"), OPTIONAL_WORKER);
    const bundle = bundleOptional(join(work, "bundle-optional-missing"));
    expect(bundle.status).not.toBe(0);
    const bundleOutput = `${bundle.stdout}${bundle.stderr}`;
    expect(bundleOutput).toContain('Could not resolve "@opentelemetry/api"');
    expect(bundleOutput).toContain('Could not resolve "@modelcontextprotocol/sdk/');
    const imported = importCoreMcp();
    expect(imported.status).not.toBe(0);
    expect(imported.stderr).toContain("Cannot find package '@modelcontextprotocol/sdk'");
  });

  it("with their peers installed, the optional entry points bundle and load", () => {
    const peers = [
      "@modelcontextprotocol/sdk",
      "@opentelemetry/api",
      "@opentelemetry/exporter-trace-otlp-http",
      "@opentelemetry/resources",
      "@opentelemetry/sdk-trace",
    ];
    run("npm", [
      "install",
      "--prefer-offline",
      "--no-audit",
      "--no-fund",
      ...peers.map((p) => `${p}@${version(p)}`),
    ]);
    const outdir = join(work, "bundle-optional");
    const bundle = bundleOptional(outdir);
    expect(bundle.status, `${bundle.stdout}${bundle.stderr}`).toBe(0);
    const code = readFileSync(join(outdir, "optional.js"), "utf8");
    const modules = new Set(code.match(/(?<=^\/\/ )\S*node_modules\/\S+(?=$)/gm));
    const carried = (prefix: string) => [...modules].filter((m) => m.includes(prefix));
    expect(carried("@opentelemetry/api/").length).toBeGreaterThan(0);
    expect(carried("@modelcontextprotocol/sdk/dist/esm/server/").length).toBeGreaterThan(0);
    expect(carried("@modelcontextprotocol/sdk/dist/esm/client/").length).toBeGreaterThan(0);
    const imported = importCoreMcp();
    expect(imported.status, imported.stderr).toBe(0);
    expect(imported.stdout.trim()).toBe("function");
  });
});
