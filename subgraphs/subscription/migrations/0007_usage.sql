-- Usage (metered prices): plans carry metered prices, product platforms report usage events,
-- the billing run rates each ended period's usage in arrears on the renewal invoice.

-- The plan's metered prices as the catalog entered them: [{ metric, includedQuantity, tiers:
-- [{ upTo, unitPrice }] }] with every number an exact decimal string; null for a seat-only plan.
alter table plan add column usage_prices jsonb;

-- One row per usage event, whatever number of times it arrives: the primary key is the event id.
-- Quantities are exact, in micro-units (10^-6) of the metric (at most 10^9 units an event, so a
-- row stays below 2^53). The period is the subscription's billing period containing occurred_at
-- (UTC), fixed at ingestion from the anchor. Events are never updated: what is billed is kept per
-- period in usage_period and per invoice in usage_charge.
create table usage_event (
  id text primary key,
  subscription_id uuid not null references subscription (id),
  metric text not null,
  quantity_micro bigint not null check (quantity_micro >= 0),
  occurred_at timestamptz not null,
  received_at timestamptz not null default now(),
  period_start date not null,
  period_end date not null,
  -- True when the period's usage was already invoiced on arrival: billed later as an adjustment.
  late boolean not null default false
);
create index usage_event_period on usage_event (subscription_id, period_start, metric);

-- A subscription's usage per period and metric: recorded (the sum of its accepted events, kept in
-- the ingesting transaction) and billed (what invoices charged so far). Recorded above billed is
-- usage waiting for an invoice: the period in its grace, or late usage waiting for the next one.
-- A period's totals may pass 2^53 micro-units: numeric, read as text.
create table usage_period (
  subscription_id uuid not null references subscription (id),
  period_start date not null,
  period_end date not null,
  metric text not null,
  quantity_micro numeric(38, 0) not null,
  event_count bigint not null,
  last_event_at timestamptz not null,
  billed_quantity_micro numeric(38, 0) not null default 0,
  billed_amount_minor bigint not null default 0,
  -- True once an invoice billed this period's usage of the metric: later usage is an adjustment.
  invoiced boolean not null default false,
  primary key (subscription_id, period_start, metric)
);
-- The oldest unbilled usage (a metric) reads the first entry of this partial index.
create index usage_period_unbilled on usage_period (period_end) where quantity_micro <> billed_quantity_micro;

-- What each invoice billed of a period's usage per metric: the rated quantity and amount. A late
-- event's adjustment is the period re-rated with everything recorded minus the sum billed so far.
create table usage_charge (
  invoice_id uuid not null references invoice (id),
  subscription_id uuid not null references subscription (id),
  period_start date not null,
  period_end date not null,
  metric text not null,
  -- A period's total may pass 2^53 micro-units: numeric, read as text.
  quantity_micro numeric(38, 0) not null,
  amount_minor bigint not null,
  adjustment boolean not null,
  primary key (invoice_id, period_start, metric)
);
create index usage_charge_period on usage_charge (subscription_id, period_start, metric);

-- Usage lines on invoices: the metric, the exact quantity in the tier and the tier's unit price
-- (sub-cent prices allowed); null on seat lines.
alter table invoice_line add column usage_metric text;
alter table invoice_line add column usage_quantity text;
alter table invoice_line add column usage_unit_price text;
alter table invoice_line add column usage_adjustment boolean;
