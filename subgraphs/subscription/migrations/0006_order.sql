-- Orders: the bill-to replica learns the account hierarchy (ACCOUNT_HIERARCHY check), and each
-- subscription an order created is remembered by the order's id: a redelivered opportunity.won
-- can never create a second one.
alter table bill_to_account add column parent_id uuid;

create table order_subscription (
  order_id uuid primary key,
  opportunity_id uuid not null,
  subscription_id uuid not null unique references subscription (id),
  -- The terms the subscription opened with (seats may change later by amendment): reconciliation
  -- compares them with the won opportunity's.
  plan_code text not null,
  seats integer not null,
  start_date date not null,
  created_at timestamptz not null default now()
);
