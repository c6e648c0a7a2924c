/**
 * `npm run bench -- streams`: the same load against our stream objects and the Node
 * reference server (@durable-streams/server), each server in a process of its own:
 * - ours on bare workerd (bare-workerd.ts: the bundle `wrangler deploy` builds, DO SQLite on
 *   disk, no wrangler), the closest this machine gets to a deployed Worker;
 * - ours under `wrangler dev`, twice on the same server: on the Worker's own workerd socket
 *   and through `wrangler dev`'s port (its dev-only ProxyWorker in front), so the table shows
 *   what the dev proxy costs;
 * - the reference server in memory and file-backed, each in its own Node process
 *   (reference-server.ts), never inside the load generator's.
 * Server CPU per small append is read from /proc for each server's processes. Prints one
 * table; ratio = ours / peer (higher is better for throughput, lower for latency and CPU).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { startWranglerDev } from "../test/support/wrangler-dev.ts";
import { startBareWorkerd } from "./bare-workerd.ts";
import { startReferenceServer } from "./reference-server.ts";
import { type LoadOptions, type LoadResult, runLoad } from "./streams-load.ts";
import { cpuMs, findWorkerSocket, workerdPids } from "./worker-socket.ts";

const options: LoadOptions = {
  writers: Number(process.env.BENCH_WRITERS ?? 8),
  smallSeconds: Number(process.env.BENCH_SECONDS ?? 5),
  bigAppends: Number(process.env.BENCH_BIG ?? 20),
  latencySamples: Number(process.env.BENCH_SAMPLES ?? 200),
};
const vars = {
  STREAMS_LONG_POLL_TIMEOUT_MS: "20000",
  STREAMS_SSE_MAX_DURATION_MS: "60000",
  STREAMS_SSE_KEEPALIVE_MS: "15000",
};
const conformanceWorker = join(import.meta.dirname, "..", "test", "conformance");
const cpuOf = (pids: readonly number[]) => () => pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
const loads: number[] = [];
const measure = async (base: string, pids: readonly number[]): Promise<LoadResult> => {
  const result = await runLoad(base, { ...options, serverCpuMs: cpuOf(pids) });
  loads.push(loadavg()[0] ?? 0);
  return result;
};

async function bare(cwd = conformanceWorker): Promise<LoadResult> {
  const server = await startBareWorkerd({ cwd, vars });
  try {
    return await measure(server.baseUrl, [server.pid]);
  } finally {
    server.stop();
  }
}

async function ours(): Promise<[string, LoadResult][]> {
  const state = mkdtempSync(join(tmpdir(), "bench-streams-"));
  const dev = await startWranglerDev({
    cwd: conformanceWorker,
    persistTo: state,
    snapshot: true,
    vars,
  });
  try {
    const out: [string, LoadResult][] = [];
    const probe = `/v1/stream/bench-probe-${Date.now()}`;
    await fetch(`${dev.baseUrl}${probe}`, {
      method: "PUT",
      headers: { "content-type": "text/plain" },
    });
    const direct = await findWorkerSocket(dev.pid, dev.baseUrl, async (base) => {
      const response = await fetch(`${base}${probe}`, { method: "HEAD" });
      return response.status === 200 && response.headers.has("stream-next-offset");
    });
    const pids = workerdPids(dev.pid);
    if (direct === null) process.stderr.write("the Worker's own socket was not found; skipped\n");
    else {
      process.stderr.write(`running ours on the Worker's own socket (${direct})…\n`);
      out.push(["ours (wrangler dev, Worker socket)", await measure(direct, pids)]);
    }
    process.stderr.write("running ours through wrangler dev's port…\n");
    out.push(["ours (wrangler dev port)", await measure(dev.baseUrl, pids)]);
    return out;
  } finally {
    await dev.stop();
    rmSync(state, { recursive: true, force: true });
  }
}

async function reference(fileBacked: boolean): Promise<LoadResult> {
  const server = await startReferenceServer({ fileBacked });
  try {
    return await measure(server.baseUrl, [server.pid]);
  } finally {
    server.stop();
  }
}

/** BENCH_SERVERS=bare,dev,memory,file (default: all) picks the servers, for quick A/B runs. */
const servers = new Set((process.env.BENCH_SERVERS ?? "bare,dev,memory,file").split(","));
const oursResults: [string, LoadResult][] = [];
/**
 * BENCH_BEFORE=<folder>: also run the conformance Worker of another checkout (its
 * `test/conformance`, with its own node_modules) on bare workerd, as "before", in this run.
 */
const before = process.env.BENCH_BEFORE;
if (before !== undefined) {
  process.stderr.write(`running ours before (${before}) on bare workerd…\n`);
  oursResults.push(["ours before (bare workerd)", await bare(before)]);
}
if (servers.has("bare")) {
  process.stderr.write("running ours on bare workerd…\n");
  oursResults.push(["ours (bare workerd)", await bare()]);
}
if (servers.has("dev")) oursResults.push(...(await ours()));
const peers: [string, LoadResult][] = [];
for (const [name, key, fileBacked] of [
  ["reference, in-memory", "memory", false],
  ["reference, file-backed", "file", true],
] as const) {
  if (!servers.has(key)) continue;
  process.stderr.write(`running ${name}…\n`);
  peers.push([name, await reference(fileBacked)]);
}

const rows: [string, keyof LoadResult, "higher" | "lower", (n: number) => string][] = [
  ["small append throughput (msg/s)", "smallMsgPerSec", "higher", (n) => n.toFixed(0)],
  [
    "small appends, all writers on one stream (msg/s)",
    "sharedMsgPerSec",
    "higher",
    (n) => n.toFixed(0),
  ],
  ["1 MiB append throughput (MiB/s)", "bigMBPerSec", "higher", (n) => n.toFixed(1)],
  ["long-poll round trip p50 (ms)", "longPollP50", "lower", (n) => n.toFixed(2)],
  ["long-poll round trip p99 (ms)", "longPollP99", "lower", (n) => n.toFixed(2)],
  ["SSE append→receive p50 (ms)", "sseP50", "lower", (n) => n.toFixed(2)],
  ["SSE append→receive p99 (ms)", "sseP99", "lower", (n) => n.toFixed(2)],
  ["server CPU per small append (ms)", "cpuMsPerAppend", "lower", (n) => n.toFixed(3)],
  ["server CPU per append, one stream (ms)", "sharedCpuMsPerAppend", "lower", (n) => n.toFixed(3)],
];
const short = (name: string): string =>
  name
    .replace("reference, ", "ref ")
    .replace("ours before (bare workerd)", "before bare")
    .replace("ours (bare workerd)", "ours bare")
    .replace("ours (wrangler dev, Worker socket)", "ours socket")
    .replace("ours (wrangler dev port)", "ours dev port");
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
  `load: ${options.writers} writers × ${options.smallSeconds}s of 100 B appends; ${options.bigAppends} × 1 MiB appends; ${options.latencySamples} latency samples`,
);
console.log(
  `1-minute load average after each server's run: ${loads.map((l) => l.toFixed(2)).join(", ")}\n`,
);
console.log(lines.join("\n"));
