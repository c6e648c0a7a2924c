import { fileURLToPath } from "node:url";
import { defaultClientConditions, defineConfig } from "vite";
import { SOURCE_CONDITION } from "../../scripts/source-condition.mjs";

// The app only (app/ → dist/): the Worker (src/worker.ts) is bundled by wrangler.
// In this repository @durable-agents/* resolve to their sources (scripts/source-condition.mjs).
export default defineConfig({
  root: fileURLToPath(new URL("./app", import.meta.url)),
  build: { outDir: fileURLToPath(new URL("./dist", import.meta.url)), emptyOutDir: true },
  resolve: { conditions: [SOURCE_CONDITION, ...defaultClientConditions] },
  logLevel: "warn",
});
