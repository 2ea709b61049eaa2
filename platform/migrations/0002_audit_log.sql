-- Audit log: one row per mutation this subgraph executed, appended after it answered.
create table audit_log (
  id bigserial primary key,
  at timestamptz not null default now(),
  principal text not null,
  role text,
  operation text not null,
  fields jsonb not null,
  variables jsonb not null,
  result text not null check (result in ('OK', 'USER_ERROR', 'ERROR')),
  codes jsonb not null default '[]',
  correlation_id text not null,
  request_id text not null
);
create index audit_log_at on audit_log (at desc, id desc);
