-- The sales desk: pools and reps a user manages (calendars, capacity, absences, weights), routing
-- that skips whoever is unavailable, and SLA deadlines on the sales team's own hours, kept by the
-- workers' sales desk rather than by each enrolment.

-- A pool's working calendar: ISO weekdays, minutes after midnight, its time zone and holidays
-- (a country's public holidays and/or listed dates). `routing`: the pool's own ordered rules
-- choosing a group of its reps. `pass`: the weighted round robin's clock (see db/sales-team.ts).
ALTER TABLE sales_pools
  ADD COLUMN timezone       text NOT NULL DEFAULT 'UTC',
  ADD COLUMN work_days      smallint[] NOT NULL DEFAULT '{1,2,3,4,5}',
  ADD COLUMN work_start     smallint NOT NULL DEFAULT 540 CHECK (work_start BETWEEN 0 AND 1440),
  ADD COLUMN work_end       smallint NOT NULL DEFAULT 1080 CHECK (work_end BETWEEN 0 AND 1440),
  ADD COLUMN holidays       text,
  ADD COLUMN holiday_dates  date[] NOT NULL DEFAULT '{}',
  ADD COLUMN routing        jsonb NOT NULL DEFAULT '[]',
  ADD COLUMN pass           double precision NOT NULL DEFAULT 0,
  ADD COLUMN created_at     timestamptz NOT NULL DEFAULT now(),
  ADD CONSTRAINT sales_pools_hours CHECK (work_start < work_end);

-- A rep's own calendar (null: the pool's), what they cover, their share (weight), how many open
-- handoffs they may hold (capacity, null: no limit) and their place in the round robin (pass).
ALTER TABLE sales_reps
  ADD COLUMN products          text[] NOT NULL DEFAULT '{}',
  ADD COLUMN languages         text[] NOT NULL DEFAULT '{}',
  ADD COLUMN weight            integer NOT NULL DEFAULT 1 CHECK (weight BETWEEN 1 AND 100),
  ADD COLUMN capacity          integer CHECK (capacity >= 1),
  ADD COLUMN timezone          text,
  ADD COLUMN work_days         smallint[],
  ADD COLUMN work_start        smallint CHECK (work_start BETWEEN 0 AND 1440),
  ADD COLUMN work_end          smallint CHECK (work_end BETWEEN 0 AND 1440),
  ADD COLUMN pass              double precision NOT NULL DEFAULT 0,
  ADD COLUMN assigned_total    integer NOT NULL DEFAULT 0,
  ADD COLUMN last_assigned_at  timestamptz;

CREATE TABLE sales_rep_absences (
  id         bigserial PRIMARY KEY,
  rep_id     uuid NOT NULL REFERENCES sales_reps (id) ON DELETE CASCADE,
  starts_at  timestamptz NOT NULL,
  ends_at    timestamptz NOT NULL,
  note       text,
  CHECK (ends_at > starts_at)
);
CREATE INDEX sales_rep_absences_by_rep ON sales_rep_absences (rep_id, ends_at);

-- Handoffs the desk keeps (enrolments from engine version 3): `desk` holds what it needs (SLA,
-- routing, sender, notice template); `routing_log` why each owner was chosen and others skipped;
-- `desk_due` the next time the desk must look at it. Reminder and escalation times make each
-- happen once; every email the desk sends has an idempotency key of its own besides.
ALTER TABLE handoffs
  ADD COLUMN desk                  jsonb,
  ADD COLUMN routing_log           jsonb NOT NULL DEFAULT '[]',
  ADD COLUMN assigned_at           timestamptz,
  ADD COLUMN remind_at             timestamptz,
  ADD COLUMN reminded_at           timestamptz,
  ADD COLUMN escalated_at          timestamptz,
  ADD COLUMN outcome_escalated_at  timestamptz,
  ADD COLUMN reassignments         integer NOT NULL DEFAULT 0,
  ADD COLUMN desk_due              timestamptz;
CREATE INDEX handoffs_desk_due ON handoffs (desk_due) WHERE desk_due IS NOT NULL;
CREATE INDEX handoffs_waiting ON handoffs (pool, created_at) WHERE desk IS NOT NULL AND owner_id IS NULL AND status = 'pending';
