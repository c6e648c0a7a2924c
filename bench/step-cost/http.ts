/** Runs over HTTP for the step-cost bench (bench/step-cost.ts). */

async function post(url: string, body: unknown): Promise<void> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`POST ${url}: ${response.status} ${await response.text()}`);
}

/** Starts a run and waits (long-poll on the ledger) for its terminal event. */
export async function httpRun(base: string, message: string): Promise<void> {
  const status = (await (await fetch(`${base}/status`)).json()) as { offset: string };
  await post(`${base}/runs`, { input: { message } });
  let offset = status.offset;
  for (;;) {
    const response = await fetch(`${base}/events?offset=${offset}&live=long-poll`);
    const next = response.headers.get("stream-next-offset");
    const events = response.status === 204 ? [] : ((await response.json()) as { kind: string }[]);
    if (events.some((e) => /^run\.(completed|failed|aborted|interrupted)$/.test(e.kind))) {
      if (!events.some((e) => e.kind === "run.completed")) throw new Error("http run failed");
      return;
    }
    if (next) offset = next;
  }
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}
