import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '@c2c/apps/stack';
import { startFaultStack } from '../faults/support.ts';
import { startTestStack } from '../support/stack.ts';

// The development explorer (/graphiql) and the demo of the exception path (`c2c demo exception`,
// then Replay in the ops console), in Debian's Chromium driven by playwright-core against the
// in-process stack. Without Chromium the browser tests are skipped with the reason in their name.

const ROOT = join(import.meta.dirname, '..', '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const skipReason = `skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;

let stack: Stack;
let base: string;
beforeAll(async () => {
  stack = await startFaultStack();
  base = stack.gatewayUrl.replace(/\/graphql$/, '');
});
afterAll(() => stack?.stop());

describe('the /graphiql route', () => {
  it('serves GraphiQL and React from this origin with its own CSP, and / redirects there', async () => {
    const root = await fetch(`${base}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/graphiql');
    const html = await (await fetch(`${base}/graphiql`)).text();
    expect(html).toContain('npm run --silent token -- --role portal');
    expect(html, 'no inline script').not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(
      sources.every((s) => s.startsWith('/graphiql/')),
      sources.join(' '),
    ).toBe(true);
    for (const path of sources) {
      const response = await fetch(base + path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-security-policy')).toContain("script-src 'self';");
      expect(response.headers.get('content-security-policy')).toContain("connect-src 'self'");
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    }
    expect((await fetch(`${base}/graphiql/nothing.js`)).status).toBe(404);
  });

  it('is off in production: /graphiql, / and the demo route answer 404', async () => {
    const production = await startTestStack({ gateway: { production: true } });
    try {
      const origin = production.gatewayUrl.replace(/\/graphql$/, '');
      expect((await fetch(`${origin}/graphiql`)).status).toBe(404);
      expect((await fetch(`${origin}/`, { redirect: 'manual' })).status).toBe(404);
      expect((await fetch(`${origin}/dev/demo/crm-fault`, { method: 'POST' })).status).toBe(404);
    } finally {
      await production.stop();
    }
  });
});

/** Runs `npm run c2c -- …` as a child process (tsx), as a user would. */
function c2c(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/c2c.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, C2C_TOKEN: '', C2C_URL: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe.skipIf(!hasChromium)(`in Chromium${hasChromium ? '' : ` (${skipReason})`}`, () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox'] });
  });
  afterAll(() => browser?.close());

  /** A page that records console errors (a CSP violation is one) and every request off this origin. */
  async function open(path: string): Promise<{ page: Page; problems: string[]; offOrigin: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    const problems: string[] = [];
    const offOrigin: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    // Offline: anything not from the gateway is recorded and refused.
    await page.route(
      (url) => url.origin !== base,
      async (route) => {
        offOrigin.push(route.request().url());
        await route.abort();
      },
    );
    await page.goto(base + path);
    return { page, problems, offOrigin };
  }

  it('the explorer loads offline and answers a query with a pasted portal token', async () => {
    const { page, problems, offOrigin } = await open('/');
    expect(page.url()).toBe(`${base}/graphiql`);
    await page.locator('.graphiql-container').waitFor({ timeout: 20_000 });
    await page.locator('#token').fill(await stack.token('portal'));
    await page.getByRole('button', { name: 'Use token' }).click();
    expect(await page.locator('#token-state').innerText()).toContain('role portal');
    await page.locator('.graphiql-execute-button').click();
    const result = page.locator('.result-window');
    await expect.poll(() => result.innerText(), { timeout: 20_000 }).toContain('"totalCount"');
    expect(await result.innerText()).not.toContain('UNAUTHENTICATED');
    expect(offOrigin).toEqual([]);
    // Before the token was pasted, the schema request got its 401 (the browser logs it); nothing else.
    expect(problems.filter((p) => !/status of 401/.test(p))).toEqual([]);
    await page.close();
  });

  it('says the gateway is down when /graphql cannot be reached, and keeps the last refresh time', async () => {
    const { page } = await open('/ops');
    await page.locator('#token').fill(await stack.token('finance'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    const live = page.locator('#live');
    await expect.poll(() => live.getAttribute('data-state'), { timeout: 15_000 }).toBe('live');
    // An empty hour's lag axis (no amendment yet on this stack): 0, 500 ms, 1 s — not 0, 1 ms, 1 ms.
    const axis = await page.locator('#lag-chart text.axis').allTextContents();
    expect(axis.slice(0, 3)).toEqual(['0', '500 ms', '1 s']);
    const updated = await page.locator('#live-text').innerText();

    let refused = 0;
    await page.route(`${base}/graphql`, async (route) => {
      refused++;
      await route.abort();
    });
    const banner = page.locator('#banner');
    await expect.poll(() => banner.getAttribute('data-gateway'), { timeout: 20_000 }).toBe('down');
    expect(await banner.innerText()).toContain('The gateway');
    expect(await banner.innerText()).not.toMatch(
      /CRM is unavailable|ERP is unavailable|billing is unavailable/,
    );
    expect(await live.getAttribute('data-state')).toBe('down');
    // The time is the last successful refresh's; it does not advance while refreshes fail.
    const down = await page.locator('#live-text').innerText();
    expect(down).toBe(updated.replace(/^Live/, 'Gateway down'));
    const seen = refused;
    await expect.poll(() => refused, { timeout: 20_000 }).toBeGreaterThanOrEqual(seen + 8);
    expect(await page.locator('#live-text').innerText()).toBe(down);
    // The panels keep what they showed: not "did not answer" for every system.
    expect(await page.locator('#amendments').innerText()).not.toContain('Billing did not answer');

    await page.unroute(`${base}/graphql`);
    await expect.poll(() => live.getAttribute('data-state'), { timeout: 20_000 }).toBe('live');
    expect(await banner.isHidden()).toBe(true);
    await page.close();
  });

  it('c2c demo exception leaves an EXCEPTION that Replay in the console completes', async () => {
    const demo = await c2c([
      'demo',
      'exception',
      '--url',
      stack.gatewayUrl,
      '--token',
      await stack.token('admin'),
    ]);
    expect(demo.stderr).toBe('');
    expect(demo.code).toBe(0);
    const amendmentId = /Amendment (\S+) is in EXCEPTION: its CRM step FAILED after 3 attempts/.exec(
      demo.stdout,
    )?.[1];
    const letterId = /CRM dead letter #(\d+) \(subscription\.amended, 3 attempts\)/.exec(demo.stdout)?.[1];
    expect(amendmentId, demo.stdout).toBeTruthy();
    expect(letterId, demo.stdout).toBeTruthy();
    expect(demo.stdout).toContain(`Or: npm run c2c -- replay --system CRM --id ${letterId}`);

    const { page, problems } = await open('/ops');
    await page.locator('#token').fill(await stack.token('finance'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    const row = page.locator(`#amendments tr[data-amendment-id="${amendmentId}"]`);
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 15_000 }).toBe('EXCEPTION');
    const step = row.locator('td[data-system="CRM"]');
    expect(await step.locator('.attempts').innerText()).toBe('×3');
    const letter = page.locator(`#dead-letters tr[data-dead-letter="CRM:${letterId}"]`);
    await letter.waitFor({ timeout: 15_000 });
    // The dead letter's attempts are its step's.
    expect(await letter.locator('td.num').innerText()).toBe('3');
    expect(await letter.innerText()).toContain('demo exception');

    await letter.getByRole('button', { name: /Replay/ }).click();
    await expect
      .poll(() => page.locator('#toast').innerText(), { timeout: 15_000 })
      .toMatch(new RegExp(`CRM #${letterId}: applied`));
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 30_000 }).toBe('COMPLETED');
    expect(await step.getAttribute('data-step-status')).toBe('DONE');
    const completed = page.locator('#status-filter .chip-completed .count');
    await expect
      .poll(async () => Number(await completed.innerText()), { timeout: 15_000 })
      .toBeGreaterThan(0);
    expect(problems).toEqual([]);
    await page.close();
  });
});
