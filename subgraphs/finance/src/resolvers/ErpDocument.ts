import { money } from '@c2c/platform/core';
import type { ErpDocumentResolvers } from '../generated/resolvers.ts';

export const ErpDocument: ErpDocumentResolvers = {
  id: (row) => row.invoice_id,
  issuedOn: (row) => row.issued_on,
  total: (row) => money(row.total_minor, row.currency),
  postedAt: (row) => row.posted_at,
};
