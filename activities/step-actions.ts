// A campaign's action steps on the lead's record and beyond: `set:`/`tag:`/`untag:` change the
// attributes (every enrolment of the lead, the asking one included, hears of it through the
// lead.updated event stored with the change), `withdraw_consent:` and `suppress:` stop marketing
// email for good or for a purpose, `webhook:` posts the campaign's own event.
import type { LeadStep, Stage } from '../campaign';
import { withdrawConsentOnce } from '../db/consent';
import { changeLeadAttributes, getLead } from '../db/leads';
import type { Pool } from '../db/pool';
import { suppressLead } from '../db/suppressions';
import type { createWebhookActivity } from './webhook';

/** The campaign step an action comes from, kept as its evidence. */
export interface StepOrigin {
  campaign: { id: string; version: number; name: string };
  stepPath: string;
}

export function createStepActions(deps: { pool: Pool; postWebhook: ReturnType<typeof createWebhookActivity> }) {
  return {
    /** Idempotent: setting a value or a tag twice changes nothing the second time (and stores no event). */
    async updateLead(input: { leadId: string } & Pick<LeadStep, 'set' | 'tag' | 'untag'>): Promise<void> {
      await changeLeadAttributes(deps.pool, input.leadId, input);
    },

    /** Recorded like an unsubscribe, with the campaign and step as evidence; once, however often retried. */
    async withdrawConsent(input: { leadId: string; purpose: string } & StepOrigin): Promise<void> {
      await withdrawConsentOnce(deps.pool, {
        leadId: input.leadId,
        purpose: input.purpose,
        source: `campaign:${input.campaign.id}`,
        evidence: { campaign_version: input.campaign.version, step: input.stepPath },
      });
    },

    /** The first reason an address was suppressed is kept (an unsubscribe before the sunset stays one). */
    async suppressLead(input: { leadId: string; reason: string } & StepOrigin): Promise<void> {
      await suppressLead(deps.pool, input.leadId, 'sunset', `campaign ${input.campaign.name} (${input.campaign.id}) step ${input.stepPath}: ${input.reason}`);
    },

    /**
     * Posts the step's event with the lead as it is now; an erased lead is not posted (its data is
     * gone). `deliveryId` is stable across retries so that the receiver can deduplicate.
     */
    async postStepWebhook(
      input: { leadId: string; deliveryId: string; event: string; step: string; stage: Stage; score: number } & StepOrigin,
    ): Promise<'delivered' | 'not_configured' | 'lead_erased'> {
      const lead = await getLead(deps.pool, input.leadId);
      if (!lead || lead.erasedAt || !lead.email) return 'lead_erased';
      return deps.postWebhook({
        deliveryId: input.deliveryId,
        event: input.event,
        payload: {
          lead: { id: lead.id, email: lead.email, attributes: lead.attributes },
          campaign: input.campaign,
          step: { path: input.stepPath, name: input.step },
          stage: input.stage,
          score: input.score,
        },
      });
    },
  };
}
