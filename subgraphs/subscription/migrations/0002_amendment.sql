-- Amendments as managed business transactions: seat changes and cancellations with their workflow.

-- Changes scheduled for the end of the current period; the billing run applies them at renewal.
alter table subscription add column pending_seats integer check (pending_seats > 0);
alter table subscription add column cancel_at date;
alter table subscription add column cancelled_on date;

create table amendment (
  id uuid primary key,
  seq bigserial not null unique,
  subscription_id uuid not null references subscription (id),
  kind text not null check (kind in ('SEATS', 'CANCELLATION')),
  status text not null check (status in ('ACCEPTED', 'INVOICED', 'POSTED', 'COMPLETED', 'EXCEPTION')),
  correlation_id text not null,
  effective_date date not null,
  -- True when the change waits for the end of the period: no proration, no document.
  scheduled boolean not null,
  seats_before integer not null,
  seats_after integer not null,
  -- The prorated line amount before tax (negative for a credit); null when nothing was prorated.
  proration_minor bigint,
  currency char(3) not null,
  invoice_id uuid references invoice (id),
  subscription_version integer not null,
  reason text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index amendment_subscription_seq on amendment (subscription_id, seq desc);
create unique index amendment_invoice on amendment (invoice_id) where invoice_id is not null;
create index amendment_open on amendment (status, created_at) where status <> 'COMPLETED';

-- One row per system the amendment must reach: BILLING (this subgraph), ERP (posting), CRM (contract value).
create table amendment_step (
  amendment_id uuid not null references amendment (id),
  system text not null check (system in ('BILLING', 'ERP', 'CRM')),
  status text not null check (status in ('PENDING', 'DONE', 'FAILED', 'SKIPPED')),
  attempts integer not null default 0,
  last_error text,
  completed_at timestamptz,
  updated_at timestamptz not null default now(),
  primary key (amendment_id, system)
);
