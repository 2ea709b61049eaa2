-- Platform tables, created in every subgraph's schema (search_path is set by the runner).

-- Transactional outbox: written in the same transaction as the state change it announces.
create table outbox (
  seq bigserial primary key,
  id uuid not null unique,
  type text not null,
  source text not null,
  subject text not null,
  time timestamptz not null,
  data jsonb not null,
  correlation_id text not null,
  causation_id text,
  aggregate_version integer,
  published_at timestamptz
);
create index outbox_unpublished on outbox (seq) where published_at is null;

-- Inbox: (consumer, event) applied once; recorded in the same transaction as the effect.
create table inbox (
  consumer text not null,
  event_id uuid not null,
  event_type text not null,
  processed_at timestamptz not null default now(),
  primary key (consumer, event_id)
);

-- Events a consumer gave up on after its retries, with the error, for operators to replay.
create table dead_letter (
  id bigserial primary key,
  consumer text not null,
  event_id uuid not null,
  event_type text not null,
  subject text not null,
  event jsonb not null,
  error text not null,
  attempts integer not null,
  dead_at timestamptz not null default now(),
  replayed_at timestamptz,
  unique (consumer, event_id)
);

-- Idempotency keys per caller: the request fingerprint and the stored response.
create table idempotency_key (
  scope text not null,
  key text not null,
  operation text not null,
  request_hash text not null,
  state text not null check (state in ('running', 'done')),
  response jsonb,
  created_at timestamptz not null default now(),
  locked_until timestamptz not null,
  primary key (scope, key)
);
create index idempotency_key_created on idempotency_key (created_at);
