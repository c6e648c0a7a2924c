// `npm start`: runs the quickstart under `wrangler dev` on 127.0.0.1:8787 and says how to talk to it.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const url = "http://127.0.0.1:8787";

const env = {
  ...process.env,
  // Offline there is no Request.cf to fetch; use workerd's placeholder without a warning.
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_SEND_METRICS: "false",
};

const child = spawn("wrangler", ["dev", "--log-level", "warn", ...process.argv.slice(2)], {
  cwd: root,
  env,
  stdio: ["inherit", "pipe", "inherit"],
});

child.stdout.pipe(process.stdout);
waitUntilReady().then(printBanner, (error) => console.error(error.message));

async function waitUntilReady() {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error("wrangler dev exited before it was ready");
    try {
      await fetch(`${url}/`);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`the server did not answer on ${url} within 60 s`);
}

function printBanner() {
  const key = process.env.OPENAI_API_KEY
    ? "OpenAI-compatible model (OPENAI_API_KEY)"
    : "embedded scripted model (no key needed)";
  console.log(`
  durable-agents quickstart is running on ${url}
  agent: assistant, using the ${key}
  auth: local dev (AUTH_SECRET unset): requests to 127.0.0.1 need no token.
        Anywhere else every session route needs a signed token; set a real
        secret with \`wrangler secret put AUTH_SECRET\` before deploying.

  Talk to it from another terminal:
    npx durable-agents chat "What is (2+3)*4?"
    npx durable-agents chat "remember to buy milk" --session demo
    npx durable-agents tail assistant/demo

  Or with curl:
    curl -X POST ${url}/agents/assistant/demo/runs -H 'content-type: application/json' -d '{"input":{"message":"What is 2+3?"}}'
    curl "${url}/agents/assistant/demo/events?offset=-1&live=sse"

  Inspector: ${url}/
  Durable Streams server: ${url}/v1/stream/<name>   (Ctrl-C stops the server)
`);
}

for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code) => process.exit(code ?? 0));
