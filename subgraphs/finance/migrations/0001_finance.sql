-- ERP: customer master and contract replicas, receivables, the ledger, revenue schedules, payments.

-- Replica of the CRM's accounts from customer.* events; never edited locally.
create table customer_master (
  id uuid primary key,
  name text not null,
  status text not null,
  business_unit text not null,
  country text not null,
  region text,
  version integer not null,
  updated_at timestamptz not null default now()
);

-- Replica of billing's subscriptions from subscription.* events, keyed by subscription id.
create table contract (
  subscription_id uuid primary key,
  customer_id uuid not null,
  plan_code text not null,
  billing_period text not null,
  status text not null,
  seats integer not null,
  unit_price_minor bigint not null,
  currency char(3) not null,
  start_date date not null,
  period_start date,
  period_end date,
  version integer not null,
  updated_at timestamptz not null default now()
);
create index contract_customer on contract (customer_id);

create table journal_entry (
  id uuid primary key,
  entry_date date not null,
  memo text not null,
  source_type text not null,
  source_id uuid not null,
  created_at timestamptz not null default now()
);
create index journal_entry_source on journal_entry (source_type, source_id);

create table journal_line (
  entry_id uuid not null references journal_entry (id),
  line_no integer not null,
  account text not null check (account in ('ACCOUNTS_RECEIVABLE', 'DEFERRED_REVENUE', 'REVENUE', 'TAX_PAYABLE', 'CASH')),
  side text not null check (side in ('DEBIT', 'CREDIT')),
  amount_minor bigint not null check (amount_minor > 0),
  currency char(3) not null,
  primary key (entry_id, line_no)
);

-- One row per billing document (invoice or credit note) the ERP has received.
create table receivable (
  invoice_id uuid primary key,
  number text not null,
  kind text not null check (kind in ('INVOICE', 'CREDIT_NOTE')),
  customer_id uuid not null,
  subscription_id uuid,
  business_unit text not null,
  currency char(3) not null,
  issued_on date not null,
  due_on date not null,
  subtotal_minor bigint not null,
  tax_minor bigint not null,
  total_minor bigint not null,
  amount_due_minor bigint not null,
  posting_status text not null default 'PENDING' check (posting_status in ('PENDING', 'POSTED', 'FAILED')),
  journal_entry_id uuid references journal_entry (id),
  posted_at timestamptz,
  posting_error text,
  created_at timestamptz not null default now()
);
create index receivable_customer on receivable (customer_id);

-- Daily ratable revenue per document line and calendar month (DOMAIN.md: revenue recognition).
create table revenue_schedule (
  invoice_id uuid not null references receivable (invoice_id),
  line_id text not null,
  subscription_id uuid,
  month char(7) not null,
  amount_minor bigint not null,
  currency char(3) not null,
  recognized boolean not null default false,
  primary key (invoice_id, line_id, month)
);
create index revenue_schedule_subscription on revenue_schedule (subscription_id, month);

create table payment (
  id uuid primary key,
  invoice_id uuid not null references receivable (invoice_id),
  amount_minor bigint not null check (amount_minor > 0),
  currency char(3) not null,
  received_on date not null,
  reference text,
  journal_entry_id uuid not null references journal_entry (id),
  created_at timestamptz not null default now()
);
create index payment_invoice on payment (invoice_id, created_at);
