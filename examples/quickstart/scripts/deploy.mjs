// `npm run deploy`: refuses to deploy until the Worker has a real AUTH_SECRET.
// Without one, the deployed server would refuse every session request
// (auth_not_configured); this fails earlier and louder. Pass --force to skip.
import { spawnSync } from "node:child_process";
import { wranglerSourceEnv } from "../../../scripts/source-condition.mjs";

const args = process.argv.slice(2);
const force = args.includes("--force");
const rest = args.filter((a) => a !== "--force");

if (!force) {
  const list = spawnSync("wrangler", ["secret", "list", "--format", "json", ...rest], {
    encoding: "utf8",
    shell: process.platform === "win32",
  });
  let names = [];
  try {
    names = JSON.parse(list.stdout).map((s) => s.name);
  } catch {
    fail(
      `could not list this Worker's secrets (wrangler secret list: ${(list.stderr || list.stdout || "no output").trim().split("\n")[0]}).`,
    );
  }
  if (!names.includes("AUTH_SECRET")) fail("this Worker has no AUTH_SECRET secret.");
}

const deploy = spawnSync("wrangler", ["deploy", ...rest], {
  stdio: "inherit",
  // Bundle the workspace packages from their sources (scripts/source-condition.mjs).
  env: { ...process.env, ...wranglerSourceEnv },
  shell: process.platform === "win32",
});
process.exit(deploy.status ?? 1);

function fail(why) {
  console.error(`
  Refusing to deploy: ${why}
  Every session route needs a token signed with AUTH_SECRET; the dev secret only works
  on localhost. Set a real one (at least 32 characters), then deploy again:

    openssl rand -hex 32 | npx wrangler secret put AUTH_SECRET
    npm run deploy
`);
  process.exit(1);
}
