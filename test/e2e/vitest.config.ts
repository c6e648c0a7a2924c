import { defineConfig } from "vitest/config";
import { sourceResolve } from "../../scripts/source-condition.mjs";

// Tier 3: the real quickstart under `wrangler dev`, driven over HTTP and by the CLI.
export default defineConfig({
  ...sourceResolve,
  test: {
    name: "e2e",
    include: ["*.test.ts"],
    environment: "node",
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // After the other tiers: its wrangler dev processes would otherwise compete for the
    // machine with the workerd and conformance tiers running at the same time.
    sequence: { groupOrder: 1 },
  },
});
