import { money } from '@c2c/platform/core';
import type { BucketDocumentRow } from '../data/reconciliation.repository.ts';

export const BillingDocument = {
  issuedOn: (row: BucketDocumentRow) => row.issued_on,
  total: (row: BucketDocumentRow) => money(row.total_minor, row.currency),
  postingAcknowledgement: (row: BucketDocumentRow) => row.posting_status,
  inFlight: (row: BucketDocumentRow) => row.in_flight,
  issuedAt: (row: BucketDocumentRow) => row.created_at,
};
