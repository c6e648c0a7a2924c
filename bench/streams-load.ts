/** The load of `npm run bench -- streams`, run the same way against any Durable Streams server. */
const encoder = new TextEncoder();

export interface LoadResult {
  readonly smallMsgPerSec: number;
  /** The same writers all appending to one stream (where group commit can batch). */
  readonly sharedMsgPerSec: number;
  readonly bigMBPerSec: number;
  readonly longPollP50: number;
  readonly longPollP99: number;
  readonly sseP50: number;
  readonly sseP99: number;
  /** Server CPU (user + system, from /proc) per small append, in ms; NaN when not measured. */
  readonly cpuMsPerAppend: number;
  /** The same, with every writer on one stream. */
  readonly sharedCpuMsPerAppend: number;
}

export interface LoadOptions {
  readonly writers: number;
  readonly smallSeconds: number;
  readonly bigAppends: number;
  readonly latencySamples: number;
  /** The server's CPU time so far in ms (sum over its processes), to price an append. */
  readonly serverCpuMs?: () => number;
}

let unique = 0;
const streamUrl = (base: string, kind: string): string =>
  `${base}/v1/stream/bench-${kind}-${Date.now()}-${unique++}`;

async function create(url: string, contentType: string): Promise<string> {
  const res = await fetch(url, { method: "PUT", headers: { "content-type": contentType } });
  if (res.status !== 201) throw new Error(`PUT ${url} → ${res.status}`);
  return res.headers.get("stream-next-offset") ?? "-1";
}

async function append(
  url: string,
  body: Uint8Array | string,
  contentType: string,
): Promise<string> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": contentType }, body });
  if (res.status !== 204 && res.status !== 200) throw new Error(`POST ${url} → ${res.status}`);
  await res.arrayBuffer();
  return res.headers.get("stream-next-offset") ?? "";
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** `writers` writers appending 100 B bodies back to back, each to its own stream or all to one. */
async function smallAppends(
  base: string,
  options: LoadOptions,
  oneStream = false,
): Promise<{ perSecond: number; cpuMsPerAppend: number }> {
  const body = "x".repeat(100);
  const shared = oneStream ? streamUrl(base, "shared") : null;
  if (shared !== null) await create(shared, "text/plain");
  const urls = await Promise.all(
    Array.from({ length: options.writers }, async () => {
      const url = shared ?? streamUrl(base, "small");
      if (shared === null) await create(url, "text/plain");
      for (let i = 0; i < 10; i++) await append(url, body, "text/plain");
      return url;
    }),
  );
  const cpuBefore = options.serverCpuMs?.() ?? Number.NaN;
  const deadline = performance.now() + options.smallSeconds * 1000;
  const counts = await Promise.all(
    urls.map(async (url) => {
      let n = 0;
      while (performance.now() < deadline) {
        await append(url, body, "text/plain");
        n++;
      }
      return n;
    }),
  );
  const total = counts.reduce((a, b) => a + b, 0);
  const cpuMs = (options.serverCpuMs?.() ?? Number.NaN) - cpuBefore;
  return { perSecond: total / options.smallSeconds, cpuMsPerAppend: cpuMs / total };
}

async function bigAppends(base: string, options: LoadOptions): Promise<number> {
  const url = streamUrl(base, "big");
  await create(url, "application/octet-stream");
  const body = new Uint8Array(1024 * 1024).fill(7);
  await append(url, body, "application/octet-stream");
  const start = performance.now();
  for (let i = 0; i < options.bigAppends; i++) await append(url, body, "application/octet-stream");
  return options.bigAppends / ((performance.now() - start) / 1000);
}

async function longPollRoundTrips(base: string, options: LoadOptions): Promise<number[]> {
  const url = streamUrl(base, "lp");
  let offset = await create(url, "text/plain");
  const samples: number[] = [];
  for (let i = 0; i < options.latencySamples + 5; i++) {
    const poll = fetch(`${url}?offset=${encodeURIComponent(offset)}&live=long-poll`);
    await new Promise((r) => setTimeout(r, 10));
    const t0 = performance.now();
    await append(url, `m${i}`, "text/plain");
    const res = await poll;
    await res.arrayBuffer();
    const t1 = performance.now();
    if (res.status !== 200) throw new Error(`long-poll → ${res.status}`);
    offset = res.headers.get("stream-next-offset") ?? offset;
    if (i >= 5) samples.push(t1 - t0);
  }
  return samples;
}

async function sseLatencies(base: string, options: LoadOptions): Promise<number[]> {
  const url = streamUrl(base, "sse");
  const offset = await create(url, "application/json");
  const controller = new AbortController();
  const res = await fetch(`${url}?offset=${encodeURIComponent(offset)}&live=sse`, {
    signal: controller.signal,
  });
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const seen = new Map<number, () => void>();
  const pump = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        for (const match of buffer.matchAll(/"i":(\d+)/g)) seen.get(Number(match[1]))?.();
        buffer = buffer.slice(buffer.lastIndexOf("\n\n") + 1);
      }
    } catch {}
  })();
  const samples: number[] = [];
  for (let i = 0; i < options.latencySamples + 5; i++) {
    const arrived = new Promise<void>((resolve) => seen.set(i, resolve));
    const t0 = performance.now();
    await append(url, encoder.encode(JSON.stringify({ i })), "application/json");
    await Promise.race([
      arrived,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`SSE event ${i} did not arrive in 30 s`)), 30_000),
      ),
    ]);
    if (i >= 5) samples.push(performance.now() - t0);
  }
  controller.abort();
  await pump;
  return samples;
}

export async function runLoad(base: string, options: LoadOptions): Promise<LoadResult> {
  const small = await smallAppends(base, options);
  const shared = await smallAppends(base, options, true);
  const big = await bigAppends(base, options);
  const lp = await longPollRoundTrips(base, options);
  const sse = await sseLatencies(base, options);
  return {
    smallMsgPerSec: small.perSecond,
    cpuMsPerAppend: small.cpuMsPerAppend,
    sharedMsgPerSec: shared.perSecond,
    sharedCpuMsPerAppend: shared.cpuMsPerAppend,
    bigMBPerSec: big,
    longPollP50: percentile(lp, 50),
    longPollP99: percentile(lp, 99),
    sseP50: percentile(sse, 50),
    sseP99: percentile(sse, 99),
  };
}
