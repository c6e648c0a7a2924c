import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { sourceResolve } from "../../scripts/source-condition.mjs";

// Tier 2: tests run inside real workerd with real DO SQLite, alarms and eviction.
export default defineConfig({
  plugins: [cloudflareTest({ wrangler: { configPath: "./test/fixture/wrangler.jsonc" } })],
  ...sourceResolve,
  test: { name: "workers", include: ["test/**/*.test.ts"], testTimeout: 30_000 },
});
