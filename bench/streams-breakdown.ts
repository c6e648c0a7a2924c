/**
 * `npm run bench -- streams-breakdown`: where one append's time goes under `wrangler dev`.
 * Sequential requests, p50 of 200: the Worker alone, a DO round trip that writes nothing,
 * a producer append the DO rejects as duplicate (same code path, no write), and an accepted
 * append (one transactionSync).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startWranglerDev } from "../test/support/wrangler-dev.ts";
import { percentile } from "./streams-load.ts";

const state = mkdtempSync(join(tmpdir(), "bench-breakdown-"));
const dev = await startWranglerDev({
  cwd: join(import.meta.dirname, "..", "test", "conformance"),
  persistTo: state,
  snapshot: true,
});

async function time(label: string, op: (i: number) => Promise<Response>, n = 200): Promise<void> {
  for (let i = 0; i < 20; i++) await (await op(i)).arrayBuffer();
  const samples: number[] = [];
  for (let i = 20; i < n + 20; i++) {
    const t0 = performance.now();
    await (await op(i)).arrayBuffer();
    samples.push(performance.now() - t0);
  }
  console.log(
    `| ${label} | ${percentile(samples, 50).toFixed(2)} | ${percentile(samples, 99).toFixed(2)} |`,
  );
}

try {
  const url = `${dev.baseUrl}/v1/stream/breakdown-${Date.now()}`;
  await fetch(url, { method: "PUT", headers: { "content-type": "text/plain" } });
  const producer = (seq: number) => ({
    "content-type": "text/plain",
    "producer-id": "p",
    "producer-epoch": "0",
    "producer-seq": String(seq),
  });
  await fetch(url, { method: "POST", headers: producer(0), body: "x" });
  console.log("| request | p50 ms | p99 ms |\n|---|---|---|");
  await time("Worker only, no DO (404 route)", () => fetch(`${dev.baseUrl}/`));
  await time("HEAD through the stream DO (no write)", () => fetch(url, { method: "HEAD" }));
  await time("duplicate producer append (full append path, no write)", () =>
    fetch(url, { method: "POST", headers: producer(0), body: "x".repeat(100) }),
  );
  await time("accepted append (one transactionSync)", (i) =>
    fetch(url, { method: "POST", headers: producer(i + 1), body: "x".repeat(100) }),
  );
} finally {
  await dev.stop();
  rmSync(state, { recursive: true, force: true });
}
