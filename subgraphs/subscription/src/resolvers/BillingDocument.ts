import { money } from '@c2c/platform/core';
import type { BillingDocumentResolvers } from '../generated/resolvers.ts';

export const BillingDocument: BillingDocumentResolvers = {
  issuedOn: (row) => row.issued_on,
  total: (row) => money(row.total_minor, row.currency),
  postingAcknowledgement: (row) => row.posting_status,
  inFlight: (row) => row.in_flight,
  issuedAt: (row) => row.created_at,
};
