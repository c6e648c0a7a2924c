import { defineConfig } from "vitest/config";

// Every test tier is a vitest project; `npm test` runs them all (see scripts/test.mjs).
export default defineConfig({
  test: {
    projects: [
      "packages/core",
      "packages/client",
      "packages/cloudflare",
      "test/e2e",
      "test/consumer",
      "test/conformance",
    ],
  },
});
