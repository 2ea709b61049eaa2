-- Credit notes applied to the open invoices of their subscription, oldest first (DOMAIN.md: a
-- credit note is allocated; what no invoice absorbs stays a credit balance). Moves within
-- Accounts Receivable: no journal entry. One row per (credit note, invoice) application.
create table credit_allocation (
  credit_note_id uuid not null references receivable (invoice_id),
  invoice_id uuid not null references receivable (invoice_id),
  amount_minor bigint not null check (amount_minor > 0),
  currency char(3) not null,
  created_at timestamptz not null default now(),
  primary key (credit_note_id, invoice_id)
);
create index credit_allocation_invoice on credit_allocation (invoice_id);
create index receivable_subscription_open on receivable (subscription_id, issued_on)
  where amount_due_minor <> 0;
