import { parseArgs } from 'node:util';
import { TrytonClient, TrytonError, parseTrytonUrl } from './client.ts';
import { prepareTryton } from './setup.ts';

export const ERP_SETUP_USAGE = `Usage: npm run c2c -- erp setup [--url URL] [--company NAME] [--currency USD|EUR]
                            [--year YYYY]... [--payment-term-days N]

Prepares an empty Tryton database for the ERP adapter (ERP_ADAPTER=tryton), idempotently: the
currency, the company (and the user working for it), a minimal chart of accounts with default
receivable and payable, one fiscal year per --year with monthly periods and invoice sequences, a
customer payment term and a cash payment method. Everything is found before it is created, so a
second run changes nothing. Tax needs no Tryton tax records: billing's tax arrives on every
document as manual tax lines, one per rate.

--url                TRYTON_URL by default: http://USER:PASSWORD@HOST:PORT/DATABASE
--company            the company Tryton keeps our books for (TRYTON_COMPANY, default C2C Demo Company)
--currency           USD or EUR (TRYTON_CURRENCY, default USD)
--year               a fiscal year to prepare; repeat for several (default: this year)
--payment-term-days  customer payment term in days (default 30)

Exit codes: 0 prepared, 1 Tryton refused or is unreachable, 2 usage error.`;

/** `c2c erp setup`: prints each step; returns the exit code. */
export async function erpSetup(
  argv: string[],
  env: Readonly<Record<string, string | undefined>>,
  out: (line: string) => void = console.log,
  err: (line: string) => void = console.error,
): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        url: { type: 'string' },
        company: { type: 'string' },
        currency: { type: 'string' },
        year: { type: 'string', multiple: true },
        'payment-term-days': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    err(`${(error as Error).message}\n\n${ERP_SETUP_USAGE}`);
    return 2;
  }
  if (values.help) {
    out(ERP_SETUP_USAGE);
    return 0;
  }
  const usage = (message: string) => {
    err(`${message}\n\n${ERP_SETUP_USAGE}`);
    return 2;
  };
  const url = values.url ?? env.TRYTON_URL;
  if (!url) return usage('--url is required (or set TRYTON_URL)');
  try {
    parseTrytonUrl(url, values.url ? '--url' : 'TRYTON_URL');
  } catch (error) {
    return usage((error as Error).message);
  }
  const currency = values.currency ?? env.TRYTON_CURRENCY ?? 'USD';
  if (currency !== 'USD' && currency !== 'EUR')
    return usage(`--currency must be USD or EUR, got ${currency}`);
  const years = (values.year ?? [String(new Date().getUTCFullYear())]).map(Number);
  const badYear = (values.year ?? []).find((y) => !/^\d{4}$/.test(y) || Number(y) < 2000 || Number(y) > 2100);
  if (badYear !== undefined) return usage(`--year must be a year from 2000 to 2100, got ${badYear}`);
  const termText = values['payment-term-days'] ?? '30';
  const paymentTermDays = Number(termText);
  if (!/^\d+$/.test(termText) || paymentTermDays < 0 || paymentTermDays > 365)
    return usage(`--payment-term-days must be a whole number from 0 to 365, got ${termText}`);
  const companyName = values.company ?? env.TRYTON_COMPANY ?? 'C2C Demo Company';

  const client = new TrytonClient(url);
  try {
    for (const fiscalYear of years) {
      out(`Preparing ${client.config.display} for ${companyName}, fiscal year ${fiscalYear}…`);
      const started = Date.now();
      await prepareTryton(client, {
        companyName,
        currency,
        fiscalYear,
        taxes: [],
        paymentTermDays,
        onProgress: (step) => out(`  ${step}`),
      });
      out(`  done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    out(
      `Ready: ERP_ADAPTER=tryton TRYTON_URL=<the url> TRYTON_COMPANY="${companyName}" TRYTON_CURRENCY=${currency}`,
    );
    return 0;
  } catch (error) {
    err(
      error instanceof TrytonError
        ? `erp setup: ${error.message}`
        : `erp setup failed: ${error instanceof Error ? error.message : String(error)}`,
    );
    return 1;
  } finally {
    await client.logout();
  }
}
