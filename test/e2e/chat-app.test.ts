/**
 * The example chat app (examples/chat-app: React, Vite, `useAgentChat`) in headless Chromium,
 * served with its agent by one `wrangler dev`: send a message, reload mid-answer and see it
 * finish once, approve a tool call. Screenshots go to test/e2e/artifacts/. Needs Chromium
 * (`apt-get install chromium`, or CHROMIUM_PATH); skipped without it unless REQUIRE_BROWSER=1.
 */
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWranglerDev, type WranglerDev } from "../support/wrangler-dev.ts";
import { tempState } from "./e2e-support.ts";

const PLAYWRIGHT = "playwright-core";
const APP = resolve(import.meta.dirname, "../../examples/chat-app");
const ARTIFACTS = resolve(import.meta.dirname, "artifacts");

interface Page {
  on(event: "pageerror", listener: (error: Error) => void): void;
  goto(url: string): Promise<unknown>;
  reload(): Promise<unknown>;
  fill(selector: string, value: string): Promise<void>;
  click(selector: string): Promise<void>;
  screenshot(options: { path: string; fullPage?: boolean }): Promise<unknown>;
  textContent(selector: string): Promise<string | null>;
  locator(selector: string): {
    count(): Promise<number>;
    last(): { textContent(): Promise<string | null> };
    nth(index: number): { textContent(): Promise<string | null> };
    inputValue(): Promise<string>;
  };
}
interface Playwright {
  chromium: {
    launch(options: { executablePath: string; args: string[] }): Promise<{
      newPage(): Promise<Page>;
      close(): Promise<void>;
    }>;
  };
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
  throw new Error(`the chat app test needs Chromium at ${chromium} and playwright-core`);

const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"];
const LONG = /^I am the scripted demo model\. .*to talk to a real model\.$/;

describe.skipIf(!available)("the example chat app in headless Chromium", () => {
  const state = tempState("e2e-chat-app");
  let dev: WranglerDev;

  beforeAll(async () => {
    await build({ configFile: resolve(APP, "vite.config.ts") });
    mkdirSync(ARTIFACTS, { recursive: true });
    dev = await startWranglerDev({
      cwd: APP,
      persistTo: state,
      vars: { SCRIPTED_DELAY_MS: "200" },
      env: { CLOUDFLARE_CF_FETCH_ENABLED: "false" },
    });
  });
  afterAll(async () => {
    await dev?.stop();
    rmSync(state, { recursive: true, force: true });
  });

  it("sends, survives a reload mid-answer, and approves a tool call", async () => {
    const { chromium: browserType } = (await import(PLAYWRIGHT)) as Playwright;
    const browser = await browserType.launch({ executablePath: chromium, args: ARGS });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));
      await page.goto(`${dev.baseUrl}/?chat=browser-1`);
      await expect.poll(() => page.textContent("[data-testid=status]")).toBe("ready");

      await page.fill("input[aria-label=message]", "hello there");
      await page.click("button[type=submit]");
      const answer = () => page.locator(".message.assistant").last().textContent();
      await expect
        .poll(async () => (await answer())?.length ?? 0, { timeout: 20_000 })
        .toBeGreaterThan(30);
      await page.screenshot({ path: `${ARTIFACTS}/chat-app-1-mid-answer.png` });

      await page.reload();
      await expect
        .poll(() => page.textContent("[data-testid=status]"), { timeout: 30_000 })
        .toBe("ready");
      await expect.poll(answer, { timeout: 30_000 }).toMatch(LONG);
      expect(await page.locator(".message.assistant").count()).toBe(1);
      expect(await page.locator(".message.user").count()).toBe(1);
      await page.screenshot({ path: `${ARTIFACTS}/chat-app-2-after-reload.png` });

      await page.fill("input[aria-label=message]", "remember to water the plants");
      await page.click("button[type=submit]");
      await expect
        .poll(answer, { timeout: 30_000 })
        .toContain("Noted. This session now has 1 note(s).");
      await page.fill("input[aria-label=message]", "clear my notes");
      await page.click("button[type=submit]");
      await expect
        .poll(() => page.locator(".approval button").count(), { timeout: 30_000 })
        .toBe(2);
      await page.screenshot({ path: `${ARTIFACTS}/chat-app-3-approval.png` });
      await page.click(".approval button:first-child");
      await expect.poll(answer, { timeout: 30_000 }).toContain("Deleted 1 note(s).");
      await page.screenshot({ path: `${ARTIFACTS}/chat-app-4-approved.png`, fullPage: true });
      // A reload restores the same conversation (GET .../chat-history) as the live page had.
      const shown = async () => {
        const messages = page.locator(".message");
        const texts: (string | null)[] = [];
        for (let i = 0; i < (await messages.count()); i++)
          texts.push(await messages.nth(i).textContent());
        return texts;
      };
      const live = await shown();
      expect(live).toHaveLength(6);
      await page.reload();
      await expect
        .poll(() => page.textContent("[data-testid=status]"), { timeout: 30_000 })
        .toBe("ready");
      await expect.poll(shown, { timeout: 30_000 }).toEqual(live);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it("two tabs sending at once: the refused one says why in words and takes its message back", async () => {
    const { chromium: browserType } = (await import(PLAYWRIGHT)) as Playwright;
    const browser = await browserType.launch({ executablePath: chromium, args: ARGS });
    try {
      const [first, second] = [await browser.newPage(), await browser.newPage()];
      const errors: string[] = [];
      for (const page of [first, second]) {
        page.on("pageerror", (error) => errors.push(error.message));
        await page.goto(`${dev.baseUrl}/?chat=two-tabs`);
        await expect.poll(() => page.textContent("[data-testid=status]")).toBe("ready");
      }
      await first.fill("input[aria-label=message]", "hello there");
      await first.click("button[type=submit]");
      const answer = () => first.locator(".message.assistant").last().textContent();
      await expect
        .poll(async () => (await answer())?.length ?? 0, { timeout: 20_000 })
        .toBeGreaterThan(30);

      // The second tab still shows the chat as it was: ready. Its send meets the first's run.
      await second.fill("input[aria-label=message]", "me too");
      await second.click("button[type=submit]");
      const said = () => second.textContent("p.error");
      await expect.poll(said, { timeout: 20_000 }).toContain("already has run");
      const text = (await said()) ?? "";
      // The server's message, which says what to do, not its JSON.
      expect(text).toContain("interrupt or abort it, or wait for it to finish");
      expect(text).not.toContain("{");
      await second.screenshot({ path: `${ARTIFACTS}/chat-app-5-refused-send.png` });
      // The message it could not send is not shown as sent; it is back in the input.
      expect(await second.locator(".message.user").count()).toBe(0);
      expect(await second.locator("input[aria-label=message]").inputValue()).toBe("me too");
      await expect.poll(answer, { timeout: 30_000 }).toMatch(LONG);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
