-- Usage (metered prices): plans carry metered prices, product platforms report usage events,
-- the billing run rates each ended period's usage in arrears on the renewal invoice.

-- The plan's metered prices as the catalog entered them: [{ metric, includedQuantity, tiers:
-- [{ upTo, unitPrice }] }] with every number an exact decimal string; null for a seat-only plan.
alter table plan add column usage_prices jsonb;

-- One row per usage event, whatever number of times it arrives: the primary key is the event id.
-- Quantities are exact, in micro-units (10^-6) of the metric (at most 10^9 units an event, so a
-- row stays below 2^53). The period is the subscription's
-- billing period containing occurred_at (UTC), fixed at ingestion from the anchor.
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
  late boolean not null default false,
  -- The invoice that billed this event (the period's renewal invoice, or the invoice carrying its
  -- adjustment); null while unbilled. Deferred: the run claims the events before it inserts the
  -- invoice, in the same transaction.
  invoice_id uuid references invoice (id) deferrable initially deferred
);
create index usage_event_period on usage_event (subscription_id, period_start, metric);
-- The oldest unbilled usage (a metric) reads the first entry of this partial index.
create index usage_event_unbilled on usage_event (period_end) where invoice_id is null;

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
