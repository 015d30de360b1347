-- When the API handed an event to the workflow engine. An event stored but never delivered
-- (the engine was unreachable) is delivered again when its sender retries with the same id.
ALTER TABLE events ADD COLUMN delivered_at timestamptz;
