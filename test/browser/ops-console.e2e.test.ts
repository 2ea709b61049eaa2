import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '@c2c/apps/stack';
import { amend, aSyncedSubscription, startFaultStack, untilStatus } from '../faults/support.ts';

// The ops console (ops/src/console) in a real browser: Debian's Chromium driven by
// playwright-core, against the in-process stack. CI installs Chromium; elsewhere these tests are
// skipped with the reason in their name and on stderr.

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const skipReason = `skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;
if (!hasChromium) console.warn(`ops console browser tests ${skipReason}`);

let stack: Stack;
let base: string;
beforeAll(async () => {
  stack = await startFaultStack();
  base = stack.gatewayUrl.replace(/\/graphql$/, '');
});
afterAll(() => stack?.stop());

describe('the /ops route', () => {
  it('serves the page and its assets with a strict content security policy', async () => {
    for (const [path, type] of [
      ['/ops', 'text/html'],
      ['/ops/app.js', 'text/javascript'],
      ['/ops/console.css', 'text/css'],
      ['/ops/operations.json', 'application/json'],
    ] as const) {
      const response = await fetch(base + path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toContain(type);
      expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    }
    const html = await (await fetch(`${base}/ops`)).text();
    expect(html, 'no inline script').not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const { operations } = (await (await fetch(`${base}/ops/operations.json`)).json()) as {
      operations: Record<string, { id: string; body: string }>;
    };
    expect(Object.keys(operations)).toContain('Amendments');
    expect(operations.DeadLetters?.body).toMatch(/^query DeadLetters/);
    expect((await fetch(`${base}/ops/nothing.js`)).status).toBe(404);
    expect((await fetch(`${base}/ops`, { method: 'POST' })).status).toBe(405);
    const etag = (await fetch(`${base}/ops/app.js`)).headers.get('etag') ?? '';
    expect((await fetch(`${base}/ops/app.js`, { headers: { 'if-none-match': etag } })).status).toBe(304);
  });
});

describe.skipIf(!hasChromium)(`the ops console in Chromium${hasChromium ? '' : ` (${skipReason})`}`, () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox'] });
  });
  afterAll(() => browser?.close());

  /** A page that records console errors and uncaught exceptions (a CSP violation is one). */
  async function openConsole(): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`${base}/ops`);
    return { page, problems };
  }

  async function signIn(page: Page, role: 'finance' | 'portal' | 'admin'): Promise<void> {
    await page.locator('#token').fill(await stack.token(role));
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  it('signs in, shows a planted dead letter, replays it, and shows the amendment COMPLETED', async () => {
    const url = stack.gatewayUrl;
    const { subscriptionId } = await aSyncedSubscription(url, 2);
    // The CRM refuses every write to this subscription's contract line: its consumer dead-letters.
    const fn = `console_${randomUUID().replace(/-/g, '')}`;
    await sql
      .raw(
        `create function customer.${fn}() returns trigger language plpgsql as $$
         begin raise exception 'contract_line of % is locked', new.subscription_id; end $$;
         create trigger ${fn} before update on customer.contract_line for each row
         when (new.subscription_id = '${subscriptionId}') execute function customer.${fn}();`,
      )
      .execute(stack.database.db);
    const { amendment } = await amend(url, { subscriptionId, seats: 1, effectiveDate: '2026-03-20' });
    await untilStatus(url, amendment.id, 'EXCEPTION');

    const { page, problems } = await openConsole();
    await signIn(page, 'finance');

    const row = page.locator(`#amendments tr[data-amendment-id="${amendment.id}"]`);
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 15_000 }).toBe('EXCEPTION');
    await expect
      .poll(() => row.locator('td[data-system="CRM"]').getAttribute('data-step-status'))
      .toBe('FAILED');
    const letter = page.locator(`#dead-letters tr[data-subject="${subscriptionId}"]`);
    await letter.waitFor({ timeout: 15_000 });
    expect(await letter.getAttribute('data-dead-letter')).toMatch(/^CRM:/);
    expect(await letter.innerText()).toContain('is locked');
    expect(await page.locator('#kpi-dead .kpi-value').innerText()).toBe('1');

    if (process.env.OPS_CONSOLE_SCREENSHOT)
      await page.screenshot({ path: process.env.OPS_CONSOLE_SCREENSHOT, fullPage: true });

    // Fix the cause, then press Replay: the CRM applies the event and acknowledges the step.
    await sql.raw(`drop trigger ${fn} on customer.contract_line`).execute(stack.database.db);
    await letter.getByRole('button', { name: /Replay/ }).click();
    await expect
      .poll(() => page.locator('#toast').innerText(), { timeout: 15_000 })
      .toMatch(/CRM #\d+: applied/);
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 30_000 }).toBe('COMPLETED');
    expect(await row.locator('td[data-system="CRM"]').getAttribute('data-step-status')).toBe('DONE');
    await letter.waitFor({ state: 'detached', timeout: 15_000 });
    expect(await page.locator('#banner').isHidden()).toBe(true);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('tells a portal token that the console is for the finance and admin roles', async () => {
    const { page, problems } = await openConsole();
    await signIn(page, 'portal');
    const message = page.locator('#forbidden');
    await message.waitFor({ timeout: 15_000 });
    expect(await message.innerText()).toContain('This console is for the finance and admin roles');
    expect(await message.innerText()).toContain('role portal');
    expect(await page.locator('#dashboard').isHidden()).toBe(true);
    expect(await page.evaluate("sessionStorage.getItem('c2c.ops.token')")).toBeNull();
    // The gateway answered 403 FORBIDDEN: the browser logs the failed request; nothing else is wrong.
    expect(problems.filter((p) => !/status of 403/.test(p))).toEqual([]);
    await page.close();
  });

  it('names the system that is down and keeps showing the others', async () => {
    const { page } = await openConsole();
    await signIn(page, 'finance');
    await page.locator('#dashboard').waitFor();
    await stack.stopSubgraph('finance');
    try {
      const banner = page.locator('#banner');
      await banner.waitFor({ timeout: 20_000 });
      expect(await banner.innerText()).toContain('ERP is unavailable');
      expect(await page.locator('#amendments tbody tr[data-amendment-id]').count()).toBeGreaterThan(0);
    } finally {
      await stack.startSubgraph('finance');
    }
    await page.locator('#banner').waitFor({ state: 'hidden', timeout: 30_000 });
    await page.close();
  });
});
