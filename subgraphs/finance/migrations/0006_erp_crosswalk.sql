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

-- Change capture from the ERP: how far the poller has read the ERP's changes (the ERP's own
-- timestamps and ids), and which replica holds the lease to read them (one at a time; a lease
-- that is not renewed expires, so a crashed replica does not stop change capture).
create table erp_cursor (
  system text not null,
  name text not null,
  position text,
  lease_owner text,
  lease_until timestamptz,
  updated_at timestamptz not null default now(),
  primary key (system, name)
);
