/**
 * The Durable Streams conformance suite's read cases against session ledgers: streams whose
 * storage is a `Ledger` and whose reads are served by `serveLedgerRead`, the code behind
 * `GET /agents/:agent/:session/events` (see ledger-stream-object.ts for the test-only write
 * path and the one difference, the codec). Which cases run: `LEDGER_READ_GROUPS` in
 * vitest.config.ts (catch-up, long-poll, SSE, offsets, cursors, ETags, closed streams).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runConformanceTests } from "@durable-streams/server-conformance-tests";
import { afterAll, beforeAll, describe } from "vitest";
import { startWranglerDev, type WranglerDev } from "../support/wrangler-dev.ts";
import { LEDGER_SUITE } from "./suite-selection.ts";

const config = { baseUrl: "", longPollTimeoutMs: 1_500 };
const state = mkdtempSync(join(tmpdir(), "ds-ledger-conformance-"));
let dev: WranglerDev | undefined;

beforeAll(async () => {
  dev = await startWranglerDev({ cwd: import.meta.dirname, persistTo: state, snapshot: true });
  config.baseUrl = `${dev.baseUrl}/ledger`;
});

afterAll(async () => {
  await dev?.stop();
  rmSync(state, { recursive: true, force: true });
});

describe(LEDGER_SUITE, () => runConformanceTests(config));
