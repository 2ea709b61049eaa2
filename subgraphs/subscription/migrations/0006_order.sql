-- Orders: the bill-to replica learns the account hierarchy (ACCOUNT_HIERARCHY check), and each
-- subscription an order created is remembered by the order's id: a redelivered opportunity.won
-- can never create a second one.
alter table bill_to_account add column parent_id uuid;

create table order_subscription (
  order_id uuid primary key,
  opportunity_id uuid not null,
  subscription_id uuid not null unique references subscription (id),
  created_at timestamptz not null default now()
);
