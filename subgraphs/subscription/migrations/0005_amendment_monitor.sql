-- The ops console reads amendments newest first by status, and the workflow's throughput and lag
-- over the last hour (amendmentActivity): acceptances by created_at, completions by the time the
-- amendment turned COMPLETED (its last status change, updated_at).
create index amendment_status_seq on amendment (status, seq desc);
create index amendment_created on amendment (created_at);
create index amendment_completed on amendment (updated_at) where status = 'COMPLETED';
