// Every side effect a nurture workflow can ask for, bound to the process's resources.
import type { Person } from '../campaign';
import type { Pool } from '../db/pool';
import type { Links } from '../mail/links';
import type { TemplateLibrary } from '../mail/renderer';
import { createEnrolmentActivities } from './enrolments';
import { createHandoffActivities } from './handoff';
import { createFanOutActivities, type EnrolmentMessenger } from './fanout';
import { createSendActivities } from './send';
import { createStepActions } from './step-actions';
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
  const postWebhook = createWebhookActivity(deps.webhook);
  return {
    ...createSendActivities(deps),
    postWebhook,
    ...createFanOutActivities(deps),
    ...createEnrolmentActivities(deps),
    ...createHandoffActivities(deps),
    ...createStepActions({ pool: deps.pool, postWebhook }),
  };
}

export type NurtureActivities = ReturnType<typeof createActivities>;
