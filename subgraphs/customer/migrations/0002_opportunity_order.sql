-- CRM: opportunities and the orders that winning them starts (the order's record: checks, steps).

create table opportunity (
  id uuid primary key,
  customer_id uuid not null references customer (id),
  name text not null,
  plan_code text not null,
  seats integer not null check (seats > 0),
  start_date date not null,
  stage text not null check (stage in ('OPEN', 'WON', 'LOST')),
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index opportunity_customer_stage on opportunity (customer_id, stage, created_at);

-- One live order per opportunity: winning it again returns this order, never a second one. A
-- rejected order reopens its opportunity (nothing was created), which may then be won again.
create table sales_order (
  id uuid primary key,
  opportunity_id uuid not null references opportunity (id),
  customer_id uuid not null,
  status text not null check (
    status in ('VALIDATING', 'REJECTED', 'SUBSCRIBED', 'INVOICED', 'POSTED', 'COMPLETED', 'EXCEPTION')
  ),
  rejected boolean not null default false,
  correlation_id text not null,
  subscription_id uuid unique,
  first_invoice_id uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index sales_order_live on sales_order (opportunity_id) where not rejected;
create index sales_order_opportunity on sales_order (opportunity_id, created_at);
create index sales_order_status on sales_order (status, updated_at);

-- The checks billing ran and reported (order.rejected / order.subscribed).
create table order_check (
  order_id uuid not null references sales_order (id),
  name text not null check (name in ('ACCOUNT_HIERARCHY', 'PRICING', 'TAX_CONTEXT', 'ELIGIBILITY')),
  status text not null check (status in ('PASSED', 'FAILED')),
  message text not null,
  primary key (order_id, name)
);

create table order_step (
  order_id uuid not null references sales_order (id),
  system text not null check (system in ('BILLING', 'ERP', 'CRM')),
  status text not null check (status in ('PENDING', 'DONE', 'FAILED', 'SKIPPED')),
  attempts integer not null default 0,
  last_error text,
  completed_at timestamptz,
  updated_at timestamptz not null default now(),
  primary key (order_id, system)
);

-- Commercial amendments recorded in the CRM (an expansion or a reduction of an account's
-- contract), routed to billing as seat amendments; billing's answer is recorded here.
create table contract_change (
  id uuid primary key,
  customer_id uuid not null references customer (id),
  subscription_id uuid not null,
  seats integer not null check (seats > 0),
  effective_date date not null,
  reason text,
  status text not null check (status in ('REQUESTED', 'ACCEPTED', 'REFUSED')),
  correlation_id text not null,
  amendment_id uuid,
  refusal_code text,
  refusal_message text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index contract_change_customer on contract_change (customer_id, created_at);
