import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { sourceResolve } from "../../scripts/source-condition.mjs";

// Not a test suite: the recovery benchmark runs in real workerd through the workers plugin,
// the only local way to crash a Durable Object mid-run. `npm run bench -- recovery` runs it.
export default defineConfig({
  ...sourceResolve,
  plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.jsonc" } })],
  test: { name: "recovery-bench", include: ["measure.bench-run.ts"], testTimeout: 600_000 },
});
