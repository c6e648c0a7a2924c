/**
 * The web inspector (GET /) in headless Chromium against the real quickstart: send a
 * message, watch the live ledger, see the answer and the status; reload and see the
 * session replayed from the ledger. Needs Chromium (`apt-get install chromium`, or
 * CHROMIUM_PATH); skipped without it unless REQUIRE_BROWSER=1 (set by .ci/run).
 */
import { existsSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WranglerDev } from "../support/wrangler-dev.ts";
import { startQuickstart, tempState } from "./e2e-support.ts";

const PLAYWRIGHT = "playwright-core";

/** The part of playwright-core this test uses. */
interface Playwright {
  chromium: {
    launch(options: { executablePath: string; args: string[] }): Promise<Browser>;
  };
}
interface Browser {
  newPage(): Promise<Page>;
  close(): Promise<void>;
}
interface Page {
  on(event: "pageerror", listener: (error: Error) => void): void;
  on(event: "console", listener: (message: { type(): string; text(): string }) => void): void;
  goto(url: string): Promise<unknown>;
  reload(): Promise<unknown>;
  waitForSelector(selector: string): Promise<unknown>;
  waitForFunction(fn: () => unknown, arg: null, options: { timeout: number }): Promise<unknown>;
  fill(selector: string, value: string): Promise<void>;
  click(selector: string): Promise<void>;
  textContent(selector: string): Promise<string | null>;
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
    dev = await startQuickstart(state);
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
      expect(await page.textContent("#messages")).toContain(
        '→ calculator({"expression":"(2+3)*4"})',
      );
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
});
