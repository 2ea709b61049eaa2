import { existsSync, mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { chromium } from 'playwright-core';
import { silentLogger, todayUtc } from '@c2c/platform/core';
import { operation } from '@c2c/schema/operations';
import { seedDemoBook } from '@c2c/apps/seed';
import { startStack } from '@c2c/apps/stack';

const USAGE = `Usage: npx tsx scripts/screenshot-console.ts [--out FILE] [--customers N]

Starts the in-memory stack, seeds the demo book, makes a few seat amendments — one the CRM and one
the ERP refuse, so the console has exceptions, dead letters, a failed posting and a reconciliation
difference to show — and saves a screenshot of /ops signed in as finance (default
docs/img/ops-console.png). Needs Chromium at /usr/bin/chromium (or CHROMIUM_PATH).`;

const ROOT = join(import.meta.dirname, '..');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: join(ROOT, 'docs', 'img', 'ops-console.png') },
      customers: { type: 'string', default: '12' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return void console.log(USAGE);
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) throw new Error(`no Chromium at ${executablePath}\n\n${USAGE}`);

  const stack = await startStack({
    dataDir: null,
    ports: { gateway: 0, customer: 0, subscription: 0, finance: 0 },
    log: silentLogger(),
    retry: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 100 },
  });
  try {
    const admin = { authorization: `Bearer ${await stack.token('admin')}` };
    await seedDemoBook({
      gatewayUrl: stack.gatewayUrl,
      customers: Number(values.customers),
      today: todayUtc(),
      headers: admin,
    });
    const gql = async <T>(name: string, variables: Record<string, unknown>): Promise<T> => {
      const response = await fetch(stack.gatewayUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...admin },
        body: JSON.stringify({ query: operation(name), variables }),
      });
      const body = (await response.json()) as { data?: T; errors?: unknown[] };
      if (body.errors || !body.data) throw new Error(`${name}: ${JSON.stringify(body.errors)}`);
      return body.data;
    };
    type Subscription = { id: string; status: string; seats: number };
    const list = await gql<{ customers: { nodes: { subscriptions: Subscription[] | null }[] } }>(
      'portal.Customers',
      { first: 50 },
    );
    const active = list.customers.nodes
      .flatMap((c) => c.subscriptions ?? [])
      .filter((s) => s.status === 'ACTIVE');
    if (active.length < 7) throw new Error(`the demo book has only ${active.length} active subscriptions`);

    // One subscription the CRM refuses to update, one whose documents the ERP refuses to post.
    const [crmRefused, erpRefused] = active as [Subscription, Subscription];
    const trigger = `screenshot_${randomUUID().replace(/-/g, '')}`;
    await sql
      .raw(
        `create function customer.${trigger}() returns trigger language plpgsql as $$
         begin raise exception 'contract_line of % is locked by a data migration', new.subscription_id; end $$;
         create trigger ${trigger} before update on customer.contract_line for each row
         when (new.subscription_id = '${crmRefused.id}') execute function customer.${trigger}();
         create function finance.${trigger}() returns trigger language plpgsql as $$
         begin raise exception 'posting period closed for subscription %', new.subscription_id; end $$;
         create trigger ${trigger} before insert on finance.receivable for each row
         when (new.subscription_id = '${erpRefused.id}') execute function finance.${trigger}();`,
      )
      .execute(stack.database.db);
    for (const [i, subscription] of active.slice(0, 7).entries()) {
      const data = await gql<{ amendSubscription: { userErrors: unknown[] } }>('support.AmendSubscription', {
        input: {
          subscriptionId: subscription.id,
          seats: subscription.seats + (i % 3 === 2 ? -1 : 2),
          effectiveDate: todayUtc(),
          idempotencyKey: randomUUID(),
          reason: 'screenshot',
        },
      });
      if (data.amendSubscription.userErrors.length)
        throw new Error(JSON.stringify(data.amendSubscription.userErrors));
    }
    await new Promise((r) => setTimeout(r, 3000));

    const browser = await chromium.launch({ executablePath, args: ['--headless', '--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1440, height: 1000 }, deviceScaleFactor: 1 });
      await page.goto(stack.gatewayUrl.replace(/\/graphql$/, '/ops'));
      await page.locator('#token').fill(await stack.token('finance'));
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.locator('#dead-letters tr[data-dead-letter]').first().waitFor({ timeout: 20_000 });
      await page.waitForTimeout(6000);
      mkdirSync(dirname(resolve(values.out)), { recursive: true });
      await page.screenshot({ path: values.out, fullPage: true });
      console.log(`wrote ${values.out}`);
    } finally {
      await browser.close();
    }
  } finally {
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
