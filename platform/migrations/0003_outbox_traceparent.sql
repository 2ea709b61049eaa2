-- CloudEvents distributed tracing extension: the W3C trace context of the request or event that
-- appended the row, so its consumers continue the same trace. Null when tracing was off.
alter table outbox add column traceparent text;
