/**
 * `npm run bench -- streams`: the same load against our stream objects under `wrangler dev`
 * and the Node reference server (@durable-streams/server) in memory and file-backed modes.
 * Ours is measured twice on the same server: through `wrangler dev`'s port (its dev-only
 * ProxyWorker in front) and on the Worker's own workerd socket behind it, so the table shows
 * what the proxy costs. Prints one table; ratio = ours / peer (higher is better for
 * throughput, lower for latency).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { DurableStreamTestServer } from "@durable-streams/server";
import { startWranglerDev } from "../test/support/wrangler-dev.ts";
import { type LoadOptions, type LoadResult, runLoad } from "./streams-load.ts";
import { findWorkerSocket } from "./worker-socket.ts";

const options: LoadOptions = {
  writers: Number(process.env.BENCH_WRITERS ?? 8),
  smallSeconds: Number(process.env.BENCH_SECONDS ?? 5),
  bigAppends: Number(process.env.BENCH_BIG ?? 20),
  latencySamples: Number(process.env.BENCH_SAMPLES ?? 200),
};

async function ours(): Promise<[string, LoadResult][]> {
  const state = mkdtempSync(join(tmpdir(), "bench-streams-"));
  const dev = await startWranglerDev({
    cwd: join(import.meta.dirname, "..", "test", "conformance"),
    persistTo: state,
    snapshot: true,
    vars: {
      STREAMS_LONG_POLL_TIMEOUT_MS: "20000",
      STREAMS_SSE_MAX_DURATION_MS: "60000",
      STREAMS_SSE_KEEPALIVE_MS: "15000",
    },
  });
  try {
    const out: [string, LoadResult][] = [
      ["ours (wrangler dev port)", await runLoad(dev.baseUrl, options)],
    ];
    const probe = `/v1/stream/bench-probe-${Date.now()}`;
    await fetch(`${dev.baseUrl}${probe}`, {
      method: "PUT",
      headers: { "content-type": "text/plain" },
    });
    const direct = await findWorkerSocket(dev.pid, dev.baseUrl, async (base) => {
      const response = await fetch(`${base}${probe}`, { method: "HEAD" });
      return response.status === 200 && response.headers.has("stream-next-offset");
    });
    if (direct === null) process.stderr.write("the Worker's own socket was not found; skipped\n");
    else {
      process.stderr.write(`running ours on the Worker's own socket (${direct})…\n`);
      out.push(["ours (Worker socket, no dev proxy)", await runLoad(direct, options)]);
    }
    return out;
  } finally {
    await dev.stop();
    rmSync(state, { recursive: true, force: true });
  }
}

async function reference(fileBacked: boolean): Promise<LoadResult> {
  const dataDir = fileBacked ? mkdtempSync(join(tmpdir(), "bench-ref-")) : undefined;
  const server = new DurableStreamTestServer({
    port: 0,
    longPollTimeout: 20_000,
    compression: false,
    ...(dataDir ? { dataDir } : {}),
  });
  const url = await server.start();
  try {
    return await runLoad(url.replace(/\/$/, ""), options);
  } finally {
    await server.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

process.stderr.write("running ours (wrangler dev)…\n");
const oursResults = await ours();
const peers: [string, LoadResult][] = [];
for (const [name, fileBacked] of [
  ["reference, in-memory", false],
  ["reference, file-backed", true],
] as const) {
  process.stderr.write(`running ${name}…\n`);
  peers.push([name, await reference(fileBacked)]);
}

const rows: [string, keyof LoadResult, "higher" | "lower", (n: number) => string][] = [
  ["small append throughput (msg/s)", "smallMsgPerSec", "higher", (n) => n.toFixed(0)],
  ["1 MiB append throughput (MiB/s)", "bigMBPerSec", "higher", (n) => n.toFixed(1)],
  ["long-poll round trip p50 (ms)", "longPollP50", "lower", (n) => n.toFixed(2)],
  ["long-poll round trip p99 (ms)", "longPollP99", "lower", (n) => n.toFixed(2)],
  ["SSE append→receive p50 (ms)", "sseP50", "lower", (n) => n.toFixed(2)],
  ["SSE append→receive p99 (ms)", "sseP99", "lower", (n) => n.toFixed(2)],
];
const short = (name: string): string =>
  name.replace("reference, ", "ref ").replace(/^ours \((.*?)[,)].*$/, "ours $1");
const header = [
  "metric",
  ...[...oursResults, ...peers].map(([n]) => n),
  ...oursResults.flatMap(([o]) => peers.map(([p]) => `${short(o)} / ${short(p)}`)),
];
const lines = [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`];
for (const [label, key, better, fmt] of rows) {
  const cells = [label, ...[...oursResults, ...peers].map(([, r]) => fmt(r[key]))];
  for (const [, o] of oursResults) {
    for (const [, p] of peers) {
      const ratio = o[key] / p[key];
      const good = better === "higher" ? ratio >= 1 : ratio <= 1;
      cells.push(`${ratio.toFixed(2)}x ${good ? "✓" : "✗"}`);
    }
  }
  lines.push(`| ${cells.join(" | ")} |`);
}
const cpu = cpus()[0]?.model ?? "unknown CPU";
console.log(`\nDurable Streams bench — ${new Date().toISOString()}`);
console.log(
  `machine: ${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}`,
);
console.log(
  `load: ${options.writers} writers × ${options.smallSeconds}s of 100 B appends; ${options.bigAppends} × 1 MiB appends; ${options.latencySamples} latency samples\n`,
);
console.log(lines.join("\n"));
