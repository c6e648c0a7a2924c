/**
 * A V8 CPU profile of a Worker's isolate, over the Chrome DevTools protocol (CDP) that workerd
 * serves on its inspector port (`wrangler dev --inspector-port`, `workerd serve
 * --inspector-addr`). `Profiler.start`/`Profiler.stop` sample the isolate's JavaScript stacks
 * (CDP Profiler domain: https://chromedevtools.github.io/devtools-protocol/tot/Profiler/); the
 * summary splits the sampled time by function (self time) and by where it went: our code,
 * the runtime's natives under it (`ws.send`, stream writes show as the JS function that called
 * them), garbage collection, idle.
 * @example
 * const profiler = await connectProfiler(`http://127.0.0.1:${port}`);
 * await profiler.start();
 * ...; console.log(summarize(await profiler.stop()));
 */

export interface CpuProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly CpuProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface Profiler {
  start(): Promise<void>;
  stop(): Promise<CpuProfile>;
  close(): void;
}

/** A CDP method call on an inspector session: resolves to its `result`. */
export type CdpCall = (
  method: string,
  params?: Record<string, unknown>,
) => Promise<Record<string, unknown>>;

/**
 * A Chrome DevTools protocol session on the first target of the inspector at `inspectorUrl`
 * (http://host:port): `call` sends a method and waits up to 2 minutes for its answer.
 */
export async function connectInspector(
  inspectorUrl: string,
): Promise<{ call: CdpCall; close(): void }> {
  const targets = (await (await fetch(`${inspectorUrl}/json`)).json()) as {
    webSocketDebuggerUrl: string;
  }[];
  const url = targets[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error(`no inspector target at ${inspectorUrl}`);
  // wrangler's inspector proxy wants an Origin (undici's WebSocket takes headers, as an extension).
  const socket = new WebSocket(url, {
    headers: { origin: "http://127.0.0.1" },
  } as unknown as string[]);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = () => reject(new Error(`inspector ${url} did not open`));
  });
  const waiting = new Map<number, (result: Record<string, unknown>) => void>();
  socket.onmessage = (message) => {
    const frame = JSON.parse(String(message.data)) as {
      id?: number;
      result?: Record<string, unknown>;
    };
    if (frame.id !== undefined) waiting.get(frame.id)?.(frame.result ?? {});
  };
  let id = 0;
  const call: CdpCall = (method, params = {}) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`inspector: no answer to ${method}`)),
        120_000,
      );
      waiting.set(++id, (result) => {
        clearTimeout(timer);
        resolve(result);
      });
      socket.send(JSON.stringify({ id, method, params }));
    });
  return { call, close: () => socket.close() };
}

/** Opens a CDP session on the first target of the inspector at `inspectorUrl` (http://host:port). */
export async function connectProfiler(inspectorUrl: string, intervalUs = 200): Promise<Profiler> {
  const { call, close } = await connectInspector(inspectorUrl);
  await call("Profiler.enable");
  await call("Profiler.setSamplingInterval", { interval: intervalUs });
  return {
    start: async () => void (await call("Profiler.start")),
    stop: async () => (await call("Profiler.stop")).profile as CpuProfile,
    close,
  };
}

export interface ProfileSummary {
  /** Wall time the profile covers, ms. */
  readonly wallMs: number;
  /** Sampled time that was not idle (JS, natives called from it, GC), ms. */
  readonly busyMs: number;
  readonly idleMs: number;
  readonly gcMs: number;
  /** Self time by function, heaviest first: `name (file:line)` → ms. */
  readonly functions: readonly { readonly name: string; readonly ms: number }[];
  /** Total (inclusive) time of named functions, heaviest first. */
  readonly inclusive: readonly { readonly name: string; readonly ms: number }[];
}

/** Self and inclusive time per function of `profile`. */
export function summarize(profile: CpuProfile): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<number, number>();
  profile.samples.forEach((sample, i) => {
    self.set(sample, (self.get(sample) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  const label = (node: CpuProfileNode): string => {
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.split("/").at(-1) ?? "";
    return `${functionName || "(anonymous)"}${file ? ` (${file}:${lineNumber + 1})` : ""}`;
  };
  const selfByName = new Map<string, number>();
  const inclusiveByName = new Map<string, number>();
  let idle = 0;
  let gc = 0;
  let total = 0;
  for (const [id, ms] of self) {
    const node = byId.get(id);
    if (!node) continue;
    total += ms;
    const name = node.callFrame.functionName;
    if (name === "(idle)") idle += ms;
    if (name === "(garbage collector)") gc += ms;
    selfByName.set(label(node), (selfByName.get(label(node)) ?? 0) + ms);
    // Inclusive: once per distinct function on the stack.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at);
      if (!frame) break;
      const l = label(frame);
      if (seen.has(l)) continue;
      seen.add(l);
      inclusiveByName.set(l, (inclusiveByName.get(l) ?? 0) + ms);
    }
  }
  const sorted = (map: Map<string, number>) =>
    [...map].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms);
  return {
    wallMs: (profile.endTime - profile.startTime) / 1000,
    busyMs: total - idle,
    idleMs: idle,
    gcMs: gc,
    functions: sorted(selfByName),
    inclusive: sorted(inclusiveByName),
  };
}

/** The summary as text: the heaviest `top` functions by self and by inclusive time. */
export function formatSummary(summary: ProfileSummary, top = 25): string {
  const pct = (ms: number) => `${((100 * ms) / summary.wallMs).toFixed(1)} %`;
  const rows = (list: ProfileSummary["functions"]) =>
    list
      .filter((f) => !f.name.startsWith("(idle)") && !f.name.startsWith("(root)"))
      .slice(0, top)
      .map((f) => `  ${f.ms.toFixed(0).padStart(7)} ms ${pct(f.ms).padStart(7)}  ${f.name}`)
      .join("\n");
  return [
    `isolate CPU profile: ${summary.wallMs.toFixed(0)} ms wall, busy ${summary.busyMs.toFixed(0)} ms (${pct(summary.busyMs)}), GC ${summary.gcMs.toFixed(0)} ms, idle ${summary.idleMs.toFixed(0)} ms`,
    "self time:",
    rows(summary.functions),
    "inclusive time:",
    rows(summary.inclusive),
  ].join("\n");
}

/**
 * Sampled time by group: each sample goes to the first group (in `groups`' order) that has one
 * of its function names anywhere on the sample's stack; the rest is "other".
 */
export function groupTime(
  profile: CpuProfile,
  groups: Readonly<Record<string, readonly string[]>>,
): Record<string, number> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const out: Record<string, number> = Object.fromEntries(
    [...Object.keys(groups), "other"].map((name) => [name, 0]),
  );
  profile.samples.forEach((sample, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const stack = new Set<string>();
    for (let at: number | undefined = sample; at !== undefined; at = parent.get(at))
      stack.add(byId.get(at)?.callFrame.functionName ?? "");
    const group = Object.keys(groups).find((name) => groups[name]?.some((fn) => stack.has(fn)));
    out[group ?? "other"] = (out[group ?? "other"] ?? 0) + ms;
  });
  return out;
}
