import { GATEWAY_HELP, parseOptions, UsageError, wholeNumber, type Command } from '../lib/command.ts';
import { gatewayClient, GATEWAY_OPTIONS, gatewayUrl, resolveToken } from '../lib/gateway-client.ts';
import { operation } from '@c2c/schema/operations';

const SYSTEMS = { CRM: 'Crm', BILLING: 'Billing', ERP: 'Erp' } as const;
type System = keyof typeof SYSTEMS;

interface Letter {
  id: string;
  consumer: string;
  eventType: string;
  subject: string;
  correlationId: string | null;
  error: string;
  attempts: number;
  deadAt: string;
  replayedAt: string | null;
}

const LIST_USAGE = `Usage: npm run c2c -- dead-letters [--all] [--first N] [--json] [--url URL] [--token JWT]

Lists the dead letters of every system (CRM, billing, ERP) through the gateway, newest first.
--all includes the ones already replayed; --first N lists at most N per system (1–100, default 50);
--json prints them as JSON.

${GATEWAY_HELP}`;

const REPLAY_USAGE = `Usage: npm run c2c -- replay --system <CRM|BILLING|ERP> (--id ID [--id ID …] | --all) [--url URL] [--token JWT]

Replays dead letters of one system through its own consumer and inbox: each effect happens exactly
once, however often you run this. --id takes the numbers \`dead-letters\` prints (#12), up to 100;
--all replays the 100 oldest waiting; run again for more. Exits 1 when any replay failed, 2 on a
usage error.

${GATEWAY_HELP}`;

export const deadLetters: Command = {
  name: 'dead-letters',
  summary: 'list dead letters of every system',
  usage: LIST_USAGE,
  async run(argv) {
    const { values } = parseOptions(
      {
        args: argv,
        options: {
          all: { type: 'boolean', default: false },
          first: { type: 'string', default: '50' },
          json: { type: 'boolean', default: false },
          help: { type: 'boolean', short: 'h', default: false },
          ...GATEWAY_OPTIONS,
        },
      },
      LIST_USAGE,
    );
    if (values.help) {
      console.log(LIST_USAGE);
      return 0;
    }
    const first = wholeNumber('--first', values.first, 1, 100);
    const gql = gatewayClient(gatewayUrl(values.url), await resolveToken(values.token, 'finance'));
    const data = await gql<Record<'crm' | 'billing' | 'erp', Letter[]>>(operation('ops.DeadLetters'), {
      includeReplayed: values.all,
      first,
    });
    if (values.json) {
      console.log(JSON.stringify(data));
      return 0;
    }
    const rows = (['crm', 'billing', 'erp'] as const).flatMap((system) =>
      data[system].map((l) => ({ system: system.toUpperCase(), ...l })),
    );
    if (rows.length === 0) {
      console.log('No dead letters.');
      return 0;
    }
    for (const r of rows) {
      console.log(
        `${r.system.padEnd(8)} #${r.id.padEnd(5)} ${r.eventType.padEnd(20)} ${r.consumer.padEnd(26)} attempts ${r.attempts} ` +
          `${r.replayedAt ? `replayed ${r.replayedAt}` : `dead since ${r.deadAt}`}\n         correlation ${r.correlationId ?? '-'} · ${r.error}`,
      );
    }
    return 0;
  },
};

export const replay: Command = {
  name: 'replay',
  summary: 'replay dead letters of one system (exactly once)',
  usage: REPLAY_USAGE,
  async run(argv) {
    const { values } = parseOptions(
      {
        args: argv,
        options: {
          system: { type: 'string' },
          id: { type: 'string', multiple: true },
          all: { type: 'boolean', default: false },
          help: { type: 'boolean', short: 'h', default: false },
          ...GATEWAY_OPTIONS,
        },
      },
      REPLAY_USAGE,
    );
    if (values.help) {
      console.log(REPLAY_USAGE);
      return 0;
    }
    const system = values.system?.toUpperCase() as System | undefined;
    if (!system || !(system in SYSTEMS))
      throw new UsageError(
        `${values.system === undefined ? '--system is required' : `--system ${JSON.stringify(values.system)} is not a system`}: give one of ${Object.keys(SYSTEMS).join(', ')}\n\n${REPLAY_USAGE}`,
      );
    if (!values.id?.length && !values.all)
      throw new UsageError(`say which dead letters: --id ID (repeatable) or --all\n\n${REPLAY_USAGE}`);
    if (values.id?.length && values.all) throw new UsageError('give --id or --all, not both');
    if ((values.id?.length ?? 0) > 100)
      throw new UsageError(`at most 100 --id at once, got ${values.id?.length}`);
    const malformed = values.id?.find((id) => !/^[1-9]\d{0,15}$/.test(id));
    if (malformed !== undefined)
      throw new UsageError(
        `--id takes a dead letter's number as dead-letters prints it (#12 → --id 12), got ${JSON.stringify(malformed)}`,
      );
    const name = SYSTEMS[system];
    const gql = gatewayClient(gatewayUrl(values.url), await resolveToken(values.token, 'finance'));
    type Payload = {
      results: { id: string; ok: boolean; alreadyApplied: boolean; error: string | null }[];
      userErrors: { code: string; message: string }[];
    };
    const data = await gql<Record<string, Payload>>(operation(`ops.Replay${name}DeadLetters`), {
      ...(values.id?.length ? { ids: values.id } : {}),
      all: values.all,
    });
    const payload = data[`replay${name}DeadLetters`] as Payload;
    for (const e of payload.userErrors) console.error(`${e.code}: ${e.message}`);
    if (payload.userErrors.length) return 1;
    if (payload.results.length === 0) console.log(`No ${system} dead letters waiting.`);
    for (const r of payload.results) {
      console.log(
        `${system} #${r.id}: ${r.ok ? (r.alreadyApplied ? 'already applied (nothing ran twice)' : 'applied') : `FAILED — ${r.error}`}`,
      );
    }
    return payload.results.every((r) => r.ok) ? 0 : 1;
  },
};
