import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "client",
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    environment: "node",
    // CLI tests spawn Node several times per test; on a loaded machine that alone can pass 5 s.
    testTimeout: 20_000,
  },
});
