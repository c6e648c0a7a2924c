/**
 * `npm run bench -- fanout`: 1,000 live readers of one session (half SSE on
 * `GET .../events?live=sse`, half WebSocket on `GET .../ws`) while a scripted run
 * streams ~500 small events, against `wrangler dev` (bench/fanout/worker.ts).
 * Compared in the same run with one SSE and one WebSocket reader on their own.
 *
 * Delivery latency = time a reader gets an event − the event's ledger `ts` (both
 * the machine's clock). Events/s = the run's events / (last ts − first ts): how
 * fast the object appends while it fans out. Deliveries/s = events × readers / s.
 * Every live connection is sent at most once per delivery window (`live.windowMs`, default
 * 20 ms: core's streams/delivery-window.ts), so sends scale with readers × 1/window.
 * Env: BENCH_READERS (default "200,1000": one scenario each), BENCH_WS_SHARE (default 0.5),
 * BENCH_SERVER (`wrangler`, the default: `wrangler dev`; `bare`: the same bundle on bare
 * workerd, bench/bare-workerd.ts, with no dev proxy in front), BENCH_PROFILE=1 (a CPU profile
 * of the Worker's isolate during the last scenario's run, bench/cpu-profile.ts).
 * Each scenario also prints the CPU time the server's processes and the load generator used
 * during the run (/proc), since they share the machine's cores, and splits each latency at the
 * first reader to get the event: ledger `ts` → first arrival (the wait for a flush and its
 * first send), first arrival → this reader's (the rest of the flush's sends and the load
 * generator reading one frame per reader, on one Node thread), with the median gap between
 * flushes as the readers see it.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { freePort, startWranglerDev } from "../test/support/wrangler-dev.ts";
import { startBareWorkerd } from "./bare-workerd.ts";
import { connectProfiler, formatSummary, groupTime, summarize } from "./cpu-profile.ts";
import { cpuMs, workerdPids } from "./worker-socket.ts";

const READERS = (process.env.BENCH_READERS ?? "200,1000").split(",").map(Number);
const WS_SHARE = Number(process.env.BENCH_WS_SHARE ?? 0.5);
const SERVER = process.env.BENCH_SERVER === "bare" ? "bare" : "wrangler";
const PROFILE = process.env.BENCH_PROFILE === "1";
/** Also run each scenario against the send floor (bench/fanout/floor.ts). */
const FLOOR = process.env.BENCH_FLOOR === "1";

/** Where a sampled stack is, by the functions on it (first match wins; bench/cpu-profile.ts). */
const FAN_OUT_GROUPS = {
  "WebSocket hub at a flush (#fanOut, ws.send)": ["#fanOut"],
  "readers woken by a flush (DeliveryWindow #flush)": ["#flush"],
  "SSE reader loops (liveSse loop)": ["loop"],
  "appends (ledger, projections, SQLite)": ["#append"],
  "garbage collector": ["(garbage collector)"],
  idle: ["(idle)"],
  "natives V8 cannot attribute": ["(program)"],
};

interface Server {
  readonly baseUrl: string;
  /** The server's processes (workerd; under wrangler dev also its proxy's workerd). */
  pids(): number[];
  /** Its inspector, for CPU profiles. */
  readonly inspectorUrl: string;
  stop(): Promise<void>;
}

async function startServer(): Promise<Server> {
  const cwd = join(import.meta.dirname, "fanout");
  if (SERVER === "bare") {
    const inspectorPort = await freePort();
    const bare = await startBareWorkerd({ cwd, inspectorPort });
    return {
      baseUrl: bare.baseUrl,
      pids: () => [bare.pid],
      inspectorUrl: `http://127.0.0.1:${inspectorPort}`,
      stop: async () => bare.stop(),
    };
  }
  const dev = await startWranglerDev({ cwd, snapshot: true });
  const cmdline = readFileSync(`/proc/${dev.pid}/cmdline`, "utf8").split("\0");
  return {
    baseUrl: dev.baseUrl,
    pids: () => [dev.pid, ...workerdPids(dev.pid)],
    inspectorUrl: `http://127.0.0.1:${cmdline[cmdline.indexOf("--inspector-port") + 1]}`,
    stop: () => dev.stop(),
  };
}

interface WireEvent {
  seq: number;
  kind: string;
  ts: number;
}

interface Reader {
  readonly kind: "sse" | "ws";
  /** Times the server ended a response and the reader resumed from its offset. */
  resumed: number;
  readonly latencies: number[];
  /** When each event of `latencies` arrived (Date.now()), and its seq, in the same order. */
  readonly arrivals: number[];
  readonly seqs: number[];
  /** Frames (SSE data events, WebSocket messages) that carried events. */
  frames: number;
  seen: number;
  lastSeq: number;
  ordered: boolean;
  done: Promise<void>;
  close(): void;
}

function onEvents(reader: Reader, events: WireEvent[], finish: () => void): void {
  const now = Date.now();
  reader.frames++;
  for (const event of events) {
    if (event.seq !== reader.lastSeq + 1 && reader.lastSeq !== 0) reader.ordered = false;
    reader.lastSeq = event.seq;
    reader.seen++;
    reader.latencies.push(now - event.ts);
    reader.arrivals.push(now);
    reader.seqs.push(event.seq);
    if (event.kind === "run.completed" || event.kind === "run.failed") finish();
  }
}

async function sseReader(url: string): Promise<Reader> {
  const controller = new AbortController();
  let finish = () => {};
  const reader: Reader = {
    kind: "sse",
    resumed: 0,
    latencies: [],
    arrivals: [],
    seqs: [],
    frames: 0,
    seen: 0,
    lastSeq: 0,
    ordered: true,
    done: new Promise<void>((resolve) => {
      finish = resolve;
    }),
    close: () => controller.abort(),
  };
  let ready = () => {};
  const connected = new Promise<void>((resolve) => {
    ready = resolve;
  });
  let finished = false;
  reader.done.then(() => {
    finished = true;
  });
  /** One response; the server may end it (live.sseMaxMs, live.stallMs): resume from our offset. */
  const follow = async (offset: string): Promise<void> => {
    const response = await fetch(`${url}/events?offset=${offset}&live=sse`, {
      signal: controller.signal,
    });
    if (!response.ok || !response.body) throw new Error(`SSE ${response.status}`);
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (block.startsWith("event: control")) ready();
        if (!block.startsWith("event: data")) continue;
        const data = block
          .split("\n")
          .filter((l) => l.startsWith("data:"))
          .map((l) => l.slice(l.startsWith("data: ") ? 6 : 5))
          .join("\n");
        onEvents(reader, JSON.parse(data) as WireEvent[], finish);
      }
    }
  };
  void (async () => {
    try {
      await follow("now");
      while (!finished && !controller.signal.aborted) {
        reader.resumed++;
        await follow(String(reader.lastSeq).padStart(16, "0"));
      }
    } catch {
      // aborted at the end
    }
  })();
  await connected;
  return reader;
}

/**
 * A session-socket reader that acks like the client library (docs/delivery.md, "Flow control"):
 * after half the server's window of events frames since its last ack. The server closes a socket
 * that sits at its window (4008, live.stallMs): it resumes from its offset, counted in `resumed`.
 */
async function wsReader(url: string): Promise<Reader> {
  let socket: WebSocket | undefined;
  let finish = () => {};
  let finished = false;
  const reader: Reader = {
    kind: "ws",
    resumed: 0,
    latencies: [],
    arrivals: [],
    seqs: [],
    frames: 0,
    seen: 0,
    lastSeq: 0,
    ordered: true,
    done: new Promise<void>((resolve) => {
      finish = () => {
        finished = true;
        resolve();
      };
    }),
    close: () => {
      finished = true;
      socket?.close(1000);
    },
  };
  const encoder = new TextEncoder();
  const connect = (offset: string) =>
    new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(`${url.replace(/^http/, "ws")}/ws?offset=${offset}`);
      socket = ws;
      const flow = { windowBytes: 0, unacked: 0 };
      ws.onmessage = (message) => {
        const text = String(message.data);
        const frame = JSON.parse(text) as {
          type: string;
          events?: WireEvent[];
          nextOffset?: string;
          windowBytes?: number;
        };
        if (frame.type === "flow") flow.windowBytes = frame.windowBytes ?? 0;
        if (frame.type !== "events" || !frame.events) return;
        onEvents(reader, frame.events, finish);
        flow.unacked += encoder.encode(text).byteLength;
        if (flow.windowBytes > 0 && flow.unacked * 2 >= flow.windowBytes) {
          flow.unacked = 0;
          ws.send(JSON.stringify({ type: "ack", offset: frame.nextOffset }));
        }
      };
      ws.onclose = (event) => {
        if (event.code !== 4008 || finished) return;
        reader.resumed++;
        void connect(String(reader.lastSeq).padStart(16, "0")).catch(() => {});
      };
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error("WebSocket did not open"));
    });
  await connect("now");
  return reader;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

interface Result {
  readonly label: string;
  readonly readers: number;
  readonly events: number;
  readonly seconds: number;
  readonly sse: number[];
  readonly ws: number[];
  readonly complete: boolean;
  /**
   * SSE responses the server ended early (stalled readers) and WebSockets it closed at their
   * window (4008), each resumed from its offset.
   */
  readonly resumed: number;
  /** Frames all readers got. */
  readonly frames: number;
  /**
   * Latency split at the first reader to get each event: `first`, per event, its ledger `ts` →
   * the first arrival at any reader (the wait for a flush, plus the flush's first send and the
   * load generator's turn); `spread`, per delivery, that first arrival → this reader's (the
   * rest of the flush's sends, the bytes, and the load generator reading 1 frame per reader);
   * `gaps`, the time between successive first arrivals (one per flush: the send period).
   */
  readonly split: { readonly first: number[]; readonly spread: number[]; readonly gaps: number[] };
  /** From the run's start to the last reader done: wall time, CPU of the server's processes and of this load generator, ms. */
  readonly cpu: { readonly wallMs: number; readonly serverMs: number; readonly loadMs: number };
}

async function scenario(
  server: Server,
  label: string,
  sse: number,
  ws: number,
  profile = false,
  floor = false,
): Promise<Result> {
  const name = `fanout-${Date.now()}-${sse + ws}`;
  const session = `${server.baseUrl}/${floor ? "floor" : "agents/streamer"}/${name}`;
  const readers: Reader[] = [];
  // Open in batches so the handshakes do not all land in one tick.
  for (let i = 0; i < sse + ws; i += 50) {
    const batch = [];
    for (let j = i; j < Math.min(i + 50, sse + ws); j++)
      batch.push(j < sse ? sseReader(session) : wsReader(session));
    readers.push(...(await Promise.all(batch)));
  }
  console.error(
    `${label}: ${readers.length} readers open (${new Date().toISOString().slice(11, 19)})`,
  );
  const profiler = profile ? await connectProfiler(server.inspectorUrl) : undefined;
  await profiler?.start();
  const serverCpu = () => server.pids().reduce((sum, pid) => sum + cpuMs(pid), 0);
  const cpuBefore = { server: serverCpu(), load: process.cpuUsage(), wall: Date.now() };
  const start = await fetch(`${session}/runs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ input: { message: "stream" } }),
  });
  if (start.status !== 202) throw new Error(`start: ${start.status} ${await start.text()}`);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), 120_000);
  });
  const outcome = await Promise.race([Promise.all(readers.map((r) => r.done)), timeout]);
  // Else the process waits out the 120 s after printing its table.
  clearTimeout(timer);
  const load = process.cpuUsage(cpuBefore.load);
  const cpu = {
    wallMs: Date.now() - cpuBefore.wall,
    serverMs: serverCpu() - cpuBefore.server,
    loadMs: (load.user + load.system) / 1000,
  };
  if (profiler) {
    const taken = await profiler.stop();
    // The raw profile opens in Chrome DevTools (Performance) or speedscope.
    const file = join(tmpdir(), `fanout-${Date.now()}.cpuprofile`);
    writeFileSync(file, JSON.stringify(taken));
    console.log(`${label} (${file}):\n${formatSummary(summarize(taken))}\n`);
    const groups = groupTime(taken, FAN_OUT_GROUPS);
    console.log(
      `by part (ms):\n${Object.entries(groups)
        .map(([name, ms]) => `  ${ms.toFixed(0).padStart(7)}  ${name}`)
        .join("\n")}\n`,
    );
    profiler.close();
  }
  for (const reader of readers) reader.close();
  const ledger = (await (await fetch(`${session}/events?offset=-1`)).json()) as WireEvent[];
  const first = ledger.find((e) => e.kind === "run.started");
  const last = ledger.at(-1);
  const started = ledger.findIndex((e) => e.kind === "run.started");
  const expected = ledger.length - started;
  const short = readers.filter((r) => r.seen !== expected || !r.ordered);
  if (short.length > 0)
    console.error(
      `${label}: ${short.length} readers incomplete (${outcome === "timeout" ? "timed out" : "done"}); e.g. ${short
        .filter((r, i, all) => i === 0 || r.kind !== all[i - 1]?.kind)
        .map((r) => `${r.kind} saw ${r.seen}/${expected}${r.ordered ? "" : " out of order"}`)
        .join(", ")}`,
    );
  const complete = outcome !== "timeout" && short.length === 0;
  const firstArrival = new Map<number, number>();
  const eventTs = new Map<number, number>();
  for (const reader of readers)
    reader.seqs.forEach((seq, i) => {
      const at = reader.arrivals[i] as number;
      eventTs.set(seq, at - (reader.latencies[i] as number));
      if (at < (firstArrival.get(seq) ?? Number.POSITIVE_INFINITY)) firstArrival.set(seq, at);
    });
  const firsts = [...new Set(firstArrival.values())].sort((a, b) => a - b);
  const split = {
    first: [...firstArrival].map(([seq, at]) => at - (eventTs.get(seq) as number)),
    spread: readers.flatMap((r) =>
      r.seqs.map((seq, i) => (r.arrivals[i] as number) - (firstArrival.get(seq) as number)),
    ),
    gaps: firsts.slice(1).map((at, i) => at - (firsts[i] as number)),
  };
  return {
    label,
    readers: readers.length,
    events: ledger.length,
    seconds: ((last?.ts ?? 0) - (first?.ts ?? 0)) / 1000,
    sse: readers.filter((r) => r.kind === "sse").flatMap((r) => r.latencies),
    ws: readers.filter((r) => r.kind === "ws").flatMap((r) => r.latencies),
    complete,
    resumed: readers.reduce((n, r) => n + r.resumed, 0),
    frames: readers.reduce((n, r) => n + r.frames, 0),
    split,
    cpu,
  };
}

function table(results: Result[]): string {
  const rows = [
    [
      "scenario",
      "readers",
      "events",
      "events/s",
      "÷ baseline",
      "deliveries/s",
      "SSE p50 / p99 (ms)",
      "WS p50 / p99 (ms)",
      "all p50 / p99 (ms)",
      "to 1st reader p50 / p99 (ms)",
      "after 1st p50 / p99 (ms)",
      "send gap p50 (ms)",
      "exactly once, in order",
      "resumes (SSE + WS)",
      "CPU server / load gen (s)",
      "frames / reader",
      "server CPU / frame beyond baseline (µs)",
    ],
  ];
  const baseline = results[0] ? results[0].events / results[0].seconds : Number.NaN;
  const baselineCpu = results[0]?.cpu.serverMs ?? 0;
  for (const r of results) {
    const all = [...r.sse, ...r.ws];
    const pair = (v: number[]) => (v.length ? `${percentile(v, 50)} / ${percentile(v, 99)}` : "-");
    rows.push([
      r.label,
      String(r.readers),
      String(r.events),
      (r.events / r.seconds).toFixed(0),
      `${(r.events / r.seconds / baseline).toFixed(2)}×`,
      ((r.events * r.readers) / r.seconds).toFixed(0),
      pair(r.sse),
      pair(r.ws),
      pair(all),
      pair(r.split.first),
      pair(r.split.spread),
      String(percentile(r.split.gaps, 50)),
      r.complete ? "yes" : "NO",
      String(r.resumed),
      `${(r.cpu.serverMs / 1000).toFixed(2)} / ${(r.cpu.loadMs / 1000).toFixed(2)}`,
      (r.frames / r.readers).toFixed(0),
      // The baseline's server CPU is the run's appends and 2 readers; the rest is fan-out.
      (
        (1000 * (r.cpu.serverMs - (r.label.endsWith("floor") ? 0 : baselineCpu))) /
        r.frames
      ).toFixed(0),
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) => `| ${row.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [
    line(rows[0]!),
    `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`,
    ...rows.slice(1).map(line),
  ].join("\n");
}

const load = loadavg()[0]?.toFixed(1);
console.error(`starting the server (${new Date().toISOString().slice(11, 19)})`);
const server = await startServer();
try {
  const results = [await scenario(server, "1 SSE + 1 WS (baseline)", 1, 1)];
  for (const [i, readers] of READERS.entries()) {
    const ws = Math.round(readers * WS_SHARE);
    const label = `${readers - ws} SSE + ${ws} WS`;
    results.push(
      await scenario(server, label, readers - ws, ws, PROFILE && i === READERS.length - 1),
    );
    if (FLOOR)
      results.push(await scenario(server, `${label}, floor`, readers - ws, ws, false, true));
  }
  console.log(
    `fan-out: ${cpus().length} vCPU ${cpus()[0]?.model ?? ""}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, ${SERVER === "bare" ? "bare workerd" : "wrangler dev (local workerd)"}, load average ${load} → ${loadavg()[0]?.toFixed(1)}\n`,
  );
  console.log(table(results));
} finally {
  await server.stop();
}
