// The Temporal workflow id of an enrolment: one workflow per (campaign, lead), so enrolling
// twice finds the running one, and the lead a workflow's data belong to can be read from it
// (the payload codec picks the lead's data key by it).
const PREFIX = 'nurture:';
const LEAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function workflowIdFor(campaignId: string, leadId: string): string {
  return `${PREFIX}${campaignId}:${leadId}`;
}

/** The lead of an enrolment's workflow id; undefined for any other workflow. */
export function leadOfWorkflowId(workflowId: string): string | undefined {
  if (!workflowId.startsWith(PREFIX)) return undefined;
  const leadId = workflowId.slice(workflowId.lastIndexOf(':') + 1);
  return LEAD_ID.test(leadId) ? leadId : undefined;
}
