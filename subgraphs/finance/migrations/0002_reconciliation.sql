-- Reconciliation: control totals per (currency, business unit, kind, month of issue) and the
-- documents of one bucket in (issued_on, invoice_id) order, from the index alone, on a million
-- receivables.
create index receivable_reconciliation on receivable (currency, business_unit, kind, issued_on, invoice_id)
  include (total_minor);
