// `npm start -w @durable-agents/example-chat-app` (after `vite build`): the chat app and its
// agent under one `wrangler dev` (127.0.0.1:8788 from wrangler.jsonc; arguments are passed
// on, e.g. `-- --port 8790`). Nothing it started outlives it: a signal to npm alone stops
// wrangler, workerd and esbuild too, and so does this script's own death by SIGKILL
// (scripts/supervise.mjs). A state directory (.wrangler/state, or --persist-to DIR) another
// of its servers still runs on is refused: two would run the same sessions twice
// (scripts/state-lock.mjs).
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { wranglerSourceEnv } from "../../../scripts/source-condition.mjs";
import { claimStateDir } from "../../../scripts/state-lock.mjs";
import { spawnSupervised } from "../../../scripts/supervise.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

const args = process.argv.slice(2);
claimStateDir({
  cwd: root,
  args,
  name: "npm start",
  elsewhere:
    "npm start -w @durable-agents/example-chat-app -- --port 8790 --persist-to .wrangler/state-2",
});

spawnSupervised("wrangler", ["dev", ...args], {
  cwd: root,
  env: {
    ...process.env,
    // Bundle the workspace packages from their sources (scripts/source-condition.mjs).
    ...wranglerSourceEnv,
    // Offline there is no Request.cf to fetch; use workerd's placeholder without a warning.
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_SEND_METRICS: "false",
  },
  stdio: "inherit",
});
