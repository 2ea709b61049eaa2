-- Leases: one holder at a time for work that must not run on two replicas at once (the outbox
-- relay), taken over by another replica once the holder stops renewing it (platform/src/events/lease.ts).
create table lease (
  name text primary key,
  holder text not null,
  expires_at timestamptz not null
);

-- Wakes the outbox relay (LISTEN c2c_outbox_<schema>) at the commit of a transaction that appended
-- to the outbox, and only then: once per statement, and PostgreSQL folds a transaction's identical
-- notifications into one.
create function outbox_appended() returns trigger language plpgsql as $$
begin
  perform pg_notify('c2c_outbox_' || tg_table_schema, '');
  return null;
end
$$;
create trigger outbox_appended after insert on outbox
  for each statement execute function outbox_appended();
