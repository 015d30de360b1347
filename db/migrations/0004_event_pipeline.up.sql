-- Accept, then dispatch: the API stores events, opens and clicks and answers at once; the workers'
-- dispatcher delivers what is undelivered to the workflows, in per-lead order, retrying with
-- backoff (`attempts`, `next_attempt_at`, `last_error`) while Temporal cannot be reached.
ALTER TABLE events ADD COLUMN attempts integer NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN next_attempt_at timestamptz;
ALTER TABLE events ADD COLUMN last_error text;

-- Migration 0002 added `delivered_at` empty for every event stored before it, delivered or not:
-- those are history, not a backlog (a sender whose delivery failed since then retried with its id).
UPDATE events SET delivered_at = received_at
WHERE delivered_at IS NULL
  AND received_at < (SELECT run_on FROM schema_migrations WHERE name = '0002_event_delivery');

-- The dispatcher's backlog: each lead's undelivered events in arrival order.
CREATE INDEX events_undelivered ON events (lead_id, id) WHERE delivered_at IS NULL AND lead_id IS NOT NULL;

-- Repeated opens and clicks of one tracking token: stored once per window (a mail client
-- refetching, a double click, a replaying script). `token_hash` is a hash of the link's token.
CREATE TABLE tracking_hits (
  token_hash text PRIMARY KEY,
  stored_at  timestamptz NOT NULL
);

-- A campaign launched to leads already known: those matching a condition, or a list. The
-- workers' launcher scans the candidates in id order past `cursor`, queueing one `launch:` event
-- per lead that qualifies (idempotent by its id); the dispatcher enrols them.
CREATE TABLE campaign_launches (
  id            bigserial PRIMARY KEY,
  campaign_id   text NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  segment       text,                        -- a condition of the campaign language
  lead_ids      uuid[],                      -- or a list
  per_minute    integer,                     -- pace: at most this many leads queued a minute
  status        text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'cancelled')),
  total         integer NOT NULL,            -- candidates when it started
  scanned       integer NOT NULL DEFAULT 0,
  queued        integer NOT NULL DEFAULT 0,  -- matched and consenting: an entry event stored
  skipped       jsonb NOT NULL DEFAULT '{}', -- candidates left out, by reason
  enrolled      integer NOT NULL DEFAULT 0,  -- entry events the dispatcher turned into an enrolment
  not_entered   jsonb NOT NULL DEFAULT '{}', -- and those it did not, by reason
  cursor        uuid,                        -- the last lead scanned
  claimed_until timestamptz,                 -- a launcher's lease
  created_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz,
  CHECK ((segment IS NULL) <> (lead_ids IS NULL))
);
CREATE INDEX campaign_launches_by_campaign ON campaign_launches (campaign_id, id DESC);
CREATE INDEX campaign_launches_running ON campaign_launches (id) WHERE status = 'running';
