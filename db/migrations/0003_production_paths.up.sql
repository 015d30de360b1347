-- Sends report their outcome to the enrolment's workflow by a signal (the mailer sends it once the
-- email is final) instead of completing an activity the workflow waits on; `reported_at` is set
-- once the signal went out (or nobody was left to hear it), so a lost signal is sent again.
ALTER TABLE email_sends ADD COLUMN report_to text;   -- the workflow id to tell
ALTER TABLE email_sends ADD COLUMN report_key text;  -- the interpreter's send key
ALTER TABLE email_sends ADD COLUMN reported_at timestamptz;
ALTER TABLE email_sends ADD COLUMN deferred_since timestamptz; -- first SMTP deferral of a reported send (the mailer retries it)
CREATE INDEX email_sends_unreported ON email_sends (id)
  WHERE report_to IS NOT NULL AND reported_at IS NULL AND status NOT IN ('queued', 'sending', 'deferred');

-- 'cancelled': the campaign was paused or archived before the email went out. 'sales_alert': a
-- handoff nobody could be assigned to, told to the pool manager or the operator.
ALTER TABLE email_sends DROP CONSTRAINT email_sends_status_check;
ALTER TABLE email_sends ADD CONSTRAINT email_sends_status_check CHECK (status IN (
  'queued', 'sending', 'sent', 'deferred', 'bounced', 'failed', 'unconfirmed',
  'skipped_no_consent', 'suppressed', 'capped', 'cancelled'));
ALTER TABLE email_sends DROP CONSTRAINT email_sends_kind_check;
ALTER TABLE email_sends ADD CONSTRAINT email_sends_kind_check CHECK (kind IN (
  'step', 'trigger', 'sales_notice', 'sales_reminder', 'sales_escalation', 'sales_alert'));

-- A handoff may wait unassigned (no such pool, no active rep); `unassigned_reason` says why.
ALTER TABLE handoffs ADD COLUMN unassigned_reason text;

-- Nothing writes 'completed': an enrolment ends as 'exited' with its reason.
UPDATE enrolments SET status = 'exited' WHERE status = 'completed';
ALTER TABLE enrolments DROP CONSTRAINT enrolments_status_check;
ALTER TABLE enrolments ADD CONSTRAINT enrolments_status_check CHECK (status IN ('active', 'paused', 'handed_off', 'exited'));

-- Every status change of a campaign gets the next number; enrolments apply a change only when it
-- is newer than the last they applied, so fan-outs that overlap cannot leave one behind.
ALTER TABLE campaigns ADD COLUMN status_seq integer NOT NULL DEFAULT 0;

-- A campaign-wide request (pause, resume, archive, migrate) carried to its open enrolments by a
-- workflow, page by page, outside the HTTP request that asked for it.
CREATE TABLE campaign_fanouts (
  id           bigserial PRIMARY KEY,
  campaign_id  text NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  action       text NOT NULL CHECK (action IN ('pause', 'resume', 'archive', 'migrate')),
  status_seq   integer,                    -- the campaign status change it carries
  to_version   integer,                    -- migrate: the target version
  from_version integer,                    -- migrate: only enrolments on this version
  total        integer NOT NULL,           -- open enrolments when it started
  done         integer NOT NULL DEFAULT 0, -- enrolments reached so far
  skipped      integer NOT NULL DEFAULT 0, -- ended meanwhile, or nothing to do
  cursor       bigint NOT NULL DEFAULT 0,  -- the last enrolment id reached
  created_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz
);
CREATE INDEX campaign_fanouts_by_campaign ON campaign_fanouts (campaign_id, id DESC);
