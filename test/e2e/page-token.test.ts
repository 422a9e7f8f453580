/**
 * The operator page behind API_TOKEN_FILE in a real browser: opening /?token=<token> once leaves
 * the token out of the address bar and works through its cookie (the page's own requests to
 * /api/v1/* carry it; the page's script knows nothing of tokens); without it the page is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { seedSample } from '../helpers/seed.js';
import { startTestSidecar, waitFor, type TestSidecar } from '../helpers/sidecar.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const inCi = Boolean(process.env.CI);
if (!haveChromium && !inCi) console.log(`skipping the page token browser test: ${CHROMIUM} is missing (apt-get install chromium)`);
const TOKEN = 'page-token-0123456789abcdef';

let t: TestDatabase;
let s: TestSidecar;
let browser: Browser;
let dir: string;

describe.skipIf(!haveChromium && !inCi)('operator page with API_TOKEN_FILE, in Chromium', () => {
  beforeAll(async () => {
    t = await createTestDatabase();
    await seedSample(t.db);
    dir = await mkdtemp(path.join(tmpdir(), 'tsync-page-token-'));
    await writeFile(path.join(dir, 'token'), TOKEN);
    s = await startTestSidecar(t.url, { 'api-token-file': path.join(dir, 'token') });
    await waitFor(async () => (await s.get('/readyz')).status === 200, 15_000);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  });
  afterAll(async () => {
    await browser?.close();
    await s?.stop();
    await t?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('/?token= once: the page loads its projects, the address bar has no token, no request is refused', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const refused: string[] = [];
    page.on('response', (res) => {
      if (res.status() >= 400) refused.push(`${res.status()} ${res.url()}`);
    });
    await page.goto(`http://localhost:${s.port}/?token=${TOKEN}`);
    expect(page.url()).toBe(`http://localhost:${s.port}/`);
    await page.locator('tr[data-project="shop"]').first().waitFor({ timeout: 15_000 });
    expect(refused).toEqual([]);
    const cookies = await context.cookies();
    expect(cookies.map((c) => [c.httpOnly, c.sameSite])).toEqual([[true, 'Strict']]);
    expect(JSON.stringify(cookies)).not.toContain(TOKEN);
    await context.close();
  });

  it('without the token the page is refused (401)', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const res = await page.goto(`http://localhost:${s.port}/`);
    expect(res?.status()).toBe(401);
    await context.close();
  });
});
