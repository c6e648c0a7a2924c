#!/usr/bin/env node
// The installed package runs the compiled CLI (dist/, Node >= 20). The package's
// files do not include src/, so src/ exists only in a checkout of the repository,
// where the CLI runs from its TypeScript sources (never a stale dist/), by Node's
// built-in type stripping: Node >= 22.18 strips types without a flag and without
// an ExperimentalWarning. Older Nodes are handled here rather than failing with
// a loader error:
// - Node 22.6-22.17 and 23.x: re-run with --experimental-strip-types, and
//   only the ExperimentalWarning silenced (users cannot act on it);
// - anything older (this machine's system Node is 20): re-run under the
//   project's Node 22 from node_modules/.bin, or say what is needed.
import { spawn } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const script = fileURLToPath(import.meta.url);
const source = join(dirname(realpathSync(script)), "..", "src", "cli", "main.ts");

if (!existsSync(source)) {
  const { runCli } = await import("../dist/cli/main.js");
  await runCli();
} else if (process.features.typescript) {
  const { runCli } = await import("../src/cli/main.ts");
  await runCli();
} else if (process.env.DURABLE_AGENTS_REEXEC === undefined && canStripWithFlag()) {
  reexec(process.execPath, ["--experimental-strip-types", "--disable-warning=ExperimentalWarning"]);
} else {
  const node = process.env.DURABLE_AGENTS_REEXEC
    ? undefined
    : findProjectNode(dirname(realpathSync(script)));
  if (node === undefined) {
    process.stderr.write(
      `durable-agents needs Node >= 22.18 (this is ${process.version}). ` +
        "Run it with `npx durable-agents` inside the project, or install Node 22.\n",
    );
    process.exit(1);
  }
  reexec(node, []);
}

function canStripWithFlag() {
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  return (major === 22 && minor >= 6) || major === 23;
}

function reexec(node, flags) {
  const child = spawn(node, [...flags, script, ...process.argv.slice(2)], {
    stdio: "inherit",
    env: { ...process.env, DURABLE_AGENTS_REEXEC: "1" },
  });
  // Ctrl-C reaches the whole process group, so the child already has it;
  // other signals are sent to this process alone and are passed on.
  process.on("SIGINT", () => {});
  for (const signal of ["SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => {
    if (signal !== null) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
}

function findProjectNode(start) {
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", ".bin", "node");
    if (existsSync(candidate) && candidate !== process.execPath) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}
