-- A campaign's notify step tells people inside the company about a lead: its emails are stored
-- with the others (idempotent, delivered by the mailer) as 'internal_notice', which no consent,
-- send window or frequency cap concerns.
ALTER TABLE email_sends DROP CONSTRAINT email_sends_kind_check;
ALTER TABLE email_sends ADD CONSTRAINT email_sends_kind_check CHECK (kind IN (
  'step', 'trigger', 'sales_notice', 'sales_reminder', 'sales_escalation', 'sales_alert', 'internal_notice'));

-- A campaign's suppress step (a sunset policy) suppresses the lead's address for good.
ALTER TABLE suppressions DROP CONSTRAINT suppressions_reason_check;
ALTER TABLE suppressions ADD CONSTRAINT suppressions_reason_check CHECK (reason IN (
  'unsubscribed', 'hard_bounce', 'complaint', 'erased', 'manual', 'sunset'));
