import { randomUUID } from 'node:crypto';
import { addDays, todayUtc } from '@c2c/platform/core';
import { operation } from '@c2c/schema/operations';
import { GATEWAY_HELP, parseOptions, UsageError, type Command } from '../lib/command.ts';
import {
  describeFetchFailure,
  gatewayClient,
  GATEWAY_OPTIONS,
  gatewayUrl,
  resolveToken,
} from '../lib/gateway-client.ts';

const USAGE = `Usage: npm run c2c -- demo exception [--url URL] [--token JWT]

Development only, against the stack of \`npm start\`: shows the exception path of an amendment.
It creates a customer with a subscription, makes the CRM refuse that subscription's contract line
(a development route of the stack plants a database trigger), amends the seats, and waits until the
CRM's consumer has dead-lettered the event and the amendment is in EXCEPTION. Then open the ops
console (/ops, with a finance token) and press Replay on the CRM dead letter — or run
\`npm run c2c -- replay --system CRM --id N\` — and the amendment turns COMPLETED.
It takes as long as the CRM's retries (EVENT_MAX_ATTEMPTS, EVENT_RETRY_BASE_MS): about 10 seconds.
The token must be an admin token of the stack's development issuer (the default, from DATA_DIR).

${GATEWAY_HELP}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Payload {
  userErrors: { code: string; message: string }[];
}

function ok<P extends Payload>(what: string, payload: P): P {
  if (payload.userErrors.length)
    throw new Error(`${what}: ${payload.userErrors.map((e) => `${e.code} ${e.message}`).join('; ')}`);
  return payload;
}

/** Polls `check` every 250 ms until it returns a value, or fails after `ms` saying what it waited for. */
async function until<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up after ${ms / 1000}s waiting for ${what}`);
    await sleep(250);
  }
}

export const command: Command = {
  name: 'demo',
  summary:
    'development demos: `demo exception` leaves an amendment in EXCEPTION with a dead letter to replay',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseOptions(
      {
        args: argv,
        allowPositionals: true,
        options: { help: { type: 'boolean', short: 'h', default: false }, ...GATEWAY_OPTIONS },
      },
      USAGE,
    );
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (positionals.length !== 1 || positionals[0] !== 'exception')
      throw new UsageError(`which demo? Only \`demo exception\` exists.\n\n${USAGE}`);
    const url = gatewayUrl(values.url);
    const token = await resolveToken(values.token, 'admin');
    const gql = gatewayClient(url, token);
    const run = randomUUID().slice(0, 8);
    const today = todayUtc();

    const customer = ok(
      'createCustomer',
      (
        await gql<{ createCustomer: Payload & { customer: { id: string; name: string } } }>(
          operation('admin.CreateCustomer'),
          {
            input: {
              name: `Demo Exception ${run} GmbH`,
              email: `ap+${run}@demo-exception.example`,
              country: 'DE',
              businessUnit: 'EMEA-SMB',
              segment: 'SMB',
              idempotencyKey: `demo-exception-customer-${run}`,
            },
          },
        )
      ).createCustomer,
    ).customer;
    const planCode = `DEMO-EXCEPTION-${run.toUpperCase()}`;
    ok(
      'createPlan',
      (
        await gql<{ createPlan: Payload }>(operation('admin.CreatePlan'), {
          input: {
            code: planCode,
            name: 'Demo (EUR)',
            billingPeriod: 'MONTH',
            unitPrice: { amount: '10.00', currency: 'EUR' },
            idempotencyKey: `demo-exception-plan-${run}`,
          },
        })
      ).createPlan,
    );
    const subscription = await until('billing to know the new customer', 30_000, async () => {
      const { createSubscription } = await gql<{
        createSubscription: Payload & { subscription: { id: string } | null };
      }>(operation('admin.CreateSubscription'), {
        input: {
          customerId: customer.id,
          planCode,
          seats: 5,
          startDate: addDays(today, -5),
          idempotencyKey: `demo-exception-subscription-${run}`,
        },
      });
      if (createSubscription.userErrors[0]?.code === 'UNKNOWN_CUSTOMER') return undefined;
      return ok('createSubscription', createSubscription).subscription ?? undefined;
    });
    await until('the CRM to hold the new subscription', 30_000, async () => {
      const { customer: view } = await gql<{ customer: { contractValue: unknown } | null }>(
        operation('portal.CustomerToCash'),
        { customerId: customer.id },
      );
      return view?.contractValue ? true : undefined;
    });
    console.log(
      `Created ${customer.name} (customer ${customer.id}) with subscription ${subscription.id}, 5 seats.`,
    );

    const planted = await plant(url, token, subscription.id);
    console.log(`The CRM now refuses subscription ${subscription.id}'s contract line (trigger ${planted}).`);

    const { amendSubscription } = await gql<{ amendSubscription: Payload & { amendment: { id: string } } }>(
      operation('support.AmendSubscription'),
      {
        input: {
          subscriptionId: subscription.id,
          seats: 6,
          effectiveDate: today,
          reason: 'demo exception',
          idempotencyKey: `demo-exception-amendment-${run}`,
        },
      },
    );
    const amendment = ok('amendSubscription', amendSubscription).amendment;
    console.log(
      `Amended the seats 5 → 6: amendment ${amendment.id}. Waiting for the CRM's retries to give up…`,
    );

    type Step = { system: string; status: string; attempts: number; lastError: string | null };
    const steps = await until('the amendment to reach EXCEPTION', 180_000, async () => {
      const { amendment: status } = await gql<{ amendment: { status: string; steps: Step[] } }>(
        operation('support.AmendmentStatus'),
        { id: amendment.id },
      );
      return status.status === 'EXCEPTION' ? status.steps : undefined;
    });
    const crm = steps.find((s) => s.system === 'CRM');
    type Letter = { id: string; subject: string; eventType: string; attempts: number };
    const letter = await until('the CRM dead letter', 30_000, async () => {
      const { crm: letters } = await gql<{ crm: Letter[] }>(operation('ops.DeadLetters'), {});
      return letters.find((l) => l.subject === subscription.id);
    });
    const base = url.replace(/\/graphql\/?$/, '');
    console.log(`
Amendment ${amendment.id} is in EXCEPTION: its CRM step FAILED after ${crm?.attempts ?? '?'} attempts
(${crm?.lastError ?? 'no error recorded'}).
CRM dead letter #${letter.id} (${letter.eventType}, ${letter.attempts} attempts) waits for a replay.

To complete it:
  open ${base}/ops, sign in with the output of \`npm run --silent token -- --role finance\`,
  and press Replay on CRM #${letter.id}; the amendment turns COMPLETED.
  Or: npm run c2c -- replay --system CRM --id ${letter.id}`);
    return 0;
  },
};

/** Asks the stack's development route to plant the CRM fault for one subscription. */
async function plant(graphqlUrl: string, token: string | undefined, subscriptionId: string): Promise<string> {
  const target = graphqlUrl.replace(/\/graphql\/?$/, '/dev/demo/crm-fault');
  let response: Response;
  try {
    response = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ subscriptionId }),
    });
  } catch (error) {
    throw new Error(describeFetchFailure(target, error), { cause: error });
  }
  const body = (await response.json().catch(() => ({}))) as { planted?: string; error?: string };
  if (response.status === 404)
    throw new Error(
      `${target} answered 404: the demo needs the development stack of \`npm start\` (not NODE_ENV=production, not the scaled-out cluster)`,
    );
  if (!response.ok || !body.planted)
    throw new Error(`${target} answered HTTP ${response.status}: ${body.error ?? 'no answer'}`);
  return body.planted;
}
