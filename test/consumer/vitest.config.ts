import { defineConfig } from "vitest/config";

// The packages as a consumer gets them: packed, installed into a fresh Worker project,
// type-checked, bundled, served and chatted with. No source condition here: the scratch
// project must resolve @durable-agents/* to the tarballs' dist/.
export default defineConfig({
  test: {
    name: "consumer",
    include: ["*.test.ts"],
    environment: "node",
    testTimeout: 240_000,
    hookTimeout: 240_000,
    // With the e2e tier, after the workerd and conformance tiers (see test/e2e/vitest.config.ts).
    sequence: { groupOrder: 1 },
  },
});
