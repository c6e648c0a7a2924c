#!/usr/bin/env node
// The CLI is TypeScript, run by Node's built-in type stripping (Node >= 22.18
// strips types without a flag and without an ExperimentalWarning). When an
// older `node` is first on PATH (this machine's system Node is 20), re-run
// under the project's Node 22 from node_modules/.bin instead of failing.
import { spawn } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

if (process.features.typescript) {
  const { runCli } = await import("../src/cli/main.ts");
  await runCli();
} else {
  const node = process.env.DURABLE_AGENTS_REEXEC
    ? undefined
    : findProjectNode(dirname(realpathSync(fileURLToPath(import.meta.url))));
  if (node === undefined) {
    process.stderr.write(
      `durable-agents needs Node >= 22.18 (this is ${process.version}). ` +
        "Run it with `npx durable-agents` inside the project, or install Node 22.\n",
    );
    process.exit(1);
  }
  const child = spawn(node, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
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
