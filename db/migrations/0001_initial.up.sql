-- Nurture's data. One deployment serves one organisation: lead addresses are unique across it.
-- Addresses are also kept as a SHA-256 hash of their normalised form, so that suppressions
-- outlive erasure without keeping the address itself.

CREATE TABLE leads (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email         text,                        -- NULL once erased
  email_hash    text NOT NULL UNIQUE,        -- sha256 of the lower-cased, trimmed address
  external_id   text UNIQUE,                 -- the CRM's id, when known
  attributes    jsonb NOT NULL DEFAULT '{}',
  timezone      text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  erased_at     timestamptz
);

-- Every grant and withdrawal with its evidence; the current state is the row recorded last
-- (by id: the order decisions reached us, whatever time the evidence claims).
CREATE TABLE consent_records (
  id            bigserial PRIMARY KEY,
  lead_id       uuid NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
  purpose       text NOT NULL,
  granted       boolean NOT NULL,
  source        text NOT NULL,
  ip            inet,
  user_agent    text,
  evidence      jsonb NOT NULL DEFAULT '{}',
  recorded_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX consent_records_current ON consent_records (lead_id, purpose, id DESC);

CREATE TABLE suppressions (
  email_hash    text PRIMARY KEY,
  reason        text NOT NULL CHECK (reason IN ('unsubscribed', 'hard_bounce', 'complaint', 'erased', 'manual')),
  detail        text,
  created_at    timestamptz NOT NULL DEFAULT now()
);

-- Lead behaviour as received; external_id makes ingest idempotent.
CREATE TABLE events (
  id            bigserial PRIMARY KEY,
  external_id   text NOT NULL UNIQUE,
  lead_id       uuid REFERENCES leads (id) ON DELETE CASCADE,
  type          text NOT NULL,
  occurred_at   timestamptz NOT NULL,
  received_at   timestamptz NOT NULL DEFAULT now(),
  data          jsonb NOT NULL DEFAULT '{}',
  machine       boolean NOT NULL DEFAULT false
);
CREATE INDEX events_by_lead ON events (lead_id, occurred_at DESC);

CREATE TABLE campaigns (
  id              text PRIMARY KEY,
  name            text NOT NULL,
  status          text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active', 'paused', 'archived')),
  current_version integer,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Immutable: editing a campaign adds a version; running enrolments keep theirs.
CREATE TABLE campaign_versions (
  campaign_id   text NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  version       integer NOT NULL,
  content_hash  text NOT NULL,
  definition    jsonb NOT NULL,
  source        text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (campaign_id, version),
  UNIQUE (campaign_id, content_hash)
);

-- One row per entry of a lead into a campaign; workflow_id routes signals to it.
CREATE TABLE enrolments (
  id               bigserial PRIMARY KEY,
  workflow_id      text NOT NULL,
  campaign_id      text NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  campaign_version integer NOT NULL,
  lead_id          uuid NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
  status           text NOT NULL DEFAULT 'active'
                   CHECK (status IN ('active', 'paused', 'handed_off', 'exited', 'completed')),
  stage            text NOT NULL DEFAULT 'cold' CHECK (stage IN ('cold', 'warm', 'hot')),
  score            double precision NOT NULL DEFAULT 0,
  started_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  qualified_at     timestamptz,
  ended_at         timestamptz,
  exit_reason      text
);
CREATE UNIQUE INDEX enrolments_one_open_per_workflow ON enrolments (workflow_id) WHERE ended_at IS NULL;
CREATE INDEX enrolments_by_lead ON enrolments (lead_id);
CREATE INDEX enrolments_by_campaign ON enrolments (campaign_id, status);

CREATE TABLE stage_changes (
  id            bigserial PRIMARY KEY,
  enrolment_id  bigint NOT NULL REFERENCES enrolments (id) ON DELETE CASCADE,
  from_stage    text NOT NULL,
  to_stage      text NOT NULL,
  score         double precision NOT NULL,
  changed_at    timestamptz NOT NULL
);
CREATE INDEX stage_changes_by_enrolment ON stage_changes (enrolment_id);

-- The outbox and the record of every email. The idempotency key makes a retried activity find
-- its earlier send; the Message-ID is derived from the key, so it is the same on every attempt.
CREATE TABLE email_sends (
  id               bigserial PRIMARY KEY,
  idempotency_key  text NOT NULL UNIQUE,
  message_id       text NOT NULL UNIQUE,
  message_key      text NOT NULL UNIQUE,      -- the short key in tracking links (mail/identity.ts)
  kind             text NOT NULL CHECK (kind IN ('step', 'trigger', 'sales_notice', 'sales_reminder', 'sales_escalation')),
  enrolment_id     bigint REFERENCES enrolments (id) ON DELETE CASCADE,
  campaign_id      text,
  campaign_version integer,
  lead_id          uuid REFERENCES leads (id) ON DELETE CASCADE,
  step_path        text,
  template         text NOT NULL,
  ab_test          text,
  variant          text,
  to_address       text,                      -- NULL once the lead is erased
  consent_purpose  text,                      -- checked again just before sending; NULL for sales mail
  subject          text NOT NULL,
  status           text NOT NULL CHECK (status IN (
                     'queued', 'sending', 'sent', 'deferred', 'bounced', 'failed', 'unconfirmed',
                     'skipped_no_consent', 'suppressed', 'capped')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz,
  lease_expires_at timestamptz,               -- a mailer holds a 'sending' row until then
  task_token       bytea,                     -- completes the waiting activity when the mailer is done
  message          jsonb,                     -- the rendered message, dropped once final
  smtp_response    text,
  created_at       timestamptz NOT NULL DEFAULT now(),  -- when the workflow asked (its clock)
  sent_at          timestamptz
);
CREATE INDEX email_sends_due ON email_sends (next_attempt_at) WHERE status IN ('queued', 'deferred');
CREATE INDEX email_sends_by_lead ON email_sends (lead_id, sent_at DESC);
CREATE INDEX email_sends_by_step ON email_sends (campaign_id, step_path, variant);
CREATE INDEX email_sends_by_ab_test ON email_sends (campaign_id, campaign_version, ab_test) WHERE ab_test IS NOT NULL;

CREATE TABLE email_engagements (
  id             bigserial PRIMARY KEY,
  send_id        bigint NOT NULL REFERENCES email_sends (id) ON DELETE CASCADE,
  kind           text NOT NULL CHECK (kind IN ('open', 'click')),
  url            text,
  ip             inet,
  user_agent     text,
  machine        boolean NOT NULL,
  machine_reason text,
  occurred_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX email_engagements_by_send ON email_engagements (send_id);

-- A/B verdicts are sticky: once a winner is declared every later send uses it.
CREATE TABLE ab_verdicts (
  campaign_id      text NOT NULL,
  campaign_version integer NOT NULL,
  test_key         text NOT NULL,
  winner           text NOT NULL,
  p_value          double precision,
  stats            jsonb NOT NULL,
  decided_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (campaign_id, campaign_version, test_key)
);

CREATE TABLE sales_pools (
  name           text PRIMARY KEY,
  manager_name   text,
  manager_email  text NOT NULL
);

CREATE TABLE sales_reps (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email        text NOT NULL UNIQUE,
  name         text NOT NULL,
  pool         text NOT NULL REFERENCES sales_pools (name),
  territories  text[] NOT NULL DEFAULT '{}',
  active       boolean NOT NULL DEFAULT true,
  created_at   timestamptz NOT NULL DEFAULT now()
);

-- Round-robin cursors, one per pool and territory ('' = the whole pool); advanced atomically.
CREATE TABLE assignment_cursors (
  pool        text NOT NULL REFERENCES sales_pools (name),
  territory   text NOT NULL,
  next_turn   bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (pool, territory)
);

CREATE TABLE handoffs (
  id                 text PRIMARY KEY,        -- the workflow's handoff key, unique per enrolment
  enrolment_id       bigint NOT NULL REFERENCES enrolments (id) ON DELETE CASCADE,
  lead_id            uuid NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
  campaign_id        text NOT NULL,
  owner_id           uuid REFERENCES sales_reps (id),
  pool               text,
  status             text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'accepted', 'not_ready', 'disqualified', 'converted')),
  score              double precision NOT NULL,
  reasons            jsonb NOT NULL,
  breakdown          jsonb NOT NULL,
  recent_activity    jsonb NOT NULL DEFAULT '[]',
  first_contact_due  timestamptz NOT NULL,
  outcome_due        timestamptz,
  created_at         timestamptz NOT NULL DEFAULT now(),
  responded_at       timestamptz,
  response_note      text
);
CREATE INDEX handoffs_by_owner ON handoffs (owner_id, status);

CREATE TABLE handoff_events (
  id          bigserial PRIMARY KEY,
  handoff_id  text NOT NULL REFERENCES handoffs (id) ON DELETE CASCADE,
  kind        text NOT NULL,
  detail      jsonb NOT NULL DEFAULT '{}',
  at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX handoff_events_by_handoff ON handoff_events (handoff_id, at);

CREATE TABLE api_keys (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name          text NOT NULL,
  prefix        text NOT NULL UNIQUE,         -- shown to identify a key; not a secret
  key_hash      text NOT NULL,                -- sha256 of the whole key
  scopes        text[] NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz,
  revoked_at    timestamptz
);
