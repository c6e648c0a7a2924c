// Inside this repository, @durable-agents/* resolve to their TypeScript sources, not dist/:
// each package's `exports` lists the custom condition "@durable-agents/source" first, and the
// repo's tools ask for it. Published consumers never set it and get dist/. No build step, and
// never a stale dist/, for `npm start`, `npm test` and `npm run check`. The tools:
// - tsc: `customConditions` in tsconfig.base.json;
// - vitest (vite): every vitest config spreads `sourceResolve` below: the test modules
//   resolve in vite's server ("ssr") environment, also under the workers plugin;
// - wrangler (esbuild): the WRANGLER_BUILD_CONDITIONS variable, from `wranglerSourceEnv`
//   below, set by every script and test that starts wrangler (wrangler's own default is
//   "workerd,worker,browser", kept after ours).
// See docs/architecture.md, "Packages".

export const SOURCE_CONDITION = "@durable-agents/source";

/**
 * For a vitest config: `defineConfig({ ...sourceResolve, test: {...} })`. Vitest and the
 * workers plugin append their own conditions (node, or workerd/worker/browser) after it.
 */
export const sourceResolve = { ssr: { resolve: { conditions: [SOURCE_CONDITION] } } };

/** Environment for a wrangler child process that bundles this repo's sources. */
export const wranglerSourceEnv = {
  WRANGLER_BUILD_CONDITIONS: [SOURCE_CONDITION, "workerd", "worker", "browser"].join(","),
};
