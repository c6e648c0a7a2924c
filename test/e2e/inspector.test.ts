/**
 * The web inspector (GET /) in headless Chromium against the real quickstart: send a
 * message, watch the live ledger, see the answer and the status; reload and see the
 * session replayed from the ledger; then every run state and control (issue 16): a long
 * session paged back, one bubble per live answer, an approval, a failed run retried, a fork
 * at a checkpoint, a schedule firing, a sub-agent link and a bad session id. Screenshots go
 * to test/e2e/artifacts/inspector/ (git-ignored). Needs Chromium (`apt-get install
 * chromium`, or CHROMIUM_PATH); skipped without it unless REQUIRE_BROWSER=1 (set by .ci/run).
 */
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WranglerDev } from "../support/wrangler-dev.ts";
import { getJson, startQuickstart, startRun, tempState, waitForLedger } from "./e2e-support.ts";

const PLAYWRIGHT = "playwright-core";

/** The part of playwright-core this test uses. */
interface Playwright {
  chromium: {
    launch(options: { executablePath: string; args: string[] }): Promise<Browser>;
  };
}
interface Browser {
  newPage(options?: { viewport: { width: number; height: number } }): Promise<Page>;
  close(): Promise<void>;
}
interface Page {
  on(event: "pageerror", listener: (error: Error) => void): void;
  on(event: "console", listener: (message: { type(): string; text(): string }) => void): void;
  on(event: "request", listener: (request: { url(): string }) => void): void;
  goto(url: string): Promise<unknown>;
  reload(): Promise<unknown>;
  waitForSelector(selector: string, options?: { timeout: number }): Promise<unknown>;
  waitForFunction(fn: () => unknown, arg: null, options: { timeout: number }): Promise<unknown>;
  fill(selector: string, value: string): Promise<void>;
  click(selector: string): Promise<void>;
  dblclick(selector: string): Promise<void>;
  textContent(selector: string): Promise<string | null>;
  evaluate<T>(fn: () => T): Promise<T>;
  screenshot(options: { path: string; fullPage?: boolean }): Promise<unknown>;
  locator(selector: string): { count(): Promise<number> };
}

const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const hasPlaywright = (() => {
  try {
    createRequire(import.meta.url).resolve(PLAYWRIGHT);
    return true;
  } catch {
    return false;
  }
})();
const available = existsSync(chromium) && hasPlaywright;
if (!available && process.env.REQUIRE_BROWSER === "1")
  throw new Error(
    `the inspector test needs Chromium at ${chromium} and playwright-core (npm ci); install Chromium with apt-get install chromium`,
  );

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
];

describe.skipIf(!available)("inspector in headless Chromium", () => {
  const state = tempState("e2e-inspector");
  let dev: WranglerDev;

  beforeAll(async () => {
    // Slower deltas (50 ms) leave time to interrupt an answer while it streams.
    dev = await startQuickstart(state, { SCRIPTED_DELAY_MS: "50" });
  });
  afterAll(async () => {
    await dev?.stop();
    rmSync(state, { recursive: true, force: true });
  });

  it("sends a message, shows the live ledger, the answer and the status, and replays on reload", async () => {
    // A computed specifier: a checkout that has not installed playwright-core yet still type-checks.
    const { chromium: browserType } = (await import(PLAYWRIGHT)) as Playwright;
    const browser = await browserType.launch({ executablePath: chromium, args: ARGS });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));
      page.on("console", (message) => {
        if (message.type() === "error") errors.push(message.text());
      });
      await page.goto(`${dev.baseUrl}/#agent=assistant&session=ui-1`);
      await page.waitForSelector("#conn.live");

      await page.fill("#message", "What is (2+3)*4?");
      await page.click("button.primary");
      await page.waitForFunction(
        () => document.querySelector("#events")?.textContent?.includes("run.completed"),
        null,
        { timeout: 30_000 },
      );
      await expect.poll(() => page.textContent("#messages")).toContain("(2+3)*4 = 20.");
      await expect
        .poll(() => page.textContent("#messages"))
        .toContain('→ calculator({"expression":"(2+3)*4"})');
      await expect.poll(() => page.textContent("#status .pill")).toBe("completed");
      const rows = await page.locator("#events tr").count();

      await page.reload();
      await page.waitForSelector("#conn.live");
      await expect.poll(() => page.locator("#events tr").count()).toBe(rows);
      await expect.poll(() => page.textContent("#messages")).toContain("(2+3)*4 = 20.");
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  describe("every run state and control", () => {
    const ARTIFACTS = join(import.meta.dirname, "artifacts", "inspector");
    let browser: Browser;
    let page: Page;
    const errors: string[] = [];
    const requests: string[] = [];
    const shot = (name: string) =>
      page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
    const open = async (session: string) => {
      await page.goto(`${dev.baseUrl}/#agent=assistant&session=${session}`);
      await page.waitForSelector("#conn.live");
    };
    const send = async (message: string) => {
      await page.fill("#message", message);
      await page.click("button.primary");
    };
    const messagesText = () => page.textContent("#messages");
    const pill = () => page.textContent("#status .pill");

    beforeAll(async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      const { chromium: browserType } = (await import(PLAYWRIGHT)) as Playwright;
      browser = await browserType.launch({ executablePath: chromium, args: ARGS });
      page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
      page.on("pageerror", (error) => errors.push(error.message));
      page.on("console", (message) => {
        // A bad id's 400 is an expected failed request; anything else is a defect.
        if (message.type() === "error" && !message.text().includes("400"))
          errors.push(message.text());
      });
      page.on("request", (request) => requests.push(request.url()));
    });
    afterAll(async () => {
      await browser?.close();
    });

    it("shows the newest messages of a 300-message session, pages back to the first, and shows a new answer", async () => {
      for (let i = 1; i <= 75; i++) {
        await startRun(dev.baseUrl, "long-1", `What is ${i}+1?`);
        // (by status: a whole-ledger read of a long session comes back in chunks)
        await expect
          .poll(
            async () =>
              (await getJson<{ status: string }>(`${dev.baseUrl}/agents/assistant/long-1/status`))
                .status,
            { timeout: 30_000, interval: 50 },
          )
          .toBe("completed");
      }
      await open("long-1");
      await expect.poll(() => page.textContent("#count")).toBe("50 messages (older above)");
      expect(await messagesText()).toContain("75+1 = 76.");
      expect(await messagesText()).not.toContain("What is 1+1?");
      await shot("long-session-newest");
      while ((await page.locator("#older:not([hidden])").count()) > 0) {
        const before = await page.textContent("#count");
        await page.click("#older");
        await expect.poll(() => page.textContent("#count")).not.toBe(before);
      }
      expect(await page.textContent("#count")).toBe("300 messages");
      expect(await messagesText()).toContain("What is 1+1?");
      await send("What is 100+1?");
      await expect.poll(messagesText, { timeout: 30_000 }).toContain("100+1 = 101.");
      await expect.poll(() => page.textContent("#count")).toBe("304 messages");
      await shot("long-session-new-answer");
    });

    it("grows one bubble per live answer", async () => {
      await open("live-1");
      await page.evaluate(() => {
        const w = window as unknown as { maxBubbles: number; sawStreaming: boolean };
        w.maxBubbles = 0;
        w.sawStreaming = false;
        new MutationObserver(() => {
          const bubbles = document.querySelectorAll("#messages .msg.assistant");
          w.maxBubbles = Math.max(w.maxBubbles, bubbles.length);
          if (document.querySelector("#messages .msg.assistant.streaming")) w.sawStreaming = true;
        }).observe(document.getElementById("messages") as HTMLElement, {
          childList: true,
          subtree: true,
          attributes: true,
        });
      });
      await send("hello there");
      await expect.poll(pill, { timeout: 30_000 }).toBe("completed");
      await expect.poll(messagesText).toContain("I am the scripted demo model.");
      const seen = await page.evaluate(() => {
        const w = window as unknown as { maxBubbles: number; sawStreaming: boolean };
        return { max: w.maxBubbles, streaming: w.sawStreaming };
      });
      expect(seen).toEqual({ max: 1, streaming: true });
      expect(await page.locator("#messages .msg.assistant").count()).toBe(1);
      expect(await page.textContent("#count")).toBe("2 messages");
    });

    it("approves a tool call from the page", async () => {
      await open("approve-1");
      await send("clear my notes");
      await page.waitForSelector("#run button.approve", { timeout: 30_000 });
      expect(await pill()).toBe("waiting");
      expect(await page.textContent("#run")).toContain("clear_notes needs approval");
      await shot("approval-waiting");
      await page.fill("#run textarea.args", "{}");
      await page.click("#run button.approve");
      await expect.poll(messagesText, { timeout: 30_000 }).toContain("Deleted 0 note(s).");
      await expect.poll(pill).toBe("completed");
      const events = await waitForLedger(dev.baseUrl, "approve-1", () => true);
      expect(events.find((e) => e.kind === "approval.resolved")?.data).toMatchObject({
        approved: true,
      });
    });

    it("a double-click on Approve sends one decision and leaves no error once the run goes on", async () => {
      await open("approve-twice");
      await send("clear my notes");
      await page.waitForSelector("#run button.approve", { timeout: 30_000 });
      await page.fill("#run textarea.args", "{}");
      await page.dblclick("#run button.approve");
      await expect.poll(messagesText, { timeout: 30_000 }).toContain("Deleted 0 note(s).");
      await expect.poll(pill).toBe("completed");
      // No "409 run_running ... nothing to resume" from a second click left on the page.
      expect(await page.textContent("#error")).toBe("");
      const events = await waitForLedger(dev.baseUrl, "approve-twice", () => true);
      expect(events.filter((e) => e.kind === "approval.resolved")).toHaveLength(1);
      expect(events.filter((e) => e.kind === "run.resumed")).toHaveLength(1);
    });

    it("shows a failed run with its whole reason and retries it from the page", async () => {
      await open("fail-1");
      await send("simulate an outage");
      await page.waitForSelector("#failure", { timeout: 30_000 });
      expect(await pill()).toBe("failed");
      const reason = await page.textContent("#failure");
      expect(reason).toContain("provider_outage");
      expect(reason).toContain(
        "the scripted model simulated a provider outage (HTTP 503 from an imaginary upstream, after its retries); retry the run and it answers",
      );
      await shot("failed-run");
      await page.click("#failure button.retry");
      await expect
        .poll(messagesText, { timeout: 30_000 })
        .toContain("The outage is over: this answer comes from the retried run.");
      await expect.poll(pill).toBe("completed");
      expect(await page.locator("#failure").count()).toBe(0);
    });

    it("forks at a checkpoint and opens the fork", async () => {
      await open("fork-1");
      await send("What is (2+3)*4?");
      await expect.poll(pill, { timeout: 30_000 }).toBe("completed");
      const checkpoints = await getJson<{ checkpoints: { id: string; step: number }[] }>(
        `${dev.baseUrl}/agents/assistant/fork-1/checkpoints`,
      );
      const afterStep1 = checkpoints.checkpoints.find((c) => c.step === 1);
      expect(afterStep1).toBeDefined();
      await page.waitForSelector(`li[data-checkpoint="${afterStep1?.id}"] button.fork`);
      await shot("checkpoints");
      await page.click(`li[data-checkpoint="${afterStep1?.id}"] button.fork`);
      await page.waitForSelector("#fork-link");
      const target = (await page.textContent("#fork-link")) ?? "";
      expect(target).toMatch(/^assistant\/fork-1-fork-/);
      await page.click("#fork-link");
      await expect
        .poll(() => page.evaluate(() => location.hash))
        .toContain(encodeURIComponent(target.split("/")[1] ?? ""));
      await page.waitForSelector("#conn.live");
      // The fork holds the ledger up to the end of step 1: the question and the tool call, not the answer.
      await expect.poll(messagesText).toContain('→ calculator({"expression":"(2+3)*4"})');
      expect(await messagesText()).not.toContain("(2+3)*4 = 20.");
      await shot("fork-opened");
    });

    it("adds a schedule that fires a run, and shows the application state it changed", async () => {
      await open("sched-1");
      await page.fill("#sched-when", "1");
      await page.fill("#sched-payload", '{"message":"What is 6*7?"}');
      await page.click("#schedule-form button[type=submit]");
      await expect.poll(() => page.textContent("#schedules")).toContain("reminder");
      await shot("schedule-added");
      await expect.poll(messagesText, { timeout: 30_000 }).toContain("6*7 = 42.");
      await expect.poll(() => page.textContent("#schedules")).toContain("no schedules");
      await expect.poll(() => page.textContent("#state")).toContain('"result": 42');
      await expect.poll(() => page.textContent("#usage")).toContain("1 tool call");
      await expect.poll(() => page.textContent("#sessions")).toContain("assistant/sched-1");
      await shot("schedule-fired");
    });

    it("marks an interrupted answer and keeps one bubble after resume", async () => {
      await open("interrupt-1");
      await send("hello there");
      await page.waitForSelector("#messages .msg.assistant.streaming", { timeout: 30_000 });
      await page.click("#interrupt");
      await page.waitForSelector("#run button.resume", { timeout: 30_000 });
      expect(await pill()).toBe("interrupted");
      await expect.poll(() => page.textContent("#messages .marker")).toBe("interrupted here");
      await shot("interrupted");
      await page.click("#run button.resume");
      await expect.poll(pill, { timeout: 30_000 }).toBe("completed");
      await expect
        .poll(() => page.textContent("#messages .marker"))
        .toBe("interrupted here, then resumed");
      // The server keeps two assistant messages (the cut step and the resumed one); the page one bubble.
      expect(await page.locator("#messages .msg.assistant").count()).toBe(1);
      expect(await messagesText()).toContain("to talk to a real model.");
      await shot("resumed");
    });

    it("links a sub-agent's session from its parent, and back", async () => {
      await open("research-1");
      await send("research durable objects");
      await expect.poll(messagesText, { timeout: 30_000 }).toContain("The researcher says:");
      await page.click("#messages a.subagent");
      await page.waitForSelector("#parent a.parent-link");
      expect(await page.textContent("#parent")).toContain("assistant/research-1");
      await expect.poll(messagesText).toContain("Research notes on durable objects");
      await shot("subagent-session");
    });

    it("shows a bad session id's error, clears the previous session and does not retry or remember it", async () => {
      await open("live-1");
      expect(await page.locator("#messages .msg").count()).toBeGreaterThan(0);
      const from = requests.length;
      await page.fill("#session", "bad id!");
      await page.click("#open");
      await expect.poll(() => page.textContent("#error")).toContain("400 invalid_path");
      expect(await page.locator("#messages .msg").count()).toBe(0);
      expect(await page.locator("#events tr").count()).toBe(0);
      expect(await page.textContent("#conn")).toBe("not connected");
      const recent = await page.evaluate(() => localStorage.getItem("da.sessions") ?? "");
      expect(recent).not.toContain("bad id!");
      // Only the status was asked: no live stream was opened, so nothing retries.
      const bad = requests.slice(from).filter((url) => url.includes("bad%20id!"));
      expect(bad.every((url) => url.endsWith("/status"))).toBe(true);
      await shot("bad-session-id");
      expect(errors).toEqual([]);
    });
  });
});
