import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import type { RequestContext } from '@c2c/platform/graphql';
import type { SubgraphDefinition } from '@c2c/platform/subgraph';

// The import boundaries (docs/architecture.md) are lint rules; this proves they fire on a crossing.
// Type-aware rules are switched off here: the snippets are not files the TypeScript project knows.
const eslint = new ESLint({
  cwd: new URL('..', import.meta.url).pathname,
  overrideConfig: [
    {
      files: ['**/*.ts'],
      languageOptions: { parserOptions: { projectService: false } },
      rules: {
        '@typescript-eslint/no-floating-promises': 'off',
        '@typescript-eslint/switch-exhaustiveness-check': 'off',
      },
    },
  ],
});

// The request context has no database handle, as a type: `npm run typecheck` fails should this compile.
// @ts-expect-error a context with `db` is not a subgraph's request context
type _ContextWithDb = SubgraphDefinition<RequestContext & { db: unknown }>;

async function ruleIds(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

describe('import boundaries', () => {
  it('stop a subgraph importing another subgraph', async () => {
    expect(
      await ruleIds(
        'subgraphs/customer/src/x.ts',
        "import { buildFinanceSubgraph } from '@c2c/finance';\nexport const x = buildFinanceSubgraph;\n",
      ),
    ).toContain('no-restricted-imports');
    expect(
      await ruleIds(
        'subgraphs/finance/src/x.ts',
        "import { x } from '../../customer/src/subgraph.ts';\nexport const y = x;\n",
      ),
    ).toContain('no-restricted-imports');
  });
  it('stop the gateway and platform importing subgraph code', async () => {
    expect(
      await ruleIds(
        'gateway/src/x.ts',
        "import { buildCustomerSubgraph } from '@c2c/customer';\nexport const x = buildCustomerSubgraph;\n",
      ),
    ).toContain('no-restricted-imports');
    expect(
      await ruleIds(
        'platform/src/x.ts',
        "import { x } from '../../subgraphs/customer/src/subgraph.ts';\nexport const y = x;\n",
      ),
    ).toContain('no-restricted-imports');
  });
  it('stop the gateway importing ops and ops importing a subgraph', async () => {
    expect(
      await ruleIds(
        'gateway/src/x.ts',
        "import { opsExtension } from '@c2c/ops';\nexport const x = opsExtension;\n",
      ),
    ).toContain('no-restricted-imports');
    expect(
      await ruleIds(
        'ops/src/x.ts',
        "import { buildFinanceSubgraph } from '@c2c/finance';\nexport const x = buildFinanceSubgraph;\n",
      ),
    ).toContain('no-restricted-imports');
  });
  it('stop a platform layer importing a layer above it', async () => {
    expect(
      await ruleIds(
        'platform/src/core/x.ts',
        "import { openDatabase } from '../db/db.ts';\nexport const x = openDatabase;\n",
      ),
    ).toContain('no-restricted-imports');
    expect(
      await ruleIds(
        'platform/src/observability/x.ts',
        "import { appendToOutbox } from '../events/events.ts';\nexport const x = appendToOutbox;\n",
      ),
    ).toContain('no-restricted-imports');
    expect(
      await ruleIds(
        'platform/src/db/x.ts',
        "import { startSubgraph } from '@c2c/platform/subgraph';\nexport const x = startSubgraph;\n",
      ),
    ).toContain('no-restricted-imports');
  });
  it('allow a platform layer to import the layers below it', async () => {
    expect(
      await ruleIds(
        'platform/src/events/x.ts',
        "import { openDatabase } from '../db/db.ts';\nexport const x = openDatabase;\n",
      ),
    ).not.toContain('no-restricted-imports');
    expect(
      await ruleIds(
        'platform/src/db/x.ts',
        "import { traceEvent } from '../observability/tracing.ts';\nexport const x = traceEvent;\n",
      ),
    ).not.toContain('no-restricted-imports');
  });
  it('allow a subgraph to import the platform', async () => {
    expect(
      await ruleIds(
        'subgraphs/customer/src/x.ts',
        "import { money } from '@c2c/platform/core';\nexport const x = money;\n",
      ),
    ).not.toContain('no-restricted-imports');
  });
  it('stop a resolver or consumer importing a repository, but not its row types', async () => {
    expect(
      await ruleIds(
        'subgraphs/customer/src/resolvers/x.ts',
        "import { findCustomerPage } from '../data/customer.repository.ts';\nexport const x = findCustomerPage;\n",
      ),
    ).toContain('no-restricted-imports');
    expect(
      await ruleIds(
        'subgraphs/subscription/src/consumers/x.ts',
        "import { markPaid } from '../data/invoice.repository.ts';\nexport const x = markPaid;\n",
      ),
    ).toContain('no-restricted-imports');
    expect(
      await ruleIds(
        'subgraphs/finance/src/resolvers/x.ts',
        "import type { PaymentRow } from '../data/payment.repository.ts';\nexport type X = PaymentRow;\n",
      ),
    ).not.toContain('no-restricted-imports');
    expect(
      await ruleIds(
        'subgraphs/finance/src/consumers/x.ts',
        "import { type ContractValues } from '../data/replica.repository.ts';\nexport type X = ContractValues;\n",
      ),
    ).not.toContain('no-restricted-imports');
  });
  it('keep the subgraph boundary on resolvers and consumers too', async () => {
    expect(
      await ruleIds(
        'subgraphs/finance/src/resolvers/x.ts',
        "import { x } from '../../../customer/src/subgraph.ts';\nexport const y = x;\n",
      ),
    ).toContain('no-restricted-imports');
  });
  it("stop billing's domain importing a system-of-record repository, but not its row types", async () => {
    for (const [repository, name] of [
      ['plan', 'findPlansByCodes'],
      ['subscription', 'amendSubscriptionRow'],
      ['invoice', 'insertInvoice'],
      ['bill-to', 'findBillToForUpdate'],
    ]) {
      expect(
        await ruleIds(
          'subgraphs/subscription/src/domain/x.ts',
          `import { ${name} } from '../data/${repository}.repository.ts';\nexport const x = ${name};\n`,
        ),
      ).toContain('no-restricted-imports');
    }
    expect(
      await ruleIds(
        'subgraphs/subscription/src/domain/x.ts',
        "import type { InvoiceRow } from '../data/invoice.repository.ts';\nexport type X = InvoiceRow;\n",
      ),
    ).not.toContain('no-restricted-imports');
    // Our own bookkeeping stays the domain's to reach, and the built-in adapter uses the repositories.
    expect(
      await ruleIds(
        'subgraphs/subscription/src/domain/x.ts',
        "import { insertAmendment } from '../data/amendment.repository.ts';\nexport const x = insertAmendment;\n",
      ),
    ).not.toContain('no-restricted-imports');
    expect(
      await ruleIds(
        'subgraphs/subscription/src/ports/builtin/x.ts',
        "import { insertInvoice } from '../../data/invoice.repository.ts';\nexport const x = insertInvoice;\n",
      ),
    ).not.toContain('no-restricted-imports');
    // The subgraph boundary still holds in the domain.
    expect(
      await ruleIds(
        'subgraphs/subscription/src/domain/x.ts',
        "import { x } from '../../../finance/src/subgraph.ts';\nexport const y = x;\n",
      ),
    ).toContain('no-restricted-imports');
  });
  it('allow a domain service to import a repository of its own bookkeeping', async () => {
    expect(
      await ruleIds(
        'subgraphs/customer/src/domain/x.ts',
        "import { insertOrder } from '../data/order.repository.ts';\nexport const x = insertOrder;\n",
      ),
    ).not.toContain('no-restricted-imports');
    expect(
      await ruleIds(
        'subgraphs/finance/src/domain/x.ts',
        "import { findReceivableForUpdate } from '../data/receivable.repository.ts';\nexport const x = findReceivableForUpdate;\n",
      ),
    ).not.toContain('no-restricted-imports');
  });
  it("stop the CRM's domain services importing its system of record's repositories, but not their types", async () => {
    for (const [repository, name] of [
      ['customer.repository', 'findCustomersByIds'],
      ['contract.repository', 'upsertContractLine'],
      ['opportunity.repository', 'reopenOpportunity'],
    ]) {
      expect(
        await ruleIds(
          'subgraphs/customer/src/domain/x.ts',
          `import { ${name} } from '../data/${repository}.ts';\nexport const x = ${name};\n`,
        ),
      ).toContain('no-restricted-imports');
    }
    expect(
      await ruleIds(
        'subgraphs/customer/src/domain/x.ts',
        "import type { CustomerRow } from '../data/customer.repository.ts';\nexport type X = CustomerRow;\n",
      ),
    ).not.toContain('no-restricted-imports');
    expect(
      await ruleIds(
        'subgraphs/customer/src/domain/x.ts',
        "import { x } from '../../../finance/src/subgraph.ts';\nexport const y = x;\n",
      ),
    ).toContain('no-restricted-imports');
  });
});
