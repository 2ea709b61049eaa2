-- Reconciliation: control totals, bucket drill-down, contract values and the sync backlog stay
-- fast on a million invoices.

-- Control totals per (currency, business unit, kind, month of issue) and the documents of one
-- bucket in (issued_on, id) order, both from the index alone (index-only scans).
create index invoice_reconciliation on invoice (currency, business_unit, kind, issued_on, id)
  include (total_minor, posting_status, created_at);

-- The sync backlog: only documents the ERP has not acknowledged, a small fraction of the book.
create index invoice_unposted on invoice (business_unit, created_at) where posting_status <> 'POSTED';

-- Contract values: ARR of active subscriptions per customer, in customer order for keyset paging.
create index subscription_active_customer on subscription (customer_id, currency)
  include (seats, unit_price_minor, billing_period) where status = 'ACTIVE';
