/**
 * `npm run bench -- recovery`: (1) crash-to-resume latency in real workerd, ours
 * against a lease-only peer in the same run; (2) time per step at history 10 and
 * 1,000 (the step-cost bench, Node part), which must stay flat.
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const vitest = join(root, "node_modules", ".bin", "vitest");

const crash = spawnSync(
  vitest,
  ["run", "--config", join(here, "recovery", "vitest.config.ts"), "--reporter=dot"],
  {
    cwd: join(here, "recovery"),
    encoding: "utf8",
    env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false" },
  },
);
const table = (crash.stdout + crash.stderr)
  .split("\n")
  .filter((line) => /crash →|\|/.test(line) && !/^\s*(stack|exception)/.test(line));
console.log(table.join("\n") || crash.stdout + crash.stderr);
console.log("");
const steps = spawnSync(
  process.execPath,
  ["--experimental-strip-types", "--no-warnings", join(here, "step-cost.ts"), "--no-http"],
  {
    stdio: "inherit",
  },
);
process.exit(crash.status || steps.status || 0);
