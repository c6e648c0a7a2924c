/**
 * Runs the pinned Durable Streams conformance suite (338 tests, subscriptions included)
 * against our stream objects under `wrangler dev`, then stops the server by its pid.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runConformanceTests } from "@durable-streams/server-conformance-tests";
import { afterAll, beforeAll } from "vitest";
import { startWranglerDev, type WranglerDev } from "../support/wrangler-dev.ts";

const LONG_POLL_TIMEOUT_MS = 1_500;
const config = { baseUrl: "", longPollTimeoutMs: LONG_POLL_TIMEOUT_MS, subscriptions: true };
const state = mkdtempSync(join(tmpdir(), "ds-conformance-"));
let dev: WranglerDev | undefined;

beforeAll(async () => {
  // Bundle once: edits elsewhere in the checkout must not reload the server mid-suite.
  dev = await startWranglerDev({ cwd: import.meta.dirname, persistTo: state, snapshot: true });
  config.baseUrl = dev.baseUrl;
});

afterAll(async () => {
  await dev?.stop();
  rmSync(state, { recursive: true, force: true });
});

runConformanceTests(config);
