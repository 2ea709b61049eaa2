-- Renewals go through the amendment workflow: the billing run records one RENEWAL amendment per
-- renewed period, linked to its period invoice.
alter table amendment drop constraint amendment_kind_check;
alter table amendment add constraint amendment_kind_check
  check (kind in ('SEATS', 'CANCELLATION', 'RENEWAL'));
