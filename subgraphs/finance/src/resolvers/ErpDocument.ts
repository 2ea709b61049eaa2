import { money } from '@c2c/platform/core';
import type { ErpDocumentRow } from '../data/reconciliation.repository.ts';

export const ErpDocument = {
  id: (row: ErpDocumentRow) => row.invoice_id,
  issuedOn: (row: ErpDocumentRow) => row.issued_on,
  total: (row: ErpDocumentRow) => money(row.total_minor, row.currency),
  postedAt: (row: ErpDocumentRow) => row.posted_at,
};
