// Every side effect a nurture workflow can ask for, bound to the process's resources.
import type { Person } from '../campaign';
import type { Pool } from '../db/pool';
import type { Links } from '../mail/links';
import type { TemplateLibrary } from '../mail/renderer';
import { createEnrolmentActivities } from './enrolments';
import { createHandoffActivities } from './handoff';
import { createLeadDataActivities } from './lead-data';
import { createFanOutActivities, type EnrolmentMessenger } from './fanout';
import { createSendActivities } from './send';
import { createWebhookActivity, type WebhookSettings } from './webhook';

export interface ActivityDependencies {
  pool: Pool;
  templates: TemplateLibrary;
  links: Links;
  mailDomain: string;
  webhook: WebhookSettings;
  /** Told of handoffs nobody can take when their pool has no manager (OPERATOR_EMAIL). */
  operator?: Person;
  /** Reaches enrolments for campaign-wide changes (worker/messenger.ts). */
  messenger: EnrolmentMessenger;
}

export function createActivities(deps: ActivityDependencies) {
  return {
    ...createSendActivities(deps),
    postWebhook: createWebhookActivity(deps.webhook),
    ...createFanOutActivities(deps),
    ...createEnrolmentActivities(deps),
    ...createHandoffActivities(deps),
    ...createLeadDataActivities(deps),
  };
}

export type NurtureActivities = ReturnType<typeof createActivities>;
