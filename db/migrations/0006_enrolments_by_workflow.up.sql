-- GET /v1/enrolments/:workflowId answers only for workflow ids of recorded enrolments, open or
-- ended: a lookup by workflow id over all rows (enrolments_one_open_per_workflow covers open ones only).
CREATE INDEX enrolments_by_workflow ON enrolments (workflow_id);
