-- The crosswalk of our ids to an external ERP's (docs/adapters.md): one row per document or
-- payment the ERP adapter wrote there, written in the same transaction that records the posting
-- or the payment here. The built-in ledger writes none.
create table erp_crosswalk (
  system text not null,
  kind text not null check (kind in ('INVOICE', 'CREDIT_NOTE', 'PAYMENT', 'CUSTOMER')),
  our_id uuid not null,
  erp_id text not null,
  erp_number text,
  erp_entry_id text,
  created_at timestamptz not null default now(),
  primary key (system, kind, our_id)
);
create unique index erp_crosswalk_erp_id on erp_crosswalk (system, kind, erp_id);
