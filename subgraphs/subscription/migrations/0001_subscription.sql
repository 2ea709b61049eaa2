-- Billing: plan catalog, bill-to replica, subscriptions, invoices and the tax table.

create table plan (
  code text primary key,
  name text not null,
  billing_period text not null check (billing_period in ('MONTH', 'YEAR')),
  unit_price_minor bigint not null check (unit_price_minor > 0),
  currency char(3) not null,
  min_seats integer not null,
  max_seats integer not null,
  created_at timestamptz not null default now(),
  check (1 <= min_seats and min_seats <= max_seats and max_seats <= 1000000)
);

-- Replica of CRM customers, kept only from customer.* events; never edited otherwise.
create table bill_to_account (
  id uuid primary key,
  name text not null,
  email text not null,
  status text not null,
  business_unit text not null,
  country char(2) not null,
  region text,
  version integer not null,
  updated_at timestamptz not null default now()
);

-- Price and period are copied from the plan at signing: they are the contract's terms.
create table subscription (
  id uuid primary key,
  customer_id uuid not null,
  plan_code text not null references plan (code),
  billing_period text not null check (billing_period in ('MONTH', 'YEAR')),
  unit_price_minor bigint not null,
  currency char(3) not null,
  status text not null check (status in ('ACTIVE', 'CANCELLED')),
  seats integer not null check (seats > 0),
  version integer not null default 1,
  start_date date not null,
  period_index integer not null default 0,
  current_period_start date not null,
  current_period_end date not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index subscription_customer on subscription (customer_id, created_at, id);
create index subscription_due on subscription (current_period_end) where status = 'ACTIVE';

create sequence invoice_number_seq;
create sequence credit_note_number_seq;

create table invoice (
  id uuid primary key,
  seq bigserial not null unique,
  number text not null unique,
  kind text not null check (kind in ('INVOICE', 'CREDIT_NOTE')),
  status text not null default 'OPEN' check (status in ('OPEN', 'PAID', 'VOID')),
  customer_id uuid not null,
  subscription_id uuid not null references subscription (id),
  business_unit text not null,
  currency char(3) not null,
  issued_on date not null,
  due_on date not null,
  subtotal_minor bigint not null,
  tax_minor bigint not null,
  total_minor bigint not null check (total_minor = subtotal_minor + tax_minor),
  tax_rate_missing boolean not null default false,
  posting_status text not null default 'PENDING' check (posting_status in ('PENDING', 'POSTED', 'FAILED')),
  journal_entry_id text,
  posted_at timestamptz,
  posting_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index invoice_subscription_seq on invoice (subscription_id, seq desc);
create index invoice_customer on invoice (customer_id);

create table invoice_line (
  id uuid primary key,
  invoice_id uuid not null references invoice (id),
  line_no integer not null,
  description text not null,
  quantity integer not null,
  unit_price_minor bigint not null,
  amount_minor bigint not null,
  tax_rate_ppm integer not null,
  tax_minor bigint not null,
  period_start date not null,
  period_end date not null,
  unique (invoice_id, line_no)
);

-- Rates in parts per million, valid on [valid_from, valid_to). A region row (state, province)
-- takes precedence over the country row; a country with no row at all is taxed at 0 and flagged.
create table tax_rate (
  id serial primary key,
  country char(2) not null,
  region text,
  rate_ppm integer not null check (rate_ppm between 0 and 1000000),
  valid_from date not null,
  valid_to date,
  check (valid_to is null or valid_to > valid_from)
);
create unique index tax_rate_key on tax_rate (country, coalesce(region, ''), valid_from);

insert into tax_rate (country, region, rate_ppm, valid_from, valid_to) values
  -- Germany: 16% during the 2020 VAT cut.
  ('DE', null, 190000, '2007-01-01', '2020-07-01'),
  ('DE', null, 160000, '2020-07-01', '2021-01-01'),
  ('DE', null, 190000, '2021-01-01', null),
  ('FR', null, 200000, '2014-01-01', null),
  ('GB', null, 200000, '2011-01-04', null),
  ('NL', null, 210000, '2012-10-01', null),
  ('IE', null, 230000, '2021-03-01', null),
  ('ES', null, 210000, '2012-09-01', null),
  ('IT', null, 220000, '2013-10-01', null),
  ('CH', null, 77000, '2018-01-01', '2024-01-01'),
  ('CH', null, 81000, '2024-01-01', null),
  ('JP', null, 80000, '2014-04-01', '2019-10-01'),
  ('JP', null, 100000, '2019-10-01', null),
  ('AU', null, 100000, '2000-07-01', null),
  ('NZ', null, 150000, '2010-10-01', null),
  ('SG', null, 80000, '2023-01-01', '2024-01-01'),
  ('SG', null, 90000, '2024-01-01', null),
  ('BH', null, 50000, '2019-01-01', '2022-01-01'),
  ('BH', null, 100000, '2022-01-01', null),
  -- Canada: federal GST, replaced by the harmonized HST in the HST provinces.
  ('CA', null, 50000, '2008-01-01', null),
  ('CA', 'ON', 130000, '2010-07-01', null),
  ('CA', 'NB', 150000, '2016-07-01', null),
  ('CA', 'NL', 150000, '2016-07-01', null),
  ('CA', 'PE', 150000, '2016-10-01', null),
  ('CA', 'NS', 150000, '2010-07-01', '2025-04-01'),
  ('CA', 'NS', 140000, '2025-04-01', null),
  -- United States: state sales tax only; there is no federal rate, so no country row.
  ('US', 'CA', 72500, '2017-01-01', null),
  ('US', 'NY', 40000, '2005-06-01', null),
  ('US', 'TX', 62500, '1990-10-01', null),
  ('US', 'WA', 65000, '2003-04-01', null),
  ('US', 'FL', 60000, '1988-02-01', null);
