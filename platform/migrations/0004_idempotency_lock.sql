-- A running request's claim is kept alive by an advisory lock (platform/src/idempotency.ts),
-- not by a lease: the lease column is no longer read.
alter table idempotency_key drop column locked_until;
