// `npm start`: runs the quickstart under `wrangler dev` on 127.0.0.1 and says how to talk to it.
//
// The port is `--port N` (or `-p N`, `--port=N`), else $PORT, else 8787. A port that is
// already taken is refused before wrangler starts, suggesting one that was free when checked.
// So is a state directory (.wrangler/state, or --persist-to DIR) another `npm start` still
// runs on: two servers on one state would run the same sessions twice (scripts/state-lock.mjs).
// The banner is printed only once the server answers with the instance id this script gave
// it, so another server on the same port is never announced as ours, and it says what the
// Worker itself reports: its model and auth as read from its own env (.dev.vars, .env,
// --var), not from this shell's.
import { randomUUID } from "node:crypto";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { applyIndexMigrations as migrateIndexShards } from "../../../scripts/index-migrations.mjs";
import { wranglerSourceEnv } from "../../../scripts/source-condition.mjs";
import { claimStateDir, persistToOf } from "../../../scripts/state-lock.mjs";
import { spawnSupervised } from "../../../scripts/supervise.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const DEFAULT_PORT = 8787;

const { port, rest } = parsePort(process.argv.slice(2), process.env.PORT);
const url = `http://127.0.0.1:${port}`;
const instance = randomUUID();

claimStateDir({
  cwd: root,
  args: rest,
  name: "npm start",
  elsewhere: `npm start -- --port ${(await portIsFree(port)) ? port : await freePortAfter(port)} --persist-to .wrangler/state-2`,
});

if (!(await portIsFree(port))) {
  console.error(
    `npm start: port ${port} on 127.0.0.1 is already in use by another process, so the quickstart cannot listen there.\n` +
      `Stop whatever holds it, or pick another port: npm start -- --port ${await freePortAfter(port)}`,
  );
  process.exit(1);
}

const env = {
  ...process.env,
  // Bundle the workspace packages from their sources (scripts/source-condition.mjs).
  ...wranglerSourceEnv,
  // Offline there is no Request.cf to fetch; use workerd's placeholder without a warning.
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_SEND_METRICS: "false",
};

applyIndexMigrations(rest);

// Nothing this script started outlives it, even killed with SIGKILL (scripts/supervise.mjs).
const child = spawnSupervised(
  "wrangler",
  [
    "dev",
    "--log-level",
    "warn",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--var",
    `QUICKSTART_INSTANCE:${instance}`,
    ...rest,
  ],
  { cwd: root, env, stdio: ["inherit", "pipe", "inherit"] },
);

child.stdout.pipe(process.stdout);
waitUntilReady().then(printBanner, (error) => {
  console.error(`npm start: ${error.message}`);
  child.kill("SIGTERM");
  process.exitCode = 1;
});

/** `--port N`, `--port=N`, `-p N` (removed from the args passed on), else $PORT, else 8787. */
function parsePort(args, fromEnv) {
  let value = fromEnv;
  const rest = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--port" || arg === "-p") value = args[++i];
    else if (arg.startsWith("--port=")) value = arg.slice("--port=".length);
    else rest.push(arg);
  }
  if (value === undefined || value === "") return { port: DEFAULT_PORT, rest };
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(`npm start: port "${value}" is not a port number (1-65535); e.g. --port 8790`);
    process.exit(1);
  }
  return { port, rest };
}

/**
 * The D1 index of the local dev server gets its tables before wrangler starts: every
 * shard bound in wrangler.jsonc (INDEX_DB, INDEX_DB_1, …) is migrated with `wrangler d1
 * migrations apply --local`, with the same --persist-to, if one was passed. Migrations
 * already applied are skipped, so this is quick after the first start.
 */
function applyIndexMigrations(args) {
  const dir = persistToOf(args);
  const persist = dir === undefined ? [] : ["--persist-to", dir];
  try {
    migrateIndexShards({ cwd: root, args: persist, env });
  } catch (error) {
    console.error(`npm start: ${error.message}`);
    process.exit(1);
  }
}

function portIsFree(port) {
  return new Promise((done) => {
    const server = createServer();
    server.once("error", () => done(false));
    server.listen(port, "127.0.0.1", () => server.close(() => done(true)));
  });
}

/**
 * A port to suggest instead of `taken`: the first of the next 20 that binds on 127.0.0.1
 * when checked, else one the OS picks (port 0). Free when checked, not reserved.
 */
async function freePortAfter(taken) {
  for (let port = taken + 1; port <= Math.min(taken + 20, 65535); port++) {
    if (await portIsFree(port)) return port;
  }
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

/** Polls GET /__quickstart until it answers with our instance id. */
async function waitUntilReady() {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error("wrangler dev exited before it was ready");
    try {
      const response = await fetch(`${url}/__quickstart`);
      const info = response.ok ? await response.json().catch(() => undefined) : undefined;
      if (info?.instance === instance) return info;
      throw new Error(
        `another server answers on ${url} (not the quickstart this command started); stop it or use --port`,
      );
    } catch (error) {
      if (error instanceof Error && error.message.startsWith("another server")) throw error;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`the server did not answer on ${url} within 60 s`);
}

function printBanner(info) {
  const urlFlag = port === DEFAULT_PORT ? "" : ` --url ${url}`;
  const portFlag = port === DEFAULT_PORT ? "" : ` --port ${port}`;
  const localDev = info.auth.startsWith("local dev");
  const auth = localDev
    ? `${info.auth}: requests from this machine to 127.0.0.1 need no token
        (the server listens on 127.0.0.1 only; one that listens beyond loopback,
        \`wrangler dev --ip 0.0.0.0\`, needs AUTH_SECRET: docs/api.md#auth).
        Anywhere else every session route needs a signed token; set a real
        secret with \`wrangler secret put AUTH_SECRET\` before deploying.`
    : `${info.auth}: every session route needs a signed session token.`;
  console.log(`
  durable-agents quickstart is running on ${url}
  agent: assistant, using the ${info.model}
         (assistant-wf is the same agent with its runs on Cloudflare Workflows)
  auth: ${auth}
  index: ${info.index}

${localDev ? talkWithoutToken(urlFlag, portFlag) : talkWithToken(urlFlag)}
  Durable Streams server: ${url}/v1/stream/<name>   (Ctrl-C stops the server)
`);
}

/** The CLI and curl lines: on local dev (AUTH_SECRET unset), requests need no token. */
function talkWithoutToken(urlFlag, portFlag) {
  return `  Talk to it from another terminal:
    npx durable-agents chat "What is (2+3)*4?"${urlFlag}
    npx durable-agents chat "remember to buy milk" --session demo${urlFlag}
    npx durable-agents chat --agent assistant-wf "What is 2+3?"${urlFlag}
    npx durable-agents tail assistant/demo${urlFlag}
    npx wrangler workflows instances list quickstart-agent-workflow --local${portFlag}

  Or with curl:
    curl -X POST ${url}/agents/assistant/demo/runs -H 'content-type: application/json' -d '{"input":{"message":"What is 2+3?"}}'
    curl "${url}/agents/assistant/demo/events?offset=-1&live=sse"

  Inspector: ${url}/`;
}

/**
 * With AUTH_SECRET set every request needs a session token: minted with the server
 * package's mintSessionToken (from this checkout's sources, hence -C), passed to the CLI
 * in DURABLE_AGENTS_TOKEN (or --token), to curl in the header, to the inspector in the URL.
 */
function talkWithToken(urlFlag) {
  return `  Talk to it with a session token (docs/client.md#tokens). Mint one for assistant/demo
  with the secret it runs with:
    export DURABLE_AGENTS_TOKEN=$(AUTH_SECRET=<secret> npx node -C @durable-agents/source --input-type=module -e 'import { mintSessionToken } from "@durable-agents/core"; console.log(await mintSessionToken(process.env.AUTH_SECRET, { agent: "assistant", session: "demo" }))')
  then, from that shell (the CLI sends $DURABLE_AGENTS_TOKEN, or --token <token>):
    npx durable-agents chat "What is 2+3?" --session demo${urlFlag}
    npx durable-agents tail assistant/demo${urlFlag}
  Or with curl:
    curl -X POST ${url}/agents/assistant/demo/runs -H "authorization: Bearer $DURABLE_AGENTS_TOKEN" -H 'content-type: application/json' -d '{"input":{"message":"What is 2+3?"}}'
    curl "${url}/agents/assistant/demo/events?offset=-1&live=sse&token=$DURABLE_AGENTS_TOKEN"

  Inspector: ${url}/#session=demo&token=<token>`;
}
