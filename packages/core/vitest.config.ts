import { defineConfig } from "vitest/config";
import { sourceResolve } from "../../scripts/source-condition.mjs";

export default defineConfig({
  ...sourceResolve,
  test: { name: "core", include: ["src/**/*.test.ts", "test/**/*.test.ts"], environment: "node" },
});
