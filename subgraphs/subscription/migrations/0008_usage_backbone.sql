-- Usage over the event backbone (docs/usage.md): what billing refused of the usage messages it
-- consumed from NATS, since a message has no caller to answer. One row per refused event (its
-- index in the message's `events`), or one row with event_index -1 for a message refused whole
-- (unreadable, wrong version, not 1–1,000 events, or failing alone on its last delivery). Written
-- in the transaction that stores the message's accepted events, before the message is acked; a
-- redelivered message finds its rows already there (the primary key), so nothing is counted twice.
create table usage_rejected_event (
  -- `<source>/<batchId>` of the message, or `seq:<stream sequence>` when it has none readable.
  message_key text not null,
  event_index integer not null,
  source text,
  batch_id text,
  event_id text,
  code text not null,
  field text,
  message text not null,
  -- The refused event as it arrived (JSON text), or the whole message when refused whole.
  payload text,
  received_at timestamptz not null default now(),
  primary key (message_key, event_index)
);
create index usage_rejected_event_received on usage_rejected_event (received_at desc);
