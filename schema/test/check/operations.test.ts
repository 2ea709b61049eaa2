import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { apiSchemaOf } from '../../src/check/build.ts';
import { graphql } from '../../src/check/graphql.ts';
import {
  affectedOperations,
  loadOperations,
  operationCheck,
  operationUsage,
  readPending,
  usageKey,
} from '../../src/check/operations.ts';
import { ROOT, currentBaseline, findings, tempDir } from './fixtures.ts';
import { runSchemaCheck } from '../../src/check/index.ts';

const api = apiSchemaOf(readFileSync(currentBaseline(), 'utf8'));
const operations = loadOperations(join(ROOT, 'schema', 'operations'), new Map());
const op = (name: string) => operations.find((o) => o.name === name)!;

describe('operationUsage', () => {
  it('collects the types, fields, arguments and input fields an operation uses', () => {
    const used = operationUsage(api, op('CustomerToCash').document);
    expect([...used]).toEqual(
      expect.arrayContaining([
        'Query',
        'Query.customer',
        'Query.customer.id',
        'Customer',
        'Invoice.issuedOn',
        'InvoiceStatus',
      ]),
    );
    expect(used.has('Plan.maxSeats')).toBe(false);
    const create = operationUsage(api, op('CreateCustomer').document);
    // Input objects count with all their fields: clients may send any of them.
    expect([...create]).toEqual(
      expect.arrayContaining(['CreateCustomerInput', 'CreateCustomerInput.segment']),
    );
  });

  it('maps a change to the operations that use what it changed', () => {
    const affected = affectedOperations(api, operations);
    const change = (code: string, path: string) => ({
      code,
      path,
      criticality: 'BREAKING' as const,
      message: '',
      inspectorType: '',
    });
    expect(affected(change('FIELD_REMOVED', 'Invoice.issuedOn'))).toEqual(['CustomerToCash']);
    expect(affected(change('FIELD_REMOVED', 'Plan.maxSeats'))).toEqual([]);
    expect(affected(change('REQUIRED_ARG_ADDED', 'Query.customers.region'))).toEqual(['Customers']);
    expect(affected(change('FIELD_REMOVED_FROM_INPUT_OBJECT', 'RecordPaymentInput.reference'))).toEqual([
      'RecordPayment',
    ]);
    expect(usageKey(change('VALUE_ADDED_TO_ENUM', 'InvoiceStatus.DISPUTED'))).toBe('InvoiceStatus');
  });
});

describe('operationCheck', () => {
  const dir = tempDir();
  const write = (file: string, text: string) => writeFileSync(join(dir, file), text);
  write('portal.Ok.graphql', 'query Ok { plans { code name } }');
  write('portal.Broken.graphql', 'query Broken { plans { code price } }');
  write('support.Later.graphql', 'query Later { amendmentsOfAll { id } }');
  write('support.Ready.graphql', 'query Ready { plan(code: "X") { code } }');
  const pendingFile = join(dir, 'pending.json');
  writeFileSync(
    pendingFile,
    JSON.stringify({
      pending: [
        { file: 'support.Later.graphql', reason: 'later' },
        { file: 'support.Ready.graphql', reason: 'x' },
      ],
    }),
  );
  const ops = loadOperations(dir, readPending(pendingFile));

  it('fails an operation that does not validate, naming it; keeps pending ones pending', () => {
    const result = operationCheck(api, ops, pendingFile, dir);
    expect(result.status).toBe('FAILED');
    const byCode = Object.fromEntries(
      result.findings.map((f) => [f.operations![0], `${f.severity} ${f.code}`]),
    );
    expect(byCode).toEqual({
      Broken: 'FAIL OPERATION_INVALID',
      Later: 'PASS OPERATION_PENDING',
      Ready: 'WARN OPERATION_NOW_SERVED',
    });
    expect(result.findings.find((f) => f.code === 'OPERATION_INVALID')!.description).toMatch(
      /Broken \(.*portal\.Broken\.graphql:1:29\): Cannot query field "price" on type "Plan"/,
    );
  });

  it('passes when every served operation validates', () => {
    const result = operationCheck(
      api,
      ops.filter((o) => o.name !== 'Broken'),
      pendingFile,
      dir,
    );
    expect(result.status).toBe('PASSED');
  });

  it('runs inside the full check with the registered operations of schema/operations', async () => {
    const opsDir = join(tempDir(), 'operations');
    mkdirSync(opsDir);
    writeFileSync(join(opsDir, 'portal.Broken.graphql'), 'query Broken { plans { code price } }');
    const report = await runSchemaCheck({
      root: ROOT,
      base: currentBaseline(),
      paths: { operations: opsDir, supergraph: currentBaseline() },
    });
    expect(report.tasks.find((t) => t.task === 'Operation')!.status).toBe('FAILED');
    expect(findings(report, 'FAIL').map((f) => f.code)).toEqual(['OPERATION_INVALID']);
  });

  it('validates with the same graphql instance that Apollo builds schemas with', () => {
    expect(api).toBeInstanceOf(graphql.GraphQLSchema);
  });
});
