-- CRM: customer accounts and the contract value billing reports.
create table customer (
  id uuid primary key,
  name text not null,
  email text not null,
  status text not null check (status in ('ACTIVE', 'SUSPENDED', 'CLOSED')),
  business_unit text not null,
  segment text,
  country char(2) not null,
  region text,
  parent_id uuid references customer (id),
  version integer not null default 1,
  contract_value_minor bigint,
  contract_currency char(3),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index customer_name on customer (name, id);
create index customer_business_unit_name on customer (business_unit, name, id);
create index customer_parent on customer (parent_id);

-- One row per subscription, kept from subscription.* events: the source of the contract value.
create table contract_line (
  subscription_id uuid primary key,
  customer_id uuid not null,
  currency char(3) not null,
  annual_value_minor bigint not null,
  active boolean not null,
  source_version integer not null,
  updated_at timestamptz not null default now()
);
create index contract_line_customer on contract_line (customer_id);
