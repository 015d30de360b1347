// What sales can answer to a handoff, and which answer a handoff accepts when. One rule for the
// API, the signed links in the notice email, the workflow's update validator and the interpreter.
//
//   status       answers accepted
//   pending      accepted, not_ready, disqualified, converted
//   accepted     not_ready, disqualified, converted   (the outcome after first contact)
//   not_ready, disqualified, converted: none (closed; the same answer twice is refused too)

export const SALES_OUTCOMES = ['accepted', 'not_ready', 'disqualified', 'converted'] as const;
export type SalesOutcome = (typeof SALES_OUTCOMES)[number];

export const HANDOFF_STATUSES = ['pending', ...SALES_OUTCOMES] as const;
export type HandoffStatus = (typeof HANDOFF_STATUSES)[number];

const ACCEPTED_ANSWERS: Record<HandoffStatus, readonly SalesOutcome[]> = {
  pending: SALES_OUTCOMES,
  accepted: ['not_ready', 'disqualified', 'converted'],
  not_ready: [],
  disqualified: [],
  converted: [],
};

export function acceptsAnswer(status: HandoffStatus, outcome: SalesOutcome): boolean {
  return ACCEPTED_ANSWERS[status].includes(outcome);
}

/** Why handoff `handoffId` in `status` cannot take `outcome` now, or undefined when it can. */
export function answerRefusal(handoffId: string, status: HandoffStatus, outcome: SalesOutcome): string | undefined {
  if (acceptsAnswer(status, outcome)) return undefined;
  return status === outcome
    ? `handoff ${handoffId} was already answered '${outcome}'`
    : `handoff ${handoffId} is '${status}' and cannot become '${outcome}'`;
}
