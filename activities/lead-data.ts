// A campaign's `set:`, `tag:` and `untag:` steps on the lead's record: every enrolment of the
// lead (the asking one included) hears of the change through the lead.updated event it stores.
import type { LeadStep } from '../campaign';
import { changeLeadAttributes } from '../db/leads';
import type { Pool } from '../db/pool';

export function createLeadDataActivities(deps: { pool: Pool }) {
  return {
    /** Idempotent: setting a value or a tag twice changes nothing the second time (and stores no event). */
    async updateLead(input: { leadId: string } & Pick<LeadStep, 'set' | 'tag' | 'untag'>): Promise<void> {
      await changeLeadAttributes(deps.pool, input.leadId, input);
    },
  };
}
