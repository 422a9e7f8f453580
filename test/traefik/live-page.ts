/**
 * The operator page in a real Chromium, kept open through a live suite: it refreshes itself from
 * /api/v1/status every 2 s, so each check waits until the page shows (or stops showing) a state.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { waitFor } from '../helpers/sidecar.js';

const CHROMIUM = '/usr/bin/chromium';

/** Whether Chromium is here; in CI its absence is an error, elsewhere the page checks are skipped with the reason. */
export function haveChromium(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI) throw new Error(`${CHROMIUM} is required in CI`);
  console.warn(`the operator page checks are skipped: ${CHROMIUM} is missing`);
  return false;
}

/** An open operator page. */
export interface OperatorPage {
  /** Wait until an element matching `selector` is on the page. */
  shows(selector: string): Promise<void>;
  /** Wait until no element matches `selector`. */
  lacks(selector: string): Promise<void>;
  /** The text of the element matching `selector` (the first one). */
  text(selector: string): Promise<string>;
  /** Wait until the health panel's text matches `re`. */
  health(re: RegExp): Promise<void>;
  close(): Promise<void>;
}

/** Open the operator page of the sidecar at `base`. */
export async function openOperatorPage(base: string, timeoutMs = 15_000): Promise<OperatorPage> {
  const profile = await mkdtemp(path.join(tmpdir(), 'tsync-chromium-'));
  let context: BrowserContext | undefined;
  let page: Page;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu'],
    });
    page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${base}/`);
  } catch (err) {
    await context?.close();
    await rm(profile, { recursive: true, force: true });
    throw err;
  }
  return {
    shows: (selector) => page.locator(selector).first().waitFor({ state: 'attached', timeout: timeoutMs }),
    lacks: (selector) => page.locator(selector).first().waitFor({ state: 'detached', timeout: timeoutMs }),
    text: (selector) => page.locator(selector).first().innerText(),
    health: async (re) => {
      await waitFor(async () => re.test(await page.locator('#health').innerText()), timeoutMs, 200);
    },
    async close() {
      await context?.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
